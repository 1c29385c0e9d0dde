"""Heat's OS::Cinder::* resource types through cinder's public API and, for attachments,
nova's (``os-volume_attachments``).

Paths are relative to each service's catalog endpoint, as keystoneauth's adapter takes
them: cinder's ``.../volume/v3`` (the project comes from the token) gives ``/volumes``,
nova's ``.../compute/v2.1`` gives ``/servers/<id>/os-volume_attachments``.

An update that takes several steps (detach, extend, reattach) keeps them in the
resource's data (``update_steps``), each started once and then polled, as heat's progress
objects are, so that any engine can carry the update on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.resources.base import (
    COMPUTE,
    VOLUME,
    Context,
    ResourceFailure,
    ResourcePlugin,
    delete_if_there,
    gone,
    run_steps,
)
from stacklab.orchestration.resources.plugins.glance import find_image
from stacklab.orchestration.resources.plugins.neutron import ServiceConstraint
from stacklab.orchestration.resources.properties import BOOLEAN, INTEGER, LIST, MAP, STRING
from stacklab.orchestration.resources.properties import Attribute as A
from stacklab.orchestration.resources.properties import Property as P
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.resources.type_access import TypeApi
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import CustomConstraint, Range

# OS::Cinder::VolumeType's extra specs ("metadata") and projects.
_VOLUME_TYPES = TypeApi(VOLUME, "/types", "extra_specs", "os-volume-type-access",
                        "volume_type_access", "project_id", "project", "addProjectAccess",
                        "removeProjectAccess")

# cinder 3.42 extends an attached (in-use) volume; heat asks for it where cinder has it.
_EXTEND_IN_USE = "3.42"


def _custom(name: str) -> tuple[CustomConstraint, ...]:
    return (ServiceConstraint(name),)


def _volume_path(volume_id: str, *rest: str) -> str:
    return "/".join(["/volumes", quote(volume_id, safe=""), *rest])


async def _volume(ctx: Context, volume_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await ctx.call(VOLUME, "GET", _volume_path(volume_id)))["volume"]
    return found


# -- nova's side of an attachment (heat's nova client plugin) -------------------------------

async def attach(ctx: Context, server_id: str, volume_id: str, device: str | None
                 ) -> str | None:
    """The attachment's id, or None when nova answers 409 (busy: try again later)."""
    body: dict[str, Any] = {"volumeId": volume_id}
    if device:
        body["device"] = device
    try:
        made = await ctx.call(COMPUTE, "POST", f"/servers/{quote(server_id, safe='')}"
                              "/os-volume_attachments", json={"volumeAttachment": body})
    except ServiceCallError as error:
        if error.status == 409:
            return None
        raise ResourceFailure(f"Failed to attach volume {volume_id} to server {server_id} - "
                              f"{_message(error)}") from None
    return str(made["volumeAttachment"]["id"])


async def detach(ctx: Context, server_id: str, attachment_id: str) -> bool:
    """Whether nova took the detach (False on 409: try again); a 404 or 400 means there is
    nothing to detach."""
    try:
        await ctx.call(COMPUTE, "DELETE", f"/servers/{quote(server_id, safe='')}"
                       f"/os-volume_attachments/{quote(attachment_id, safe='')}")
    except ServiceCallError as error:
        if error.status == 409:
            return False
        if error.status not in (400, 404):
            raise ResourceFailure(f"Could not detach attachment {attachment_id} from server "
                                  f"{server_id}.") from None
    return True


async def attached(ctx: Context, volume_id: str) -> bool:
    """heat's ``check_attach_volume_complete``."""
    status = (await _volume(ctx, volume_id))["status"]
    if status in ("available", "attaching", "reserved"):
        return False
    if status != "in-use":
        raise ResourceFailure(f'Volume attachment failed - Unknown status {status} due to '
                              '"Unknown"')
    return True


async def detached(ctx: Context, volume_id: str, server_id: str, attachment_id: str
                   ) -> bool:
    """heat's two checks: cinder no longer shows the volume on the server, then nova no
    longer shows the attachment."""
    try:
        volume = await _volume(ctx, volume_id)
    except ServiceCallError as error:
        if not gone(error):
            raise
    else:
        servers = [a.get("server_id") for a in volume.get("attachments", [])]
        if server_id in servers:
            if volume["status"] in ("in-use", "detaching", "reserved"):
                return False
            if volume["status"] not in ("available", "deleting"):
                raise ResourceFailure(f"Volume detachment failed - Unknown status "
                                      f'{volume["status"]} due to "Unknown"')
    try:
        await ctx.call(COMPUTE, "GET", f"/servers/{quote(server_id, safe='')}"
                       f"/os-volume_attachments/{quote(attachment_id, safe='')}")
    except ServiceCallError as error:
        if gone(error):
            return True
        raise
    return False


def _message(error: ServiceCallError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return str(value["message"])
    return str(body)


async def _backup_done(ctx: Context, backup_id: str, failure: str) -> bool:
    backup = (await ctx.call(VOLUME, "GET", f"/backups/{quote(backup_id, safe='')}"))[
        "backup"]
    if backup["status"] == "creating":
        return False
    if backup["status"] == "available":
        return True
    raise ResourceFailure(backup.get("fail_reason") or
                          f"Went to status {backup['status']} due to \"{failure}\"")


# -- volumes --------------------------------------------------------------------------------

@register
class Volume(ResourcePlugin):
    TYPE = "OS::Cinder::Volume"
    DESCRIPTION = ("A Cinder volume: blank, or from an image, a snapshot, another volume or "
                   "a backup; extended, retyped and renamed in place.")
    PROPERTIES = {
        "availability_zone": P(STRING, "The availability zone in which the volume will be "
                               "created."),
        "size": P(INTEGER, "The size of the volume in GB. On update only increase in size "
                  "is supported. This property is required unless property backup_id or "
                  "source_volid or snapshot_id is specified.", update_allowed=True,
                  constraints=(Range(min=1),)),
        "snapshot_id": P(STRING, "If specified, the snapshot to create the volume from.",
                         constraints=_custom("cinder.snapshot")),
        "backup_id": P(STRING, "If specified, the backup to create the volume from.",
                       update_allowed=True, constraints=_custom("cinder.backup")),
        "name": P(STRING, "A name used to distinguish the volume.", update_allowed=True),
        "description": P(STRING, "A description of the volume.", update_allowed=True),
        "volume_type": P(STRING, "If specified, the type of volume to use, mapping to a "
                         "specific backend.", update_allowed=True,
                         constraints=_custom("cinder.vtype")),
        "metadata": P(MAP, "Key/value pairs to associate with the volume.", default={},
                      update_allowed=True),
        "image": P(STRING, "If specified, the name or ID of the image to create the volume "
                   "from.", constraints=_custom("glance.image"), replaces=("imageRef",)),
        "source_volid": P(STRING, "If specified, the volume to use as source.",
                          constraints=_custom("cinder.volume")),
        "scheduler_hints": P(MAP, "Arbitrary key-value pairs specified by the client to "
                             "help the Cinder scheduler creating a volume."),
        "read_only": P(BOOLEAN, "Enables or disables read-only access mode of volume.",
                       update_allowed=True),
    }
    ATTRIBUTES = {
        "availability_zone": A("The availability zone in which the volume is located."),
        "size": A("The size of the volume in GB."),
        "snapshot_id": A("The snapshot the volume was created from, if any."),
        "display_name": A("Name of the volume."),
        "display_description": A("Description of the volume."),
        "volume_type": A("The type of the volume mapping to a backend, if any."),
        "metadata": A("Key/value pairs associated with the volume."),
        "source_volid": A("The volume used as source, if any."),
        "status": A("The current status of the volume."),
        "created_at": A("The timestamp indicating volume creation."),
        "bootable": A("Boolean indicating if the volume can be booted or not."),
        "metadata_values": A("Key/value pairs associated with the volume in raw dict form.",
                             MAP),
        "encrypted": A("Boolean indicating if the volume is encrypted or not."),
        "attachments": A("A string representation of the list of attachments of the "
                         "volume."),
        "attachments_list": A("The list of attachments of the volume.", LIST),
        "multiattach": A("Boolean indicating whether allow the volume to be attached more "
                         "than once.", BOOLEAN),
    }

    def validate(self, properties: Mapping[str, Any]) -> None:
        if properties.get("backup_id"):
            return
        exclusive = [k for k in ("snapshot_id", "source_volid", "image") if properties.get(k)]
        no_size = [k for k in ("snapshot_id", "source_volid") if properties.get(k)]
        size = properties.get("size")
        if size is None and (len(no_size) != 1 or len(exclusive) != 1):
            raise StackValidationFailed(
                'If neither "backup_id" nor "size" is provided, one and only one of '
                '"source_volid", "snapshot_id" must be specified, but currently specified '
                f"options: {exclusive}.")
        if size and len(exclusive) > 1:
            raise StackValidationFailed(
                'If "size" is provided, only one of "image", "imageRef", "source_volid", '
                f'"snapshot_id" can be specified, but currently specified options: '
                f"{exclusive}.")

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        name = properties.get("name") or ctx.physical_name()
        described = {"name": name, "description": properties.get("description")}
        if properties.get("backup_id"):
            restored = await ctx.call(VOLUME, "POST", f"/backups/"
                                      f"{quote(properties['backup_id'], safe='')}/restore",
                                      json={"restore": {}})
            ident = str(restored["restore"]["volume_id"])
            await ctx.call(VOLUME, "PUT", _volume_path(ident), json={"volume": described})
            return ident
        body: dict[str, Any] = {"size": properties.get("size"), **described}
        if properties.get("availability_zone"):
            body["availability_zone"] = properties["availability_zone"]
        if properties.get("image"):
            body["imageRef"] = await find_image(ctx, properties["image"])
        for key in ("snapshot_id", "volume_type", "source_volid", "metadata"):
            if properties.get(key) is not None:
                body[key] = properties[key]
        request: dict[str, Any] = {"volume": body}
        if properties.get("scheduler_hints"):
            request["OS-SCH-HNT:scheduler_hints"] = properties["scheduler_hints"]
        made = await ctx.call(VOLUME, "POST", "/volumes", json=request)
        return str(made["volume"]["id"])

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        assert physical_id is not None
        status = (await _volume(ctx, physical_id))["status"]
        if status in ("creating", "downloading", "restoring-backup"):
            return False
        if status == "error":
            raise ResourceFailure('Went to status error due to "Unknown"')
        if status != "available":
            raise ResourceFailure(f'Volume create failed - Unknown status {status} due to '
                                  '"Unknown"')
        # cinder sets the read-only flag of an available volume only.
        if properties.get("read_only") is not None:
            await self._read_only(ctx, physical_id, properties["read_only"])
        return True

    @staticmethod
    async def _read_only(ctx: Context, volume_id: str, flag: bool) -> None:
        await ctx.call(VOLUME, "POST", _volume_path(volume_id, "action"),
                       json={"os-update_readonly_flag": {"readonly": flag}})

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        volume = await _volume(ctx, physical_id)
        if changed & {"name", "description"}:
            await ctx.call(VOLUME, "PUT", _volume_path(physical_id), json={"volume": {
                "name": new.get("name") or old.get("name") or ctx.physical_name(),
                "description": new.get("description") or old.get("description")}})
        if "metadata" in changed:
            await ctx.call(VOLUME, "PUT", _volume_path(physical_id, "metadata"),
                           json={"metadata": new.get("metadata") or {}})
        if "volume_type" in changed:
            await ctx.call(VOLUME, "POST", _volume_path(physical_id, "action"), json={
                "os-retype": {"new_type": new["volume_type"], "migration_policy": "never"}})
        steps: list[dict[str, Any]] = []
        if "size" in changed and new.get("size") is not None:
            if new["size"] < volume["size"]:
                raise ResourceFailure("Shrinking volume is not supported.")
            if new["size"] > volume["size"]:
                steps.append({"op": "extend", "arg": new["size"]})
        if "backup_id" in changed and new.get("backup_id"):
            steps.insert(0, {"op": "restore", "arg": new["backup_id"]})
        if "read_only" in changed and new.get("read_only") is not None:
            steps.append({"op": "read_only", "arg": new["read_only"]})
        # A restore or a new access mode needs the volume detached (then attached again);
        # an extension does not (cinder 3.42 extends an in-use volume).
        if any(s["op"] in ("restore", "read_only") for s in steps) and volume.get(
                "attachments"):
            first = volume["attachments"][0]
            where = {"server": first["server_id"], "attachment": first["attachment_id"],
                     "device": first.get("device")}
            steps = [{"op": "detach", **where}, *steps, {"op": "attach", **where}]
        ctx.data["update_steps"] = json.dumps(steps)

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        assert physical_id is not None
        volume_id = physical_id
        return await run_steps(ctx, lambda step: self._start(ctx, volume_id, step),
                               lambda step: self._done(ctx, volume_id, step))

    async def _start(self, ctx: Context, volume_id: str, step: dict[str, Any]) -> bool:
        """Whether the step was started (False: not ready yet, start it next poll)."""
        op = step["op"]
        if op == "extend":
            status = (await _volume(ctx, volume_id))["status"]
            if status not in ("available", "in-use"):
                return False
            try:
                await ctx.call(VOLUME, "POST", _volume_path(volume_id, "action"),
                               json={"os-extend": {"new_size": step["arg"]}},
                               microversion=_EXTEND_IN_USE)
            except ServiceCallError as error:
                raise ResourceFailure(f"Failed to extend volume {volume_id} - "
                                      f"{_message(error)}") from None
        elif op == "restore":
            await ctx.call(VOLUME, "POST", f"/backups/{quote(step['arg'], safe='')}"
                           "/restore", json={"restore": {"volume_id": volume_id}})
        elif op == "read_only":
            await self._read_only(ctx, volume_id, step["arg"])
        elif op == "detach":
            return await detach(ctx, step["server"], step["attachment"])
        elif op == "attach":
            return await attach(ctx, step["server"], volume_id, step.get("device")) is not None
        return True

    async def _done(self, ctx: Context, volume_id: str, step: dict[str, Any]) -> bool:
        op = step["op"]
        if op == "detach":
            return await detached(ctx, volume_id, step["server"], step["attachment"])
        if op == "attach":
            return await attached(ctx, volume_id)
        if op == "read_only":
            return True
        status = (await _volume(ctx, volume_id))["status"]
        if op == "extend":
            if status == "extending":
                return False
            if status not in ("available", "in-use"):
                raise ResourceFailure(f'Volume resize failed - Unknown status {status} due to '
                                      '"Unknown"')
            return True
        if status == "restoring-backup":
            return False
        if status != "available":
            raise ResourceFailure(f'Volume backup restore failed - Unknown status {status} '
                                  'due to "Unknown"')
        return True

    # -- snapshots: a backup of the volume (heat's handle_snapshot and friends) -------------

    SNAPSHOT_DELETE = True

    async def snapshot(self, ctx: Context, physical_id: str | None,
                       properties: Mapping[str, Any]) -> None:
        assert physical_id is not None
        # force: heat backs an in-use volume up as it is.
        made = await ctx.call(VOLUME, "POST", "/backups", json={"backup": {
            "volume_id": physical_id, "force": True}})
        ctx.data["backup_id"] = str(made["backup"]["id"])

    async def snapshot_complete(self, ctx: Context, physical_id: str | None,
                                properties: Mapping[str, Any]) -> bool:
        return await _backup_done(ctx, ctx.data["backup_id"], "Unknown")

    async def delete_snapshot(self, ctx: Context, data: Mapping[str, str]) -> None:
        if data.get("backup_id"):
            await delete_if_there(ctx, VOLUME, f"/backups/{quote(data['backup_id'], safe='')}")

    def restore_properties(self, properties: Mapping[str, Any], data: Mapping[str, str]
                           ) -> dict[str, Any] | None:
        # heat keeps the size (the volume may have grown since) and drops what a restore
        # from the backup replaces.
        kept = {k: v for k, v in properties.items()
                if v is not None and k not in ("image", "imageRef", "source_volid")}
        return {**kept, "backup_id": data["backup_id"]}

    async def delete_with_snapshot(self, ctx: Context, physical_id: str | None,
                                   properties: Mapping[str, Any], failed: bool) -> None:
        if physical_id is None or failed:
            await self.delete(ctx, physical_id, properties)
            return
        try:
            made = await ctx.call(VOLUME, "POST", "/backups", json={"backup": {
                "volume_id": physical_id}})
        except ServiceCallError as error:
            if not gone(error):
                raise
            return  # heat skips the backup of a volume that is gone
        ctx.data["deletion_backup_id"] = str(made["backup"]["id"])

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        try:
            volume = await _volume(ctx, physical_id)
            if volume["status"] == "in-use":
                raise ResourceFailure("Volume in use")
            if volume["status"] != "deleting":
                await ctx.call(VOLUME, "DELETE", _volume_path(physical_id))
        except ServiceCallError as error:
            if not gone(error):
                raise

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        if physical_id is None:
            return True
        backup = ctx.data.get("deletion_backup_id")
        if backup:
            # deletion_policy Snapshot: the volume goes once its backup is made (the
            # backup is kept: it is what the policy leaves behind).
            if not await _backup_done(ctx, backup, "Volume backup failed"):
                return False
            del ctx.data["deletion_backup_id"]
            await self.delete(ctx, physical_id, properties)
            return False
        try:
            volume = await _volume(ctx, physical_id)
        except ServiceCallError as error:
            if gone(error):
                return True
            raise
        if volume["status"].lower() == "error_deleting":
            raise ResourceFailure('Went to status error_deleting due to "delete"')
        return False

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        volume = await _volume(ctx, physical_id)
        # heat shows each attribute as cinderclient's str() of it (bootable "true",
        # encrypted "False"), except the ones it declares as maps, lists and booleans.
        out: dict[str, Any] = {name: str(volume.get(name)) for name in (
            "availability_zone", "size", "snapshot_id", "volume_type", "source_volid",
            "status", "created_at", "bootable", "encrypted", "multiattach")}
        out.update({
            "display_name": volume.get("name"), "display_description": volume.get(
                "description"),
            "metadata": json.dumps(volume.get("metadata") or {}),
            "metadata_values": volume.get("metadata") or {},
            "attachments": str(volume.get("attachments") or []),
            "attachments_list": volume.get("attachments") or [],
            "multiattach": bool(volume.get("multiattach")),
            "show": volume})
        return out


@register
class VolumeAttachment(ResourcePlugin):
    TYPE = "OS::Cinder::VolumeAttachment"
    DESCRIPTION = "A volume attached to a server (through nova, as a user would)."
    PROPERTIES = {
        "instance_uuid": P(STRING, "The ID of the server to which the volume attaches.",
                           required=True, update_allowed=True),
        "volume_id": P(STRING, "The ID of the volume to be attached.", required=True,
                       update_allowed=True, constraints=_custom("cinder.volume")),
        "mountpoint": P(STRING, "The location where the volume is exposed on the instance. "
                        "This assignment may not be honored and it is advised that the path "
                        "/dev/disk/by-id/virtio-<VolumeId> be used instead.",
                        update_allowed=True),
    }
    ATTRIBUTES = {}

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        made = await attach(ctx, properties["instance_uuid"], properties["volume_id"],
                            properties.get("mountpoint"))
        if made is None:
            raise ResourceFailure(f"Failed to attach volume {properties['volume_id']} to "
                                  f"server {properties['instance_uuid']} - the server is "
                                  "busy")
        return made

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return await attached(ctx, properties["volume_id"])

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        # heat detaches from the old server first, then attaches as the template now says
        # (the physical id becomes the new attachment's once it is made).
        assert physical_id is not None
        steps = [{"op": "detach", "server": old["instance_uuid"], "volume": old["volume_id"],
                  "attachment": physical_id},
                 {"op": "attach", "server": new["instance_uuid"], "volume": new["volume_id"],
                  "device": new.get("mountpoint")}]
        ctx.data["update_steps"] = json.dumps(steps)

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        async def start(step: dict[str, Any]) -> bool:
            if step["op"] == "detach":
                return await detach(ctx, step["server"], step["attachment"])
            made = await attach(ctx, step["server"], step["volume"], step.get("device"))
            if made is None:
                return False
            ctx.data["attachment_id"] = made
            return True

        async def done(step: dict[str, Any]) -> bool:
            if step["op"] == "detach":
                return await detached(ctx, step["volume"], step["server"], step["attachment"])
            return await attached(ctx, step["volume"])

        return await run_steps(ctx, start, done)

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        ctx.data["detach_called"] = json.dumps(await detach(
            ctx, properties["instance_uuid"], self._attachment(ctx, physical_id)))

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        if physical_id is None:
            return True
        attachment = self._attachment(ctx, physical_id)
        if not json.loads(ctx.data.get("detach_called", "true")):
            ctx.data["detach_called"] = json.dumps(await detach(
                ctx, properties["instance_uuid"], attachment))
            return False
        return await detached(ctx, properties["volume_id"], properties["instance_uuid"],
                              attachment)

    @staticmethod
    def _attachment(ctx: Context, physical_id: str) -> str:
        """The attachment now: the one an update made, else the physical id."""
        return ctx.data.get("attachment_id") or physical_id

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        shown = await ctx.call(COMPUTE, "GET", f"/servers/"
                               f"{quote(properties['instance_uuid'], safe='')}"
                               f"/os-volume_attachments/"
                               f"{quote(self._attachment(ctx, physical_id), safe='')}")
        return {"show": shown["volumeAttachment"]}


@register
class VolumeType(ResourcePlugin):
    TYPE = "OS::Cinder::VolumeType"
    DESCRIPTION = ("A Cinder volume type (admin only): a name for a backend's capabilities, "
                   "public or shared with chosen projects.")
    PROPERTIES = {
        "name": P(STRING, "Name of the volume type.", required=True, update_allowed=True),
        "metadata": P(MAP, "The extra specs key and value pairs of the volume type.",
                      update_allowed=True),
        "is_public": P(BOOLEAN, "Whether the volume type is accessible to the public.",
                       default=True, update_allowed=True),
        "description": P(STRING, "Description of the volume type.", update_allowed=True),
        "projects": P(LIST, "Projects to add volume type access to. NOTE: This property is "
                      "only supported since Cinder API V2.", default=[], update_allowed=True,
                      schema=P(STRING, constraints=_custom("keystone.project"))),
    }
    ATTRIBUTES = {}

    def validate(self, properties: Mapping[str, Any]) -> None:
        if properties.get("projects") and properties.get("is_public"):
            raise StackValidationFailed('Can not specify property "projects" if the volume '
                                        "type is public.")

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        made = (await ctx.call(VOLUME, "POST", "/types", json={"volume_type": {
            "name": properties["name"], "description": properties.get("description"),
            "os-volume-type-access:is_public": properties["is_public"]}}))["volume_type"]
        ident = str(made["id"])
        if properties.get("metadata"):
            await _VOLUME_TYPES.set_specs(ctx, ident, properties["metadata"])
        for project in properties.get("projects") or []:
            await _VOLUME_TYPES.share(ctx, ident, project)
        return ident

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        body: dict[str, Any] = {}
        for key, field in (("name", "name"), ("description", "description"),
                           ("is_public", "is_public")):
            if key in changed:
                body[field] = new.get(key)
        if body:
            await ctx.call(VOLUME, "PUT", f"/types/{physical_id}",
                           json={"volume_type": body})
        if "metadata" in changed:
            await _VOLUME_TYPES.replace_specs(ctx, physical_id, new.get("metadata"))
        if "projects" in changed and not new.get("is_public"):
            await _VOLUME_TYPES.sync_access(ctx, physical_id, new.get("projects") or [])

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        await delete_if_there(ctx, VOLUME, f"/types/{physical_id}")

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        return {"show": (await ctx.call(VOLUME, "GET", f"/types/{physical_id}"))[
            "volume_type"]}
