"""Group snapshots (3.14) and groups made from a source (create-from-src): a snapshot of
each volume of the group, made together on the group's backend; a new group from a group
snapshot or from another group, its volumes copies of theirs on that backend."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"
MISSING = "f0000000-0000-4000-8000-000000000000"


def schema(path: str, method: str, status: str = "200") -> Any:
    return openapi_response_schema("block-storage", path, method, status)


async def group_with_volumes(lab: Lab, token: str, count: int) -> tuple[str, list[str]]:
    group_type = (await lab.call("POST", "/group_types", {"group_type": {
        "name": f"gt-{count}"}}, expect=202))["group_type"]["id"]
    vtype = (await lab.call("GET", "/types/default"))["volume_type"]["id"]
    group = (await lab.call("POST", "/groups", {"group": {
        "name": "g", "group_type": group_type, "volume_types": [vtype]}},
        token=token, expect=202))["group"]["id"]
    await lab.settle()
    volumes = []
    for _ in range(count):
        made = await lab.call("POST", "/volumes", {"volume": {"size": 1, "group_id": group}},
                              token=token, expect=202)
        await lab.settle()
        volumes.append(made["volume"]["id"])
    return group, volumes


def test_a_group_snapshot_snapshots_each_volume_and_goes_with_them() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("gs")
        group, volumes = await group_with_volumes(lab, token, 2)
        made = await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": group, "name": "gs1", "description": "first"}},
            token=token, expect=202)
        assert_valid(made, schema("/v3/group_snapshots", "post", "202"))
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/group-snapshots-create-response.json"))
        ident = made["group_snapshot"]["id"]
        shown = (await lab.call("GET", f"/group_snapshots/{ident}", token=token))
        assert shown["group_snapshot"]["status"] == "creating"
        await lab.settle()
        shown = await lab.call("GET", f"/group_snapshots/{ident}", token=token)
        assert_valid(shown, schema("/v3/group_snapshots/{id}", "get"))
        assert_shape_like_sample(shown, sample(
            "cinder", f"{SAMPLES}/group-snapshots-show-response.json"),
            ignore={"$.group_snapshot.project_id"})
        body = shown["group_snapshot"]
        assert (body["status"], body["group_id"], body["name"], body["description"]) == (
            "available", group, "gs1", "first")
        assert "project_id" not in body  # the admin's attribute (3.58)
        admin_view = await lab.call("GET", f"/group_snapshots/{ident}")
        assert admin_view["group_snapshot"]["project_id"]

        # One snapshot of each volume, carrying the group snapshot's id and name.
        snapshots = (await lab.call("GET", "/snapshots/detail", token=token))["snapshots"]
        assert sorted(s["volume_id"] for s in snapshots) == sorted(volumes)
        assert {(s["group_snapshot_id"], s["status"], s["name"]) for s in snapshots} == {
            (ident, "available", "gs1")}
        # Neither it nor its volumes go alone, nor the group while it has it.
        await lab.call("DELETE", f"/snapshots/{snapshots[0]['id']}", token=token,
                       expect=400)
        refused = await lab.call("POST", f"/groups/{group}/action", {"delete": {
            "delete-volumes": True}}, token=token, expect=400)
        assert refused["badRequest"]["message"] == \
            "Invalid Group: Group has existing snapshots."

        listed = await lab.call("GET", "/group_snapshots", token=token)
        assert_valid(listed, schema("/v3/group_snapshots", "get"))
        assert listed == {"group_snapshots": [{"id": ident, "name": "gs1"}]}
        page = await lab.call("GET", "/group_snapshots?limit=1", token=token)
        assert [link["rel"] for link in page["group_snapshot_links"]] == ["next"]
        detail = await lab.call("GET", "/group_snapshots/detail", token=token)
        assert_shape_like_sample(detail, sample(
            "cinder", f"{SAMPLES}/group-snapshots-list-detailed-response.json"),
            ignore={"$.group_snapshots[*].project_id"})
        await lab.call("DELETE", f"/group_snapshots/{ident}", token=token, expect=202)
        assert (await lab.call("GET", f"/group_snapshots/{ident}", token=token))[
            "group_snapshot"]["status"] == "deleting"
        await lab.settle()
        missing = await lab.call("GET", f"/group_snapshots/{ident}", token=token,
                                 expect=404)
        assert missing["itemNotFound"]["message"] == \
            f"GroupSnapshot {ident} could not be found."
        assert (await lab.call("GET", "/snapshots", token=token))["snapshots"] == []
        await lab.call("POST", f"/groups/{group}/action", {"delete": {
            "delete-volumes": True}}, token=token, expect=202)

    run_lab(scenario)


def test_a_group_from_a_group_snapshot_or_a_group_copies_their_volumes() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("gsrc")
        group, volumes = await group_with_volumes(lab, token, 1)
        source_host = (await lab.volume(volumes[0]))["os-vol-host-attr:host"]
        ident = (await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": group}}, token=token, expect=202))["group_snapshot"]["id"]
        await lab.settle()
        snapshot = (await lab.call("GET", "/snapshots", token=token))["snapshots"][0]["id"]

        made = await lab.call("POST", "/groups/action", {"create-from-src": {
            "group_snapshot_id": ident, "name": " from-snap "}}, token=token, expect=202)
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/group-create-from-src-response.json"))
        assert made["group"]["name"] == "from-snap"
        copy = made["group"]["id"]
        # While a group is made from it, the group snapshot stays.
        refused = await lab.call("DELETE", f"/group_snapshots/{ident}", token=token,
                                 expect=400)
        assert "source for its creation" in refused["badRequest"]["message"]
        await lab.settle()
        shown = (await lab.call("GET", f"/groups/{copy}?list_volume=True",
                                token=token))["group"]
        source = (await lab.call("GET", f"/groups/{group}", token=token))["group"]
        assert (shown["status"], shown["group_snapshot_id"], shown["source_group_id"]) == (
            "available", ident, None)
        assert (shown["group_type"], shown["volume_types"]) == (source["group_type"],
                                                                 source["volume_types"])
        [member] = shown["volumes"]
        volume = await lab.volume(member)
        assert (volume["status"], volume["snapshot_id"], volume["group_id"]) == (
            "available", snapshot, copy)
        assert volume["os-vol-host-attr:host"] == source_host

        cloned = (await lab.call("POST", "/groups/action", {"create-from-src": {
            "source_group_id": group}}, token=token, expect=202))["group"]["id"]
        await lab.settle()
        shown = (await lab.call("GET", f"/groups/{cloned}?list_volume=True",
                                token=token))["group"]
        assert (shown["status"], shown["source_group_id"]) == ("available", group)
        clone = await lab.volume(shown["volumes"][0])
        assert (clone["source_volid"], clone["group_id"]) == (volumes[0], cloned)

        # Before 3.14 there is no such action.
        await lab.call("POST", "/groups/action", {"create-from-src": {
            "source_group_id": group}}, token=token, version="3.13", expect=404)

    run_lab(scenario)


def test_bad_requests_are_cinders_400_and_404() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("gsbad")
        group, _ = await group_with_volumes(lab, token, 1)
        empty, _ = await group_with_volumes(lab, token, 0)
        for body, field in (({"group_snapshot": {}}, "group_id"),
                            ({"group_snapshot": {"group_id": "nope"}}, "group_id"),
                            ({"group_snapshot": {"group_id": group, "x": 1}}, "x")):
            refused = await lab.call("POST", "/group_snapshots", body, token=token,
                                     expect=400)
            assert field in refused["badRequest"]["message"], refused
        missing = await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": MISSING}}, token=token, expect=404)
        assert missing["itemNotFound"]["message"] == f"Group {MISSING} could not be found."
        await lab.call("GET", f"/group_snapshots/{MISSING}", token=token, expect=404)
        await lab.call("DELETE", f"/group_snapshots/{MISSING}", token=token, expect=404)
        await lab.call("GET", "/group_snapshots", token=token, version="3.13", expect=404)
        await lab.call("GET", "/group_snapshots?colour=red", token=token, expect=400)

        # create-from-src wants exactly one source, and one that has something in it.
        for body in ({}, {"group_snapshot_id": MISSING, "source_group_id": MISSING},
                     {"source_group_id": "nope"}):
            await lab.call("POST", "/groups/action", {"create-from-src": body},
                           token=token, expect=400)
        gone = await lab.call("POST", "/groups/action", {"create-from-src": {
            "group_snapshot_id": MISSING}}, token=token, expect=404)
        assert gone["itemNotFound"]["message"] == \
            f"GroupSnapshot {MISSING} could not be found."
        refused = await lab.call("POST", "/groups/action", {"create-from-src": {
            "source_group_id": empty}}, token=token, expect=400)
        assert refused["badRequest"]["message"] == \
            "Invalid Group: Source Group is empty. No group will be created."

        # Another project's group snapshot is not found; only an admin resets a status.
        ident = (await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": group}}, token=token, expect=202))["group_snapshot"]["id"]
        await lab.settle()
        stranger, _ = await lab.member("gsbad-stranger")
        await lab.call("GET", f"/group_snapshots/{ident}", token=stranger, expect=404)
        assert (await lab.call("GET", "/group_snapshots", token=stranger))[
            "group_snapshots"] == []
        action = f"/group_snapshots/{ident}/action"
        await lab.call("POST", action, {"reset_status": {"status": "error"}}, token=token,
                       expect=403)
        bad = await lab.call("POST", action, {"reset_status": {"status": "lost"}},
                             expect=400)
        assert bad["badRequest"]["message"].startswith(
            "Invalid GroupSnapshot Status: Group snapshot status: lost is invalid")
        await lab.call("POST", action, {"reset_status": {"status": "creating"}}, expect=202)
        refused = await lab.call("DELETE", f"/group_snapshots/{ident}", token=token,
                                 expect=400)
        assert refused["badRequest"]["message"].startswith(
            "Invalid GroupSnapshot: GroupSnapshot status must be available or error")
        await lab.call("POST", action, {"reset_status": {"status": "ERROR"}}, expect=202)
        shown = await lab.call("GET", f"/group_snapshots/{ident}", token=token)
        assert shown["group_snapshot"]["status"] == "error"
        await lab.call("DELETE", f"/group_snapshots/{ident}", token=token, expect=202)

    run_lab(scenario)


def test_a_group_snapshot_counts_against_the_snapshot_quota() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("gsquota")
        group, _ = await group_with_volumes(lab, token, 2)
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"snapshots": 1}})
        refused = await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": group}}, token=token, expect=413)
        assert "Maximum number of snapshots allowed (1) exceeded" in \
            refused["overLimit"]["message"]
        assert (await lab.call("GET", "/snapshots", token=token))["snapshots"] == []
        assert (await lab.call("GET", "/group_snapshots", token=token))[
            "group_snapshots"] == []

    run_lab(scenario)
