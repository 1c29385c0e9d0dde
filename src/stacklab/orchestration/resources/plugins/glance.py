"""Heat's OS::Glance::WebImage (an image glance imports from a URL with ``web-download``),
and the image look-up the other plugins share (heat's ``glance.image`` finder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stacklab.orchestration.resources.base import (
    IMAGE,
    Context,
    ResourceFailure,
    ResourcePlugin,
    delete_if_there,
    find_by_name_or_id,
)
from stacklab.orchestration.resources.plugins.neutron import NotFound
from stacklab.orchestration.resources.properties import BOOLEAN, INTEGER, LIST, MAP, STRING
from stacklab.orchestration.resources.properties import Property as P
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import AllowedPattern, AllowedValues, Range

_UUID = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-"
         "([0-9a-fA-F]){12}$")


def _image_path(image_id: str) -> str:
    return f"/v2/images/{quote(image_id, safe='')}"


async def find_image(ctx: Context, value: str) -> str:
    """The id of the image named or numbered ``value`` the user can see; ResourceFailure
    with heat's text otherwise (``EntityNotFound`` / ``PhysicalResourceNameAmbiguity``)."""
    # glance answers 404 for an id it does not hold, and for a name that is not a UUID
    # at all (its router's own 404).
    return await find_by_name_or_id(
        ctx, IMAGE, value, show=_image_path(value), found=lambda body: body["id"],
        listing="/v2/images", params={"name": value}, matches=lambda body: body["images"],
        missing=NotFound(f"The Image ({value}) could not be found.", "EntityNotFound"),
        ambiguous=NotFound(f"Multiple physical resources were found with name ({value}).",
                           "PhysicalResourceNameAmbiguity"), not_an_id=(400, 404))


@register
class WebImage(ResourcePlugin):
    TYPE = "OS::Glance::WebImage"
    DESCRIPTION = "An image glance imports from a URL (its web-download import method)."
    PROPERTIES = {
        "name": P(STRING, "Name for the image. The name of an image is not unique to a "
                  "Image Service node."),
        "id": P(STRING, "The image ID. Glance will generate a UUID if not specified."),
        "min_disk": P(INTEGER, "Amount of disk space (in GB) required to boot image. "
                      "Default value is 0 if not specified and means no limit on the disk "
                      "size.", default=0, constraints=(Range(min=0),)),
        "min_ram": P(INTEGER, "Amount of ram (in MB) required to boot image. Default value "
                     "is 0 if not specified and means no limit on the ram size.", default=0,
                     constraints=(Range(min=0),)),
        "protected": P(BOOLEAN, "Whether the image can be deleted. If the value is True, "
                       "the image is protected and cannot be deleted.", default=False,
                       update_allowed=True),
        "disk_format": P(STRING, "Disk format of image.", required=True,
                         constraints=(AllowedValues(["ami", "ari", "aki", "vhd", "vhdx",
                                                     "vmdk", "raw", "qcow2", "vdi", "iso",
                                                     "ploop"]),)),
        "container_format": P(STRING, "Container format of image.", required=True,
                              constraints=(AllowedValues(["ami", "ari", "aki", "bare",
                                                          "ovf", "ova", "docker"]),)),
        "location": P(STRING, "URL where the data for this image already resides.",
                      required=True),
        "tags": P(LIST, "List of image tags.", update_allowed=True),
        "architecture": P(STRING, "Operating system architecture.", update_allowed=True),
        "kernel_id": P(STRING, "ID of image stored in Glance that should be used as the "
                       "kernel when booting an AMI-style image.", update_allowed=True,
                       constraints=(AllowedPattern(_UUID),)),
        "os_distro": P(STRING, "The common name of the operating system distribution in "
                       "lowercase.", update_allowed=True),
        "os_version": P(STRING, "Operating system version as specified by the distributor.",
                        update_allowed=True),
        "owner": P(STRING, "Owner of the image.", update_allowed=True),
        "extra_properties": P(MAP, "Arbitrary properties to associate with the image.",
                              default={}, update_allowed=True),
        "visibility": P(STRING, "Scope of image accessibility.", default="private",
                        update_allowed=True, constraints=(AllowedValues(
                            ["public", "private", "community", "shared"]),)),
        "ramdisk_id": P(STRING, "ID of image stored in Glance that should be used as the "
                        "ramdisk when booting an AMI-style image.", update_allowed=True,
                        constraints=(AllowedPattern(_UUID),)),
        "active": P(BOOLEAN, "Whether the image is active (false: deactivated once "
                    "imported).", default=True, update_allowed=True),
        "members": P(LIST, "List of additional owners allowed to read the image (project "
                     "IDs).", update_allowed=True, schema=P(STRING, "A member ID.")),
    }
    ATTRIBUTES = {}
    # glance runs the lab's imports before it answers: one poll is enough.
    POLL_INTERVAL = 1.0

    def validate(self, properties: Mapping[str, Any]) -> None:
        container = properties.get("container_format")
        if container in ("ami", "ari", "aki") and properties.get("disk_format") != container:
            raise StackValidationFailed(
                "Invalid mix of disk and container formats. When setting a disk or "
                "container format to one of 'aki', 'ari', or 'ami', the container and "
                "disk formats must match.")
        if properties.get("members") and properties.get("visibility") != "shared":
            raise StackValidationFailed("members property should only be specified for "
                                        "visibility with value shared.")

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body = {k: v for k, v in properties.items() if v is not None and k not in (
            "extra_properties", "members", "active", "location")}
        body.update(properties.get("extra_properties") or {})
        image = await ctx.call(IMAGE, "POST", "/v2/images", json=body)
        ident = str(image["id"])
        for member in properties.get("members") or []:
            await ctx.call(IMAGE, "POST", f"{_image_path(ident)}/members",
                           json={"member": member})
        await ctx.call(IMAGE, "POST", f"{_image_path(ident)}/import", json={
            "method": {"name": "web-download", "uri": properties["location"]}})
        return ident

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        assert physical_id is not None
        image = await ctx.call(IMAGE, "GET", _image_path(physical_id))
        status = image["status"]
        if status == "killed":
            raise ResourceFailure('Went to status killed due to "Unknown"')
        if status == "queued":
            # A failed import leaves the image queued, without data: glance's task says
            # why (heat itself would wait out the stack's timeout here).
            tasks = (await ctx.call(IMAGE, "GET", f"{_image_path(physical_id)}/tasks"))[
                "tasks"]
            failed = [t for t in tasks if t.get("status") == "failure"]
            if failed and len(failed) == len(tasks):
                reason = failed[-1].get("message") or "Unknown"
                raise ResourceFailure(f'Went to status queued due to "{reason}"')
        if properties.get("active", True):
            return bool(status == "active")
        if status == "active":
            await ctx.call(IMAGE, "POST", f"{_image_path(physical_id)}/actions/deactivate")
            return True
        return bool(status == "deactivated")

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        path = _image_path(physical_id)
        if "active" in changed and not new["active"]:
            await ctx.call(IMAGE, "POST", f"{path}/actions/deactivate")
        if "tags" in changed:
            before, after = set(old.get("tags") or []), set(new.get("tags") or [])
            for tag in sorted(after - before):
                await ctx.call(IMAGE, "PUT", f"{path}/tags/{quote(tag, safe='')}")
            for tag in sorted(before - after):
                await delete_if_there(ctx, IMAGE, f"{path}/tags/{quote(tag, safe='')}")
        patch: list[dict[str, Any]] = []
        # "add" sets a property whether or not the image has it yet (glance's "replace"
        # refuses one it does not have); "remove" only what was set.
        for key in sorted(changed - {"active", "tags", "members", "extra_properties"}):
            if new.get(key) is not None:
                patch.append({"op": "add", "path": f"/{key}", "value": new[key]})
            elif old.get(key) is not None:
                patch.append({"op": "remove", "path": f"/{key}"})
        if "extra_properties" in changed:
            before_extra = old.get("extra_properties") or {}
            after_extra = new.get("extra_properties") or {}
            for key in sorted(set(before_extra) - set(after_extra)):
                patch.append({"op": "remove", "path": f"/{key}"})
            for key, value in sorted(after_extra.items()):
                patch.append({"op": "add", "path": f"/{key}", "value": value})
        if patch:
            await ctx.call(IMAGE, "PATCH", path, json=patch)
        if "members" in changed:
            before, after = set(old.get("members") or []), set(new.get("members") or [])
            for member in sorted(after - before):
                await ctx.call(IMAGE, "POST", f"{path}/members", json={"member": member})
            for member in sorted(before - after):
                await ctx.call(IMAGE, "DELETE", f"{path}/members/{quote(member, safe='')}")
        if "active" in changed and new["active"]:
            await ctx.call(IMAGE, "POST", f"{path}/actions/reactivate")

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        await delete_if_there(ctx, IMAGE, _image_path(physical_id))

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        return {"show": await ctx.call(IMAGE, "GET", _image_path(physical_id))}
