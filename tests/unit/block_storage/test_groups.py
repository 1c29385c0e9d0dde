"""Group types (3.11) and generic volume groups (3.13): a group is placed on a backend,
its volumes are made there, added and removed, and deleted with it."""

from __future__ import annotations

from support.apiref import assert_shape_like_sample, sample
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"


def test_group_types_and_their_specs() -> None:
    async def scenario(lab: Lab) -> None:
        made = await lab.call("POST", "/group_types", {"group_type": {
            "name": "gt1", "description": "first", "group_specs": {
                "consistent_group_snapshot_enabled": "<is> False"}}}, expect=202)
        assert_shape_like_sample(made, sample("cinder",
                                              f"{SAMPLES}/group-type-show-response.json"))
        ident = made["group_type"]["id"]
        listed = await lab.call("GET", "/group_types")
        assert_shape_like_sample(listed, sample("cinder",
                                                f"{SAMPLES}/group-types-list-response.json"))
        # cinder's db sync made the reserved type of consistency groups.
        assert sorted(t["name"] for t in listed["group_types"]) == [
            "default_cgsnapshot_type", "gt1"]
        # A page of them links the next under cinder's key (views/group_types.py).
        page = await lab.call("GET", "/group_types?limit=1")
        assert [link["rel"] for link in page["group_type_links"]] == ["next"]
        await lab.call("GET", "/group_types", version="3.10", expect=404)
        await lab.call("POST", "/group_types", {"group_type": {"name": "gt1"}}, expect=409)
        bad = await lab.call("POST", "/group_types", {"group_type": {"name": ""}},
                             expect=400)
        assert "name" in bad["badRequest"]["message"]
        specs = await lab.call("POST", f"/group_types/{ident}/group_specs",
                               {"group_specs": {"k": "v"}}, expect=202)
        assert specs == {"group_specs": {"k": "v"}}
        assert await lab.call("GET", f"/group_types/{ident}/group_specs/k") == {"k": "v"}
        await lab.call("PUT", f"/group_types/{ident}/group_specs/k", {"k": "w"})
        await lab.call("DELETE", f"/group_types/{ident}/group_specs/k", expect=202)
        await lab.call("GET", f"/group_types/{ident}/group_specs/k", expect=404)
        updated = await lab.call("PUT", f"/group_types/{ident}", {"group_type": {
            "description": "changed"}})
        assert updated["group_type"]["description"] == "changed"
        await lab.call("GET", "/group_types/default", expect=404)

        # A member sees public types, without their specs, and changes none.
        token, _ = await lab.member("gt")
        shown = await lab.call("GET", f"/group_types/{ident}", token=token)
        assert "group_specs" not in shown["group_type"]
        await lab.call("POST", "/group_types", {"group_type": {"name": "x"}}, token=token,
                       expect=403)
        private = (await lab.call("POST", "/group_types", {"group_type": {
            "name": "private", "is_public": False}}, expect=202))["group_type"]["id"]
        await lab.call("GET", f"/group_types/{private}", token=token, expect=404)
        await lab.call("DELETE", f"/group_types/{private}", expect=202)

    run_lab(scenario)


def test_a_group_holds_volumes_on_one_backend() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("grp")
        group_type = (await lab.call("POST", "/group_types", {"group_type": {
            "name": "gt"}}, expect=202))["group_type"]["id"]
        vtype = (await lab.call("GET", "/types/default"))["volume_type"]["id"]
        made = await lab.call("POST", "/groups", {"group": {
            "name": "g1", "description": "d", "group_type": group_type,
            "volume_types": [vtype]}},
            token=token, expect=202)
        assert_shape_like_sample(made, sample("cinder", f"{SAMPLES}/group-create-response.json"))
        group = made["group"]["id"]
        await lab.settle()
        shown = await lab.call("GET", f"/groups/{group}?list_volume=True", token=token)
        assert_shape_like_sample(shown, sample("cinder", f"{SAMPLES}/group-show-response.json"),
                                 ignore={"$.group.project_id"})
        body = shown["group"]
        assert (body["status"], body["group_type"], body["volume_types"], body["volumes"]) \
            == ("available", group_type, [vtype], [])

        # Volumes made into the group all go to its backend.
        members = []
        for _ in range(3):
            volume = await lab.call("POST", "/volumes", {"volume": {
                "size": 1, "group_id": group}}, token=token, expect=202)
            await lab.settle()
            members.append(volume["volume"]["id"])
        hosts = {(await lab.volume(v))["os-vol-host-attr:host"] for v in members}
        assert len(hosts) == 1
        shown = await lab.call("GET", f"/volumes/{members[0]}", token=token)
        assert shown["volume"]["group_id"] == group
        listed = await lab.call("GET", f"/groups/{group}?list_volume=True", token=token)
        assert sorted(listed["group"]["volumes"]) == sorted(members)
        # A member of a group is deleted with it only.
        await lab.call("DELETE", f"/volumes/{members[0]}", token=token, expect=400)

        # Removed, then added back.
        await lab.call("PUT", f"/groups/{group}", {"group": {
            "remove_volumes": members[2], "name": "renamed"}}, token=token, expect=202)
        assert (await lab.volume(members[2]))["group_id"] is None
        await lab.call("PUT", f"/groups/{group}", {"group": {"add_volumes": members[2]}},
                       token=token, expect=202)
        assert (await lab.volume(members[2]))["group_id"] == group
        bad = await lab.call("PUT", f"/groups/{group}", {"group": {
            "add_volumes": "f0000000-0000-4000-8000-000000000000"}}, token=token,
            expect=400)
        assert "cannot be found" in bad["badRequest"]["message"]
        empty = await lab.call("PUT", f"/groups/{group}", {"group": {}}, token=token,
                               expect=400)
        assert "can not be all empty" in empty["badRequest"]["message"]

        # Another project's group is not found.
        stranger, _ = await lab.member("grp-stranger")
        await lab.call("GET", f"/groups/{group}", token=stranger, expect=404)
        await lab.call("POST", "/volumes", {"volume": {"size": 1, "group_id": group}},
                       token=stranger, expect=404)
        assert (await lab.call("GET", "/groups", token=stranger))["groups"] == []
        page = await lab.call("GET", "/groups?limit=1", token=token)
        assert [link["rel"] for link in page["group_links"]] == ["next"]
        # Bad input names the field.
        for body, field in (({"group": {"group_type": group_type}}, "volume_types"),
                            ({"group": {"volume_types": [vtype]}}, "group_type"),
                            ({"group": {"group_type": group_type, "volume_types": [vtype],
                                        "colour": 1}}, "colour")):
            refused = await lab.call("POST", "/groups", body, token=token, expect=400)
            assert field in refused["badRequest"]["message"], refused
        await lab.call("POST", "/groups", {"group": {
            "group_type": "nope", "volume_types": [vtype]}}, token=token, expect=404)
        # A group type in use stays.
        await lab.call("DELETE", f"/group_types/{group_type}", expect=400)

        # Deleting needs the delete-volumes flag while it holds volumes.
        action = f"/groups/{group}/action"
        refused = await lab.call("POST", action, {"delete": {}}, token=token, expect=400)
        assert "delete-volumes flag is required" in refused["badRequest"]["message"]
        await lab.call("POST", action, {"delete": {"delete-volumes": True}}, token=token,
                       expect=202)
        await lab.settle()
        await lab.call("GET", f"/groups/{group}", token=token, expect=404)
        for volume in members:
            await lab.call("GET", f"/volumes/{volume}", token=token, expect=404)
        usage = await lab.call("GET", f"/os-quota-sets/{project}?usage=True", token=token)
        assert usage["quota_set"]["volumes"]["in_use"] == 0
        await lab.call("DELETE", f"/group_types/{group_type}", expect=202)

    run_lab(scenario)
