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
        assert missing["badRequest"]["message"] == (
            "Missing required element 'consistencygroup' in request body.")
        no_types = await lab.call("POST", "/consistencygroups", {"consistencygroup": {
            "name": "x"}}, token=token, expect=400)
        assert no_types["badRequest"]["message"] == (
            "volume_types must be provided to create consistency group x.")
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
        assert nothing["badRequest"]["message"] == "'consistencygroup_id' must be specified"
        # Another project's CG is not found.
        other, _ = await lab.member("cgother")
        await lab.call("GET", f"/consistencygroups/{cg}", token=other, expect=404)
        await lab.call("POST", "/cgsnapshots", {"cgsnapshot": {
            "consistencygroup_id": cg}}, token=other, expect=404)

    run_lab(scenario)
