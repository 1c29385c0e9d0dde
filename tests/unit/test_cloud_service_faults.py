"""One process stopped, started or restarted, and a node cut off the overlay, in virtual time.

Each fault is asked for as an operator would, through the lab API
(``POST /stacklab/v1/faults`` and the node's service routes), on a cloud whose nodes
live their own life (heartbeats, agent reports, keepalived) on a ``VirtualClock``; what
follows is read through the services' own APIs where they show it (``os-services``,
``agents``, ``l3-agents``), else from the lab's parts (keepalived's instances, the bus).

Upstream behaviour (ha-semantics.md §1.4, §5.1, §6): a stopped nova service stops
heartbeating and is down after ``service_down_time``, its servers untouched; a stopped
neutron agent stops reporting (dead after ``agent_down_time``) and consuming, but what
it set up keeps working ("Restarting the layer-3 agent, or failure of it, does not
trigger a failover providing keepalived continues to operate"); a keepalived stopped
cleanly sends priority 0 and a backup takes over after its skew time; VRRP peers that
cannot hear each other both become MASTER, and the higher primary IP stays when they
hear each other again.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from stacklab.api.app import build_app
from stacklab.bus.interface import Target
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.config import Config
from stacklab.ha.vrrp import VrrpGroup, VrrpState, master_down_interval, skew_time
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import DhcpAgent
from stacklab.network.topics import DHCP_AGENT_TOPIC
from support.inprocess import ephemeral_config, project_network

DOMAIN = "openstack.local"
COMPUTE1, COMPUTE2 = f"compute1.{DOMAIN}", f"compute2.{DOMAIN}"
NETWORK1, NETWORK2 = f"network1.{DOMAIN}", f"network2.{DOMAIN}"
CONTROLLER1, CONTROLLER2 = f"controller1.{DOMAIN}", f"controller2.{DOMAIN}"
# neutron's HA routers: priority 50, 2 s adverts (ha_vrrp_advert_int), VRRPv2.
ADVERT_INT = 2.0
ELECTION = master_down_interval(50, ADVERT_INT)
SKEW = skew_time(50, ADVERT_INT)


class Lab:
    """A started cloud on a virtual clock, and an admin session on its API."""

    def __init__(self, cloud: Cloud, clock: VirtualClock, client: httpx.AsyncClient) -> None:
        self.cloud = cloud
        self.clock = clock
        self.client = client
        self.headers: dict[str, str] = {}

    async def login(self) -> None:
        answer = await self.client.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        assert answer.status_code == 201, answer.text
        self.headers = {"X-Auth-Token": answer.headers["X-Subject-Token"]}

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200,
                   **headers: str) -> Any:
        answer = await self.client.request(method, path, json=body,
                                           headers={**self.headers, **headers})
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def fault(self, action: str, **fields: Any) -> bool:
        """One action through ``POST /stacklab/v1/faults``; whether it changed anything."""
        body = await self.call("POST", "/stacklab/v1/faults", {"action": action, **fields})
        return bool(body["changed"])

    async def process(self, node: str, service: str, verb: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "POST", f"/stacklab/v1/nodes/{node}/services/{service}/{verb}")
        return found

    async def compute_states(self) -> dict[tuple[str, str], str]:
        services = (await self.call("GET", "/compute/v2.1/os-services"))["services"]
        return {(s["host"], s["binary"]): s["state"] for s in services}

    async def agents_alive(self) -> dict[tuple[str, str], bool]:
        agents = (await self.call("GET", "/networking/v2.0/agents"))["agents"]
        return {(a["host"], a["binary"]): a["alive"] for a in agents}

    async def ha_states(self, router_id: str) -> dict[str, str]:
        agents = (await self.call("GET", f"/networking/v2.0/routers/{router_id}/l3-agents"))
        return {a["host"]: a["ha_state"] for a in agents["agents"]}

    async def create_server(self, name: str, **fields: Any) -> str:
        images = await self.call("GET", "/image/v2/images")
        body = {"server": {"name": name, "imageRef": images["images"][0]["id"],
                           "flavorRef": "1", "networks": "none", **fields}}
        created = await self.call("POST", "/compute/v2.1/servers", body, expect=202,
                                  **{"OpenStack-API-Version": "compute 2.96"})
        return str(created["server"]["id"])

    async def server(self, server_id: str) -> dict[str, Any]:
        shown: dict[str, Any] = (await self.call(
            "GET", f"/compute/v2.1/servers/{server_id}",
            **{"OpenStack-API-Version": "compute 2.96"}))["server"]
        return shown

    async def status(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/stacklab/v1/status")
        return found

    def router(self) -> str:
        with self.cloud.db.session() as session:
            return self.cloud.routing.create_router(session, "p1", {"name": "r1"}).id

    def segment(self, router_id: str) -> VrrpGroup:
        return self.cloud.agents.segments[router_id]

    def state(self, router_id: str, host: str) -> VrrpState:
        return self.segment(router_id).instance(host).state

    def listeners(self, host: str, topic: str) -> list[Any]:
        return [listener for listener in self.cloud.bus.listeners(host)
                if listener.target.topic == topic]


def run_lab(scenario: Callable[[Lab], Awaitable[None]], config: Config | None = None) -> None:
    """Start a cloud on a virtual clock, its nodes running in the background; run it."""
    config = config or ephemeral_config()
    # Builds take their steps on the clock, so a create answers at once and settles later.
    config.stacklab.boot_profile = "realistic"
    clock = VirtualClock()
    cloud = Cloud(config, clock=clock)

    async def main() -> None:
        cloud.start("http://testserver")
        transport = httpx.ASGITransport(app=build_app(cloud))
        background = asyncio.create_task(cloud.run_background())
        try:
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                lab = Lab(cloud, clock, client)
                await lab.login()
                await clock.run_for(0)
                await scenario(lab)
        finally:
            background.cancel()
            cloud.stop()

    asyncio.run(main())
    assert cloud.unexpected_errors == 0


async def elected(lab: Lab, router_id: str) -> tuple[str, str]:
    """Let the router's election settle: (master, backup)."""
    await lab.clock.run_for(ELECTION + 2 * ADVERT_INT + 1)
    masters = lab.segment(router_id).masters()
    assert len(masters) == 1, masters
    master = masters[0]
    return master, NETWORK2 if master == NETWORK1 else NETWORK1


# -- nova ----------------------------------------------------------------------------------


def test_a_stopped_nova_compute_goes_down_and_its_servers_keep_running() -> None:
    async def scenario(lab: Lab) -> None:
        server_id = await lab.create_server("vm", availability_zone=f"nova:{COMPUTE1}")
        await lab.clock.run_for(30)
        assert (await lab.server(server_id))["status"] == "ACTIVE"
        down_time = lab.cloud.config.DEFAULT.service_down_time
        report = lab.cloud.config.DEFAULT.report_interval

        stopped = await lab.process("compute1", "nova-compute", "stop")
        assert stopped == {"node": COMPUTE1, "service": "nova-compute", "changed": True,
                           "state": "stopped"}
        assert [listener.paused for listener in lab.listeners(COMPUTE1, "compute")] == [True]
        # It still counts as up until service_down_time has passed since its last report.
        await lab.clock.run_for(down_time - report)
        assert (await lab.compute_states())[(COMPUTE1, "nova-compute")] == "up"
        await lab.clock.run_for(2 * report)
        states = await lab.compute_states()
        assert states[(COMPUTE1, "nova-compute")] == "down"
        assert states[(COMPUTE2, "nova-compute")] == "up"
        # Only nova-compute stopped: the node's L2 agent reports on, its server runs on.
        assert (await lab.agents_alive())[(COMPUTE1, "neutron-openvswitch-agent")] is True
        shown = await lab.server(server_id)
        assert (shown["status"], shown["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)

        started = await lab.process("compute1", "nova-compute", "start")
        assert started["state"] == "running" and started["changed"] is True
        assert [listener.paused for listener in lab.listeners(COMPUTE1, "compute")] == [False]
        await lab.clock.run_for(report)
        assert (await lab.compute_states())[(COMPUTE1, "nova-compute")] == "up"

    run_lab(scenario)


def test_a_compute_that_lost_power_finds_its_servers_shut_off_at_its_power_sync() -> None:
    """nova: the guests die with the node; back, nothing changes until the periodic
    _sync_power_states (600 s) calls the stop API on each, and they end SHUTOFF."""
    async def scenario(lab: Lab) -> None:
        server_id = await lab.create_server("vm", availability_zone=f"nova:{COMPUTE1}")
        stopped_id = await lab.create_server("off", availability_zone=f"nova:{COMPUTE1}")
        other_id = await lab.create_server("other", availability_zone=f"nova:{COMPUTE2}")
        await lab.clock.run_for(30)
        await lab.call("POST", f"/compute/v2.1/servers/{stopped_id}/action", {"os-stop": None},
                       expect=202)
        await lab.clock.run_for(30)
        interval = lab.cloud.config.DEFAULT.sync_power_state_interval
        assert interval == 600

        await lab.fault("power_off", node="compute1")
        await lab.clock.run_for(120)
        await lab.fault("power_on", node="compute1")
        await lab.clock.run_for(30)
        # Back, but nova has not looked yet: still ACTIVE, running as far as its row says.
        shown = await lab.server(server_id)
        assert (shown["status"], shown["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)
        await lab.clock.run_for(interval)
        shown = await lab.server(server_id)
        assert (shown["status"], shown["OS-EXT-STS:vm_state"],
                shown["OS-EXT-STS:power_state"]) == ("SHUTOFF", "stopped", 4)
        actions = await lab.call("GET", f"/compute/v2.1/servers/{server_id}/os-instance-actions")
        assert actions["instanceActions"][0]["action"] == "stop"
        assert (await lab.server(stopped_id))["status"] == "SHUTOFF"  # was already
        assert (await lab.server(other_id))["status"] == "ACTIVE"  # its node kept power
        # And it starts again as any stopped server.
        await lab.call("POST", f"/compute/v2.1/servers/{server_id}/action", {"os-start": None},
                       expect=202)
        await lab.clock.run_for(30)
        assert (await lab.server(server_id))["status"] == "ACTIVE"

    run_lab(scenario)


def test_a_stopped_conductor_or_scheduler_leaves_the_work_to_the_other_controller() -> None:
    async def scenario(lab: Lab) -> None:
        for service in ("nova-conductor", "nova-scheduler"):
            assert await lab.fault("stop_service", node="controller1", service=service)
        first = await lab.create_server("vm1")
        await lab.clock.run_for(30)
        assert (await lab.server(first))["status"] == "ACTIVE"

        # With controller2's conductor stopped too, nobody takes the build...
        assert await lab.fault("stop_service", node="controller2", service="nova-conductor")
        second = await lab.create_server("vm2")
        await lab.clock.run_for(30)
        shown = await lab.server(second)
        assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("BUILD", "scheduling")
        # (with the two computes' reports, which go through a conductor too)
        assert lab.cloud.bus.queue_depth(Target("conductor")) == 3
        # ...until one starts again: it picks up what waited in the topic's queue.
        assert await lab.fault("start_service", node="controller2", service="nova-conductor")
        await lab.clock.run_for(30)
        assert (await lab.server(second))["status"] == "ACTIVE"
        assert [listener.paused for listener in lab.listeners(CONTROLLER1, "conductor")] == [
            True]

        await lab.clock.run_for(lab.cloud.config.DEFAULT.service_down_time)
        states = await lab.compute_states()
        assert states[(CONTROLLER1, "nova-conductor")] == "down"
        assert states[(CONTROLLER1, "nova-scheduler")] == "down"
        assert states[(CONTROLLER2, "nova-conductor")] == "up"
        assert states[(CONTROLLER2, "nova-scheduler")] == "up"

    run_lab(scenario)


def test_a_process_stopped_before_a_power_cycle_stays_stopped() -> None:
    async def scenario(lab: Lab) -> None:
        assert await lab.fault("stop_service", node="compute1", service="nova-compute")
        assert await lab.fault("power_off", node="compute1")
        assert await lab.fault("power_on", node="compute1")
        assert [listener.paused for listener in lab.listeners(COMPUTE1, "compute")] == [True]
        ovs = lab.listeners(COMPUTE1, "q-agent-notifier-port-update")
        assert [listener.paused for listener in ovs] == [False]
        await lab.clock.run_for(lab.cloud.config.DEFAULT.service_down_time + 20)
        assert (await lab.compute_states())[(COMPUTE1, "nova-compute")] == "down"
        assert (await lab.agents_alive())[(COMPUTE1, "neutron-openvswitch-agent")] is True

    run_lab(scenario)


# -- neutron agents ------------------------------------------------------------------------


def dhcp_agent(lab: Lab, host: str) -> DhcpAgent:
    agent = lab.cloud.parts.get(NODE_AGENTS).endpoint(host, DhcpAgent)
    assert agent is not None
    return agent


def test_a_stopped_dhcp_agent_falls_silent_but_its_dnsmasq_keeps_serving() -> None:
    async def scenario(lab: Lab) -> None:
        served, _ = project_network(lab.cloud)
        await lab.clock.run_for(1)
        assert served in dhcp_agent(lab, NETWORK1).networks
        namespace = f"qdhcp-{served}"

        await lab.process("network1", "neutron-dhcp-agent", "stop")
        # A network the server gives it meanwhile waits in its queue: nobody consumes it.
        later, _ = project_network(lab.cloud, cidr="10.0.1.0/24")
        await lab.clock.run_for(1)
        assert later not in dhcp_agent(lab, NETWORK1).networks
        assert later in dhcp_agent(lab, NETWORK2).networks
        assert lab.cloud.bus.queue_depth(Target(DHCP_AGENT_TOPIC, NETWORK1)) >= 1
        # Dead once agent_down_time has passed without a report; its dnsmasq still serves.
        await lab.clock.run_for(lab.cloud.config.DEFAULT.agent_down_time + 30)
        alive = await lab.agents_alive()
        assert alive[(NETWORK1, "neutron-dhcp-agent")] is False
        assert alive[(NETWORK1, "neutron-l3-agent")] is True
        assert alive[(NETWORK2, "neutron-dhcp-agent")] is True
        assert served in dhcp_agent(lab, NETWORK1).networks
        shown = await lab.call("GET", "/stacklab/v1/nodes/network1/netns")
        assert namespace in {ns["name"] for ns in shown["namespaces"]}

        # Started again: it reports at once, takes what waited, resyncs.
        await lab.process("network1", "neutron-dhcp-agent", "start")
        await lab.clock.run_for(1)
        assert (await lab.agents_alive())[(NETWORK1, "neutron-dhcp-agent")] is True
        assert {served, later} <= set(dhcp_agent(lab, NETWORK1).networks)
        assert lab.cloud.bus.queue_depth(Target(DHCP_AGENT_TOPIC, NETWORK1)) == 0

    run_lab(scenario)


def test_a_stopped_l3_agent_leaves_keepalived_running_and_resyncs_when_started() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        master, backup = await elected(lab, router_id)
        await lab.clock.run_for(ADVERT_INT + 1)
        assert await lab.ha_states(router_id) == {master: "active", backup: "standby"}
        short_master, short_backup = master.split(".")[0], backup.split(".")[0]

        # The master's agent stops: no failover, keepalived carries on.
        await lab.process(short_master, "neutron-l3-agent", "stop")
        await lab.clock.run_for(4 * ELECTION)
        assert lab.segment(router_id).masters() == [master]
        # The backup's agent stops too, then the master's node dies: the backup's keepalived
        # takes over, but no agent is there to tell the server.
        await lab.process(short_backup, "neutron-l3-agent", "stop")
        await lab.process(short_master, "neutron-l3-agent", "start")
        assert await lab.fault("power_off", node=short_master)
        await lab.clock.run_for(ELECTION + 2 * ADVERT_INT + 1)
        assert lab.segment(router_id).masters() == [backup]
        assert (await lab.ha_states(router_id))[backup] == "standby"

        # Started again, it does a full sync: its routers, and the state the server lacks.
        transitions = len(lab.segment(router_id).transitions)
        await lab.process(short_backup, "neutron-l3-agent", "start")
        await lab.clock.run_for(1)
        # What the server lacks goes through the agent's batched notifier, as a transition.
        assert (await lab.ha_states(router_id))[backup] == "standby"
        await lab.clock.run_for(ADVERT_INT)
        assert (await lab.ha_states(router_id))[backup] == "active"
        # A restart of the agent alone leaves its keepalived alone: no transition.
        assert len(lab.segment(router_id).transitions) == transitions
        assert lab.segment(router_id).masters() == [backup]

    run_lab(scenario)


def test_an_l3_agent_restart_reports_a_start_and_does_not_restart_keepalived() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        master, _ = await elected(lab, router_id)
        transitions = len(lab.segment(router_id).transitions)
        before = await lab.call("GET", f"/networking/v2.0/agents?host={master}"
                                       "&binary=neutron-l3-agent")
        await lab.clock.run_for(5)

        restarted = await lab.process(master.split(".")[0], "neutron-l3-agent", "restart")
        assert restarted["state"] == "running" and restarted["changed"] is True
        await lab.clock.run_for(1)
        after = await lab.call("GET", f"/networking/v2.0/agents?host={master}"
                                      "&binary=neutron-l3-agent")
        # Its first report after the start says so (start_flag moves started_at).
        assert after["agents"][0]["started_at"] > before["agents"][0]["started_at"]
        assert len(lab.segment(router_id).transitions) == transitions
        assert lab.state(router_id, master) is VrrpState.MASTER
        assert await lab.fault("heal") is False

    run_lab(scenario)


# -- keepalived ----------------------------------------------------------------------------


def test_a_clean_keepalived_stop_hands_the_router_over_within_the_skew_time() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        master, backup = await elected(lab, router_id)
        keepalived_clock = lab.cloud.agents.keepalived.clock
        stopped_at = keepalived_clock.now()

        await lab.process(master.split(".")[0], "keepalived", "stop")
        assert lab.state(router_id, master) is VrrpState.STOPPED
        await lab.clock.run_for(ADVERT_INT)
        taken = [t for t in lab.segment(router_id).transitions
                 if t.node == backup and t.new is VrrpState.MASTER and t.at >= stopped_at]
        assert len(taken) == 1, taken
        # The priority-0 advert cut the wait to the skew time: less than one advert interval,
        # where a crash takes three intervals plus the skew.
        assert taken[0].at - stopped_at <= SKEW < ADVERT_INT
        assert lab.segment(router_id).masters() == [backup]
        await lab.clock.run_for(ADVERT_INT + 1)
        assert (await lab.ha_states(router_id))[backup] == "active"

        # Started again it comes back as BACKUP and, with nopreempt, stays so.
        await lab.process(master.split(".")[0], "keepalived", "start")
        await lab.clock.run_for(4 * ELECTION)
        assert lab.state(router_id, master) is VrrpState.BACKUP
        assert lab.segment(router_id).masters() == [backup]

    run_lab(scenario)


def test_a_network_node_cut_off_the_overlay_splits_the_brain_until_healed() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        master, backup = await elected(lab, router_id)

        assert await lab.fault("detach", node=master.split(".")[0], network="overlay")
        await lab.clock.run_for(ELECTION + 1)
        # Neither hears the other: both are MASTER (the real lab's split brain).
        assert sorted(lab.segment(router_id).masters()) == sorted([master, backup])
        status = await lab.status()
        assert status["status"] == "degraded"
        assert {"severity": "degraded", "message": f"{master} is detached from overlay"} \
            in status["problems"]

        assert await lab.fault("heal")
        await lab.clock.run_for(ADVERT_INT + 0.1)
        # keepalived's rule between masters: equal priorities, the higher primary IP stays.
        segment = lab.segment(router_id)
        winner = max((segment.instance(master), segment.instance(backup)),
                     key=lambda instance: int(ipaddress.ip_address(instance.primary_ip)))
        assert segment.masters() == [winner.node]

    run_lab(scenario)


def test_a_partition_between_the_network_nodes_splits_the_brain_too() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        await elected(lab, router_id)
        assert await lab.fault("partition", sides=[["network1"], ["network2"]])
        await lab.clock.run_for(ELECTION + 1)
        assert len(lab.segment(router_id).masters()) == 2
        await lab.call("POST", "/stacklab/v1/faults/heal")
        await lab.clock.run_for(ADVERT_INT + 0.1)
        assert len(lab.segment(router_id).masters()) == 1

    run_lab(scenario)


def test_a_link_losing_the_adverts_splits_the_brain_and_a_slow_one_does_not() -> None:
    async def scenario(lab: Lab) -> None:
        router_id = lab.router()
        await elected(lab, router_id)
        # Adverts 1 s late (2 s apart, 3 missed to fail over): the backup still hears them.
        assert await lab.fault("set_link", source="network1", target="network2", latency=1.0)
        await lab.clock.run_for(ELECTION + 1)
        assert len(lab.segment(router_id).masters()) == 1
        assert await lab.fault("set_link", source="network1", target="network2", loss=1.0)
        await lab.clock.run_for(ELECTION + 1)
        assert len(lab.segment(router_id).masters()) == 2
        assert await lab.fault("heal")
        await lab.clock.run_for(ADVERT_INT + 0.1)
        assert len(lab.segment(router_id).masters()) == 1

    run_lab(scenario)


# -- status --------------------------------------------------------------------------------


def test_status_shows_dead_agents_down_services_and_a_verdict() -> None:
    async def scenario(lab: Lab) -> None:
        status = await lab.status()
        assert (status["status"], status["problems"]) == ("ready", [])
        sections = {s["name"]: s for s in status["sections"]}
        assert set(sections) == {"vips", "haproxy", "galera", "rabbitmq", "ceph", "network_agents",
                                 "compute_services", "volume_services"}
        assert len(sections["network_agents"]["rows"]) == 10
        assert len(sections["compute_services"]["rows"]) == 6
        # Two cinder-schedulers, a cinder-volume per controller@lvm, two cinder-backups.
        assert len(sections["volume_services"]["rows"]) == 6

        await lab.fault("stop_service", node="network2", service="neutron-l3-agent")
        await lab.fault("stop_service", node="compute2", service="nova-compute")
        await lab.clock.run_for(lab.cloud.config.DEFAULT.agent_down_time + 30)
        status = await lab.status()
        assert status["status"] == "degraded"
        assert status["faults"]["services_stopped"] == [
            {"node": COMPUTE2, "service": "nova-compute"},
            {"node": NETWORK2, "service": "neutron-l3-agent"}]
        messages = [p["message"] for p in status["problems"]]
        assert messages == [
            "neutron-l3-agent is stopped on network2",
            "nova-compute is stopped on compute2",
            f"neutron-l3-agent on {NETWORK2} is dead (no report for agent_down_time)",
            f"nova-compute on {COMPUTE2} is down (no report for service_down_time)"]
        network2 = next(n for n in status["nodes"] if n["fqdn"] == NETWORK2)
        assert network2["service_states"]["neutron-l3-agent"] == "stopped"
        assert network2["service_states"]["keepalived"] == "running"
        rows = sections_rows(status, "network_agents")
        assert [NETWORK2, "L3 agent", "neutron-l3-agent", "XXX", "UP"] in rows

        # No keystone left anywhere: the cloud cannot serve.
        for node in ("controller1", "controller2"):
            await lab.fault("stop_service", node=node, service="keystone")
        status = await lab.status()
        assert status["status"] == "down"
        assert {"severity": "down", "message": "no keystone runs anywhere"} \
            in status["problems"]

        await lab.fault("heal")
        await lab.clock.run_for(lab.cloud.config.DEFAULT.report_interval)
        assert (await lab.status())["status"] == "ready"

    run_lab(scenario)


def sections_rows(status: dict[str, Any], name: str) -> list[list[Any]]:
    rows: list[list[Any]] = next(s["rows"] for s in status["sections"] if s["name"] == name)
    return rows
