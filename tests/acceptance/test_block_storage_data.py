"""Block Storage's data operations with the real clients: backups, transfers, retype,
migration and manage/unmanage."""

from __future__ import annotations

import time
from typing import Any

import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_valid, openapi_response_schema

pytestmark = pytest.mark.acceptance

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


def _wait(live: LiveCloud, kind: tuple[str, ...], ident: str, *statuses: str,
          **env: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for _ in range(150):
        shown = live.openstack_json(*kind, "show", ident, **env)
        if shown["status"] in statuses:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{kind} {ident} stayed {shown.get('status')}")


def _volume(live: LiveCloud, name: str, *args: str, **env: str) -> dict[str, Any]:
    made = live.openstack_json("volume", "create", "--size", "1", *args, name, **env)
    return _wait(live, ("volume",), made["id"], "available", "error", **env)


def _get(conn: Any, path: str, version: str = "3.70") -> Any:
    response = conn.block_storage.get(path, microversion=version)
    assert response.status_code == 200, response.text
    return response.json()


def test_backups_with_the_cli(live: LiveCloud) -> None:
    volume = _volume(live, "acc-bk-src")
    backup = live.openstack_json("volume", "backup", "create", "--name", "acc-bk",
                                 volume["id"])
    shown = _wait(live, ("volume", "backup"), backup["id"], "available", "error")
    assert shown["status"] == "available" and shown["container"] == "volumebackups"
    assert shown["is_incremental"] is False
    incremental = live.openstack_json("volume", "backup", "create", "--incremental",
                                      "--name", "acc-bk-inc", volume["id"])
    shown = _wait(live, ("volume", "backup"), incremental["id"], "available", "error")
    assert shown["is_incremental"] is True
    listed = live.openstack_json("volume", "backup", "list", "--long")
    assert {backup["id"], incremental["id"]} <= {row["ID"] for row in listed}
    conn = live.connect()
    body = _get(conn, f"/backups/{incremental['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/backups/{id}", "get"))
    assert_valid(_get(conn, "/backups/detail"),
                 openapi_response_schema("block-storage", "/v3/backups/detail", "get"))

    # Into a new volume, and over the source (--force for an existing one).
    restored = live.openstack_json("volume", "backup", "restore", incremental["id"],
                                   "acc-bk-restored")
    new = _wait(live, ("volume",), restored["volume_id"], "available", "error")
    assert new["status"] == "available" and new["name"] == "acc-bk-restored"
    live.openstack("volume", "backup", "restore", "--force", backup["id"], volume["id"])
    assert _wait(live, ("volume",), volume["id"], "available", "error")["status"] == (
        "available")

    # The full backup has a dependent: it goes after its incremental one.
    assert live.openstack("volume", "backup", "delete", backup["id"],
                          check=False).returncode != 0
    live.openstack("volume", "backup", "delete", incremental["id"])
    _wait_gone(live, ("volume", "backup"), incremental["id"])
    live.openstack("volume", "backup", "delete", backup["id"])
    _wait_gone(live, ("volume", "backup"), backup["id"])
    live.openstack("volume", "delete", new["id"], volume["id"])


def _wait_gone(live: LiveCloud, kind: tuple[str, ...], ident: str) -> None:
    for _ in range(150):
        if live.openstack(*kind, "show", ident, check=False).returncode:
            return
        time.sleep(0.1)
    raise AssertionError(f"{kind} {ident} is still there")


def test_backups_with_the_sdk(live: LiveCloud) -> None:
    conn = live.connect()
    volume = conn.block_storage.create_volume(size=1, name="acc-sdk-bk")
    volume = conn.block_storage.wait_for_status(volume, "available", failures=["error"],
                                                interval=0.1, wait=30)
    backup = conn.block_storage.create_backup(volume_id=volume.id, name="acc-sdk-backup")
    backup = conn.block_storage.wait_for_status(backup, "available", failures=["error"],
                                                interval=0.1, wait=30)
    assert backup.volume_id == volume.id and backup.size == 1
    assert backup.id in [b.id for b in conn.block_storage.backups()]
    conn.block_storage.restore_backup(backup, volume_id=volume.id)
    # wait_for_status trusts the status the object already holds ("available"), so each is
    # read again first: the restore marks them restoring before it answers.
    volume = conn.block_storage.wait_for_status(conn.block_storage.get_volume(volume),
                                                "available", failures=["error"],
                                                interval=0.1, wait=30)
    backup = conn.block_storage.wait_for_status(conn.block_storage.get_backup(backup),
                                                "available", failures=["error"],
                                                interval=0.1, wait=30)
    conn.block_storage.delete_backup(backup)
    conn.block_storage.wait_for_delete(backup, interval=0.1, wait=30)
    # Bad input is a 400 naming the field; an unknown backup a 404.
    bad = conn.block_storage.post("/backups", json={"backup": {"volume_id": "x"}},
                                  microversion="3.70")
    assert bad.status_code == 400 and "volume_id" in bad.json()["badRequest"]["message"]
    missing = conn.block_storage.get("/backups/00000000-0000-0000-0000-000000000000",
                                     microversion="3.70")
    assert missing.status_code == 404
    conn.block_storage.delete_volume(volume)


def _member(live: LiveCloud, name: str) -> dict[str, str]:
    """A project with a member user; the CLI options that act as that user."""
    live.openstack("project", "create", f"acc-{name}")
    live.openstack("user", "create", "--project", f"acc-{name}", "--password", "pw",
                   f"acc-{name}-user")
    live.openstack("role", "add", "--project", f"acc-{name}", "--user",
                   f"acc-{name}-user", "member")
    return {"OS_USERNAME": f"acc-{name}-user", "OS_PASSWORD": "pw",
            "OS_PROJECT_NAME": f"acc-{name}", "OS_CLOUD": "",
            "OS_AUTH_URL": live.auth_url, "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default", "OS_IDENTITY_API_VERSION": "3",
            "OS_REGION_NAME": "RegionOne"}


def test_volume_transfer_with_the_cli(live: LiveCloud) -> None:
    giver = _member(live, "giver")
    volume = _volume(live, "acc-gift", **giver)
    request = live.openstack_json("--os-volume-api-version", "3.57", "volume", "transfer",
                                  "request", "create", "--name", "acc-transfer",
                                  volume["id"], **giver)
    assert request["auth_key"] and request["volume_id"] == volume["id"]
    shown = live.openstack_json("volume", "show", volume["id"], **giver)
    assert shown["status"] == "awaiting-transfer"
    listed = live.openstack_json("volume", "transfer", "request", "list", **giver)
    assert request["id"] in [row["ID"] for row in listed]
    wrong = live.openstack("volume", "transfer", "request", "accept", "--auth-key",
                           "0" * 16, request["id"], check=False)
    assert wrong.returncode != 0 and "invalid auth key" in wrong.stderr
    live.openstack("volume", "transfer", "request", "accept", "--auth-key",
                   request["auth_key"], request["id"])
    taken = live.openstack_json("volume", "show", volume["id"])
    assert taken["status"] == "available"
    assert live.openstack("volume", "show", volume["id"], check=False,
                          **giver).returncode != 0
    live.openstack("volume", "delete", volume["id"])


def _other(host: str) -> str:
    return f"{C2}@lvm" if host.startswith(C1) else f"{C1}@lvm"


def _wait_migrated(live: LiveCloud, ident: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for _ in range(150):
        shown = live.openstack_json("volume", "show", ident)
        if shown["status"] == "available" and shown.get(
                "os-vol-mig-status-attr:migstat") in ("success", "error"):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"volume {ident} stayed {shown.get('status')}")


def test_retype_and_migrate_with_the_cli(live: LiveCloud) -> None:
    volume = _volume(live, "acc-mover")
    host = volume["os-vol-host-attr:host"]
    live.openstack("volume", "type", "create", "--property", "volume_backend_name=lvm",
                   "acc-retype")
    live.openstack("volume", "set", "--type", "acc-retype", "--retype-policy", "never",
                   volume["id"])
    shown = _wait(live, ("volume",), volume["id"], "available", "error")
    assert shown["type"] == "acc-retype" and shown["os-vol-host-attr:host"] == host

    destination = f"{_other(host)}#lvm"
    live.openstack("volume", "migrate", "--host", destination, volume["id"])
    shown = _wait_migrated(live, volume["id"])
    assert (shown["os-vol-host-attr:host"], shown["os-vol-mig-status-attr:migstat"]) == (
        destination, "success")
    refused = live.openstack("volume", "migrate", "--host", "nowhere@lvm#lvm", volume["id"],
                             check=False)
    assert refused.returncode != 0 and "No available service named" in refused.stderr
    conn = live.connect()
    body = _get(conn, f"/volumes/{volume['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/volumes/{id}", "get"))

    # cinder-manage volume update_host, through the lab's CLI: back to the first host.
    moved = live.stacklab("cinder-manage", "volume", "update_host", "--currenthost",
                          _other(host), "--newhost", host.partition("#")[0], "--json")
    assert volume["id"] in moved.stdout
    shown = live.openstack_json("volume", "show", volume["id"])
    assert shown["os-vol-host-attr:host"] == host.partition("#")[0]
    live.openstack("volume", "delete", volume["id"])
    _wait_gone(live, ("volume",), volume["id"])
    live.openstack("volume", "type", "delete", "acc-retype")


def test_a_volume_from_a_backup_and_a_volume_group_with_the_cli(live: LiveCloud) -> None:
    source = _volume(live, "acc-fb-src")
    backup = live.openstack_json("volume", "backup", "create", "--name", "acc-fb",
                                 source["id"])
    _wait(live, ("volume", "backup"), backup["id"], "available", "error")
    made = live.openstack_json("--os-volume-api-version", "3.47", "volume", "create",
                               "--backup", backup["id"], "acc-fb-restored")
    restored = _wait(live, ("volume",), made["id"], "available", "error")
    assert (restored["status"], restored["size"]) == ("available", 1)
    assert _wait(live, ("volume", "backup"), backup["id"], "available",
                 "error")["status"] == "available"

    group_type = live.openstack_json("--os-volume-api-version", "3.11", "volume", "group",
                                     "type", "create", "acc-group-type")
    assert group_type["Name"] == "acc-group-type"
    # The default type by name: the list's first may be another test's, with extra specs
    # no backend matches (the group then goes to error, as cinder's scheduler leaves it).
    group = live.openstack_json("--os-volume-api-version", "3.13", "volume", "group",
                                "create", "--volume-group-type", group_type["ID"],
                                "--volume-type", "__DEFAULT__", "--name", "acc-group")
    shown: dict[str, Any] = {}
    for _ in range(150):
        shown = live.openstack_json("--os-volume-api-version", "3.13", "volume", "group",
                                    "show", group["ID"])
        if shown["Status"] != "creating":
            break
        time.sleep(0.1)
    assert shown["Status"] == "available", shown
    listed = live.openstack_json("--os-volume-api-version", "3.13", "volume", "group",
                                 "list")
    assert group["ID"] in {row["ID"] for row in listed}
    live.openstack("--os-volume-api-version", "3.13", "volume", "group", "delete",
                   group["ID"])
    live.openstack("volume", "backup", "delete", backup["id"])
    _wait_gone(live, ("volume", "backup"), backup["id"])
    live.openstack("volume", "delete", source["id"], restored["id"])
