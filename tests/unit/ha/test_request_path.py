"""The request path of a whole in-process cloud in virtual time: every request enters through
the public VIP's holder and its HAProxy, runs on a controller, and reaches the store through
the internal VIP and a Galera member; faults show as the real lab shows them (ha-semantics
§1.5, §2.2, §3.3, §12)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from stacklab.api.app import ConnectionClosed, build_app
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha import route as routes
from stacklab.ha.route import Route
from stacklab.store.database import DBConnectionError
from support.inprocess import run_in_virtual_time

C1, C2 = "controller1.openstack.local", "controller2.openstack.local"
P1, P2 = "proxy1.openstack.local", "proxy2.openstack.local"
ARBITER = "arbiter.openstack.local"
VIP = "192.168.100.100"
NO_SERVER = ("<html><body><h1>503 Service Unavailable</h1>\n"
             "No server is available to handle this request.\n</body></html>\n")
AUTH = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


class Lab:
    """A client of the cloud's public endpoint that lets lab time pass while it waits."""

    def __init__(self, cloud: Cloud, clock: VirtualClock) -> None:
        self.cloud = cloud
        self.clock = clock
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(cloud)),
                                        base_url="http://stacklab.test")
        self.token = ""

    async def send(self, method: str, path: str, *, budget: float = 120.0,
                   **kwargs: Any) -> tuple[httpx.Response, float]:
        """The answer and how long (lab seconds) the client waited for it."""
        (answer,) = await self.send_together([(method, path, kwargs)], budget=budget)
        return answer

    async def send_together(self, requests: list[tuple[str, str, dict[str, Any]]], *,
                            budget: float = 120.0) -> list[tuple[httpx.Response, float]]:
        """Requests sent at once by several clients: each answer with its wait."""
        headers = {"X-Auth-Token": self.token} if self.token else {}
        started = self.clock.now()
        done: dict[int, float] = {}
        tasks = [asyncio.create_task(self.client.request(
                     method, path, **{**kwargs, "headers": {**headers,
                                                            **kwargs.get("headers", {})}}))
                 for method, path, kwargs in requests]
        while True:
            for index, task in enumerate(tasks):
                if task.done() and index not in done:
                    done[index] = self.clock.now() - started
            if len(done) == len(tasks):
                break
            assert self.clock.now() - started < budget, f"{requests} still waiting"
            await self.clock.run_for(0.25)
        return [(await task, done[index]) for index, task in enumerate(tasks)]

    async def login(self) -> None:
        response, _ = await self.send("POST", "/identity/v3/auth/tokens", json=AUTH)
        assert response.status_code == 201, response.text
        self.token = response.headers["X-Subject-Token"]

    async def wait(self, seconds: float) -> None:
        await self.clock.run_for(seconds)

    def status(self) -> dict[str, Any]:
        return self.cloud.controlplane.status()

    def server(self, proxy: str, backend: str, server: str) -> str:
        for found in self.status()["haproxy"]:
            if found["node"] == proxy:
                for entry in found["backends"]:
                    if entry["backend"] == backend:
                        for line in entry["servers"]:
                            if line["server"] == server:
                                return str(line["status"])
        raise KeyError((proxy, backend, server))

    def galera(self, node: str) -> dict[str, Any]:
        members = self.status()["galera"]["members"]
        found: dict[str, Any] = next(m for m in members if m["node"] == node)
        return found


def in_lab(test: Any) -> None:
    async def body(cloud: Cloud, clock: VirtualClock) -> None:
        lab = Lab(cloud, clock)
        try:
            await test(lab)
        finally:
            await lab.client.aclose()
        assert cloud.unexpected_errors == 0

    run_in_virtual_time(body)


def ways(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The request log lines' way through the lab (after ``time: ...``)."""
    lines = [r.getMessage() for r in caplog.records if r.name == "stacklab.api"
             and r.getMessage().startswith('"')]
    return [line.split(" ", 6)[-1] for line in lines]


def test_requests_enter_through_the_vip_holder_and_take_turns_on_the_controllers(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        assert lab.status()["keepalived"]["holder"] == P1  # the first proxy booted first
        caplog.set_level(logging.INFO, logger="stacklab.api")
        await lab.login()
        first, _ = await lab.send("GET", "/compute/v2.1/flavors")
        second, _ = await lab.send("GET", "/compute/v2.1/flavors")
        assert first.status_code == second.status_code == 200
        login, flavors, again = ways(caplog)[-3:]
        assert login.startswith(f"via {VIP} {P1}/keystone_public_internal_cluster/")
        assert login.endswith(f"db {C1}")  # the Galera block's active server
        served = [way.split()[2].split("/")[2] for way in (flavors, again)]
        assert sorted(served) == ["controller1", "controller2"]  # roundrobin
        assert all(way.startswith(f"via {VIP} {P1}/nova_compute_api_cluster/")
                   for way in (flavors, again))
        assert lab.cloud.health()["status"] == "ready"

    in_lab(test)


def test_a_powered_off_controller_costs_the_requests_sent_to_it_until_marked_down(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        caplog.set_level(logging.INFO, logger="stacklab.api")
        await lab.login()
        lab.cloud.node_down(C1)
        # Unauthenticated, storeless requests (the version documents) show the HTTP side.
        delays = []
        for _ in range(4):
            response, waited = await lab.send("GET", "/identity/v3")
            assert response.status_code == 200, response.text
            delays.append(waited)
        logged = ways(caplog)[-4:]
        assert all("/controller2" in way for way in logged)
        # One request was hashed to the silent controller: each connect waited `timeout
        # connect` (10 s) until the server was marked DOWN (fall 5 x (2 s timeout + inter
        # 2 s)) or the last retry was redispatched; the others went straight to controller2.
        slow = [d for d in delays if d > 1]
        assert len(slow) == 1 and 10 <= slow[0] <= 30, delays
        assert any("controller1 timeout" in way for way in logged)
        assert lab.server(P1, "keystone_public_internal_cluster", "controller1") == "DOWN"
        # Now all of them run on controller2, without delay, their store on its Galera node.
        for _ in range(3):
            response, waited = await lab.send("GET", "/compute/v2.1/flavors")
            assert response.status_code == 200 and waited < 1
        assert all(way.endswith(f"db {C2}") and "/controller2" in way
                   for way in ways(caplog)[-3:])
        assert lab.galera(C2)["wsrep_cluster_status"] == "Primary"
        assert lab.galera(C2)["wsrep_cluster_size"] == 2
        health = lab.cloud.health()
        assert health["status"] == "degraded"
        assert health["services"]["compute"] == "degraded"

    in_lab(test)


def test_the_writer_s_crash_fails_database_requests_until_haproxy_moves_to_the_backup() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        lab.cloud.node_down(C1)
        await lab.wait(6.0)  # the Galera survivors have dropped controller1 (5 s)
        # Two clients at once: one request is balanced to controller2, whose session goes
        # through the Galera block to its active server, controller1, still marked UP: the
        # token cannot be checked, so keystonemiddleware answers 503. The other waits on
        # controller1's connect timeouts until HAProxy gives up on it, and then succeeds.
        answers = await lab.send_together([("GET", "/networking/v2.0/networks", {})] * 2)
        (failed, failed_after), (served, served_after) = sorted(
            answers, key=lambda answer: answer[0].status_code, reverse=True)
        assert failed.status_code == 503 and failed_after < 1, failed.text
        assert failed.json()["NeutronError"]["message"] == \
            "The Keystone service is temporarily unavailable."
        assert served.status_code == 200 and served_after > 10
        lab.cloud.node_up(C1)
        await lab.wait(30.0)
        lab.cloud.node_down(C1)
        await lab.wait(6.0)
        # keystone itself (a password, no token to check) answers its own 500.
        answers = await lab.send_together([("POST", "/identity/v3/auth/tokens",
                                            {"json": AUTH})] * 2)
        refused = next(answer for answer, _ in answers if answer.status_code != 201)
        assert refused.status_code == 500
        assert refused.json() == {"error": {
            "code": 500, "title": "Internal Server Error",
            "message": "An unexpected error prevented the server from fulfilling your "
                       "request."}}
        await lab.wait(20.0)
        assert lab.server(P1, "galera_cluster", "controller1") == "DOWN"
        response, _ = await lab.send("GET", "/networking/v2.0/networks")
        assert response.status_code == 200, response.text

    in_lab(test)


def test_both_controllers_off_every_api_answers_haproxy_s_503() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        lab.cloud.node_down(C1)
        lab.cloud.node_down(C2)
        await lab.wait(30.0)
        for path in ("/identity/v3", "/compute/v2.1/servers", "/image/v2/images",
                     "/networking/v2.0/networks"):
            response, waited = await lab.send("GET", path)
            assert response.status_code == 503, path
            assert response.text == NO_SERVER
            assert response.headers["content-type"] == "text/html"
            assert "x-openstack-request-id" not in response.headers  # HAProxy's own page
            assert waited < 1
        assert lab.cloud.health()["status"] == "down"

    in_lab(test)


def test_both_proxies_off_the_connection_fails() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        lab.cloud.node_down(P1)
        lab.cloud.node_down(P2)
        with pytest.raises(ConnectionClosed, match="no VIP holder"):
            await lab.send("GET", "/identity/v3")
        assert lab.cloud.health()["status"] == "down"
        # The lab's own API is not behind the VIP: the operator can still power them on.
        response, _ = await lab.send("GET", "/stacklab/v1/health")
        assert response.status_code == 503 and response.json()["status"] == "down"
        # Nor is its login, keystone's reached out of band: with its token the operator
        # powers a proxy back on, and the cloud's way in opens again.
        lab.token = ""
        response, _ = await lab.send("POST", "/stacklab/v1/auth/tokens", json=AUTH)
        assert response.status_code == 201, response.text
        assert "catalog" not in response.json()["token"]
        lab.token = response.headers["X-Subject-Token"]
        response, _ = await lab.send("POST", "/stacklab/v1/nodes/proxy2/up")
        assert response.status_code == 200, response.text
        await lab.wait(10)  # keepalived's boot and its VRRP election (master_down_interval)
        response, _ = await lab.send("GET", "/identity/v3")
        assert response.status_code == 200

    in_lab(test)


def test_a_clean_keepalived_stop_moves_the_vip_in_under_a_second() -> None:
    async def test(lab: Lab) -> None:
        runtime = lab.cloud.runtime
        runtime.stop_service(P1, "keepalived")
        # proxy2's skew: (256 - 2) / 256 s after proxy1's priority-0 advert.
        assert lab.cloud.controlplane.keepalived.holder() is None
        await lab.wait(0.99)
        assert lab.cloud.controlplane.keepalived.holder() is None
        await lab.wait(0.01)
        assert lab.status()["keepalived"]["holder"] == P2
        response, waited = await lab.send("GET", "/identity/v3")
        assert response.status_code == 200 and waited < 1

    in_lab(test)


def test_a_powered_off_holder_is_replaced_while_the_client_s_syn_is_retransmitted(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        caplog.set_level(logging.INFO, logger="stacklab.api")
        lab.cloud.node_down(P1)
        # No goodbye: proxy2 waits Master_Down_Interval (3 + 254/256 s); the client's SYNs
        # go out again after 1 s and 3 s, and the one after 7 s reaches proxy2.
        response, waited = await lab.send("GET", "/identity/v3")
        assert response.status_code == 200
        assert 7.0 <= waited < 7.5
        assert ways(caplog)[-1].startswith(f"via {VIP} {P2}/")

    in_lab(test)


def test_haproxy_stopped_on_the_holder_refuses_until_check_alive_fails_it_over() -> None:
    async def test(lab: Lab) -> None:
        lab.cloud.runtime.stop_service(P1, "haproxy")
        with pytest.raises(ConnectionClosed, match="connection refused"):
            await lab.send("GET", "/identity/v3")
        # check_alive fails twice (every 2 s), proxy1 goes FAULT and says goodbye.
        await lab.wait(5.0)
        keepalived = lab.status()["keepalived"]
        assert keepalived["holder"] == P2
        assert [i["state"] for i in keepalived["instances"]] == ["FAULT", "MASTER"]
        response, _ = await lab.send("GET", "/identity/v3")
        assert response.status_code == 200

    in_lab(test)


def test_arbiter_and_controller1_off_leave_controller2_non_primary_and_apis_fail() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        lab.cloud.node_down(ARBITER)
        lab.cloud.node_down(C1)
        await lab.wait(30.0)
        member = lab.galera(C2)
        assert (member["wsrep_cluster_status"], member["wsrep_local_state_comment"],
                member["wsrep_ready"]) == ("non-Primary", "Initialized", "OFF")
        # clustercheck answers 503 on controller2 too: no Galera server is UP.
        assert lab.server(P1, "galera_cluster", "controller2") == "DOWN"
        refused, _ = await lab.send("POST", "/identity/v3/auth/tokens", json=AUTH)
        assert refused.status_code == 500
        flavors, _ = await lab.send("GET", "/compute/v2.1/flavors")
        assert flavors.status_code == 503
        assert flavors.json() == {"serviceUnavailable": {
            "code": 503, "message": "The Keystone service is temporarily unavailable."}}
        assert lab.cloud.health()["status"] == "down"
        # garbd back: two of the last component's three votes.
        lab.cloud.node_up(ARBITER)
        await lab.wait(15.0)
        assert lab.galera(C2)["wsrep_cluster_status"] == "Primary"
        flavors, _ = await lab.send("GET", "/compute/v2.1/flavors")
        assert flavors.status_code == 200

    in_lab(test)


def test_neutron_retries_database_errors_until_galera_serves_again() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        listed, _ = await lab.send("GET", "/networking/v2.0/networks")
        assert listed.status_code == 200  # the token is validated (and cached) now
        lab.cloud.node_down(ARBITER)
        lab.cloud.node_down(C1)
        await lab.wait(30.0)
        assert lab.galera(C2)["wsrep_cluster_status"] == "non-Primary"

        async def arbiter_back() -> None:
            await lab.clock.sleep(8.0)
            lab.cloud.node_up(ARBITER)

        back = asyncio.ensure_future(arbiter_back())
        # neutron_lib's retries (0.5 s, then doubling with jitter, at most 10 s) outlast
        # the outage: the call is slow, not failed.
        retried, waited = await lab.send("POST", "/networking/v2.0/networks", budget=200.0,
                                         json={"network": {"name": "retried"}})
        await back
        assert retried.status_code == 201, retried.text  # its body read again each time
        assert retried.json()["network"]["name"] == "retried"
        assert waited > 8.0

    in_lab(test)


def test_neutron_gives_up_after_twenty_retries() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        assert (await lab.send("GET", "/networking/v2.0/networks"))[0].status_code == 200
        lab.cloud.node_down(ARBITER)
        lab.cloud.node_down(C1)
        await lab.wait(30.0)
        failed, waited = await lab.send("GET", "/networking/v2.0/networks", budget=400.0)
        assert failed.status_code == 500
        assert failed.json()["NeutronError"]["type"] == "HTTPInternalServerError"
        # Twenty pauses: 0.5 s, then each below 1, 2, 4 ... s and at most 10 s.
        assert 0.5 < waited < 0.5 + 200.0
        # nova does not retry: its answer comes at once.
        flavors, quick = await lab.send("GET", "/compute/v2.1/flavors")
        assert flavors.status_code in (500, 503) and quick < 1.0

    in_lab(test)


def test_a_non_primary_member_still_marked_up_answers_error_1047() -> None:
    async def test(lab: Lab) -> None:
        lab.cloud.node_down(ARBITER)
        lab.cloud.node_down(C2)
        await lab.wait(6.0)  # controller1 alone: non-Primary, still UP in the Galera block
        assert lab.galera(C1)["wsrep_cluster_status"] == "non-Primary"
        assert lab.server(P1, "galera_cluster", "controller1").startswith("UP")
        bound = routes.bind(Route(VIP, P1, "keystone_public_internal_cluster",
                                  "controller1", C1))
        try:
            with pytest.raises(DBConnectionError) as refused, lab.cloud.db.session():
                pass
        finally:
            routes.unbind(bound)
        assert (refused.value.code, refused.value.sqlstate, refused.value.message) == (
            1047, "08S01", "WSREP has not yet prepared node for application use")
        # Work outside any request (heartbeats, the lab's own API) is not routed.
        with lab.cloud.db.session():
            pass

    in_lab(test)


def test_a_stopped_api_process_costs_turnarounds_then_the_last_retry_goes_elsewhere(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        caplog.set_level(logging.INFO, logger="stacklab.api")
        lab.cloud.runtime.stop_service(C1, "nova-api")
        # Two clients at once: one is balanced to controller1, whose host answers RST: two
        # retries a turn-around (1 s) apart, the last one redispatched to controller2.
        answers = await lab.send_together([("GET", "/compute/v2.1", {})] * 2)
        assert [answer.status_code for answer, _ in answers] == [200, 200]
        assert sorted(round(waited) for _, waited in answers) == [0, 2]
        assert any(way.endswith("after controller1 refused, controller1 refused, "
                                "controller1 refused") for way in ways(caplog))
        await lab.wait(10.0)  # five refused checks, 2 s apart
        assert lab.server(P1, "nova_compute_api_cluster", "controller1") == "DOWN"
        assert lab.server(P1, "keystone_public_internal_cluster", "controller1") == "UP"
        lab.cloud.runtime.start_service(C1, "nova-api")
        await lab.wait(4.0)  # rise 2
        assert lab.server(P1, "nova_compute_api_cluster", "controller1") == "UP"

    in_lab(test)


def test_proxies_cut_apart_both_hold_the_vips_and_health_says_so() -> None:
    async def test(lab: Lab) -> None:
        lab.cloud.runtime.partition([["proxy1"], ["proxy2"]])
        await lab.wait(5.0)
        keepalived = lab.status()["keepalived"]
        assert [i["state"] for i in keepalived["instances"]] == ["MASTER", "MASTER"]
        assert keepalived["holder"] == P2  # its gratuitous ARPs came last
        health = lab.cloud.health()
        assert health["status"] == "degraded"
        assert "two proxies hold the VIPs (split brain)" in health["control_plane"]["reasons"]
        response, _ = await lab.send("GET", "/identity/v3")
        assert response.status_code == 200
        lab.cloud.runtime.heal()
        await lab.wait(2.0)
        assert lab.status()["keepalived"]["holder"] == P2  # the higher priority stays
        assert lab.cloud.health()["status"] == "ready"

    in_lab(test)


def test_the_lab_status_shows_vip_holders_load_balancers_and_galera() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        holder = lab.status()["keepalived"]["holder"]
        other = P2 if holder == P1 else P1
        lab.cloud.node_down(holder)
        lab.cloud.node_down(C1)
        await lab.wait(30.0)
        response, _ = await lab.send("GET", "/stacklab/v1/status")
        assert response.status_code == 200, response.text
        sections = {s["name"]: s for s in response.json()["sections"]}
        vips = sections["vips"]
        assert vips["title"] == "VIPs (keepalived, VRID 51)"
        assert {row[1]: row[3] for row in vips["rows"]} == {
            "192.168.100.100": other.split(".")[0], "10.10.10.100": other.split(".")[0]}
        assert f"{other.split('.')[0]} MASTER" in vips["rows"][0][4]
        balancers = {(row[0], row[1]): row[3] for row in sections["haproxy"]["rows"]}
        down, up = holder.split(".")[0], other.split(".")[0]
        assert balancers[(down, "keystone_public_internal_cluster")] == "(haproxy not running)"
        assert balancers[(up, "nova_compute_api_cluster")] == "controller1 DOWN, controller2 UP"
        assert balancers[(up, "galera_cluster")] == \
            "controller1 DOWN, controller2 (backup) UP"
        galera = sections["galera"]
        assert galera["title"] == "Galera (primary component: arbiter, controller2)"
        assert {row[0]: row[2:4] for row in galera["rows"]} == {
            "controller1": ["Disconnected", "-"], "controller2": ["Primary", "Synced"],
            "arbiter": ["Primary", "Synced"]}

    in_lab(test)


def test_a_slow_link_to_a_controller_slows_the_requests_it_serves(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        caplog.set_level(logging.INFO, logger="stacklab.api")
        await lab.login()
        holder = lab.status()["keepalived"]["holder"]
        lab.cloud.runtime.set_link(holder, C1, latency=0.4)
        waits: dict[str, list[float]] = {"controller1": [], "controller2": []}
        for _ in range(6):
            response, waited = await lab.send("GET", "/compute/v2.1/flavors")
            assert response.status_code == 200
            waits[ways(caplog)[-1].split()[2].split("/")[2]].append(waited)
        # Round robin: half on each. Those on controller1 pay a round trip for the
        # connection and one for the request (4 x 0.4 s); controller1 is also the Galera
        # member the DB VIP's holder writes to, so every request's session pays the slow leg
        # from the holder to it (2 x 0.4 s), twice from controller1 (there and back through
        # the holder). Within the client's 0.25 s polling; the first request on controller1
        # also validates the token (more sessions).
        assert len(waits["controller1"]) == len(waits["controller2"]) == 3
        assert all(3.2 <= wait < 3.2 + 0.5 for wait in waits["controller1"][1:]), waits
        assert waits["controller1"][0] >= 3.2, waits
        assert all(0.8 <= wait < 0.8 + 0.5 for wait in waits["controller2"]), waits

    in_lab(test)


def test_a_link_losing_every_packet_marks_its_controller_down_and_heals() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        holder = lab.status()["keepalived"]["holder"]
        lab.cloud.runtime.set_link(holder, C1, loss=1.0)
        await lab.wait(60.0)
        # Every check's SYN lost: L4TOUT five times, controller1 DOWN on the holder only.
        assert lab.server(holder, "nova_compute_api_cluster", "controller1") == "DOWN"
        other = P2 if holder == P1 else P1
        assert lab.server(other, "nova_compute_api_cluster", "controller1") == "UP"
        response, waited = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200 and waited < 0.5
        lab.cloud.runtime.set_link(holder, C1)
        await lab.wait(10.0)
        assert lab.server(holder, "nova_compute_api_cluster", "controller1") == "UP"

    in_lab(test)


def test_proxies_whose_link_loses_every_advert_both_hold_the_vips() -> None:
    async def test(lab: Lab) -> None:
        await lab.wait(10.0)
        assert len(lab.cloud.controlplane.keepalived.group.masters()) == 1
        lab.cloud.runtime.set_link("proxy1", "proxy2", loss=1.0)
        await lab.wait(10.0)
        assert sorted(lab.cloud.controlplane.keepalived.group.masters()) == [P1, P2]
        assert "two proxies hold the VIPs (split brain)" in \
            lab.cloud.health()["control_plane"]["reasons"]
        lab.cloud.runtime.set_link("proxy1", "proxy2")
        await lab.wait(5.0)
        assert len(lab.cloud.controlplane.keepalived.group.masters()) == 1

    in_lab(test)


def test_a_slow_link_to_the_database_slows_every_request_that_reaches_it(
        caplog: pytest.LogCaptureFixture) -> None:
    async def test(lab: Lab) -> None:
        caplog.set_level(logging.INFO, logger="stacklab.api")
        await lab.login()
        response, clean = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200 and clean < 0.5
        member = ways(caplog)[-1].split(" db ")[1].split()[0]
        holder = lab.status()["keepalived"]["holder"]
        # The DB VIP's holder to the Galera member that takes the writes: each of the
        # request's sessions pays a round trip over it (2 x 0.5 s at least).
        lab.cloud.runtime.set_link(holder, member, latency=0.5)
        response, slow = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200
        assert slow >= 1.0, slow
        lab.cloud.runtime.set_link(holder, member)
        response, healed = await lab.send("GET", "/compute/v2.1/flavors")
        assert healed < 0.5

    in_lab(test)


def test_a_link_losing_every_packet_cuts_galera_and_rabbitmq_as_a_partition_would() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        for peer in (C2, ARBITER):
            lab.cloud.runtime.set_link(C1, peer, loss=1.0)
        await lab.wait(90.0)  # Galera's suspect timeout, RabbitMQ's net_ticktime (60 +- 25 %)
        members = {m["node"]: m for m in lab.status()["galera"]["members"]}
        assert members[C1]["wsrep_cluster_status"] == "non-Primary", members[C1]
        assert members[C2]["wsrep_cluster_status"] == "Primary", members[C2]
        # Half the pair: pause_minority pauses both brokers of two.
        brokers = {n["node"]: n for n in lab.status()["rabbitmq"]["nodes"]}
        assert all(n["state"] == "paused" for n in brokers.values()), brokers
        # A lossy but not dead link is carried by TCP's retransmissions.
        for peer in (C2, ARBITER):
            lab.cloud.runtime.set_link(C1, peer, loss=0.5)
        await lab.wait(120.0)
        members = {m["node"]: m for m in lab.status()["galera"]["members"]}
        assert {m["wsrep_cluster_status"] for m in members.values()} == {"Primary"}, members

    in_lab(test)


async def slow_upload(lab: Lab, image: str, chunks: int) -> Any:
    """A client uploading an image's data a chunk per lab second, until it is answered."""

    async def body() -> Any:
        for _ in range(chunks):
            yield b"x" * 1024
            await lab.clock.sleep(1.0)

    return await lab.send("PUT", f"/image/v2/images/{image}/file", content=body(),
                          headers={"Content-Type": "application/octet-stream"}, budget=300)


async def uploading(lab: Lab) -> tuple[str, asyncio.Task[Any]]:
    """An image upload under way: the controller serving it, and the client's task."""
    created, _ = await lab.send("POST", "/image/v2/images", json={
        "name": "slow", "disk_format": "raw", "container_format": "bare"})
    upload = asyncio.create_task(slow_upload(lab, created.json()["id"], 30))
    await lab.wait(5.0)
    (route,) = lab.cloud.controlplane.in_flight()
    return route.controller, upload


def test_a_controller_powered_off_mid_request_answers_504_after_timeout_server() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        controller, upload = await uploading(lab)
        lab.cloud.node_down(controller)
        response, waited = await upload
        # The request was sent: HAProxy does not retry it; nothing answers until its
        # `timeout server` (1 m) strikes.
        assert response.status_code == 504
        assert b"504 Gateway Time-out" in response.content
        assert 60 + 5 <= waited < 60 + 5 + 1
        assert lab.cloud.controlplane.in_flight() == []

    in_lab(test)


def test_an_api_process_stopped_mid_request_answers_502_at_once() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        controller, upload = await uploading(lab)
        lab.cloud.runtime.stop_service(controller, "glance-api")
        response, waited = await upload
        assert response.status_code == 502
        assert b"The server returned an invalid or incomplete response." in response.content
        assert waited < 5 + 1
        # The upload was given up: the image has no data (glance's own cleanup aside).
        images, _ = await lab.send("GET", "/image/v2/images?name=slow")
        assert images.json()["images"][0]["size"] is None

    in_lab(test)


def test_the_proxy_powered_off_mid_request_closes_the_client_s_connection() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        _, upload = await uploading(lab)
        lab.cloud.node_down(lab.status()["keepalived"]["holder"])
        with pytest.raises(ConnectionClosed, match="went away with the request"):
            await upload

    in_lab(test)
