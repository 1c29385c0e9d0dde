"""Quota classes (os-quota-class-sets): the ``default`` class is every project's defaults
where it sets a resource, the options elsewhere; other classes are kept as data."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"
# The samples' cloud had a volume type lvmdriver-1 (its resources are in them).
SAMPLE_TYPE = {f"$.quota_class_set.{key}_lvmdriver-1"
               for key in ("volumes", "gigabytes", "snapshots")}
QC = "/os-quota-class-sets"


def schema(path: str, method: str) -> Any:
    return openapi_response_schema("block-storage", path, method)


def test_the_default_class_shows_the_options_until_it_is_updated() -> None:
    async def scenario(lab: Lab) -> None:
        shown = await lab.call("GET", f"{QC}/default")
        assert_valid(shown, schema("/v3/os-quota-class-sets/{id}", "get"))
        assert_shape_like_sample(shown, sample("cinder",
                                               f"{SAMPLES}/quota-classes-show-response.json"),
                                 ignore=SAMPLE_TYPE)
        assert shown["quota_class_set"] == {
            "id": "default", "volumes": 10, "snapshots": 10, "gigabytes": 1000,
            "backups": 10, "backup_gigabytes": 1000, "groups": 10,
            "per_volume_gigabytes": -1, "volumes___DEFAULT__": -1,
            "gigabytes___DEFAULT__": -1, "snapshots___DEFAULT__": -1}

        token, project = await lab.member("qc")
        updated = await lab.call("PUT", f"{QC}/default", {"quota_class_set": {
            "volumes": 1, "gigabytes": "500", "snapshots___DEFAULT__": 3}})
        assert_shape_like_sample(updated, sample(
            "cinder", f"{SAMPLES}/quota-classes-update-response.json"), ignore=SAMPLE_TYPE)
        body = updated["quota_class_set"]
        assert "id" not in body
        assert (body["volumes"], body["gigabytes"], body["snapshots___DEFAULT__"],
                body["backups"]) == (1, 500, 3, 10)

        # Every project's defaults and limits follow, unless it has its own.
        defaults = (await lab.call("GET", f"/os-quota-sets/{project}/defaults",
                                   token=token))["quota_set"]
        limits = (await lab.call("GET", f"/os-quota-sets/{project}",
                                 token=token))["quota_set"]
        for found in (defaults, limits):
            assert (found["volumes"], found["gigabytes"], found["snapshots___DEFAULT__"]) \
                == (1, 500, 3)
        await lab.create(token=token)
        over = await lab.call("POST", "/volumes", {"volume": {"size": 1}}, token=token,
                              expect=413)
        assert "Maximum number of volumes allowed (1) exceeded" in \
            over["overLimit"]["message"]
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"volumes": 5}})
        await lab.create(token=token)
        absolute = (await lab.call("GET", "/limits", token=token))["limits"]["absolute"]
        assert (absolute["maxTotalVolumes"], absolute["totalVolumesUsed"]) == (5, 2)

        # A new volume type's resources can be set in the class too.
        await lab.call("POST", "/types", {"volume_type": {"name": "gold"}})
        gold = await lab.call("PUT", f"{QC}/default", {"quota_class_set": {
            "volumes_gold": 2}})
        assert gold["quota_class_set"]["volumes_gold"] == 2
        assert (await lab.call("GET", f"/os-quota-sets/{project}/defaults",
                               token=token))["quota_set"]["volumes_gold"] == 2

    run_lab(scenario)


def test_another_class_keeps_its_own_limits_over_the_defaults() -> None:
    async def scenario(lab: Lab) -> None:
        shown = (await lab.call("GET", f"{QC}/silver"))["quota_class_set"]
        assert (shown["id"], shown["volumes"]) == ("silver", 10)
        await lab.call("PUT", f"{QC}/silver", {"quota_class_set": {"volumes": 20}})
        await lab.call("PUT", f"{QC}/default", {"quota_class_set": {"backups": 4}})
        shown = (await lab.call("GET", f"{QC}/silver"))["quota_class_set"]
        assert (shown["volumes"], shown["backups"]) == (20, 4)
        assert (await lab.call("GET", f"{QC}/default"))["quota_class_set"]["volumes"] == 10

    run_lab(scenario)


def test_bad_requests_are_cinders_400_and_403() -> None:
    async def scenario(lab: Lab) -> None:
        refused = await lab.call("PUT", f"{QC}/default", {"quota_class_set": {
            "volumes": 1, "colour": 2}}, expect=400)
        assert refused["badRequest"]["message"] == \
            "Invalid input received: Bad key(s) in quota class set: colour"
        for value in (-2, "-1", "ten", "", 2**31, True):
            refused = await lab.call("PUT", f"{QC}/default", {"quota_class_set": {
                "volumes": value}}, expect=400)
            assert "volumes" in refused["badRequest"]["message"], (value, refused)
        await lab.call("PUT", f"{QC}/default", {"quota_class_set": {"volumes": -1}})
        await lab.call("PUT", f"{QC}/default", {"nope": {}}, expect=400)
        await lab.call("PUT", f"{QC}/{'x' * 256}", {"quota_class_set": {}}, expect=400)
        token, _ = await lab.member("qc-member")
        await lab.call("GET", f"{QC}/default", token=token, expect=403)
        await lab.call("PUT", f"{QC}/default", {"quota_class_set": {"volumes": 1}},
                       token=token, expect=403)
        assert (await lab.call("GET", f"{QC}/default"))["quota_class_set"]["volumes"] == -1

    run_lab(scenario)
