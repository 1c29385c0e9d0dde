"""cinder's legacy consistency groups and cgsnapshots: groups of the reserved
``default_cgsnapshot_type`` and their group snapshots, in the old API's shapes, which the
generic group APIs refuse to touch."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_valid, openapi_response_schema
from unit.block_storage.cinder_calls import Lab, run_lab

RESERVED = ("Group_type {} is reserved for migrating CGs to groups. Migrated group can only "
            "be operated by CG APIs.")


def schema(path: str, method: str, status: str = "200") -> Any:
    return openapi_response_schema("block-storage", path, method, status)


async def new_cg(lab: Lab, token: str, name: str = "cg") -> str:
    vtype = (await lab.call("GET", "/types/default"))["volume_type"]["id"]
    made = await lab.call("POST", "/consistencygroups", {"consistencygroup": {
        "name": name, "description": "legacy", "volume_types": f"{vtype},"}},
        token=token, expect=202)
    assert_valid(made, schema("/v3/consistencygroups", "post", "202"))
    assert set(made["consistencygroup"]) == {"id", "name"}
    await lab.settle()
    return str(made["consistencygroup"]["id"])


def test_a_consistency_group_is_a_group_of_the_reserved_type() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("cg")
        types = (await lab.call("GET", "/group_types"))["group_types"]
        [reserved] = [t for t in types if t["name"] == "default_cgsnapshot_type"]
        assert reserved["group_specs"] == {"consistent_group_snapshot_enabled": "<is> True"}
        cg = await new_cg(lab, token)
        shown = (await lab.call("GET", f"/consistencygroups/{cg}", token=token))
        assert_valid(shown, schema("/v3/consistencygroups/{id}", "get"))
        body = shown["consistencygroup"]
        vtype = (await lab.call("GET", "/types/default"))["volume_type"]["id"]
        assert (body["status"], body["name"], body["description"], body["volume_types"]) == (
            "available", "cg", "legacy", [vtype])
        group = (await lab.call("GET", f"/groups/{cg}", token=token))["group"]
        assert group["group_type"] == reserved["id"]
        listed = await lab.call("GET", "/consistencygroups", token=token)
        assert listed == {"consistencygroups": [{"id": cg, "name": "cg"}]}
        detail = await lab.call("GET", "/consistencygroups/detail", token=token)
        assert detail["consistencygroups"] == [body]

        # A volume made into it by the old field, and the snapshot of the group.
        volume = (await lab.call("POST", "/volumes", {"volume": {
            "size": 1, "consistencygroup_id": cg}}, token=token, expect=202))["volume"]["id"]
        await lab.settle()
        assert (await lab.call("GET", f"/volumes/{volume}", token=token)
                )["volume"]["group_id"] == cg
        made = await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {
            "consistencygroup_id": cg, "name": "snap"}}, token=token, expect=202)
        assert set(made["cgsnapshot"]) == {"id", "name"}
        cgsnapshot = made["cgsnapshot"]["id"]
        await lab.settle()
        shown = (await lab.call("GET", f"/cgsnapshots/{cgsnapshot}", token=token))
        assert_valid(shown, schema("/v3/cgsnapshots/{id}", "get"))
        assert {k: shown["cgsnapshot"][k] for k in ("consistencygroup_id", "status", "name")} \
            == {"consistencygroup_id": cg, "status": "available", "name": "snap"}
        assert (await lab.call("GET", "/cgsnapshots", token=token)) == {
            "cgsnapshots": [{"id": cgsnapshot, "name": "snap"}]}

        # The generic APIs leave it to the CG APIs.
        refused = await lab.call("POST", "/group_snapshots", {"group_snapshot": {
            "group_id": cg}}, token=token, expect=400)
        assert refused["badRequest"]["message"] == RESERVED.format(reserved["id"])
        refused = await lab.call("POST", f"/groups/{cg}/action", {"delete": {}},
                                 token=token, expect=400)
        assert refused["badRequest"]["message"] == RESERVED.format(reserved["id"])
        await lab.call("DELETE", f"/group_snapshots/{cgsnapshot}", token=token, expect=400)

        # New CGs from the cgsnapshot and from the CG: copies of its volume.
        from_snapshot = (await lab.call("POST", "/consistencygroups/create_from_src", {
            "consistencygroup-from-src": {"name": "copy", "cgsnapshot_id": cgsnapshot}},
            token=token, expect=202))["consistencygroup"]["id"]
        from_cg = (await lab.call("POST", "/consistencygroups/create_from_src", {
            "consistencygroup-from-src": {"source_cgid": cg}},
            token=token, expect=202))["consistencygroup"]["id"]
        await lab.settle()
        for made_cg in (from_snapshot, from_cg):
            shown = await lab.call("GET", f"/consistencygroups/{made_cg}", token=token)
            assert shown["consistencygroup"]["status"] == "available"
            members = (await lab.call("GET", f"/groups/{made_cg}?list_volume=true",
                                      token=token))["group"]["volumes"]
            assert len(members) == 1

        # Remove the volume, rename, then take it all down.
        await lab.call("PUT", f"/consistencygroups/{cg}", {"consistencygroup": {
            "name": "renamed"}}, token=token, expect=202)
        assert (await lab.call("GET", f"/consistencygroups/{cg}", token=token)
                )["consistencygroup"]["name"] == "renamed"
        await lab.call("DELETE", f"/cgsnapshots/{cgsnapshot}", token=token, expect=202)
        await lab.settle()
        await lab.call("GET", f"/cgsnapshots/{cgsnapshot}", token=token, expect=404)
        for made_cg in (cg, from_snapshot, from_cg):
            await lab.call("POST", f"/consistencygroups/{made_cg}/delete", {
                "consistencygroup": {"force": True}}, token=token, expect=202)
        await lab.settle()
        assert (await lab.call("GET", "/consistencygroups", token=token)) == {
            "consistencygroups": []}

    run_lab(scenario)


def test_the_old_apis_checks_and_messages() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("cgbad")
        missing = await lab.call("POST", "/consistencygroups", {"group": {}}, token=token,
                                 expect=400)
        # cinder's schemas (cinder/api/schemas/consistencygroups.py), in its validator's words.
        assert missing["badRequest"]["message"] == "'consistencygroup' is a required property"
        no_types = await lab.call("POST", "/consistencygroups", {"consistencygroup": {
            "name": "x"}}, token=token, expect=400)
        assert no_types["badRequest"]["message"] == (
            "Invalid input for field/attribute consistencygroup. Value: {'name': 'x'}. "
            "'volume_types' is a required property")
        empty_types = await lab.call("POST", "/consistencygroups", {"consistencygroup": {
            "name": " x ", "volume_types": ""}}, token=token, expect=400)
        assert empty_types["badRequest"]["message"] == (
            "volume_types must be provided to create consistency group x.")
        listed_types = await lab.call("POST", "/consistencygroups", {"consistencygroup": {
            "volume_types": ["a"]}}, token=token, expect=400)
        assert "is not of type 'string'" in listed_types["badRequest"]["message"]
        await lab.call("POST", "/consistencygroups", {"consistencygroup": {
            "volume_types": "no-such-type"}}, token=token, expect=404)
        neither = await lab.call("POST", "/consistencygroups/create_from_src", {
            "consistencygroup-from-src": {"name": "y"}}, token=token, expect=400)
        assert neither["badRequest"]["message"] == (
            "Either 'cgsnapshot_id' or 'source_cgid' must be provided to create consistency "
            "group y from source.")
        both = await lab.call("POST", "/consistencygroups/create_from_src", {
            "consistencygroup-from-src": {"cgsnapshot_id": "a", "source_cgid": "b"}},
            token=token, expect=400)
        assert both["badRequest"]["message"].startswith("Cannot provide both")
        cg = await new_cg(lab, token)
        empty = await lab.call("PUT", f"/consistencygroups/{cg}", {"consistencygroup": {}},
                               token=token, expect=400)
        assert empty["badRequest"]["message"] == (
            "Name, description, add_volumes, and remove_volumes can not be all empty in the "
            "request body.")
        nothing = await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {}}, token=token,
                                 expect=400)
        assert nothing["badRequest"]["message"] == (
            "Invalid input for field/attribute cgsnapshot. Value: {}. 'consistencygroup_id' "
            "is a required property")
        await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {
            "consistencygroup_id": "nope"}}, token=token, expect=404)
        # Another project's CG is not found.
        other, _ = await lab.member("cgother")
        await lab.call("GET", f"/consistencygroups/{cg}", token=other, expect=404)
        await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {
            "consistencygroup_id": cg}}, token=other, expect=404)

    run_lab(scenario)


def test_delete_bodies_and_the_delete_method() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("cgdel")
        first, second, third, fourth = [await new_cg(lab, token, f"del{i}") for i in range(4)]
        # The body is optional: none, null, {} or the element with an optional force.
        await lab.call("POST", f"/consistencygroups/{first}/delete", token=token, expect=202)
        await lab.call("POST", f"/consistencygroups/{second}/delete", {}, token=token,
                       expect=202)
        await lab.call("POST", f"/consistencygroups/{third}/delete", {
            "consistencygroup": {"force": "false"}}, token=token, expect=202)
        # openstacksdk's body ("consistency_group") is none of them: cinder's 400.
        sdk = await lab.call("POST", f"/consistencygroups/{fourth}/delete", {
            "consistency_group": {"force": False}}, token=token, expect=400)
        assert "is not valid under any of the given schemas" in sdk["badRequest"]["message"]
        await lab.call("POST", f"/consistencygroups/{fourth}/delete", {
            "consistencygroup": {"force": "maybe"}}, token=token, expect=400)
        # A member volume needs force.
        await lab.call("POST", "/volumes", {"volume": {"size": 1, "consistencygroup_id":
                                                       fourth}}, token=token, expect=202)
        await lab.settle()
        refused = await lab.call("DELETE", f"/consistencygroups/{fourth}", token=token,
                                 expect=400)
        assert refused["badRequest"]["message"] == (
            f"Invalid Group: Group {fourth} still contains volumes. The delete-volumes flag "
            "is required to delete it.")
        other, _ = await lab.member("cgdel-other")
        await lab.call("DELETE", f"/consistencygroups/{fourth}", token=other, expect=404)
        await lab.call("POST", f"/consistencygroups/{fourth}/delete", {
            "consistencygroup": {"force": True}}, token=token, expect=202)
        await lab.settle()
        assert (await lab.call("GET", "/consistencygroups", token=token)) == {
            "consistencygroups": []}
        assert (await lab.call("GET", "/volumes", token=token))["volumes"] == []
        # DELETE without a body deletes an empty group as the action does.
        fifth = await new_cg(lab, token, "del5")
        await lab.call("DELETE", f"/consistencygroups/{fifth}", token=token, expect=202)
        await lab.settle()
        await lab.call("GET", f"/consistencygroups/{fifth}", token=token, expect=404)

    run_lab(scenario)


def test_the_lists_page_as_cinders() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("cgpage")
        made = [await new_cg(lab, token, f"page{i}") for i in range(3)]
        newest_first = list(reversed(made))
        listed = await lab.call("GET", "/consistencygroups", token=token)
        assert [g["id"] for g in listed["consistencygroups"]] == newest_first
        page = await lab.call("GET", "/consistencygroups?limit=2", token=token)
        assert_valid(page, schema("/v3/consistencygroups", "get"))
        assert [g["id"] for g in page["consistencygroups"]] == newest_first[:2]
        [link] = page["consistencygroup_links"]
        assert link["rel"] == "next" and f"marker={newest_first[1]}" in link["href"]
        rest = await lab.call("GET", f"/consistencygroups/detail?marker={newest_first[1]}",
                              token=token)
        assert_valid(rest, schema("/v3/consistencygroups/detail", "get"))
        assert [g["id"] for g in rest["consistencygroups"]] == newest_first[2:]
        by_name = await lab.call("GET", "/consistencygroups?sort=name:asc&offset=1",
                                 token=token)
        assert [g["name"] for g in by_name["consistencygroups"]] == ["page1", "page2"]
        named = await lab.call("GET", "/consistencygroups?name=page1", token=token)
        assert [g["id"] for g in named["consistencygroups"]] == [made[1]]
        # A key that is no column of a group lists nothing (cinder's is_valid_model_filters).
        assert (await lab.call("GET", "/consistencygroups?colour=blue", token=token)) == {
            "consistencygroups": []}
        await lab.call("GET", "/consistencygroups?marker=nope", token=token, expect=404)
        await lab.call("GET", "/consistencygroups?limit=x", token=token, expect=400)
        # The admin's all_tenants sees them; a member's is a filter no column matches.
        everyone = await lab.call("GET", "/consistencygroups?all_tenants=1")
        assert set(made) <= {g["id"] for g in everyone["consistencygroups"]}
        assert (await lab.call("GET", "/consistencygroups?all_tenants=1", token=token)) == {
            "consistencygroups": []}

        # cgsnapshots: the caller's own, offset and limit alone (common.limited).
        snaps = []
        for cg in made[:2]:
            snaps.append((await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {
                "consistencygroup_id": cg}}, token=token, expect=202))["cgsnapshot"]["id"])
            await lab.settle()
        listed = await lab.call("GET", "/cgsnapshots?limit=1&offset=1", token=token)
        assert_valid(listed, schema("/v3/cgsnapshots", "get"))
        assert [c["id"] for c in listed["cgsnapshots"]] == [snaps[0]]
        detail = await lab.call("GET", "/cgsnapshots/detail?limit=1", token=token)
        assert_valid(detail, schema("/v3/cgsnapshots/detail", "get"))
        assert [c["id"] for c in detail["cgsnapshots"]] == [snaps[1]]
        assert "cgsnapshot_links" not in detail
        await lab.call("GET", "/cgsnapshots?offset=-1", token=token, expect=400)
        admins = await lab.call("GET", "/cgsnapshots?all_tenants=1")
        assert admins == {"cgsnapshots": []}

    run_lab(scenario)
