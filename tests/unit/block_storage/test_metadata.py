"""cinder's six metadata routes, the same for a volume and a snapshot (api/metadata.py)."""

from __future__ import annotations

import pytest

from unit.block_storage.cinder_calls import Lab, run_lab


async def owner_path(lab: Lab, kind: str) -> tuple[str, str]:
    volume = (await lab.create(name=f"meta-{kind}", metadata={"a": "1"}))["volume"]["id"]
    if kind == "volume":
        return f"/volumes/{volume}", volume
    made = await lab.call("POST", "/snapshots", {"snapshot": {
        "volume_id": volume, "metadata": {"a": "1"}}}, expect=202)
    await lab.settle()
    return f"/snapshots/{made['snapshot']['id']}", made["snapshot"]["id"]


@pytest.mark.parametrize(("kind", "noun"), [("volume", "Volume"), ("snapshot", "Snapshot")])
def test_metadata_routes_merge_replace_show_update_and_delete(kind: str, noun: str) -> None:
    async def scenario(lab: Lab) -> None:
        path, ident = await owner_path(lab, kind)
        meta = f"{path}/metadata"
        assert await lab.call("GET", meta) == {"metadata": {"a": "1"}}
        assert (await lab.call("POST", meta, {"metadata": {"b": "2"}}))["metadata"] == {
            "a": "1", "b": "2"}
        assert (await lab.call("PUT", meta, {"metadata": {"c": "3"}}))["metadata"] == {
            "c": "3"}
        assert await lab.call("GET", f"{meta}/c") == {"meta": {"c": "3"}}
        assert await lab.call("PUT", f"{meta}/c", {"meta": {"c": "4"}}) == {"meta": {"c": "4"}}
        mismatch = await lab.call("PUT", f"{meta}/c", {"meta": {"d": "4"}}, expect=400)
        assert "Request body and URI mismatch" in str(mismatch)
        await lab.call("POST", meta, {"metadata": "no"}, expect=400)
        await lab.call("DELETE", f"{meta}/c")
        missing = await lab.call("GET", f"{meta}/c", expect=404)
        assert f"{noun} {ident} has no metadata with key c." in str(missing)
        await lab.call("DELETE", f"{meta}/c", expect=404)
        assert await lab.call("GET", meta) == {"metadata": {}}

    run_lab(scenario)


def test_dict_filters_keep_the_records_holding_every_pair() -> None:
    """?metadata= on volumes and snapshots, ?extra_specs= on types: cinder's literal dicts,
    compared as text; a filter that is no dict is a 400 naming it."""
    async def scenario(lab: Lab) -> None:
        ids = {}
        for name, meta in (("x", {"n": "1", "k": "a"}), ("y", {"n": "1", "k": "b"})):
            ids[name] = (await lab.create(name=name, metadata=meta))["volume"]["id"]
            await lab.call("POST", "/snapshots", {"snapshot": {
                "volume_id": ids[name], "name": f"s{name}", "metadata": meta}}, expect=202)
        await lab.settle()
        for path, key in (("/volumes", "volumes"), ("/snapshots", "snapshots")):
            both = await lab.call("GET", f"{path}?metadata={{'n': 1}}")
            assert len(both[key]) == 2, both
            one = await lab.call("GET", f"{path}?metadata={{'n': '1', 'k': 'b'}}")
            assert [r["name"] for r in one[key]] in (["y"], ["sy"])
            refused = await lab.call("GET", f"{path}?metadata=nodict", expect=400)
            assert "Invalid filter metadata=nodict" in str(refused)
        await lab.call("POST", "/types", {"volume_type": {
            "name": "gold", "extra_specs": {"tier": "gold"}}})
        gold = await lab.call("GET", "/types?extra_specs={'tier':'gold'}")
        assert [t["name"] for t in gold["volume_types"]] == ["gold"]

    run_lab(scenario)
