"""Volume lists cut in SQL (only the page's rows are read) give what the in-memory path
gives: the same order for every sort, nulls included, the same pages and links, the
attachments of each listed volume."""

from __future__ import annotations

from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.block_storage.test_attachments import CONNECTOR

SERVER = "0b0b0b0b-0000-4000-8000-000000000001"


async def walk(lab: Lab, path: str, sort: str) -> list[str]:
    """Every volume's id, following the next links two at a time (cut in SQL)."""
    names: list[str] = []
    query = f"{path}?limit=2{sort}"
    for _ in range(10):
        page = await lab.call("GET", query)
        names += [v["id"] for v in page["volumes"]]
        links = page.get("volumes_links")
        if not links:
            return names
        query = path + "?" + links[0]["href"].split("?", 1)[1]
    raise AssertionError("more pages than volumes")


def test_pages_cut_in_sql_match_the_in_memory_order() -> None:
    async def scenario(lab: Lab) -> None:
        made: dict[str, str] = {}
        for index, name in enumerate(("c", "a", "e", "b", "d")):
            made[name] = (await lab.create(name=name, size=1 + index % 2))["volume"]["id"]
        # One without a name: the names sort with a null, first ascending, last descending.
        unnamed = (await lab.create())["volume"]["id"]
        for sort in ("", "&sort=name:asc", "&sort=name:desc", "&sort=size:asc,name:desc",
                     "&sort=size:desc,name:asc", "&sort_key=name&sort_dir=asc",
                     "&sort=display_name:desc"):
            # offset=0 takes the in-memory path: the reference order.
            whole = await lab.call("GET", f"/volumes?offset=0&limit=100{sort}")
            expected = [v["id"] for v in whole["volumes"]]
            assert len(expected) == 6
            assert await walk(lab, "/volumes", sort) == expected, sort
            assert await walk(lab, "/volumes/detail", sort) == expected, sort
        assert (await walk(lab, "/volumes", "&sort=name:asc"))[0] == unnamed
        assert (await walk(lab, "/volumes", "&sort=name:desc"))[-1] == unnamed
        default = await lab.call("GET", "/volumes")
        assert [v["name"] for v in default["volumes"]] == [None, "d", "b", "e", "a", "c"]
        assert "volumes_links" not in default
        counted = await lab.call("GET", "/volumes?limit=1&with_count=true&sort=name:asc")
        assert counted["count"] == 6 and [v["id"] for v in counted["volumes"]] == [unnamed]
        href = counted["volumes_links"][0]["href"]
        assert f"marker={unnamed}" in href and "with_count=true" in href
        await lab.call("GET", "/volumes/detail?marker=nope", expect=404)
        # The detail list shows each volume's attachment, read for the page at once.
        attachment = (await lab.call("POST", "/attachments", {"attachment": {
            "volume_uuid": made["b"], "instance_uuid": SERVER, "connector": CONNECTOR}},
            version="3.44"))["attachment"]
        await lab.call("POST", f"/attachments/{attachment['id']}/action",
                       {"os-complete": None}, expect=204, version="3.44")
        listed: dict[str, Any] = {v["name"]: v for v in (await lab.call(
            "GET", "/volumes/detail"))["volumes"]}
        assert [a["attachment_id"] for a in listed["b"]["attachments"]] == [attachment["id"]]
        assert listed["b"]["attachments"][0]["server_id"] == SERVER
        assert all(not listed[n]["attachments"] for n in "acde")
        assert listed["b"] == await lab.volume(made["b"])

    run_lab(scenario)
