"""Compute servers on a live cloud: the real CLI and SDK, bodies checked against nova's schemas.

Every test makes its own flavors and servers (unique names) and deletes them again, so that
the two compute nodes stay free for the next test.
States are waited for by polling: the cloud runs the fast profile, where they settle in
milliseconds.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, wait_for
from support.apiref import assert_nova_response, nova_success_code

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180), pytest.mark.every_shape]

CIRROS = "cirros-0.6.2-x86_64-disk"
COMPUTE1, COMPUTE2 = "compute1.openstack.local", "compute2.openstack.local"
SCHEMA_VERSIONS = ("2.1", "2.47", "2.73", "2.96")
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
LATEST = "2.96"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token(live: LiveCloud, user: str = "admin", password: str = "secret",
          project: str = "admin") -> str:
    response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def other(host: str) -> str:
    return COMPUTE2 if host == COMPUTE1 else COMPUTE1


class Nova:
    """Raw HTTP to the compute endpoint, with polling for server states."""

    def __init__(self, live: LiveCloud, auth_token: str) -> None:
        self.live = live
        self.client = httpx.Client(base_url=f"{live.url}/compute/v2.1", timeout=30,
                                   headers={"X-Auth-Token": auth_token})

    def call(self, method: str, path: str, version: str = LATEST,
             **kw: Any) -> httpx.Response:
        headers = {"OpenStack-API-Version": f"compute {version}"}
        response = self.client.request(method, path, headers=headers, **kw)
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        assert "Traceback" not in response.text
        return response

    def action(self, server_id: str, body: dict[str, Any],
               version: str = LATEST) -> httpx.Response:
        return self.call("POST", f"/servers/{server_id}/action", version, json=body)

    def show(self, server_id: str, version: str = LATEST) -> dict[str, Any]:
        response = self.call("GET", f"/servers/{server_id}", version)
        assert response.status_code == 200, response.text
        server: dict[str, Any] = response.json()["server"]
        return server

    def wait(self, server_id: str, status: str, *, timeout: float = 15) -> dict[str, Any]:
        """Poll until the server shows ``status`` with no task under way."""
        deadline = time.monotonic() + timeout
        server: dict[str, Any] = {}
        while time.monotonic() < deadline:
            server = self.show(server_id)
            if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
                # Every state a test reaches is also a body nova's schema must accept.
                assert_nova_response({"server": server}, "/servers/{id}", "GET", LATEST)
                return server
            if server["status"] == "ERROR" and status != "ERROR":
                raise AssertionError(f"server {server_id} went to ERROR waiting for {status}: "
                                     f"{server.get('fault')}")
            time.sleep(0.02)
        raise AssertionError(f"server {server_id} not {status} in {timeout} s: "
                             f"{server.get('status')}/{server.get('OS-EXT-STS:task_state')}")

    def wait_gone(self, server_id: str, *, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call("GET", f"/servers/{server_id}").status_code == 404:
                return
            time.sleep(0.02)
        raise AssertionError(f"server {server_id} still there after {timeout} s")

    def wait_image(self, image_id: str, status: str = "active",
                   *, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        image: dict[str, Any] = {}
        while time.monotonic() < deadline:
            response = self.client.get(f"{self.live.url}/image/v2/images/{image_id}")
            assert response.status_code == 200, response.text
            image = response.json()
            if image["status"] == status:
                return image
            time.sleep(0.02)
        raise AssertionError(f"image {image_id} not {status} in {timeout} s: {image}")

    def migrations(self, server_id: str) -> list[dict[str, Any]]:
        response = self.call("GET", "/os-migrations", "2.80",
                             params={"instance_uuid": server_id})
        assert response.status_code == 200, response.text
        assert_nova_response(response.json(), "/os-migrations", "GET", "2.80")
        rows: list[dict[str, Any]] = response.json()["migrations"]
        return rows


class Lab:
    """What one test needs: the admin's Nova, two small flavors, and the servers to clean up."""

    def __init__(self, live: LiveCloud, nova: Nova, image_id: str) -> None:
        self.live = live
        self.nova = nova
        self.image_id = image_id
        self.flavors: list[str] = []
        self.servers: list[str] = []
        self.images: list[str] = []
        self.small = self.flavor(64)
        self.large = self.flavor(128)

    def flavor(self, ram: int) -> dict[str, Any]:
        created = self.nova.call("POST", "/flavors", "2.55", json={"flavor": {
            "name": unique(f"srv-f{ram}"), "ram": ram, "vcpus": 1, "disk": 1}})
        assert created.status_code == 200, created.text
        flavor: dict[str, Any] = created.json()["flavor"]
        self.flavors.append(flavor["id"])
        return flavor

    def huge(self) -> dict[str, Any]:
        """A flavor no compute node holds: more memory than a lab hypervisor has (32 GB),
        less than the project's ram quota (50 GB)."""
        return self.flavor(40960)

    def track(self, server_id: str) -> str:
        self.servers.append(server_id)
        return server_id

    def boot(self, name: str | None = None, *, flavor: dict[str, Any] | None = None,
             status: str | None = "ACTIVE", hints: dict[str, Any] | None = None,
             nova: Nova | None = None, **fields: Any) -> dict[str, Any]:
        """Create a server over raw HTTP and wait for ``status`` (admin view)."""
        client = nova or self.nova
        server = {"name": name or unique("srv"), "imageRef": self.image_id,
                  "flavorRef": (flavor or self.small)["id"], "networks": "none", **fields}
        body: dict[str, Any] = {"server": server}
        if hints:
            body["os:scheduler_hints"] = hints
        created = client.call("POST", "/servers", json=body)
        assert created.status_code == 202, created.text
        server_id: str = self.track(created.json()["server"]["id"])
        if status is None:
            return created.json()["server"]
        return self.nova.wait(server_id, status)

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.live.openstack(*args, **env)

    def cleanup(self) -> None:
        for server_id in self.servers:
            response = self.nova.call("DELETE", f"/servers/{server_id}")
            assert response.status_code in (204, 404), response.text
        for server_id in self.servers:
            self.nova.wait_gone(server_id)
        for flavor_id in self.flavors:
            self.nova.call("DELETE", f"/flavors/{flavor_id}")
        for image_id in self.images:
            self.nova.client.delete(f"{self.live.url}/image/v2/images/{image_id}")


@pytest.fixture(scope="module")
def nova(live: LiveCloud) -> Iterator[Nova]:
    client = Nova(live, token(live))
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def cirros_id(nova: Nova) -> str:
    response = nova.client.get(f"{nova.live.url}/image/v2/images", params={"name": CIRROS})
    assert response.status_code == 200, response.text
    images = response.json()["images"]
    assert len(images) == 1
    image_id: str = images[0]["id"]
    return image_id


@pytest.fixture
def lab(live: LiveCloud, nova: Nova, cirros_id: str) -> Iterator[Lab]:
    bench = Lab(live, nova, cirros_id)
    yield bench
    bench.cleanup()


@pytest.fixture(scope="module")
def sdk(live: LiveCloud) -> Iterator[Any]:
    # Through the clouds.yaml this cloud wrote, as a user's tooling would find it.
    from openstack.config import OpenStackConfig
    from openstack.connection import Connection

    config = OpenStackConfig(config_files=[str(live.clouds_yaml)], vendor_files=[])
    connection = Connection(config=config.get_one(cloud="stacklab"))
    # This cloud's nova (the clouds.yaml entry is this cloud's), wherever its catalog puts it:
    # on the cloud's port in one process, on nova-api's own with --processes.
    assert connection.compute.get_endpoint() == live.connect().compute.get_endpoint()
    yield connection
    connection.close()


def cli_fails(live: LiveCloud, *args: str, **env: str) -> str:
    """Run a CLI command that must fail; its stderr and stdout together."""
    result = live.openstack(*args, check=False, **env)
    assert result.returncode != 0, f"openstack {' '.join(args)} succeeded:\n{result.stdout}"
    return result.stderr + result.stdout


def actions(nova: Nova, server_id: str) -> list[str]:
    """The server's instance actions, newest first, as nova lists them."""
    listed = nova.call("GET", f"/servers/{server_id}/os-instance-actions", "2.58")
    assert listed.status_code == 200
    return [a["action"] for a in listed.json()["instanceActions"]]


# -- create, list, show, delete -----------------------------------------------------------------


def test_cli_create_wait_list_show_delete(lab: Lab) -> None:
    name = unique("cli-srv")
    created = lab.live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                      "--image", CIRROS, "--nic", "none", "--wait", name)
    lab.track(created["id"])
    assert created["status"] == "ACTIVE"
    assert created["name"] == name
    listed = lab.live.openstack_json("server", "list", "--name", f"^{name}$")
    assert [(s["ID"], s["Name"], s["Status"], s["Flavor"]) for s in listed] == \
        [(created["id"], name, "ACTIVE", lab.small["name"])]
    shown = lab.live.openstack_json("server", "show", name)
    assert shown["status"] == "ACTIVE"
    assert shown["flavor"]["original_name"] == lab.small["name"]
    assert shown["flavor"]["ram"] == 64
    assert shown["image"] == f"{CIRROS} ({lab.image_id})"
    assert shown["OS-EXT-SRV-ATTR:host"] in (COMPUTE1, COMPUTE2)
    assert shown["OS-EXT-SRV-ATTR:hypervisor_hostname"] == shown["OS-EXT-SRV-ATTR:host"]
    assert shown["OS-EXT-STS:vm_state"] == "active"
    assert shown["OS-EXT-STS:power_state"] == 1
    assert shown["addresses"] == {}
    lab.cli("server", "delete", created["id"])
    lab.nova.wait_gone(created["id"])
    # From 2.21 nova lists the actions of a deleted server too.
    assert actions(lab.nova, created["id"]) == ["delete", "create"]


def test_cli_server_list_names_the_image(lab: Lab) -> None:
    server = lab.boot()
    listed = lab.live.openstack_json("server", "list", "--name", f"^{server['name']}$")
    assert [s["Image"] for s in listed] == [CIRROS]


def test_sdk_create_and_list_with_filters(lab: Lab, sdk: Any) -> None:
    name = unique("sdk-srv")
    server = sdk.compute.create_server(name=name, image_id=lab.image_id,
                                       flavor_id=lab.small["id"], networks="none",
                                       metadata={"role": "web"}, tags=["blue"])
    lab.track(server.id)
    server = sdk.compute.wait_for_server(server, status="ACTIVE", interval=0.05, wait=30)
    assert server.compute_host in (COMPUTE1, COMPUTE2)
    assert server.metadata == {"role": "web"}
    assert server.tags == ["blue"]
    found = list(sdk.compute.servers(name=f"^{name}$", tags="blue"))
    assert [s.id for s in found] == [server.id]
    assert list(sdk.compute.servers(name=f"^{name}$", tags="red")) == []
    assert [s.id for s in sdk.compute.servers(status="ACTIVE", name=f"^{name}$")] == [server.id]
    updated = sdk.compute.update_server(server, name=f"{name}-renamed", description="d")
    assert (updated.name, updated.description) == (f"{name}-renamed", "d")


def test_sdk_actions(lab: Lab, sdk: Any) -> None:
    server = sdk.compute.get_server(lab.boot()["id"])
    sdk.compute.stop_server(server)
    sdk.compute.wait_for_server(server, status="SHUTOFF", interval=0.05, wait=30)
    sdk.compute.start_server(server)
    sdk.compute.wait_for_server(server, status="ACTIVE", interval=0.05, wait=30)
    sdk.compute.lock_server(server, locked_reason="sdk")
    assert sdk.compute.get_server(server).is_locked is True
    sdk.compute.unlock_server(server)
    output = sdk.compute.get_server_console_output(server, length=1)["output"]
    # The last line: the login prompt, with no newline after it (the guest waits there).
    assert output.endswith(" login:") and output.count("\n") == 0
    assert [a.action for a in sdk.compute.server_actions(server)] == \
        ["unlock", "lock", "start", "stop", "create"]
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, interval=0.05, wait=30)


# -- power actions ------------------------------------------------------------------------------


def test_stop_start(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "stop", server["id"])
    stopped = lab.nova.wait(server["id"], "SHUTOFF")
    assert stopped["OS-EXT-STS:power_state"] == 4 and stopped["OS-EXT-STS:vm_state"] == "stopped"
    lab.cli("server", "start", server["id"])
    started = lab.nova.wait(server["id"], "ACTIVE")
    assert started["OS-EXT-STS:power_state"] == 1
    assert started["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]
    assert actions(lab.nova, server["id"])[0] == "start"


def test_reboot_soft_and_hard(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "reboot", "--soft", server["id"])
    lab.nova.wait(server["id"], "ACTIVE")
    lab.cli("server", "reboot", "--hard", server["id"])
    assert lab.nova.wait(server["id"], "ACTIVE")["OS-EXT-STS:power_state"] == 1
    assert actions(lab.nova, server["id"]) == ["reboot", "reboot", "create"]
    # A stopped server takes only a hard reboot, as nova's check_instance_state says.
    assert lab.nova.action(server["id"], {"os-stop": None}).status_code == 202
    lab.nova.wait(server["id"], "SHUTOFF")
    soft = lab.nova.action(server["id"], {"reboot": {"type": "SOFT"}})
    assert soft.status_code == 409
    assert soft.json()["conflictingRequest"]["message"] == \
        f"Cannot 'reboot' instance {server['id']} while it is in vm_state stopped"
    hard = lab.nova.action(server["id"], {"reboot": {"type": "HARD"}})
    assert hard.status_code == 202
    lab.nova.wait(server["id"], "ACTIVE")


def test_pause_unpause(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "pause", server["id"])
    paused = lab.nova.wait(server["id"], "PAUSED")
    assert (paused["OS-EXT-STS:vm_state"], paused["OS-EXT-STS:power_state"]) == ("paused", 3)
    lab.cli("server", "unpause", server["id"])
    assert lab.nova.wait(server["id"], "ACTIVE")["OS-EXT-STS:power_state"] == 1
    assert actions(lab.nova, server["id"]) == ["unpause", "pause", "create"]


def test_suspend_resume(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "suspend", server["id"])
    suspended = lab.nova.wait(server["id"], "SUSPENDED")
    # libvirt suspends with managedSave, which leaves the domain shut off: power_state 4.
    assert (suspended["OS-EXT-STS:vm_state"], suspended["OS-EXT-STS:power_state"]) == \
        ("suspended", 4)
    lab.cli("server", "resume", server["id"])
    assert lab.nova.wait(server["id"], "ACTIVE")["OS-EXT-STS:power_state"] == 1
    assert actions(lab.nova, server["id"]) == ["resume", "suspend", "create"]


def test_lock_refuses_a_member_and_unlock(lab: Lab) -> None:
    project, user = unique("lockp"), unique("locku")
    project_id = lab.live.openstack_json("project", "create", project)["id"]
    user_id = lab.live.openstack_json("user", "create", "--password", "pw", user)["id"]
    admin_identity = httpx.Client(base_url=f"{lab.live.url}/identity/v3", timeout=30,
                                  headers={"X-Auth-Token": lab.nova.client.headers["X-Auth-Token"]})
    member: Nova | None = None
    try:
        lab.cli("role", "add", "--project", project, "--user", user, "member")
        member = Nova(lab.live, token(lab.live, user, "pw", project))
        server = lab.boot(nova=member)
        assert server["tenant_id"] == project_id
        lab.cli("server", "lock", "--reason", "maintenance", server["id"])
        locked = lab.nova.show(server["id"])
        assert (locked["locked"], locked["locked_reason"]) == (True, "maintenance")
        as_member = ("--os-username", user, "--os-password", "pw", "--os-project-name", project)
        refused = cli_fails(lab.live, *as_member, "server", "stop", server["id"])
        assert f"Instance {server['id']} is locked" in refused
        raw = member.action(server["id"], {"os-stop": None})
        assert raw.status_code == 409
        assert raw.json() == {"conflictingRequest": {
            "code": 409, "message": f"Instance {server['id']} is locked"}}
        assert member.call("DELETE", f"/servers/{server['id']}").status_code == 409
        # An admin locked it: the owner may not unlock it (unlock_override is admin only).
        assert member.action(server["id"], {"unlock": None}).status_code == 403
        lab.cli("server", "unlock", server["id"])
        assert lab.nova.show(server["id"])["locked"] is False
        assert member.action(server["id"], {"os-stop": None}).status_code == 202
        lab.nova.wait(server["id"], "SHUTOFF")
        assert actions(lab.nova, server["id"]) == ["stop", "unlock", "lock", "create"]
        # What a member sees of its own server: no hosts, as nova's default policy has it.
        own = member.call("GET", f"/servers/{server['id']}")
        assert_nova_response(own.json(), "/servers/{id}", "GET", LATEST)
        assert not {"OS-EXT-SRV-ATTR:host", "host_status"} & set(own.json()["server"])
        request_id = member.call("GET", f"/servers/{server['id']}/os-instance-actions").json()[
            "instanceActions"][0]["request_id"]
        stop = member.call("GET", f"/servers/{server['id']}/os-instance-actions/{request_id}")
        assert_nova_response(stop.json(), "/servers/{server_id}/os-instance-actions/{id}",
                             "GET", LATEST)
        events = stop.json()["instanceAction"]["events"]
        assert [e["event"] for e in events] == ["compute_stop_instance"]
        assert "host" not in events[0] and "traceback" not in events[0]
        assert events[0]["hostId"] == own.json()["server"]["hostId"]
    finally:
        if member is not None:
            member.client.close()
        admin_identity.delete(f"/users/{user_id}")
        admin_identity.delete(f"/projects/{project_id}")
        admin_identity.close()


def test_locked_server_accepts_admin_actions(lab: Lab) -> None:
    server = lab.boot()
    assert lab.nova.action(server["id"], {"lock": {"locked_reason": "x"}}).status_code == 202
    assert lab.nova.action(server["id"], {"os-stop": None}).status_code == 202
    lab.nova.wait(server["id"], "SHUTOFF")
    listed = lab.nova.call("GET", "/servers/detail", "2.73",
                           params={"locked": "true", "name": f"^{server['name']}$"})
    assert [s["id"] for s in listed.json()["servers"]] == [server["id"]]


# -- resize, migrations, evacuate ---------------------------------------------------------------


def test_resize_confirm(lab: Lab) -> None:
    server = lab.boot()
    source = server["OS-EXT-SRV-ATTR:host"]
    lab.cli("server", "resize", "--flavor", lab.large["name"], server["id"])
    resized = lab.nova.wait(server["id"], "VERIFY_RESIZE")
    assert resized["OS-EXT-STS:vm_state"] == "resized"
    assert resized["flavor"]["original_name"] == lab.large["name"]
    assert resized["flavor"]["ram"] == 128
    # allow_resize_to_same_host is False upstream: the resize moved the server.
    assert resized["OS-EXT-SRV-ATTR:host"] == other(source)
    lab.cli("server", "resize", "confirm", server["id"])
    confirmed = lab.nova.wait(server["id"], "ACTIVE")
    assert confirmed["flavor"]["original_name"] == lab.large["name"]
    assert confirmed["OS-EXT-SRV-ATTR:host"] == other(source)
    migrations = lab.nova.migrations(server["id"])
    assert [(m["migration_type"], m["status"], m["source_compute"], m["dest_compute"])
            for m in migrations] == [("resize", "confirmed", source, other(source))]
    old, new = migrations[0]["old_instance_type_id"], migrations[0]["new_instance_type_id"]
    assert isinstance(old, int) and isinstance(new, int) and old != new
    assert actions(lab.nova, server["id"]) == ["confirmResize", "resize", "create"]


def test_resize_revert(lab: Lab) -> None:
    server = lab.boot()
    source = server["OS-EXT-SRV-ATTR:host"]
    lab.cli("server", "resize", "--flavor", lab.large["id"], server["id"])
    resized = lab.nova.wait(server["id"], "VERIFY_RESIZE")
    assert resized["flavor"]["original_name"] == lab.large["name"]
    lab.cli("server", "resize", "revert", server["id"])
    reverted = lab.nova.wait(server["id"], "ACTIVE")
    assert reverted["flavor"]["original_name"] == lab.small["name"]
    assert reverted["flavor"]["ram"] == 64
    assert reverted["OS-EXT-SRV-ATTR:host"] == source
    assert [(m["migration_type"], m["status"]) for m in lab.nova.migrations(server["id"])] == \
        [("resize", "reverted")]
    assert actions(lab.nova, server["id"]) == ["revertResize", "resize", "create"]


def test_resize_that_fits_no_host_leaves_the_server_as_it_was(lab: Lab) -> None:
    server = lab.boot()
    # 202 then NoValidHost in the conductor: nova casts resizes since Ussuri.
    resize = lab.nova.action(server["id"], {"resize": {"flavorRef": lab.huge()["id"]}})
    assert resize.status_code == 202, resize.text
    after = lab.nova.wait(server["id"], "ACTIVE")
    assert after["flavor"]["original_name"] == lab.small["name"]
    assert after["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]
    assert [(m["migration_type"], m["status"]) for m in lab.nova.migrations(server["id"])] == \
        [("resize", "error")]
    [resize_action, _] = lab.nova.call(
        "GET", f"/servers/{server['id']}/os-instance-actions").json()["instanceActions"]
    shown = lab.nova.call("GET", f"/servers/{server['id']}/os-instance-actions/"
                                 f"{resize_action['request_id']}").json()["instanceAction"]
    assert [(e["event"], e["result"]) for e in shown["events"]] == \
        [("conductor_migrate_server", "Error")]
    # The failed resize left nothing behind: a migration starts as usual.
    assert lab.nova.action(server["id"], {"migrate": None}).status_code == 202
    lab.nova.wait(server["id"], "VERIFY_RESIZE")


def usage(nova: Nova) -> dict[str, tuple[int, int, int]]:
    """Per compute node: memory_mb_used (with the reserved 512 MB), vcpus_used, running_vms."""
    listed = nova.call("GET", "/os-hypervisors/detail", "2.1").json()["hypervisors"]
    return {h["hypervisor_hostname"]: (h["memory_mb_used"], h["vcpus_used"], h["running_vms"])
            for h in listed}


def wait_usage(nova: Nova, expected: dict[str, tuple[int, int, int]]) -> None:
    deadline = time.monotonic() + 2
    while usage(nova) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert usage(nova) == expected


def test_hypervisor_usage_follows_a_server(lab: Lab) -> None:
    before = usage(lab.nova)
    server = lab.boot()
    host = server["OS-EXT-SRV-ATTR:host"]
    memory, vcpus, vms = before[host]
    assert usage(lab.nova) == {**before, host: (memory + 64, vcpus + 1, vms + 1)}
    lab.cli("server", "delete", "--wait", server["id"])
    wait_usage(lab.nova, before)


def test_deleting_a_resized_server_frees_both_hosts(lab: Lab) -> None:
    before = usage(lab.nova)
    server = lab.boot()
    resize = lab.nova.action(server["id"], {"resize": {"flavorRef": lab.large["id"]}})
    assert resize.status_code == 202
    lab.nova.wait(server["id"], "VERIFY_RESIZE")
    assert lab.nova.call("DELETE", f"/servers/{server['id']}").status_code == 204
    lab.nova.wait_gone(server["id"])
    wait_usage(lab.nova, before)


def test_resize_to_the_same_flavor_is_400(lab: Lab) -> None:
    server = lab.boot()
    same = lab.nova.action(server["id"], {"resize": {"flavorRef": lab.small["id"]}})
    assert same.status_code == 400
    assert same.json()["badRequest"]["message"] == \
        "When resizing, instances must change flavor!"


def test_cold_migrate_and_confirm(lab: Lab) -> None:
    server = lab.boot()
    source = server["OS-EXT-SRV-ATTR:host"]
    lab.cli("server", "migrate", server["id"])
    migrated = lab.nova.wait(server["id"], "VERIFY_RESIZE")
    assert migrated["OS-EXT-SRV-ATTR:host"] == other(source)
    assert migrated["flavor"]["original_name"] == lab.small["name"]
    lab.cli("server", "migrate", "confirm", server["id"])
    confirmed = lab.nova.wait(server["id"], "ACTIVE")
    assert confirmed["OS-EXT-SRV-ATTR:host"] == other(source)
    assert [(m["migration_type"], m["status"]) for m in lab.nova.migrations(server["id"])] == \
        [("migration", "confirmed")]
    assert actions(lab.nova, server["id"]) == ["confirmResize", "migrate", "create"]


def test_live_migrate(lab: Lab) -> None:
    server = lab.boot()
    source = server["OS-EXT-SRV-ATTR:host"]
    lab.cli("server", "migrate", "--live-migration", server["id"])
    moved = lab.nova.wait(server["id"], "ACTIVE")
    assert moved["OS-EXT-SRV-ATTR:host"] == other(source)
    assert moved["OS-EXT-STS:power_state"] == 1
    assert [(m["migration_type"], m["status"], m["dest_compute"])
            for m in lab.nova.migrations(server["id"])] == \
        [("live-migration", "completed", other(source))]
    assert actions(lab.nova, server["id"])[0] == "live-migration"


def test_evacuate_from_a_forced_down_host(lab: Lab) -> None:
    # Both servers on compute1, by the admin's zone:host syntax.
    first = lab.boot(availability_zone=f"nova:{COMPUTE1}")
    second = lab.boot(availability_zone=f"nova:{COMPUTE1}")
    assert {first["OS-EXT-SRV-ATTR:host"], second["OS-EXT-SRV-ATTR:host"]} == {COMPUTE1}
    refused = lab.nova.action(first["id"], {"evacuate": {}})
    assert refused.status_code == 400  # the host is still up
    lab.cli("--os-compute-api-version", "2.11", "compute", "service", "set", "--down",
            COMPUTE1, "nova-compute")
    try:
        lab.cli("--os-compute-api-version", "2.29", "server", "evacuate", first["id"])
        evacuated = lab.nova.wait(first["id"], "ACTIVE")
        assert evacuated["OS-EXT-SRV-ATTR:host"] == COMPUTE2
        assert evacuated["host_status"] == "UP"
        assert [(m["migration_type"], m["source_compute"], m["dest_compute"], m["status"])
                for m in lab.nova.migrations(first["id"])] == \
            [("evacuation", COMPUTE1, COMPUTE2, "done")]
        assert actions(lab.nova, first["id"])[0] == "evacuate"
        # From 2.95 on, an evacuated server arrives stopped.
        raw = lab.nova.action(second["id"], {"evacuate": {}}, "2.95")
        assert raw.status_code == 200
        assert_nova_response(raw.json() if raw.content else None, "/servers/{id}/action",
                             "POST", "2.95", action="evacuate")
        stopped = lab.nova.wait(second["id"], "SHUTOFF")
        assert stopped["OS-EXT-SRV-ATTR:host"] == COMPUTE2
    finally:
        lab.cli("--os-compute-api-version", "2.11", "compute", "service", "set", "--up",
                COMPUTE1, "nova-compute")


def compute_service_id(nova: Nova, host: str) -> str:
    listed = nova.call("GET", "/os-services", "2.53",
                       params={"binary": "nova-compute", "host": host})
    [service] = listed.json()["services"]
    service_id: str = service["id"]
    return service_id


def force_down(nova: Nova, service_id: str, down: bool) -> None:
    response = nova.call("PUT", f"/os-services/{service_id}", "2.53",
                         json={"forced_down": down})
    assert response.status_code == 200, response.text
    assert response.json()["service"]["state"] == ("down" if down else "up")


def test_a_forced_down_host_is_down_at_once(lab: Lab) -> None:
    server = lab.boot(availability_zone=f"nova:{COMPUTE1}")
    service_id = compute_service_id(lab.nova, COMPUTE1)
    assert lab.nova.show(server["id"])["host_status"] == "UP"
    force_down(lab.nova, service_id, True)
    try:
        assert lab.nova.show(server["id"])["host_status"] == "DOWN"
        evacuate = lab.nova.action(server["id"], {"evacuate": {}}, "2.29")
        assert evacuate.status_code == 200, evacuate.text
        assert lab.nova.wait(server["id"], "ACTIVE")["OS-EXT-SRV-ATTR:host"] == COMPUTE2
    finally:
        force_down(lab.nova, service_id, False)
        # Nothing of "down" may linger for the next test, which may move servers off it.
        deadline = time.monotonic() + 5
        while lab.nova.show(server["id"])["host_status"] != "UP" and \
                time.monotonic() < deadline:
            time.sleep(0.05)


# -- rebuild, rescue, shelve, images --------------------------------------------------------------


def test_rebuild_with_another_image(lab: Lab) -> None:
    server = lab.boot()
    upload = lab.nova.client.post(f"{lab.live.url}/image/v2/images", json={
        "name": unique("rebuild-img"), "disk_format": "raw", "container_format": "bare"})
    assert upload.status_code == 201, upload.text
    image_id = upload.json()["id"]
    lab.images.append(image_id)
    put = lab.nova.client.put(f"{lab.live.url}/image/v2/images/{image_id}/file",
                              content=b"\0" * 4096,
                              headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 204, put.text
    rebuilt = lab.live.openstack_json("server", "rebuild", "--image", image_id, "--name",
                                      f"{server['name']}-rebuilt", server["id"])
    assert rebuilt["id"] == server["id"]
    active = lab.nova.wait(server["id"], "ACTIVE")
    assert active["image"]["id"] == image_id
    assert active["name"] == f"{server['name']}-rebuilt"
    assert active["OS-EXT-SRV-ATTR:host"] == server["OS-EXT-SRV-ATTR:host"]
    assert actions(lab.nova, server["id"])[0] == "rebuild"


def test_rebuild_keeps_a_stopped_server_stopped(lab: Lab) -> None:
    server = lab.boot()
    assert lab.nova.action(server["id"], {"os-stop": None}).status_code == 202
    lab.nova.wait(server["id"], "SHUTOFF")
    rebuilt = lab.nova.action(server["id"], {"rebuild": {"imageRef": lab.image_id}})
    assert rebuilt.status_code == 202, rebuilt.text
    assert rebuilt.json()["server"]["status"] == "REBUILD"
    assert lab.nova.wait(server["id"], "SHUTOFF")["OS-EXT-STS:power_state"] == 4


def test_rescue_unrescue(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "rescue", server["id"])
    rescued = lab.nova.wait(server["id"], "RESCUE")
    assert rescued["OS-EXT-STS:vm_state"] == "rescued"
    lab.cli("server", "unrescue", server["id"])
    lab.nova.wait(server["id"], "ACTIVE")
    assert actions(lab.nova, server["id"]) == ["unrescue", "rescue", "create"]
    raw = lab.nova.action(server["id"], {"rescue": {"adminPass": "pw-123"}})
    assert raw.status_code == 200
    assert raw.json() == {"adminPass": "pw-123"}
    assert_nova_response(raw.json(), "/servers/{id}/action", "POST", LATEST, action="rescue")
    lab.nova.wait(server["id"], "RESCUE")
    assert lab.nova.action(server["id"], {"unrescue": None}).status_code == 202
    lab.nova.wait(server["id"], "ACTIVE")


def test_shelve_unshelve(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "shelve", server["id"])
    shelved = lab.nova.wait(server["id"], "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    assert shelved["OS-EXT-SRV-ATTR:host"] is None
    snapshots = lab.nova.client.get(f"{lab.live.url}/image/v2/images",
                                    params={"name": f"{server['name']}-shelved"}).json()
    assert [i["status"] for i in snapshots["images"]] == ["active"]
    console = lab.nova.action(server["id"], {"os-getConsoleOutput": {}})
    assert console.status_code == 409
    assert console.json()["conflictingRequest"]["message"] == \
        f"Instance {server['id']} is not ready"
    pause = lab.nova.action(server["id"], {"pause": None})
    assert pause.status_code == 409
    assert pause.json()["conflictingRequest"]["message"] == \
        f"Cannot 'pause' instance {server['id']} while it is in vm_state shelved_offloaded"
    lab.cli("server", "unshelve", server["id"])
    unshelved = lab.nova.wait(server["id"], "ACTIVE")
    assert unshelved["OS-EXT-SRV-ATTR:host"] in (COMPUTE1, COMPUTE2)
    assert unshelved["image"]["id"] == lab.image_id
    # nova deletes the shelved snapshot once the server is back.
    left = lab.nova.client.get(f"{lab.live.url}/image/v2/images",
                               params={"name": f"{server['name']}-shelved"}).json()
    assert left["images"] == []
    assert actions(lab.nova, server["id"]) == ["unshelve", "shelve", "create"]


def test_server_image_create(lab: Lab, tmp_path: Path) -> None:
    server = lab.boot()
    name = unique("snap")
    created = lab.live.openstack_json("server", "image", "create", "--name", name,
                                      server["id"])
    lab.images.append(created["id"])
    image = lab.nova.wait_image(created["id"])
    assert image["name"] == name
    assert image["instance_uuid"] == server["id"]
    assert image["image_type"] == "snapshot"
    assert image["base_image_ref"] == lab.image_id
    assert image["size"] > 0
    lab.nova.wait(server["id"], "ACTIVE")
    listed = lab.live.openstack_json("image", "list", "--name", name)
    assert [(i["ID"], i["Status"]) for i in listed] == [(created["id"], "active")]
    saved = tmp_path / "snap.img"
    lab.cli("image", "save", "--file", str(saved), created["id"])
    assert saved.stat().st_size == image["size"] > 0
    assert actions(lab.nova, server["id"])[0] == "createImage"


def test_a_members_snapshot_is_made_through_glances_api(lab: Lab) -> None:
    """``server image create`` by a member: nova creates and fills the image through the
    Image API, so it is the member's project's, and glance logged nova's calls under the
    request id of the CLI's createImage as their global request id."""
    project, user = unique("snapp"), unique("snapu")
    project_id = lab.live.openstack_json("project", "create", project)["id"]
    user_id = lab.live.openstack_json("user", "create", "--password", "pw", user)["id"]
    try:
        lab.cli("role", "add", "--project", project, "--user", user, "member")
        member = Nova(lab.live, token(lab.live, user, "pw", project))
        server = lab.boot(nova=member)
        as_member = ("--os-username", user, "--os-password", "pw", "--os-project-name", project)
        name = unique("msnap")
        result = lab.cli("--debug", *as_member, "server", "image", "create", "--name", name,
                         "-f", "json", server["id"])
        created = json.loads(result.stdout)
        lab.images.append(created["id"])
        # keystoneauth's debug log names the request id nova answered the action with.
        found = re.search(r"POST call to compute for \S+/servers/\S+/action used request id "
                          r"(req-[0-9a-f-]+)", result.stderr)
        assert found, result.stderr[-2000:]
        nova_request = found.group(1)
        lab.nova.wait_image(created["id"])
        lab.nova.wait(server["id"], "ACTIVE")
        listed = lab.live.openstack_json(*as_member, "image", "list", "--name", name,
                                         "--long")
        assert [(i["ID"], i["Status"], i["Project"]) for i in listed] == \
            [(created["id"], "active", project_id)]
        upload = f'"PUT /image/v2/images/{created["id"]}/file"'

        def glance_lines() -> list[str]:
            logs = lab.nova.client.get(f"{lab.live.url}/stacklab/v1/logs",
                                       params={"global_request_id": nova_request})
            assert logs.status_code == 200, logs.text
            return [r["message"] for r in logs.json()["logs"] if r["service"] == "image"]

        def both(glance: list[str]) -> bool:
            return any(m.startswith('"POST /image/v2/images"') and "status: 201" in m
                       for m in glance) and any(
                m.startswith(upload) and "status: 204" in m for m in glance)

        # With --processes glance's records reach the central log in the next batch its
        # process ships (every 0.2 s), not at once.
        wait_for("glance's records of nova's calls", glance_lines, both, timeout=15)
    finally:
        lab.cli("user", "delete", user_id)
        lab.cli("project", "delete", project_id)


@pytest.mark.parametrize("version", ("2.1", "2.45"))
def test_create_image_response_per_microversion(lab: Lab, version: str) -> None:
    server = lab.boot()
    response = lab.nova.action(server["id"], {"createImage": {"name": unique("raw-snap"),
                                                              "metadata": {"k": "v"}}}, version)
    assert response.status_code == 202, response.text
    if version == "2.1":
        assert response.content == b""
        image_id = response.headers["Location"].rsplit("/", 1)[-1]
        assert_nova_response(None, "/servers/{id}/action", "POST", version,
                             action="createImage")
    else:
        assert_nova_response(response.json(), "/servers/{id}/action", "POST", version,
                             action="createImage")
        image_id = response.json()["image_id"]
    lab.images.append(image_id)
    assert lab.nova.wait_image(image_id)["k"] == "v"
    lab.nova.wait(server["id"], "ACTIVE")


# -- consoles, state, events ----------------------------------------------------------------------


def test_console_log_show(lab: Lab) -> None:
    server = lab.boot()
    log = lab.cli("console", "log", "show", server["id"]).stdout
    assert f"{server['name']} login:" in log  # the guest's hostname is the server's name
    short = lab.nova.action(server["id"], {"os-getConsoleOutput": {"length": 2}})
    assert short.status_code == 200
    assert_nova_response(short.json(), "/servers/{id}/action", "POST", LATEST,
                         action="os-getConsoleOutput")
    assert len(short.json()["output"].splitlines()) == 2
    assert short.json()["output"].splitlines() == log.strip("\n").splitlines()[-2:]


def test_console_url_show(lab: Lab) -> None:
    server = lab.boot()
    console = lab.live.openstack_json("console", "url", "show", server["id"])
    assert console["type"] == "novnc"
    assert console["protocol"] == "vnc"
    assert console["url"].startswith("http")
    for version in ("2.6", "2.8", "2.96"):
        raw = lab.nova.call("POST", f"/servers/{server['id']}/remote-consoles", version,
                            json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
        assert raw.status_code == 200, raw.text
        assert_nova_response(raw.json(), "/servers/{server_id}/remote-consoles", "POST",
                             version)
    legacy = lab.nova.action(server["id"], {"os-getVNCConsole": {"type": "novnc"}}, "2.1")
    assert legacy.status_code == 200
    assert_nova_response(legacy.json(), "/servers/{id}/action", "POST", "2.1",
                         action="os-getVNCConsole")


def test_reset_state_to_error_and_back(lab: Lab) -> None:
    server = lab.boot()
    lab.cli("server", "set", "--auto-approve", "--state", "error", server["id"])
    errored = lab.nova.wait(server["id"], "ERROR")
    assert errored["OS-EXT-STS:vm_state"] == "error"
    lab.cli("server", "set", "--auto-approve", "--state", "active", server["id"])
    assert lab.nova.wait(server["id"], "ACTIVE")["OS-EXT-STS:vm_state"] == "active"
    assert actions(lab.nova, server["id"])[0] == "resetState"


def test_server_event_list_and_show(lab: Lab) -> None:
    server = lab.boot()
    assert lab.nova.action(server["id"], {"os-stop": None}).status_code == 202
    lab.nova.wait(server["id"], "SHUTOFF")
    events = lab.live.openstack_json("server", "event", "list", server["id"])
    assert [e["Action"] for e in events] == ["stop", "create"]
    assert {e["Server ID"] for e in events} == {server["id"]}
    create = events[1]
    shown = lab.live.openstack_json("server", "event", "show", server["id"],
                                    create["Request ID"])
    assert shown["action"] == "create"
    assert shown["request_id"] == create["Request ID"]
    names = {e["event"]: e for e in shown["events"]}
    build = names["compute__do_build_and_run_instance"]
    assert build["result"] == "Success"
    assert build["host"] == server["OS-EXT-SRV-ATTR:host"]
    # 2.58 pages instance actions with limit and marker.
    path = f"/servers/{server['id']}/os-instance-actions"
    page = lab.nova.call("GET", path, "2.58", params={"limit": 1})
    assert_nova_response(page.json(), "/servers/{server_id}/os-instance-actions", "GET", "2.58")
    assert [a["action"] for a in page.json()["instanceActions"]] == ["stop"]
    marker = page.json()["instanceActions"][0]["request_id"]
    [link] = page.json()["links"]
    assert link["rel"] == "next"
    assert f"marker={marker}" in link["href"] and "limit=1" in link["href"]
    rest = lab.nova.call("GET", path, "2.58", params={"limit": 1, "marker": marker})
    assert [a["action"] for a in rest.json()["instanceActions"]] == ["create"]


# -- scheduling ----------------------------------------------------------------------------------


def test_anti_affinity_group_spreads_then_fails(lab: Lab) -> None:
    group = lab.live.openstack_json("server", "group", "create", "--policy", "anti-affinity",
                                    unique("anti"))
    try:
        hint = {"group": group["id"]}
        first = lab.boot(hints=hint)
        second = lab.boot(hints=hint)
        assert {first["OS-EXT-SRV-ATTR:host"], second["OS-EXT-SRV-ATTR:host"]} == \
            {COMPUTE1, COMPUTE2}
        third = lab.boot(hints=hint, status="ERROR")
        shown = lab.live.openstack_json("server", "show", third["id"])
        assert shown["status"] == "ERROR"
        assert shown["fault"]["message"] == NO_VALID_HOST
        assert shown["fault"]["code"] == 500
        assert shown["OS-EXT-SRV-ATTR:host"] is None
        members = lab.nova.call("GET", f"/os-server-groups/{group['id']}", "2.64").json()
        assert set(members["server_group"]["members"]) == \
            {first["id"], second["id"], third["id"]}
        assert lab.nova.show(first["id"], "2.71")["server_groups"] == [group["id"]]
    finally:
        lab.nova.call("DELETE", f"/os-server-groups/{group['id']}")


def test_flavor_larger_than_any_host_ends_in_error(lab: Lab) -> None:
    name = unique("too-big")
    created = lab.live.openstack_json("server", "create", "--flavor", lab.huge()["id"],
                                      "--image", CIRROS, "--nic", "none", name)
    lab.track(created["id"])
    errored = lab.nova.wait(created["id"], "ERROR")
    assert errored["fault"]["message"] == NO_VALID_HOST
    assert errored["fault"]["code"] == 500
    assert errored["OS-EXT-SRV-ATTR:host"] is None
    assert_nova_response({"server": errored}, "/servers/{id}", "GET", LATEST)


# -- bad input ----------------------------------------------------------------------------------


def test_cli_bad_input(lab: Lab) -> None:
    server = lab.boot()
    calls: list[tuple[str, ...]] = [
        ("server", "create", "--flavor", "no-such-flavor", "--image", CIRROS, "--nic", "none",
         unique("bad")),
        ("server", "create", "--flavor", lab.small["name"], "--image", "no-such-image",
         "--nic", "none", unique("bad")),
        ("server", "show", "no-such-server"),
        ("server", "start", server["id"]),
    ]
    with ThreadPoolExecutor(len(calls)) as pool:
        flavor, image, missing, start = pool.map(lambda a: cli_fails(lab.live, *a), calls)
    assert "No Flavor found for no-such-flavor" in flavor
    assert "No Image found for no-such-image" in image
    assert "No Server found for no-such-server" in missing
    assert f"Cannot 'start' instance {server['id']} while it is in vm_state active" in start


def test_raw_bad_input(lab: Lab) -> None:
    server = lab.boot()
    nova = lab.nova

    def create(**fields: Any) -> httpx.Response:
        body = {"name": unique("bad"), "imageRef": lab.image_id,
                "flavorRef": lab.small["id"], "networks": "none", **fields}
        return nova.call("POST", "/servers", json={"server": body})

    unknown_flavor = create(flavorRef="no-such-flavor")
    assert unknown_flavor.status_code == 400
    assert unknown_flavor.json() == {"badRequest": {"code": 400,
                                                    "message": "Invalid flavorRef provided."}}
    unknown_image = create(imageRef=str(uuid.uuid4()))
    assert unknown_image.status_code == 400
    assert unknown_image.json() == {"badRequest": {"code": 400,
                                                   "message": "Can not find requested image"}}
    no_networks = create(networks=None)
    assert no_networks.status_code == 400  # required from 2.37 on
    missing_id = str(uuid.uuid4())
    for method, path in (("GET", f"/servers/{missing_id}"),
                         ("DELETE", f"/servers/{missing_id}"),
                         ("POST", f"/servers/{missing_id}/action")):
        kw: dict[str, Any] = {"json": {"os-stop": None}} if method == "POST" else {}
        response = nova.call(method, path, **kw)
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"itemNotFound": {
            "code": 404, "message": f"Instance {missing_id} could not be found."}}
    # nova names the action in its 409 as its API method does: start, stop, unpause, ...
    for action, name in (("os-start", "start"), ("unpause", "unpause"),
                         ("confirmResize", "confirmResize")):
        wrong = nova.action(server["id"], {action: None})
        assert wrong.status_code == 409
        assert wrong.json() == {"conflictingRequest": {"code": 409, "message": (
            f"Cannot '{name}' instance {server['id']} while it is in vm_state active")}}
    assert nova.action(server["id"], {"os-stop": None}).status_code == 202
    nova.wait(server["id"], "SHUTOFF")
    again = nova.action(server["id"], {"os-stop": None})
    assert again.status_code == 409
    assert again.json()["conflictingRequest"]["message"] == \
        f"Cannot 'stop' instance {server['id']} while it is in vm_state stopped"
    bogus = nova.action(server["id"], {"fly": None})
    assert bogus.status_code == 400
    bad_marker = nova.call("GET", "/servers", params={"marker": str(uuid.uuid4())})
    assert bad_marker.status_code == 400


# -- pagination and nova's schemas --------------------------------------------------------------


def test_pagination_with_limit_and_marker(lab: Lab) -> None:
    prefix = unique("page")
    created = lab.nova.call("POST", "/servers", json={"server": {
        "name": prefix, "imageRef": lab.image_id, "flavorRef": lab.small["id"],
        "networks": "none", "min_count": 3, "return_reservation_id": True}})
    assert created.status_code == 202, created.text
    assert_nova_response(created.json(), "/servers", "POST", LATEST)
    reservation = created.json()["reservation_id"]
    everything = lab.nova.call("GET", "/servers",
                               params={"reservation_id": reservation}).json()["servers"]
    ids = [s["id"] for s in everything]
    for server_id in ids:
        lab.track(server_id)
    assert sorted(s["name"] for s in everything) == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    for server_id in ids:
        lab.nova.wait(server_id, "ACTIVE")
    for path in ("/servers", "/servers/detail"):
        params: dict[str, Any] = {"name": f"^{prefix}-", "limit": 2}
        first = lab.nova.call("GET", path, params=params)
        assert_nova_response(first.json(), path, "GET", LATEST)
        page1 = [s["id"] for s in first.json()["servers"]]
        assert len(page1) == 2
        links = first.json()["servers_links"]
        assert [link["rel"] for link in links] == ["next"]
        assert f"marker={page1[-1]}" in links[0]["href"] and "limit=2" in links[0]["href"]
        second = lab.nova.client.get(links[0]["href"], headers={
            "OpenStack-API-Version": f"compute {LATEST}"})
        assert second.status_code == 200
        assert_nova_response(second.json(), path, "GET", LATEST)
        page2 = [s["id"] for s in second.json()["servers"]]
        assert "servers_links" not in second.json()
        assert sorted(page1 + page2) == sorted(ids)
        by_marker = lab.nova.call("GET", path, params={**params, "marker": page1[0]})
        assert [s["id"] for s in by_marker.json()["servers"]] == [page1[1], *page2]


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_server_bodies_match_nova(lab: Lab, version: str) -> None:
    nova = lab.nova
    server: dict[str, Any] = {"name": unique(f"schema-{version}"), "imageRef": lab.image_id,
                              "flavorRef": lab.small["id"]}
    if version != "2.1":
        server["networks"] = "none"
    created = nova.call("POST", "/servers", version, json={"server": server})
    assert created.status_code == nova_success_code("/servers", "POST", version), created.text
    assert_nova_response(created.json(), "/servers", "POST", version)
    server_id = lab.track(created.json()["server"]["id"])
    nova.wait(server_id, "ACTIVE")

    shown = nova.call("GET", f"/servers/{server_id}", version)
    assert_nova_response(shown.json(), "/servers/{id}", "GET", version)
    body = shown.json()["server"]
    assert ("original_name" in body["flavor"]) == (version != "2.1")
    assert ("locked_reason" in body) == (version in ("2.73", "2.96"))
    assert ("pinned_availability_zone" in body) == (version == "2.96")
    detail = nova.call("GET", "/servers/detail", version)
    assert_nova_response(detail.json(), "/servers/detail", "GET", version)
    assert server_id in [s["id"] for s in detail.json()["servers"]]
    listed = nova.call("GET", "/servers", version)
    assert_nova_response(listed.json(), "/servers", "GET", version)

    changes: dict[str, Any] = {"name": f"{server['name']}-renamed"}
    if version != "2.1":
        changes["description"] = "renamed"
    updated = nova.call("PUT", f"/servers/{server_id}", version, json={"server": changes})
    assert updated.status_code == 200, updated.text
    assert_nova_response(updated.json(), "/servers/{id}", "PUT", version)
    assert updated.json()["server"]["name"] == changes["name"]

    rebuilt = nova.action(server_id, {"rebuild": {"imageRef": lab.image_id,
                                                  "adminPass": "pw-456"}}, version)
    assert rebuilt.status_code == 202, rebuilt.text
    assert_nova_response(rebuilt.json(), "/servers/{id}/action", "POST", version,
                         action="rebuild")
    assert rebuilt.json()["server"]["adminPass"] == "pw-456"
    nova.wait(server_id, "ACTIVE")

    stopped = nova.action(server_id, {"os-stop": None}, version)
    assert stopped.status_code == 202
    assert_nova_response(stopped.json() if stopped.content else None, "/servers/{id}/action",
                         "POST", version, action="os-stop")
    nova.wait(server_id, "SHUTOFF")

    actions = nova.call("GET", f"/servers/{server_id}/os-instance-actions", version)
    assert actions.status_code == 200
    assert_nova_response(actions.json(), "/servers/{server_id}/os-instance-actions", "GET",
                         version)
    assert [a["action"] for a in actions.json()["instanceActions"]] == \
        ["stop", "rebuild", "create"]
    request_id = actions.json()["instanceActions"][-1]["request_id"]
    action = nova.call("GET", f"/servers/{server_id}/os-instance-actions/{request_id}", version)
    assert action.status_code == 200
    assert_nova_response(action.json(), "/servers/{server_id}/os-instance-actions/{id}", "GET",
                         version)
    assert action.json()["instanceAction"]["events"]

    deleted = nova.call("DELETE", f"/servers/{server_id}", version)
    assert deleted.status_code == nova_success_code("/servers/{id}", "DELETE", version)
    nova.wait_gone(server_id)


@pytest.mark.parametrize("version", ("2.1", "2.96"))
def test_error_server_body_matches_nova(lab: Lab, version: str) -> None:
    server = lab.boot(flavor=lab.huge(), status="ERROR")
    shown = lab.nova.call("GET", f"/servers/{server['id']}", version)
    assert_nova_response(shown.json(), "/servers/{id}", "GET", version)
    assert shown.json()["server"]["fault"]["message"] == NO_VALID_HOST
