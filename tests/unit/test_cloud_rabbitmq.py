"""Liveness rides on the control plane, in virtual time (ha-semantics §4.3, §5.1, §6).

nova-compute reports by a call to a conductor over the bus, which saves the report
through the internal VIP to a Galera member; neutron's agents report to neutron-server,
which saves theirs the same way. So when the control plane is gone -- both controllers
off, the broker paused by pause_minority, the database out of reach -- for longer than
``service_down_time`` (60 s) or ``agent_down_time`` (75 s), healthy computes and agents
look down, and they are up again once it returns.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from stacklab.bus import MessagingTimeout, Target, on_host
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.compute import models as cm
from stacklab.ha.rabbitmq import PAUSED, RUNNING, STOPPED
from stacklab.lab.status import lab_status, rabbitmq
from stacklab.network import models as nm
from stacklab.network.scheduling.records import is_agent_down
from support.inprocess import ephemeral_config, run_in_virtual_time

DOMAIN = "openstack.local"
CONTROLLER1, CONTROLLER2 = f"controller1.{DOMAIN}", f"controller2.{DOMAIN}"
COMPUTE1, COMPUTE2 = f"compute1.{DOMAIN}", f"compute2.{DOMAIN}"
NETWORK1 = f"network1.{DOMAIN}"


def computes_up(cloud: Cloud) -> dict[str, bool]:
    """Each nova-compute's state as nova's service group reads it (from the store itself:
    the API may be out of reach)."""
    services = cloud.compute.services
    with cloud.db.session() as session:
        return {r.host: services.is_up(r) for r in session.scalars(
            select(cm.ServiceRecord).where(cm.ServiceRecord.binary == "nova-compute"))}


def agents_alive(cloud: Cloud) -> dict[tuple[str, str], bool]:
    lab = cloud.parts.scaled_clock
    down_time = cloud.config.DEFAULT.agent_down_time
    with cloud.db.session() as session:
        return {(a.host, a.binary): not is_agent_down(lab.from_wall(a.heartbeat_timestamp),
                                                      lab.now(), down_time)
                for a in session.scalars(select(nm.Agent))}


def rabbit_states(cloud: Cloud) -> dict[str, str]:
    status: Any = cloud.controlplane.rabbit_status()
    return {node["node"]: node["state"] for node in status["nodes"]}


async def settle(cloud: Cloud, clock: VirtualClock, seconds: float) -> None:
    await clock.run_for(seconds)
    cloud.controlplane.time.sync()


def test_both_controllers_off_longer_than_the_down_times_make_healthy_nodes_look_down() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await settle(cloud, clock, 40)
        assert all(computes_up(cloud).values())
        assert all(agents_alive(cloud).values())
        cloud.node_down(CONTROLLER1)
        cloud.node_down(CONTROLLER2)
        await settle(cloud, clock, 55)
        assert all(computes_up(cloud).values())  # their last report is not 60 s old yet
        await settle(cloud, clock, 15)
        assert computes_up(cloud) == {COMPUTE1: False, COMPUTE2: False}
        await settle(cloud, clock, 40)
        assert not any(agents_alive(cloud).values())
        # Their reports waited in their nodes for a broker; nothing reached the store.
        assert cloud.bus.held() > 0

        cloud.node_up(CONTROLLER1)
        cloud.node_up(CONTROLLER2)
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        # The computes reconnect at their next attempt (their backoff reached ~16 s
        # between rounds), then report within report_interval.
        await settle(cloud, clock, 60)
        assert computes_up(cloud) == {COMPUTE1: True, COMPUTE2: True}
        await settle(cloud, clock, 40)
        assert all(agents_alive(cloud).values())

    run_in_virtual_time(test)


def test_a_paused_broker_stops_the_reports_until_the_partition_heals() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await settle(cloud, clock, 40)
        # The controllers cut from each other only: Galera keeps its Primary Component
        # through the arbiter both still reach, but two RabbitMQ nodes both pause.
        cloud.runtime.partition([[CONTROLLER1], [CONTROLLER2]])
        await settle(cloud, clock, 59)
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        await settle(cloud, clock, 1)
        assert rabbit_states(cloud) == {CONTROLLER1: PAUSED, CONTROLLER2: PAUSED}
        health = cloud.health()
        assert health["status"] == "degraded"
        assert any("paused (pause_minority)" in reason
                   for reason in health["control_plane"]["reasons"])
        await settle(cloud, clock, 65)
        assert computes_up(cloud) == {COMPUTE1: False, COMPUTE2: False}
        await settle(cloud, clock, 30)
        assert not any(agents_alive(cloud).values())

        cloud.runtime.heal()
        await settle(cloud, clock, 1)
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        await settle(cloud, clock, 90)
        assert all(computes_up(cloud).values())
        assert all(agents_alive(cloud).values())
        assert cloud.health()["status"] == "ready"

    run_in_virtual_time(test)


def test_a_database_out_of_reach_loses_the_reports_the_broker_carried() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await settle(cloud, clock, 40)
        for controller in (CONTROLLER1, CONTROLLER2):
            cloud.runtime.stop_service(controller, "mariadb")
        await settle(cloud, clock, 75)
        # The broker serves; the conductors and neutron-servers cannot save what it brings.
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        assert computes_up(cloud) == {COMPUTE1: False, COMPUTE2: False}
        await settle(cloud, clock, 40)
        assert not any(agents_alive(cloud).values())
        for controller in (CONTROLLER2, CONTROLLER1):
            cloud.runtime.start_service(controller, "mariadb")
        await settle(cloud, clock, 60)
        assert all(computes_up(cloud).values())
        assert all(agents_alive(cloud).values())

    run_in_virtual_time(test)


def test_a_call_to_a_dead_conductor_times_out_after_rpc_response_timeout() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        cloud.node_down(CONTROLLER2)
        cloud.runtime.stop_service(CONTROLLER1, "nova-conductor")
        started = clock.now()
        with on_host(COMPUTE1):
            call = asyncio.ensure_future(cloud.bus.call(
                Target("conductor"), "report_service_state", host=COMPUTE1,
                binary="nova-compute"))
        await clock.run_for(59.9)
        assert not call.done()
        await clock.run_for(0.1)
        assert isinstance(call.exception(), MessagingTimeout)
        assert clock.now() - started == 60.0

    run_in_virtual_time(test)


def test_clients_reconnect_on_oslo_s_backoff_once_the_broker_returns() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        cloud.node_down(CONTROLLER1)
        lost_at = cloud.controlplane.time.now()
        await settle(cloud, clock, 100)
        # controller2's broker lost its only peer: a minority of one, paused.
        assert rabbit_states(cloud) == {CONTROLLER1: STOPPED, CONTROLLER2: PAUSED}
        clients = cloud.controlplane.clients
        assert clients is not None
        connection = clients.connections[COMPUTE1]
        assert connection.reconnecting and not clients.connected(COMPUTE1)
        cloud.node_up(CONTROLLER1)
        await settle(cloud, clock, 1)
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        await settle(cloud, clock, 20)
        assert clients.connected(COMPUTE1)
        # The heartbeat check found the broker silent 60 s after the power went; from then
        # on the attempts alternate hosts on kombu's backoff, and the first one after the
        # broker's return connects.
        offsets = [round(t - lost_at - 60.0, 6) for t, _, _ in connection.attempts]
        assert offsets == [1, 2, 4, 5, 9, 10, 16, 17, 25, 26, 36, 37, 49]
        hosts = [host for _, host, _ in connection.attempts]
        assert hosts == [CONTROLLER1, CONTROLLER2] * 6 + [CONTROLLER1]
        assert [ok for _, _, ok in connection.attempts] == [False] * 12 + [True]

    run_in_virtual_time(test)


def test_status_shows_the_cluster_its_paused_nodes_and_the_lost_connections() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        whole = await lab_status(cloud.parts, None, [rabbitmq])
        section = next(s for s in whole["sections"] if s["name"] == "rabbitmq")
        assert section["title"] == "RabbitMQ (cluster_partition_handling pause_minority)"
        assert section["rows"] == [
            ["controller1", "running", "controller1,controller2", "-"],
            ["controller2", "running", "controller2,controller1", "-"]]
        assert whole["status"] == "ready"

        cloud.runtime.partition([[CONTROLLER1], [CONTROLLER2]])
        await settle(cloud, clock, 60)
        split = await lab_status(cloud.parts, None, [rabbitmq])
        section = next(s for s in split["sections"] if s["name"] == "rabbitmq")
        assert section["rows"] == [["controller1", "paused", "controller1", "-"],
                                   ["controller2", "paused", "controller2", "-"]]
        messages = [p["message"] for p in split["problems"]]
        assert (f"control plane: RabbitMQ node {CONTROLLER1} is paused (pause_minority)"
                in messages)
        assert "control plane: no RabbitMQ node serves: RPC between the services has stopped" \
            in messages
        lost = next(m for m in messages if m.startswith("no connection to RabbitMQ"))
        assert "compute1" in lost and "network2" in lost and "controller1" in lost
        assert split["status"] == "degraded"

    run_in_virtual_time(test)


def test_the_broker_and_its_clients_follow_the_configuration() -> None:
    config = ephemeral_config()
    config.set("stacklab", "rabbitmq_cluster_partition_handling", "ignore")
    config.set("stacklab", "rabbitmq_net_ticktime", "30")
    config.set("oslo_messaging_rabbit", "rabbit_interval_max", "10")
    config.set("DEFAULT", "rpc_response_timeout", "20")

    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        assert cloud.bus.rpc_response_timeout == 20
        cloud.runtime.partition([[CONTROLLER1], [CONTROLLER2]])
        await settle(cloud, clock, 30)
        # ignore: nobody pauses; both sides go on alone.
        status: Any = cloud.controlplane.rabbit_status()
        assert [(n["state"], n["running_nodes"]) for n in status["nodes"]] == [
            (RUNNING, [CONTROLLER1]), (RUNNING, [CONTROLLER2])]
        assert cloud.controlplane.rabbit is not None
        assert cloud.controlplane.rabbit.options.rabbit_interval_max == 10

    run_in_virtual_time(test, config)


def test_a_broker_stopped_cleanly_pauses_its_peer_at_once_and_its_start_resumes_it() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        cloud.runtime.stop_service(CONTROLLER1, "rabbitmq")
        await settle(cloud, clock, 0)
        assert rabbit_states(cloud) == {CONTROLLER1: STOPPED, CONTROLLER2: PAUSED}
        clients = cloud.controlplane.clients
        assert clients is not None
        # Closed by their broker: every client knows at once and is already reconnecting.
        assert clients.connections[COMPUTE1].reconnecting
        reasons = cloud.health()["control_plane"]["reasons"]
        assert f"RabbitMQ node {CONTROLLER1} is stopped" in reasons
        cloud.runtime.start_service(CONTROLLER1, "rabbitmq")
        await settle(cloud, clock, 1)
        assert rabbit_states(cloud) == {CONTROLLER1: RUNNING, CONTROLLER2: RUNNING}
        await settle(cloud, clock, 30)
        assert clients.connected(COMPUTE1) and clients.connected(NETWORK1)

    run_in_virtual_time(test)



def test_over_a_slow_link_a_report_times_out_in_the_compute_yet_reaches_the_conductor() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await settle(cloud, clock, 40)
        # 35 s each way between compute1 and the controllers: nova-compute's report, a call
        # to a conductor, gets there after 35 s (within its 60 s AMQP expiration, so the
        # conductor saves it) and its reply back after 70: the compute's call ends in
        # MessagingTimeout. Nothing is lost; compute1 stays up, its reports late and rarer.
        slowed = clock.now()
        for controller in (CONTROLLER1, CONTROLLER2):
            cloud.runtime.set_link("compute1", controller, latency=35.0)
        await settle(cloud, clock, 150)
        assert cloud.bus.metrics()["conductor"].calls_timed_out >= 2
        with cloud.db.session() as session:
            seen = {r.host: r.last_seen_up for r in session.scalars(
                select(cm.ServiceRecord).where(cm.ServiceRecord.binary == "nova-compute"))}
        assert seen[COMPUTE1] is not None and seen[COMPUTE1] > slowed + 35
        assert agents_alive(cloud)[(COMPUTE1, "neutron-openvswitch-agent")]

    run_in_virtual_time(test)
