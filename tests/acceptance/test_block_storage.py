"""Block Storage with the real clients: the volume services of the lab."""

from __future__ import annotations

import time
from typing import Any

import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.every_shape]

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


def test_volume_service_list_shows_the_labs_services(live: LiveCloud) -> None:
    rows = live.openstack_json("volume", "service", "list")
    assert sorted((r["Binary"], r["Host"], r["Zone"], r["Status"], r["State"])
                  for r in rows) == [
        ("cinder-backup", C1, "nova", "enabled", "up"),
        ("cinder-backup", C2, "nova", "enabled", "up"),
        ("cinder-scheduler", C1, "nova", "enabled", "up"),
        ("cinder-scheduler", C2, "nova", "enabled", "up"),
        ("cinder-volume", f"{C1}@lvm", "nova", "enabled", "up"),
        ("cinder-volume", f"{C2}@lvm", "nova", "enabled", "up")]


def test_volume_service_set_disable_and_enable(live: LiveCloud) -> None:
    live.openstack("volume", "service", "set", "--disable", "--disable-reason", "maint",
                   f"{C2}@lvm", "cinder-volume")
    rows = live.openstack_json("volume", "service", "list", "--long",
                               "--service", "cinder-volume")
    row = next(r for r in rows if r["Host"] == f"{C2}@lvm")
    assert (row["Status"], row["Disabled Reason"]) == ("disabled", "maint")
    live.openstack("volume", "service", "set", "--enable", f"{C2}@lvm", "cinder-volume")
    rows = live.openstack_json("volume", "service", "list", "--host", f"{C2}@lvm")
    assert [r["Status"] for r in rows] == ["enabled"]


def test_the_sdk_finds_block_storage(live: LiveCloud) -> None:
    conn = live.connect()
    services = list(conn.block_storage.services())
    assert {(s.binary, s.host) for s in services} >= {("cinder-volume", f"{C1}@lvm")}
    version = conn.block_storage.get_endpoint()
    assert version.rstrip("/").endswith("/volume/v3")


def _get(conn: Any, path: str, version: str = "3.70") -> Any:
    response = conn.block_storage.get(path, microversion=version)
    assert response.status_code == 200, response.text
    return response.json()


def test_volume_types_with_the_cli(live: LiveCloud) -> None:
    made = live.openstack_json("volume", "type", "create", "--private", "--property",
                               "volume_backend_name=lvm", "--description", "cli type",
                               "acc-gold")
    assert made["name"] == "acc-gold" and made["is_public"] is False
    live.openstack("volume", "type", "set", "--property", "tier=1", "acc-gold")
    live.openstack("volume", "type", "set", "--project", "admin", "acc-gold")
    shown = live.openstack_json("volume", "type", "show", "acc-gold")
    assert shown["properties"] == {"volume_backend_name": "lvm", "tier": "1"}
    assert shown["access_project_ids"]
    listed = live.openstack_json("volume", "type", "list", "--long")
    assert "acc-gold" in [row["Name"] for row in listed]
    conn = live.connect()
    body = _get(conn, f"/types/{made['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/types/{id}", "get"))
    assert_shape_like_sample(body, sample(
        "cinder", "api-ref/source/v3/samples/volume_type/volume-type-show-response.json"),
        ignore={"$.volume_type.extra_specs"})
    listing = _get(conn, "/types?is_public=none")
    assert_valid(listing, openapi_response_schema("block-storage", "/v3/types", "get"))
    live.openstack("volume", "type", "unset", "--property", "tier", "acc-gold")
    live.openstack("volume", "type", "delete", "acc-gold")
    assert live.openstack("volume", "type", "show", "acc-gold", check=False).returncode != 0


def test_qos_specs_with_the_cli(live: LiveCloud) -> None:
    qos = live.openstack_json("volume", "qos", "create", "--consumer", "front-end",
                              "--property", "total_iops_sec=500", "acc-qos")
    assert qos["consumer"] == "front-end"
    live.openstack("volume", "type", "create", "acc-qos-type")
    live.openstack("volume", "qos", "associate", "acc-qos", "acc-qos-type")
    shown = live.openstack_json("volume", "qos", "show", "acc-qos")
    assert shown["associations"] == ["acc-qos-type"] or "acc-qos-type" in str(
        shown["associations"])
    conn = live.connect()
    body = _get(conn, f"/qos-specs/{qos['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/qos-specs/{id}", "get"))
    live.openstack("volume", "qos", "disassociate", "--all", "acc-qos")
    live.openstack("volume", "qos", "delete", "acc-qos")
    live.openstack("volume", "type", "delete", "acc-qos-type")


def test_availability_zones_list_the_volume_zone(live: LiveCloud) -> None:
    rows = live.openstack_json("availability", "zone", "list", "--volume")
    assert [(r["Zone Name"], r["Zone Status"]) for r in rows] == [("nova", "available")]


def _wait_status(live: LiveCloud, kind: str, ident: str, *statuses: str) -> dict[str, Any]:
    for _ in range(100):
        shown: dict[str, Any] = live.openstack_json(kind, "show", ident)
        if shown["status"] in statuses:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{kind} {ident} stayed {shown['status']}")


def test_volume_life_with_the_cli(live: LiveCloud) -> None:
    made = live.openstack_json("volume", "create", "--size", "1", "--property", "a=1",
                               "--description", "first", "acc-vol")
    shown = _wait_status(live, "volume", made["id"], "available", "error")
    assert shown["status"] == "available" and shown["size"] == 1
    assert shown["os-vol-host-attr:host"] in (f"{C1}@lvm#lvm", f"{C2}@lvm#lvm")
    assert shown["properties"] == {"a": "1"} and shown["type"] == "__DEFAULT__"
    live.openstack("volume", "set", "--name", "acc-vol2", "--property", "b=2", "--size", "2",
                   "--bootable", made["id"])
    shown = _wait_status(live, "volume", made["id"], "available")
    assert (shown["name"], shown["size"], str(shown["bootable"]).lower()) == (
        "acc-vol2", 2, "true")
    assert shown["properties"] == {"a": "1", "b": "2"}
    live.openstack("volume", "unset", "--property", "a", made["id"])
    listed = live.openstack_json("volume", "list", "--long")
    assert made["id"] in [row["ID"] for row in listed]

    snap = live.openstack_json("volume", "snapshot", "create", "--volume", made["id"],
                               "acc-snap")
    for _ in range(100):
        shown_snap = live.openstack_json("volume", "snapshot", "show", snap["id"])
        if shown_snap["status"] == "available":
            break
        time.sleep(0.1)
    assert shown_snap["status"] == "available" and shown_snap["size"] == 2
    live.openstack("volume", "snapshot", "set", "--name", "acc-snap2", "--property", "k=v",
                   snap["id"])
    assert live.openstack_json("volume", "snapshot", "show", snap["id"])["name"] == "acc-snap2"
    assert snap["id"] in [r["ID"] for r in live.openstack_json("volume", "snapshot", "list")]
    clone = live.openstack_json("volume", "create", "--snapshot", snap["id"], "acc-clone")
    clone_shown = _wait_status(live, "volume", clone["id"], "available", "error")
    assert clone_shown["os-vol-host-attr:host"] == shown["os-vol-host-attr:host"]

    conn = live.connect()
    body = _get(conn, f"/volumes/{made['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/volumes/{id}", "get"))
    assert_shape_like_sample(body, sample(
        "cinder", "api-ref/source/v3/samples/volumes/v3.65/volume-show-response.json"),
        ignore={"$.volume.metadata"})
    detail = _get(conn, "/volumes/detail")
    assert_valid(detail, openapi_response_schema("block-storage", "/v3/volumes/detail", "get"))
    snaps = _get(conn, "/snapshots/detail")
    assert_valid(snaps, openapi_response_schema("block-storage", "/v3/snapshots/detail", "get"))

    refused = live.openstack("volume", "delete", made["id"], check=False)
    assert refused.returncode != 0  # it has a snapshot
    live.openstack("volume", "delete", clone["id"])
    live.openstack("volume", "snapshot", "delete", snap["id"])
    for _ in range(100):
        if live.openstack("volume", "snapshot", "show", snap["id"], check=False).returncode:
            break
        time.sleep(0.1)
    live.openstack("volume", "delete", made["id"])


def test_a_volume_from_an_image_with_the_sdk(live: LiveCloud) -> None:
    conn = live.connect()
    # The session's cloud is shared: other modules leave queued images in the list.
    image = next(conn.image.images(status="active"))
    volume = conn.block_storage.create_volume(size=1, image_id=image.id, name="acc-image")
    volume = conn.block_storage.wait_for_status(volume, "available", failures=["error"],
                                                interval=0.1, wait=30)
    assert volume.is_bootable is True
    assert volume.volume_image_metadata["image_id"] == image.id
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, interval=0.1, wait=30)


def test_quota_show_and_limits_with_the_cli(live: LiveCloud) -> None:
    quota = live.openstack_json("quota", "show", "--volume", "admin")
    by_resource = {row["Resource"]: row["Limit"] for row in quota} if isinstance(
        quota, list) else quota
    assert by_resource["volumes"] == 10 and by_resource["gigabytes"] == 1000
    conn = live.connect()
    project = conn.current_project_id
    usage = _get(conn, f"/os-quota-sets/{project}?usage=True")
    assert_shape_like_sample(usage, sample(
        "cinder", "api-ref/source/v3/samples/quota_sets/quotas-show-usage-response.json"))
    limits = _get(conn, "/limits")
    assert_shape_like_sample(limits, sample(
        "cinder", "api-ref/source/v3/samples/limits/limits-show-response.json"))


def test_bad_volume_input_and_isolation_with_the_sdk(live: LiveCloud) -> None:
    conn = live.connect()
    bad = conn.block_storage.post("/volumes", json={"volume": {"size": "big"}},
                                  microversion="3.70")
    assert bad.status_code == 400 and "size" in bad.json()["badRequest"]["message"]
    missing = conn.block_storage.get("/volumes/00000000-0000-0000-0000-000000000000",
                                     microversion="3.70")
    assert missing.status_code == 404


def test_another_projects_volume_is_not_found_nor_a_source(live: LiveCloud) -> None:
    admin = live.connect()
    project = admin.identity.create_project(name="acc-vol-other", domain_id="default")
    user = admin.identity.create_user(name="acc-vol-user", password="pw-acc-vol",
                                      domain_id="default", default_project_id=project.id)
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)
    volume = admin.block_storage.create_volume(size=1, name="acc-admins")
    volume = admin.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    as_member = ("--os-username", "acc-vol-user", "--os-password", "pw-acc-vol",
                 "--os-project-name", "acc-vol-other")
    shown = live.openstack(*as_member, "volume", "show", volume.id, check=False)
    assert shown.returncode != 0 and "No Volume found" in shown.stderr
    clone = live.openstack(*as_member, "volume", "create", "--source", volume.id, "x",
                           check=False)
    assert clone.returncode != 0
    snap = live.openstack(*as_member, "volume", "snapshot", "create", "--volume", volume.id,
                          "x", check=False)
    assert snap.returncode != 0
    other = live.connect(username="acc-vol-user", password="pw-acc-vol",
                         project_name="acc-vol-other")
    raw = other.block_storage.post("/volumes", json={"volume": {"source_volid": volume.id}},
                                   microversion="3.70")
    assert raw.status_code == 404
    assert raw.json()["itemNotFound"]["message"] == f"Volume {volume.id} could not be found."
    assert [v.id for v in other.block_storage.volumes()] == []
    admin.block_storage.delete_volume(volume)


# -- attachments ----------------------------------------------------------------------------

FAKE_SERVER = "6c8cf6e0-4c8f-442f-9196-9679737feec6"


def _attach_cli(live: LiveCloud, version: str, *args: str) -> Any:
    return live.openstack_json("--os-volume-api-version", version, "volume", "attachment",
                               *args)


def test_volume_attachments_with_the_cli(live: LiveCloud) -> None:
    conn = live.connect()
    volume = conn.block_storage.create_volume(size=1, name="acc-attach")
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    # The session's cloud is shared: other modules leave queued images in the list.
    image = next(conn.image.images(status="active"))
    flavor = min(conn.compute.flavors(), key=lambda f: f.ram)
    # The CLI looks the server up in nova; cinder itself never checks it.
    server = conn.compute.create_server(name="acc-attach", image_id=image.id,
                                        flavor_id=flavor.id, networks="none")
    try:
        server = conn.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=60)
        # The SDK sends "mode" (null) unless it speaks 3.54, which cinder's schema before
        # 3.54 refuses, as here.
        early = live.openstack("--os-volume-api-version", "3.44", "volume", "attachment",
                               "create", volume.id, "--server", server.id, check=False)
        assert early.returncode != 0 and "mode" in early.stderr
        made = _attach_cli(live, "3.54", "create", volume.id, "--server", server.id)
        ident = made["ID"]
        assert (made["Status"], made["Volume ID"], made["Instance ID"]) == (
            "reserved", volume.id, server.id)
        assert _wait_status(live, "volume", volume.id, "reserved")["status"] == "reserved"
        listed = _attach_cli(live, "3.44", "list")
        assert ident in [row["ID"] for row in listed]
        connected = _attach_cli(live, "3.44", "set", "--initiator",
                                "iqn.1993-08.org.debian:01:acc", "--ip", "192.0.2.10",
                                "--host", "compute1", "--platform", "x86_64", "--os-type",
                                "linux2", "--mountpoint", "/dev/vdb", ident)
        assert connected["Status"] == "attaching"
        assert connected["Properties"]["driver_volume_type"] == "iscsi"
        live.openstack("--os-volume-api-version", "3.44", "volume", "attachment", "complete",
                       ident)
        shown = _attach_cli(live, "3.44", "show", ident)
        assert shown["Status"] == "attached"
        in_use = live.openstack_json("volume", "show", volume.id)
        assert in_use["status"] == "in-use"
        body = _get(conn, f"/attachments/{ident}", "3.44")
        assert_valid(body, openapi_response_schema("block-storage", "/v3/attachments/{id}",
                                                    "get"))
        volume_body = _get(conn, f"/volumes/{volume.id}")
        assert_valid(volume_body, openapi_response_schema("block-storage", "/v3/volumes/{id}",
                                                          "get"))
        assert volume_body["volume"]["attachments"][0]["server_id"] == server.id
        live.openstack("--os-volume-api-version", "3.44", "volume", "attachment", "delete",
                       ident)
        assert _wait_status(live, "volume", volume.id, "available")["status"] == "available"
    finally:
        conn.compute.delete_server(server)
    conn.block_storage.delete_volume(volume)


def test_attachments_with_the_sdk_for_a_server_cinder_does_not_know(live: LiveCloud) -> None:
    conn = live.connect()
    volume = conn.block_storage.create_volume(size=1, name="acc-attach-sdk")
    volume = conn.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
    attachment = conn.block_storage.create_attachment(volume, instance=FAKE_SERVER,
                                                      mode="rw")
    assert attachment.status == "reserved"
    connector = {"initiator": "iqn.1993-08.org.debian:01:sdk", "host": "compute2",
                 "mountpoint": "/dev/vdc"}
    updated = conn.block_storage.update_attachment(attachment, connector=connector)
    assert updated.connection_info["target_iqn"].endswith(volume.id)
    conn.block_storage.complete_attachment(attachment)
    listed = [a.id for a in conn.block_storage.attachments()]
    assert attachment.id in listed
    detail = _get(conn, "/attachments/detail", "3.54")
    assert_valid(detail, openapi_response_schema("block-storage", "/v3/attachments/detail",
                                                 "get"))
    # A second server on a plain volume: cinder's 400.
    second = conn.block_storage.post("/attachments", json={"attachment": {
        "volume_uuid": volume.id, "instance_uuid": "0f6e2f9e-5a53-4a41-9a8e-6a1b7c6f0c21"}},
        microversion="3.54")
    assert second.status_code == 400
    assert "status must be available or downloading to reserve" in second.json()[
        "badRequest"]["message"]
    bad = conn.block_storage.post("/attachments", json={"attachment": {
        "volume_uuid": "nope"}}, microversion="3.54")
    assert bad.status_code == 400 and "volume_uuid" in bad.json()["badRequest"]["message"]
    # Another project sees neither the attachment nor the volume.
    admin = conn
    project = admin.identity.create_project(name="acc-attach-other", domain_id="default")
    user = admin.identity.create_user(name="acc-attach-user", password="pw-acc-attach",
                                      domain_id="default", default_project_id=project.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role(
        "member"))
    other = live.connect(username="acc-attach-user", password="pw-acc-attach",
                         project_name="acc-attach-other")
    assert other.block_storage.get(f"/attachments/{attachment.id}",
                                   microversion="3.54").status_code == 404
    assert other.block_storage.post("/attachments", json={"attachment": {
        "volume_uuid": volume.id}}, microversion="3.54").status_code == 404
    conn.block_storage.delete_attachment(attachment)
    # Read afresh: wait_for_status trusts the "available" this object was created with.
    volume = conn.block_storage.wait_for_status(conn.block_storage.get_volume(volume),
                                                "available", interval=0.1, wait=30)
    assert volume.attachments == []
    conn.block_storage.delete_volume(volume)
