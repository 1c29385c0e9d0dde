"""nova-compute's build waiting for neutron's network-vif-plugged, end to end in virtual time.

A port the user made with ``admin_state_up`` false stays DOWN once bound, so
nova-compute waits for neutron to say it is plugged, as upstream does for any
port not yet ACTIVE; the test sends the event as neutron's service user would
(``POST /os-server-external-events``), or lets ``vif_plugging_timeout`` pass.
"""

from __future__ import annotations

from typing import Any

from stacklab.config import Config
from support.inprocess import ephemeral_config
from unit.compute.test_server_lifecycle import EMPTY, Lab, run_lab

TIMEOUT = 300  # nova's vif_plugging_timeout, upstream's default


async def _down_port(lab: Lab) -> str:
    """A network, a subnet, and a port on it that neutron keeps DOWN."""
    headers = {"X-Auth-Token": lab.headers["X-Auth-Token"]}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await lab.client.post(f"/networking/v2.0/{path}", headers=headers, json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    network = (await post("networks", {"network": {"name": "wired"}}))["network"]["id"]
    await post("subnets", {"subnet": {"network_id": network, "ip_version": 4,
                                      "cidr": "10.77.0.0/24"}})
    port = await post("ports", {"port": {"network_id": network, "admin_state_up": False}})
    return str(port["port"]["id"])


async def _boot(lab: Lab, port: str) -> str:
    return await lab.create("wired", networks=[{"port": port}])


async def _neutron_says(lab: Lab, server: str, port: str, status: str = "completed") -> None:
    login = await lab.client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "neutron", "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "service", "domain": {"id": "default"}}}}})
    answer = await lab.client.post(
        "/compute/v2.1/os-server-external-events",
        headers={"X-Auth-Token": login.headers["X-Subject-Token"]},
        json={"events": [{"name": "network-vif-plugged", "server_uuid": server, "tag": port,
                          "status": status}]})
    assert answer.status_code == 200, answer.text


def _state(shown: dict[str, Any]) -> tuple[str, str | None]:
    return shown["status"], shown["OS-EXT-STS:task_state"]


def test_a_build_waits_for_the_port_to_be_plugged_then_the_server_is_active() -> None:
    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(60)
        # Spawned long ago (5.8 s in this profile), still waiting for neutron.
        assert _state(await lab.show(server)) == ("BUILD", "spawning")
        await _neutron_says(lab, server, port)
        await lab.clock.run_for(0.1)
        shown = await lab.show(server)
        assert _state(shown) == ("ACTIVE", None)
        assert "fault" not in shown

    run_lab(scenario)


def test_an_event_that_comes_before_the_build_waits_is_kept() -> None:
    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(1.5)
        assert _state(await lab.show(server)) == ("BUILD", "block_device_mapping")
        await _neutron_says(lab, server, port)
        await lab.clock.run_for(10)
        assert _state(await lab.show(server)) == ("ACTIVE", None)

    run_lab(scenario)


def test_no_plugging_within_the_timeout_fails_the_build_with_novas_fault() -> None:
    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(TIMEOUT)  # the wait started after spawning (5.8 s)
        assert _state(await lab.show(server)) == ("BUILD", "spawning")
        await lab.clock.run_for(10)
        shown = await lab.show(server)
        assert _state(shown) == ("ERROR", None)
        assert shown["fault"]["code"] == 500
        assert shown["fault"]["message"] == (
            f"Build of instance {server} aborted: Failed to allocate the network(s), "
            "not rescheduling.")
        assert "Virtual Interface creation failed" in shown["fault"]["details"]
        # The build gave back what it held: the user's port stays, unbound; no allocation.
        assert {lab.cloud.compute.placement.usage(host) == EMPTY
                for host in ("compute1.openstack.local", "compute2.openstack.local")} == {True}
        kept = await lab.client.get(f"/networking/v2.0/ports/{port}",
                                    headers={"X-Auth-Token": lab.headers["X-Auth-Token"]})
        assert kept.json()["port"]["device_id"] == ""

    run_lab(scenario)


def test_a_failed_event_fails_the_build_at_once() -> None:
    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(10)
        await _neutron_says(lab, server, port, status="failed")
        await lab.clock.run_for(0.1)
        assert _state(await lab.show(server)) == ("ERROR", None)

    run_lab(scenario)


def test_when_plugging_is_not_fatal_the_server_boots_after_the_timeout() -> None:
    config: Config = ephemeral_config()
    config.DEFAULT.vif_plugging_is_fatal = False

    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(TIMEOUT)
        assert _state(await lab.show(server)) == ("BUILD", "spawning")
        await lab.clock.run_for(10)
        shown = await lab.show(server)
        assert _state(shown) == ("ACTIVE", None)
        assert "fault" not in shown

    run_lab(scenario, config)


def test_a_zero_timeout_waits_for_nothing() -> None:
    config: Config = ephemeral_config()
    config.DEFAULT.vif_plugging_timeout = 0

    async def scenario(lab: Lab) -> None:
        server = await _boot(lab, await _down_port(lab))
        await lab.clock.run_for(10)
        assert _state(await lab.show(server)) == ("ACTIVE", None)

    run_lab(scenario, config)


def test_a_server_deleted_while_its_build_waits_goes_at_once() -> None:
    async def scenario(lab: Lab) -> None:
        port = await _down_port(lab)
        server = await _boot(lab, port)
        await lab.clock.run_for(30)
        await lab.request("DELETE", f"/servers/{server}", expect=204)
        await lab.clock.run_for(5)
        await lab.request("GET", f"/servers/{server}", expect=404)
        # The build stopped waiting when the delete reached the compute, not at the timeout.
        actions = (await lab.request("GET", f"/servers/{server}/os-instance-actions")
                   )["instanceActions"]
        started = {a["action"]: a for a in actions}
        create = await lab.request(
            "GET", f"/servers/{server}/os-instance-actions/{started['create']['request_id']}")
        build = create["instanceAction"]["events"][-1]
        assert (build["event"], build["result"]) == ("compute__do_build_and_run_instance",
                                                     "Error")
        assert build["finish_time"] == started["delete"]["start_time"]

    run_lab(scenario)
