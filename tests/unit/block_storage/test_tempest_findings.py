"""What upstream Tempest's volume tests found: cinder's views, host filters, freeze and thaw,
empty ids. Each check is cinder's behaviour, read from its code."""

from __future__ import annotations

from stacklab.block_storage.volumes import host_matches
from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"


def test_a_bare_host_matches_its_backends_and_pools_a_pool_only_itself() -> None:
    assert host_matches(f"{C1}@lvm", C1)
    assert host_matches(f"{C1}@lvm#lvm", f"{C1}@lvm")
    assert host_matches(C1, C1)
    assert not host_matches(f"{C1}@lvm#lvm", f"{C1}@lvm#other")
    assert not host_matches(f"{C1}@lvm", f"{C1}@lvm#lvm")
    assert not host_matches(f"{C1}x@lvm", C1)
    assert not host_matches(f"{C1}@lvm2#p", f"{C1}@lvm")


def test_views_ids_and_the_readonly_flag() -> None:
    async def scenario(lab: Lab) -> None:
        made = (await lab.create(name="v"))["volume"]
        await lab.settle()
        # A snapshot's create and update answer without extended_snapshot_attributes.
        snap = (await lab.call("POST", "/snapshots", {"snapshot": {
            "volume_id": made["id"], "name": "s"}}, expect=202))["snapshot"]
        assert not [key for key in snap if key.startswith("os-extended-snapshot")]
        await lab.settle()
        renamed = (await lab.call("PUT", f"/snapshots/{snap['id']}", {"snapshot": {
            "name": "t"}}))["snapshot"]
        assert renamed["name"] == "t" and "os-extended-snapshot-attributes:progress" \
            not in renamed
        shown = (await lab.call("GET", f"/snapshots/{snap['id']}"))["snapshot"]
        assert shown["os-extended-snapshot-attributes:progress"] == "100%"
        # A null volume_id passes the schema and is not found.
        missing = await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": None}},
                                 expect=404)
        assert missing["itemNotFound"]["message"] == "Volume None could not be found."
        # An empty volume id is no route.
        for method in ("GET", "PUT", "DELETE"):
            await lab.call(method, "/volumes/", {"volume": {}} if method == "PUT" else None,
                           expect=404)
        # The readonly admin metadata shows among the metadata (show, list, update), not
        # in the metadata API.
        await lab.call("POST", f"/volumes/{made['id']}/action",
                       {"os-update_readonly_flag": {"readonly": True}}, expect=202)
        assert (await lab.volume(made["id"]))["metadata"] == {"readonly": "True"}
        listed = (await lab.call("GET", "/volumes/detail"))["volumes"]
        assert [v["metadata"] for v in listed if v["id"] == made["id"]] == [
            {"readonly": "True"}]
        updated = (await lab.call("PUT", f"/volumes/{made['id']}", {"volume": {
            "name": "w"}}))["volume"]
        assert updated["metadata"] == {"readonly": "True"}
        assert (await lab.call("GET", f"/volumes/{made['id']}/metadata"))["metadata"] == {}

    run_lab(scenario)


def test_services_by_bare_host_and_freeze_and_thaw() -> None:
    async def scenario(lab: Lab) -> None:
        listed = (await lab.call("GET", f"/os-services?host={C1}"))["services"]
        assert sorted(s["binary"] for s in listed) == [
            "cinder-backup", "cinder-scheduler", "cinder-volume"]
        bad = await lab.call("PUT", "/os-services/freeze", {"host": "invalid_host"},
                             expect=400)
        assert bad["badRequest"]["message"] == (
            "Invalid input received: No service found with host=invalid_host")
        await lab.call("PUT", "/os-services/thaw", {"host": "invalid_host"}, expect=400)
        # A body that is no object (the fuzz found it answering 500) names no host.
        listed_body = await lab.call("PUT", "/os-services/freeze", [{"host": C1}], expect=400)
        assert listed_body["badRequest"]["message"] == (
            "Missing required element 'host' in request body.")
        made = (await lab.create(name="v"))["volume"]
        await lab.settle()
        host = (await lab.volume(made["id"]))["os-vol-host-attr:host"].partition("#")[0]
        await lab.call("PUT", "/os-services/freeze", {"host": host})
        frozen = (await lab.call("GET", f"/os-services?host={host}"))["services"][0]
        assert (frozen["frozen"], frozen["status"], frozen["disabled_reason"]) == (
            True, "disabled", "frozen")
        # A frozen backend takes no change: no delete, no snapshot; freezing again fails.
        refused = await lab.call("DELETE", f"/volumes/{made['id']}", expect=400)
        assert "frozen storage backends" in refused["badRequest"]["message"]
        await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": made["id"]}},
                       expect=400)
        await lab.call("PUT", "/os-services/freeze", {"host": host}, expect=400)
        await lab.call("PUT", "/os-services/thaw", {"host": host})
        thawed = (await lab.call("GET", f"/os-services?host={host}"))["services"][0]
        assert (thawed["frozen"], thawed["status"]) == (False, "enabled")
        await lab.call("DELETE", f"/volumes/{made['id']}", expect=202)

    run_lab(scenario)


def test_snapshots_sort_by_display_name_and_take_their_drivers_status() -> None:
    async def scenario(lab: Lab) -> None:
        made = (await lab.create(name="v"))["volume"]
        idents = []
        for name in ("b", "a", "c"):
            idents.append((await lab.call("POST", "/snapshots", {"snapshot": {
                "volume_id": made["id"], "name": name}}, expect=202))["snapshot"]["id"])
        for key in ("display_name", "name"):
            listed = (await lab.call("GET", f"/snapshots?sort_key={key}&sort_dir=asc"))
            assert [s["name"] for s in listed["snapshots"]] == ["a", "b", "c"]
        volumes = await lab.call("GET", "/volumes?sort=display_name:desc")
        assert [v["name"] for v in volumes["volumes"]] == ["v"]
        await lab.call("GET", "/snapshots?sort_key=nope", expect=400)
        # os-update_snapshot_status: from creating only to creating, available or error.
        snap = idents[0]
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-reset_status": {
            "status": "creating"}}, expect=202)
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-update_snapshot_status": {
            "status": "error", "progress": "80%"}}, expect=202)
        shown = (await lab.call("GET", f"/snapshots/{snap}"))["snapshot"]
        assert (shown["status"], shown["os-extended-snapshot-attributes:progress"]) == (
            "error", "80%")
        refused = await lab.call("POST", f"/snapshots/{snap}/action", {
            "os-update_snapshot_status": {"status": "available"}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Snapshot status error not allowed for update_snapshot_status")
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-reset_status": {
            "status": "creating"}}, expect=202)
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-update_snapshot_status": {
            "status": "deleting"}}, expect=400)
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-update_snapshot_status": {
            "status": "available", "progress": "101%"}}, expect=400)

    run_lab(scenario)
