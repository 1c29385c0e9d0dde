"""Backups, deferred deletes and their restore, with the real CLI on a cloud that defers deletes.

The module's own cloud runs with ``[DEFAULT] reclaim_instance_interval`` set (an hour: no
server is reclaimed while the tests run), so ``openstack server delete`` leaves a
SOFT_DELETED server that ``openstack server restore`` brings back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud
from support.apiref import assert_nova_response

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

CIRROS = "cirros-0.6.2-x86_64-disk"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp: Path = tmp_path_factory.mktemp("deferred")
    config = tmp / "nova.ini"
    config.write_text("[DEFAULT]\nreclaim_instance_interval = 3600\n", encoding="utf-8")
    cloud = start_cloud(tmp, "--seed", "11", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


class Cli:
    def __init__(self, live: LiveCloud) -> None:
        self.live = live
        response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        self.http = httpx.Client(base_url=f"{live.url}/compute/v2.1", timeout=30, headers={
            "X-Auth-Token": response.headers["X-Subject-Token"]})

    def run(self, *args: str) -> Any:
        return self.live.openstack_json(*args)

    def show(self, server_id: str, version: str = "2.96") -> dict[str, Any]:
        answer = self.http.get(f"/servers/{server_id}",
                               headers={"OpenStack-API-Version": f"compute {version}"})
        assert answer.status_code == 200, answer.text
        server: dict[str, Any] = answer.json()["server"]
        return server

    def wait(self, server_id: str, status: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        server: dict[str, Any] = {}
        while time.monotonic() < deadline:
            server = self.show(server_id)
            if server["status"] == status and server["OS-EXT-STS:task_state"] is None:
                assert_nova_response({"server": server}, "/servers/{id}", "GET", "2.96")
                return server
            time.sleep(0.05)
        raise AssertionError(f"{server_id} not {status}: {server.get('status')}")

    def boot(self) -> str:
        server = self.run("server", "create", "--flavor", "m1.small", "--image", CIRROS,
                          "--nic", "none", "--wait", unique("acts"))
        return str(server["id"])


@pytest.fixture(scope="module")
def cli(live: LiveCloud) -> Iterator[Cli]:
    client = Cli(live)
    yield client
    client.http.close()


def backups(cli: Cli, server_id: str) -> list[str]:
    listed = cli.run("image", "list", "--long", "--property", "image_type=backup",
                     "--property", f"instance_uuid={server_id}", "--sort", "created_at:asc")
    return [image["Name"] for image in listed]


def test_server_backup_create_rotates_the_oldest_out(cli: Cli) -> None:
    server_id = cli.boot()
    names = [unique("nightly") for _ in range(3)]
    for name in names:
        made = cli.run("server", "backup", "create", "--name", name, "--type", "daily",
                       "--rotate", "2", "--wait", server_id)
        assert made["name"] == name
        cli.wait(server_id, "ACTIVE")
    # Oldest first by glance's created_at (in seconds): each upload takes a second, so the
    # backups made one after the other sort in order, and the first was rotated out.
    assert backups(cli, server_id) == names[1:]
    cli.live.openstack("server", "delete", "--force", "--wait", server_id)


def test_a_deleted_server_is_soft_deleted_and_restored(cli: Cli) -> None:
    server_id = cli.boot()
    cli.live.openstack("server", "delete", server_id)
    soft = cli.wait(server_id, "SOFT_DELETED")
    assert (soft["OS-EXT-STS:vm_state"], soft["OS-EXT-STS:power_state"]) == ("soft-delete", 4)
    listed = cli.run("server", "list", "--status", "SOFT_DELETED")
    assert server_id in {s["ID"] for s in listed}
    cli.live.openstack("server", "restore", server_id)
    restored = cli.wait(server_id, "ACTIVE")
    assert restored["OS-EXT-STS:power_state"] == 1
    # Restoring an active server is nova's 409, which the CLI reports.
    again = cli.live.openstack("server", "restore", server_id, check=False)
    assert again.returncode != 0 and "409" in again.stderr
    cli.live.openstack("server", "delete", "--force", "--wait", server_id)
    assert cli.http.get(f"/servers/{server_id}").status_code == 404


def test_flavor_create_public_and_private(cli: Cli) -> None:
    public = cli.run("flavor", "create", "--public", "--ram", "64", "--disk", "1",
                     "--vcpus", "1", unique("pub"))
    private = cli.run("flavor", "create", "--private", "--ram", "64", "--disk", "1",
                      "--vcpus", "1", unique("priv"))
    assert (public["os-flavor-access:is_public"], private["os-flavor-access:is_public"]) == (
        True, False)
    # nova's boolean strings, as Tempest sends them.
    raw = cli.http.post("/flavors", json={"flavor": {
        "name": unique("str"), "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": "True"}})
    assert raw.status_code == 200, raw.text
    assert raw.json()["flavor"]["os-flavor-access:is_public"] is True
    for flavor in (public["id"], private["id"], raw.json()["flavor"]["id"]):
        cli.live.openstack("flavor", "delete", flavor)


def test_cli_server_migration_list_show_and_abort(cli: Cli) -> None:
    server_id = cli.boot()
    source = cli.show(server_id)["OS-EXT-SRV-ATTR:host"]
    cli.live.openstack("--os-compute-api-version", "2.80", "server", "migrate",
                       "--live-migration", "--wait", server_id)
    moved = cli.wait(server_id, "ACTIVE")
    assert moved["OS-EXT-SRV-ATTR:host"] != source
    rows = cli.run("--os-compute-api-version", "2.80", "server", "migration", "list",
                   "--server", server_id)
    [row] = rows
    assert (row["Status"], row["Type"], row["Source Node"]) == (
        "completed", "live-migration", source)
    # Over: not in progress any more, so nova's server migrations API has nothing to show,
    # and nothing to abort while the server is not migrating.
    in_progress = cli.http.get(f"/servers/{server_id}/migrations",
                               headers={"OpenStack-API-Version": "compute 2.80"})
    assert (in_progress.status_code, in_progress.json()) == (200, {"migrations": []})
    # (This client's `server migration show` swaps server and migration in its URL.)
    shown = cli.http.get(f"/servers/{server_id}/migrations/{row['Id']}",
                         headers={"OpenStack-API-Version": "compute 2.80"})
    assert shown.status_code == 404
    assert shown.json()["itemNotFound"]["message"] == (
        f"Live migration {row['Id']} for server {server_id} is not in progress.")
    aborted = cli.live.openstack("--os-compute-api-version", "2.80", "server", "migration",
                                 "abort", server_id, str(row["Id"]), check=False)
    assert aborted.returncode != 0 and "409" in aborted.stderr
    cli.live.openstack("server", "delete", "--force", "--wait", server_id)


def test_server_set_password_changes_it_on_an_active_server_only(cli: Cli) -> None:
    server_id = cli.boot()
    # The CLI's --password (its hidden --root-password prompts on a terminal): changePassword.
    cli.live.openstack("server", "set", "--password", "Sup3r-s3cret", server_id)
    shown = cli.wait(server_id, "ACTIVE")
    assert shown["OS-EXT-STS:task_state"] is None
    events = cli.run("server", "event", "list", server_id)
    assert "changePassword" in [event["Action"] for event in events]
    # nova's 409 for a server that is not active.
    cli.live.openstack("server", "stop", server_id)
    cli.wait(server_id, "SHUTOFF")
    refused = cli.live.openstack("server", "set", "--password", "Sup3r-s3cret", server_id,
                                 check=False)
    assert refused.returncode != 0
    assert f"Cannot 'changePassword' instance {server_id} while it is in vm_state stopped" \
        in refused.stderr
