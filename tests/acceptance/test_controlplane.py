"""The request path of a live cloud, as the real ``openstack`` CLI meets it: through the
public VIP's holder and its HAProxy to a controller, the store through a Galera member.

A cloud of this module's own (powering nodes off would disturb the shared ``live`` one),
with ``[stacklab] ha_time_scale = 0.05``: the lab's timers run 20 times faster, so HAProxy
marking a dead controller DOWN (about 20 s of lab time: five 2 s connect timeouts 2 s
apart) takes about a second. Tests poll the lab's health for the state they wait for
rather than sleep.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]

NO_SERVER = "No server is available to handle this request."


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("controlplane")
    config = tmp / "stacklab.ini"
    config.write_text("[stacklab]\nha_time_scale = 0.05\n")
    cloud = start_cloud(tmp, "--config", str(config))
    yield cloud
    stop_cloud(cloud)


@pytest.fixture(scope="module")
def admin(lab: LiveCloud) -> str:
    """An admin token taken while the lab is whole: the lab's own API is not behind the VIP,
    but getting a token is (keystone's)."""
    response = httpx.post(f"{lab.auth_url}/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def power(lab: LiveCloud, token: str, node: str, state: str) -> None:
    response = httpx.post(f"{lab.url}/stacklab/v1/nodes/{node}/{state}",
                          headers={"X-Auth-Token": token}, timeout=30)
    assert response.status_code == 200, response.text


def health(lab: LiveCloud) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{lab.url}/stacklab/v1/health", timeout=30).json()
    return body


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} after {timeout:.0f} s"
        time.sleep(0.1)


def test_requests_reach_a_controller_through_the_vip_and_survive_one_controller(
        lab: LiveCloud, admin: str) -> None:
    assert health(lab)["status"] == "ready"
    assert lab.openstack_json("flavor", "list")
    power(lab, admin, "controller1", "down")
    wait_for("degraded", lambda: health(lab)["services"]["compute"] == "degraded")
    # HAProxy has marked controller1 DOWN: everything runs on controller2, the store on its
    # Galera member (the block's first backup).
    assert lab.openstack_json("flavor", "list")
    issued = lab.openstack_json("token", "issue")
    assert issued["project_id"]
    body = health(lab)
    assert body["status"] == "degraded"
    assert any("controller1" in reason for reason in body["control_plane"]["reasons"])


def test_with_no_controller_every_api_answers_haproxy_s_503(lab: LiveCloud,
                                                           admin: str) -> None:
    power(lab, admin, "controller2", "down")
    wait_for("down", lambda: health(lab)["status"] == "down")
    response = httpx.get(f"{lab.url}/compute/v2.1/flavors", timeout=30,
                         headers={"X-Auth-Token": admin})
    assert response.status_code == 503
    assert NO_SERVER in response.text and response.headers["content-type"] == "text/html"
    failed = lab.openstack("flavor", "list", check=False)
    assert failed.returncode != 0
    assert "503" in failed.stderr, failed.stderr
    # Back on: controller2 rejoins the arbiter (two of the last component's votes) and its
    # servers come UP again (rise 2).
    power(lab, admin, "controller2", "up")
    power(lab, admin, "controller1", "up")
    wait_for("ready", lambda: health(lab)["status"] == "ready")
    assert lab.openstack_json("flavor", "list")


def test_with_no_proxy_the_connection_fails(lab: LiveCloud, admin: str) -> None:
    power(lab, admin, "proxy1", "down")
    power(lab, admin, "proxy2", "down")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{lab.url}/identity/v3", timeout=30)
    failed = lab.openstack("flavor", "list", check=False)
    assert failed.returncode != 0
    assert "Unable to establish connection" in failed.stderr, failed.stderr
    # The lab's own API is not behind the VIP, nor is the CLI's login to it: the operator
    # still sees the lab and powers the proxies back on.
    assert health(lab)["status"] == "down"
    shown = json.loads(lab.stacklab("status", "--json").stdout)
    assert shown["status"] == "down"
    powered = {node["name"]: node["state"] for node in shown["nodes"]}
    assert powered["proxy1"] == powered["proxy2"] == "down", powered
    lab.stacklab("fault", "power-on", "proxy2")
    power(lab, admin, "proxy1", "up")
    wait_for("ready", lambda: health(lab)["status"] == "ready")
    assert lab.openstack_json("flavor", "list")


@dataclass
class Probe:
    """One ``openstack server list`` of the probe loop: when it ran and how it ended."""

    started: float
    ended: float
    ok: bool
    error: str


def probe_loop(lab: LiveCloud, calls: list[Probe], stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        result = lab.openstack("server", "list", "-f", "json", check=False)
        calls.append(Probe(started, time.monotonic(), result.returncode == 0,
                           result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                           else ""))


def test_a_probe_loop_fails_only_within_the_detection_windows_of_a_controller_kill(
        lab: LiveCloud, admin: str) -> None:
    """The real lab's promise to a client looping on the API while controller1 is killed
    and restored: a failure only while HAProxy has not yet marked it DOWN (or, once it is
    back, while the cluster resyncs); before and after, every call succeeds."""
    wait_for("ready", lambda: health(lab)["status"] == "ready")
    calls: list[Probe] = []
    stop = threading.Event()
    loop = threading.Thread(target=probe_loop, args=(lab, calls, stop))
    loop.start()

    def settle(count: int, after: float) -> None:
        wait_for(f"{count} probes after the change",
                 lambda: sum(1 for c in calls if c.started > after) >= count, timeout=120)

    try:
        settle(2, 0.0)
        killed = time.monotonic()
        power(lab, admin, "controller1", "down")
        wait_for("controller1 marked DOWN",
                 lambda: health(lab)["services"]["compute"] == "degraded")
        detected = time.monotonic()
        settle(2, detected)
        restored = time.monotonic()
        power(lab, admin, "controller1", "up")
        wait_for("ready", lambda: health(lab)["status"] == "ready")
        ready = time.monotonic()
        settle(2, ready)
    finally:
        stop.set()
        loop.join()
    windows = [(killed, detected), (restored, ready)]

    def within_a_window(call: Probe) -> bool:
        return any(call.started <= end and call.ended >= start for start, end in windows)

    failed = [call for call in calls if not call.ok]
    assert all(within_a_window(call) for call in failed), failed
    for call in failed:
        assert "Traceback" not in call.error
        assert any(code in call.error for code in ("HTTP 50", "(HTTP 5")), call.error
    # The probe kept working outside the windows: more calls than windows' worth of them.
    assert sum(1 for call in calls if call.ok and not within_a_window(call)) >= 6
