"""Block Storage's user messages, quota classes, group snapshots and (legacy) consistency
groups with the real ``openstack`` CLI (and openstacksdk for the bodies)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_valid, openapi_response_schema

pytestmark = pytest.mark.acceptance

V = ("--os-volume-api-version", "3.14")


def _until(live: LiveCloud, command: tuple[str, ...], key: str, *done: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for _ in range(150):
        shown = live.openstack_json(*command)
        if shown[key] in done:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{command} stayed {shown.get(key)}")


def test_a_volume_no_backend_takes_leaves_a_message(live: LiveCloud) -> None:
    live.openstack("volume", "type", "create", "--property",
                   "storage_protocol=carrier-pigeon", "acc-msg-bogus")
    made = live.openstack_json("volume", "create", "--size", "1", "--type", "acc-msg-bogus",
                               "acc-msg-vol")
    assert _until(live, ("volume", "show", made["id"]), "status",
                  "error", "available")["status"] == "error"
    listed = live.openstack_json("--os-volume-api-version", "3.3", "volume", "message",
                                 "list")
    mine = [row for row in listed if row["Resource UUID"] == made["id"]]
    assert len(mine) == 1, listed
    assert (mine[0]["Event ID"], mine[0]["Resource Type"], mine[0]["User Message"]) == (
        "VOLUME_VOLUME_001_003", "VOLUME",
        "schedule allocate volume:Could not find any available weighted backend.")
    # ``message show`` finds it, but openstacksdk's Message reads a show's body under
    # "messages" (cinder's key is "message"), so its fields print empty, as against cinder.
    shown = live.openstack_json("--os-volume-api-version", "3.3", "volume", "message", "show",
                                mine[0]["ID"])
    assert shown["ID"] == mine[0]["ID"]
    response = live.connect().block_storage.get(f"/messages/{mine[0]['ID']}",
                                                microversion="3.3")
    assert_valid(response.json(), openapi_response_schema("block-storage",
                                                          "/v3/messages/{id}", "get"))
    live.openstack("--os-volume-api-version", "3.3", "volume", "message", "delete",
                   mine[0]["ID"])
    after = live.openstack_json("--os-volume-api-version", "3.3", "volume", "message", "list")
    assert mine[0]["ID"] not in {row["ID"] for row in after}
    live.openstack("volume", "delete", made["id"])


def test_the_default_quota_class_sets_every_projects_defaults(live: LiveCloud) -> None:
    project = live.openstack_json("project", "create", "acc-qc-project")
    before = live.openstack_json("quota", "show", "--default", "--volume", project["id"])
    shown = live.connect().block_storage.get("/os-quota-class-sets/default").json()
    assert_valid(shown, openapi_response_schema("block-storage",
                                                "/v3/os-quota-class-sets/{id}", "get"))
    assert shown["quota_class_set"]["backups"] == _value(before, "backups")
    try:
        live.openstack("quota", "set", "--class", "--backups", "7", "default")
        after = live.openstack_json("quota", "show", "--default", "--volume", project["id"])
        assert _value(after, "backups") == 7
        assert live.connect().block_storage.get("/os-quota-class-sets/default").json()[
            "quota_class_set"]["backups"] == 7
    finally:
        live.openstack("quota", "set", "--class", "--backups",
                       str(_value(before, "backups")), "default")
        live.openstack("project", "delete", project["id"])


def _value(quota: Any, resource: str) -> int:
    """A resource's limit from ``quota show -f json`` (a list of rows, or a mapping)."""
    if isinstance(quota, dict):
        return int(quota[resource])
    for row in quota:
        if row.get("Resource") == resource:
            return int(row["Limit"])
    raise AssertionError(f"no {resource} in {quota}")


def test_a_group_snapshot_and_a_group_made_from_it(live: LiveCloud) -> None:
    group_type = live.openstack_json(*V, "volume", "group", "type", "create",
                                     "acc-gs-type")
    types = live.openstack_json("volume", "type", "list")
    kind = next(t["ID"] for t in types if t["Name"] == "__DEFAULT__")
    group = live.openstack_json(*V, "volume", "group", "create", "--volume-group-type",
                                group_type["ID"], "--volume-type", kind, "--name",
                                "acc-gs-group")
    _until(live, (*V, "volume", "group", "show", group["ID"]), "Status", "available")
    # A volume made in the group lands on the group's backend (the lab has several, so a
    # volume made apart and added later may be refused for living on another one).
    made = live.connect().block_storage.post("/volumes", json={"volume": {
        "size": 1, "volume_type": kind, "group_id": group["ID"], "name": "acc-gs-vol"}},
        microversion="3.13")
    assert made.status_code == 202, made.text
    volume = made.json()["volume"]
    _until(live, ("volume", "show", volume["id"]), "status", "available")
    members = live.connect().block_storage.get(f"/volumes/{volume['id']}",
                                               microversion="3.13").json()["volume"]
    assert members["group_id"] == group["ID"]
    snapshot = live.openstack_json(*V, "volume", "group", "snapshot", "create",
                                   "--name", "acc-gs", group["ID"])
    _until(live, (*V, "volume", "group", "snapshot", "show", snapshot["ID"]), "Status",
           "available")
    listed = live.openstack_json(*V, "volume", "group", "snapshot", "list")
    assert snapshot["ID"] in {row["ID"] for row in listed}
    # The CLI (openstacksdk's create_from_source) sends the other source too, as null,
    # which cinder's schema refuses (a uuid is a string there): 400, as from cinder.
    refused = live.openstack(*V, "volume", "group", "create", "--group-snapshot",
                             snapshot["ID"], "--name", "acc-gs-copy", check=False)
    assert refused.returncode != 0 and "400" in refused.stderr, refused.stderr
    conn = live.connect()
    response = conn.block_storage.post("/groups/action", json={"create-from-src": {
        "group_snapshot_id": snapshot["ID"], "name": "acc-gs-copy"}}, microversion="3.14")
    assert response.status_code == 202, response.text
    copy = {"ID": response.json()["group"]["id"]}
    shown = _until(live, (*V, "volume", "group", "show", copy["ID"]), "Status", "available",
                   "error")
    assert shown["Status"] == "available"
    live.openstack(*V, "volume", "group", "delete", "--force", copy["ID"])
    live.openstack(*V, "volume", "group", "snapshot", "delete", snapshot["ID"])
    for _ in range(150):
        if snapshot["ID"] not in {row["ID"] for row in live.openstack_json(
                *V, "volume", "group", "snapshot", "list")}:
            break
        time.sleep(0.1)
    live.openstack(*V, "volume", "group", "delete", "--force", group["ID"])


def _settled(conn: Any, path: str, key: str) -> dict[str, Any]:
    """Poll the API (not the slower CLI) until the resource leaves its transient status."""
    body: dict[str, Any] = {}
    for _ in range(150):
        body = conn.block_storage.get(path).json()[key]
        if body["status"] in ("available", "error"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{path} stayed {body.get('status')}")


def test_consistency_groups_with_the_cli(live: LiveCloud) -> None:
    conn = live.connect()
    cg = live.openstack_json("consistency", "group", "create", "--volume-type", "__DEFAULT__",
                             "acc-cg")
    assert _settled(conn, f"/consistencygroups/{cg['id']}", "consistencygroup")[
        "status"] == "available"
    volume = live.openstack_json("volume", "create", "--size", "1", "--consistency-group",
                                 cg["id"], "acc-cg-vol")
    assert _settled(conn, f"/volumes/{volume['id']}", "volume")["status"] == "available"
    # Without --description the CLI sends "description": null, which cinder's cgsnapshot
    # schema (a string) refuses, as here.
    nameless = live.openstack("consistency", "group", "snapshot", "create",
                              "--consistency-group", cg["id"], "acc-cg-snap", check=False)
    assert nameless.returncode != 0 and "None is not of type 'string'" in nameless.stderr
    snapshot = live.openstack_json("consistency", "group", "snapshot", "create",
                                   "--consistency-group", cg["id"], "--description", "cg",
                                   "acc-cg-snap")
    shown = _settled(conn, f"/cgsnapshots/{snapshot['id']}", "cgsnapshot")
    assert (shown["status"], shown["consistencygroup_id"]) == ("available", cg["id"])
    # The CLI (openstacksdk) sends both sources, the one not given as null, which cinder's
    # schema (strings) refuses; the API's own body makes the copy.
    from_cli = live.openstack("consistency", "group", "create", "--consistency-group-snapshot",
                              snapshot["id"], "acc-cg-copy", check=False)
    assert from_cli.returncode != 0
    assert "source_cgid. Value: None. None is not of type 'string'" in from_cli.stderr
    made = conn.block_storage.post("/consistencygroups/create_from_src", json={
        "consistencygroup-from-src": {"name": "acc-cg-copy",
                                      "cgsnapshot_id": snapshot["id"]}})
    assert made.status_code == 202, made.text
    copy = made.json()["consistencygroup"]
    assert _settled(conn, f"/consistencygroups/{copy['id']}", "consistencygroup")[
        "status"] == "available"
    # Both lists page: the SDK follows them one at a time; the bodies are cinder's.
    paged = [g.id for g in conn.block_storage.consistency_groups(limit=1)]
    assert {cg["id"], copy["id"]} <= set(paged) and len(paged) == len(set(paged))
    page = conn.block_storage.get("/consistencygroups/detail?limit=1").json()
    assert_valid(page, openapi_response_schema("block-storage", "/v3/consistencygroups/detail",
                                               "get"))
    assert len(page["consistencygroups"]) == 1 and "consistencygroup_links" in page
    snapshots = conn.block_storage.get("/cgsnapshots?limit=1").json()
    assert_valid(snapshots, openapi_response_schema("block-storage", "/v3/cgsnapshots", "get"))
    assert len(snapshots["cgsnapshots"]) == 1

    # The real CLI's delete sends its body under "consistency_group", which cinder's schema
    # of the delete action (the element "consistencygroup", {} or null) refuses: a 400.
    refused = live.openstack("consistency", "group", "delete", "--force", copy["id"],
                             check=False)
    assert refused.returncode != 0
    assert "is not valid under any of the given schemas" in refused.stderr, refused.stderr
    # DELETE is the action without a body: no force, so a group with volumes stays.
    kept = conn.block_storage.delete(f"/consistencygroups/{copy['id']}")
    assert kept.status_code == 400 and "still contains volumes" in kept.text
    empty = live.openstack_json("consistency", "group", "create", "--volume-type",
                                "__DEFAULT__", "acc-cg-empty")
    _settled(conn, f"/consistencygroups/{empty['id']}", "consistencygroup")
    assert conn.block_storage.delete(f"/consistencygroups/{empty['id']}").status_code == 202
    listed = live.openstack_json("consistency", "group", "list")
    assert empty["id"] not in {row["ID"] for row in listed}

    assert conn.block_storage.delete(f"/cgsnapshots/{snapshot['id']}").status_code == 202
    for group in (copy["id"], cg["id"]):
        for _ in range(150):
            # The API's own shape, with force: the group's volumes go with it.
            answer = conn.block_storage.post(f"/consistencygroups/{group}/delete", json={
                "consistencygroup": {"force": True}})
            if answer.status_code == 202:
                break
            time.sleep(0.1)
        assert answer.status_code == 202, answer.text


def test_service_log_levels_set_and_read_back(live: LiveCloud) -> None:
    # Neither the openstack CLI nor openstacksdk has a command for them (cinderclient's
    # service-set-log does): openstacksdk's session at cinder's microversion 3.32.
    conn = live.connect()
    host = next(row["Host"] for row in live.openstack_json("volume", "service", "list")
                if row["Binary"] == "cinder-volume")
    body = {"binary": "cinder-volume", "server": host, "prefix": "cinder.volume",
            "level": "ERROR"}
    done = conn.block_storage.put("/os-services/set-log", json=body, microversion="3.32")
    assert done.status_code == 202, done.text
    read = conn.block_storage.put("/os-services/get-log", json={
        "binary": "cinder-volume", "server": host, "prefix": "cinder.volume.manager"},
        microversion="3.32")
    assert read.status_code == 200, read.text
    assert read.json() == {"log_levels": [{"binary": "cinder-volume", "host": host,
                                           "levels": {"cinder.volume.manager": "ERROR"}}]}
    bad = conn.block_storage.put("/os-services/set-log", json={**body, "level": "LOUD"},
                                 microversion="3.32")
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"] == (
        "Invalid input received: LOUD is not a valid log level.")
    old = conn.block_storage.put("/os-services/get-log", json={}, microversion="3.31")
    assert old.status_code == 404
