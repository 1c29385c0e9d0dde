"""OS::Cinder::* plugins driven as heat-engine drives them, against the lab's real cinder
(and nova, for attachments)."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourceFailure, UpdateReplace
from stacklab.orchestration.template.errors import StackValidationFailed
from unit.orchestration.resources.plugins.conftest import Lab, run

CINDER = "/volume/v3"


def plugin(name: str) -> Any:
    found = registry.get(name)
    assert found is not None, name
    return found()


async def volume_show(lab: Lab, volume_id: str, expect: int = 200) -> Any:
    shown = await lab.get(f"{CINDER}/volumes/{volume_id}", expect=expect)
    return shown["volume"] if expect == 200 else shown


def test_a_volume_is_made_extended_retyped_renamed_and_removed() -> None:
    async def scenario(lab: Lab) -> None:
        admin = await lab.admin_context("vtype")
        vtype = plugin("OS::Cinder::VolumeType")
        type_id, type_props = await lab.create(vtype, admin, {
            "name": "gold", "metadata": {"volume_backend_name": "lvm"}})
        shown = (await vtype.attributes(admin, type_id, type_props))["show"]
        assert shown["name"] == "gold" and shown["extra_specs"] == {
            "volume_backend_name": "lvm"}

        volume = plugin("OS::Cinder::Volume")
        ctx = await lab.context("vol")
        volume_id, props = await lab.create(volume, ctx, {"size": 1,
                                                          "metadata": {"tier": "web"}})
        shown = await volume_show(lab, volume_id)
        assert (shown["status"], shown["size"], shown["name"], shown["metadata"]) == (
            "available", 1, ctx.physical_name(), {"tier": "web"})
        attributes = await volume.attributes(ctx, volume_id, props)
        assert (attributes["size"], attributes["status"], attributes["display_name"]) == (
            "1", "available", ctx.physical_name())
        assert attributes["metadata"] == '{"tier": "web"}'
        assert attributes["metadata_values"] == {"tier": "web"}

        props = await lab.update(volume, ctx, volume_id, props, {
            "size": 2, "name": "data", "metadata": {"tier": "db"}, "volume_type": "gold"})
        shown = await volume_show(lab, volume_id)
        assert (shown["size"], shown["name"], shown["metadata"], shown["volume_type"]) == (
            2, "data", {"tier": "db"}, "gold")
        # A volume does not shrink; an image cannot be changed in place.
        with pytest.raises(ResourceFailure):
            await lab.update(volume, ctx, volume_id, props, {**_given(props), "size": 1})
        with pytest.raises(UpdateReplace):
            await lab.update(volume, ctx, volume_id, props, {**_given(props),
                                                             "image": "cirros"})

        await lab.delete(volume, ctx, volume_id, props)
        await volume_show(lab, volume_id, expect=404)
        await lab.delete(vtype, admin, type_id, type_props)
        await lab.get(f"{CINDER}/types/{type_id}", expect=404)

    run(scenario)


def _given(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


def test_a_volume_attached_to_a_server_extends_in_use_and_detaches() -> None:
    async def scenario(lab: Lab) -> None:
        images = (await lab.get("/image/v2/images"))["images"]
        server = plugin("OS::Nova::Server")
        sctx = await lab.context("server")
        server_id, server_props = await lab.create(server, sctx, {
            "flavor": "1", "image": images[0]["id"], "networks": [{"allocate_network": "none"}]})

        volume = plugin("OS::Cinder::Volume")
        vctx = await lab.context("vol")
        # From an image named as heat allows (by name).
        volume_id, props = await lab.create(volume, vctx, {"size": 1,
                                                           "image": images[0]["name"]})
        assert (await volume_show(lab, volume_id))["bootable"] == "true"

        attachment = plugin("OS::Cinder::VolumeAttachment")
        actx = await lab.context("attach")
        attach_id, attach_props = await lab.create(attachment, actx, {
            "instance_uuid": server_id, "volume_id": volume_id})
        shown = await volume_show(lab, volume_id)
        assert shown["status"] == "in-use"
        assert [a["server_id"] for a in shown["attachments"]] == [server_id]
        attached = (await attachment.attributes(actx, attach_id, attach_props))["show"]
        assert attached["volumeId"] == volume_id and attached["serverId"] == server_id
        listed = (await lab.get(f"/compute/v2.1/servers/{server_id}/os-volume_attachments"))
        assert [a["volumeId"] for a in listed["volumeAttachments"]] == [volume_id]

        # An attached volume is extended in place (cinder 3.42) and stays attached.
        props = await lab.update(volume, vctx, volume_id, props, {**_given(props), "size": 2})
        shown = await volume_show(lab, volume_id)
        assert (shown["size"], shown["status"]) == (2, "in-use")

        # heat refuses to delete a volume in use.
        with pytest.raises(ResourceFailure) as caught:
            await lab.delete(volume, vctx, volume_id, props)
        assert str(caught.value) == "Volume in use"

        await lab.delete(attachment, actx, attach_id, attach_props)
        assert (await volume_show(lab, volume_id))["status"] == "available"
        listed = (await lab.get(f"/compute/v2.1/servers/{server_id}/os-volume_attachments"))
        assert listed["volumeAttachments"] == []
        await lab.delete(volume, vctx, volume_id, props)
        await lab.delete(server, sctx, server_id, server_props)
        left = (await lab.get(f"{CINDER}/volumes?all_tenants=1&project_id={vctx.project_id}"))
        assert left["volumes"] == []

    run(scenario)


@pytest.mark.parametrize(("kind", "values", "message"), [
    ("OS::Cinder::Volume", {}, 'If neither "backup_id" nor "size" is provided, one and only '
     'one of "source_volid", "snapshot_id" must be specified, but currently specified '
     "options: []."),
    ("OS::Cinder::Volume", {"size": 1, "image": "i", "source_volid": "v"},
     'If "size" is provided, only one of "image", "imageRef", "source_volid", "snapshot_id" '
     "can be specified, but currently specified options: ['source_volid', 'image']."),
    ("OS::Cinder::VolumeType", {"name": "t", "projects": ["p"]},
     'Can not specify property "projects" if the volume type is public.'),
])
def test_heats_own_checks(kind: str, values: dict[str, object], message: str) -> None:
    from stacklab.orchestration.resources.properties import check_properties

    found = plugin(kind)
    properties = check_properties(type(found).PROPERTIES, values, path=["resources", "r"],
                                  custom=lambda name, value: True)
    with pytest.raises(StackValidationFailed) as caught:
        found.validate(properties)
    assert str(caught.value) == message


def test_a_volumes_snapshot_is_a_backup_restored_into_it_and_deleted() -> None:
    async def scenario(lab: Lab) -> None:
        volume = plugin("OS::Cinder::Volume")
        ctx = await lab.context("vol")
        volume_id, props = await lab.create(volume, ctx, {"size": 1})
        await volume.snapshot(ctx, volume_id, props)
        await lab.until(lambda: volume.snapshot_complete(ctx, volume_id, props),
                        volume.POLL_INTERVAL)
        backup_id = ctx.data["backup_id"]
        backup = (await lab.get(f"{CINDER}/backups/{backup_id}"))["backup"]
        assert (backup["status"], backup["volume_id"]) == ("available", volume_id)

        # heat's handle_restore: the properties that restore the volume from its backup.
        restored = volume.restore_properties({**props, "image": None}, dict(ctx.data))
        assert restored == {**_given(props), "backup_id": backup_id}
        props = await lab.update(volume, ctx, volume_id, props, restored)
        assert (await volume_show(lab, volume_id))["status"] == "available"

        await volume.delete_snapshot(ctx, {"backup_id": backup_id})
        await lab.clock.run_for(5)
        await lab.get(f"{CINDER}/backups/{backup_id}", expect=404)
        # Gone already: nothing to do.
        await volume.delete_snapshot(ctx, {"backup_id": backup_id})
        await lab.delete(volume, ctx, volume_id, props)

    run(scenario)


def test_deletion_policy_snapshot_keeps_a_backup_of_the_volume() -> None:
    async def scenario(lab: Lab) -> None:
        volume = plugin("OS::Cinder::Volume")
        ctx = await lab.context("vol")
        volume_id, props = await lab.create(volume, ctx, {"size": 1})
        await volume.delete_with_snapshot(ctx, volume_id, props, failed=False)
        await lab.until(lambda: volume.delete_complete(ctx, volume_id, props),
                        volume.POLL_INTERVAL)
        await volume_show(lab, volume_id, expect=404)
        backups = (await lab.get(f"{CINDER}/backups/detail?all_tenants=1"))[
            "backups"]
        assert [(b["volume_id"], b["status"]) for b in backups] == [
            (volume_id, "available")]

        # A volume whose create failed goes without a backup (heat's handle_snapshot_delete).
        other_id, other = await lab.create(volume, ctx, {"size": 1})
        await volume.delete_with_snapshot(ctx, other_id, other, failed=True)
        await lab.until(lambda: volume.delete_complete(ctx, other_id, other),
                        volume.POLL_INTERVAL)
        assert len((await lab.get(f"{CINDER}/backups?all_tenants=1"))["backups"]) == 1

    run(scenario)


def test_a_private_volume_types_metadata_and_projects_are_replaced_by_an_update() -> None:
    async def scenario(lab: Lab) -> None:
        admin = await lab.admin_context("vtype")
        first, _ = await lab.project("first")
        second, _ = await lab.project("second")
        vtype = plugin("OS::Cinder::VolumeType")
        type_id, props = await lab.create(vtype, admin, {
            "name": "private", "is_public": False, "metadata": {"a": "1", "b": "2"},
            "projects": [first]})
        access = await lab.get(f"{CINDER}/types/{type_id}/os-volume-type-access")
        assert [e["project_id"] for e in access["volume_type_access"]] == [first]

        await lab.update(vtype, admin, type_id, props, {
            **_given(props), "metadata": {"c": 3}, "projects": [second]})
        shown = (await vtype.attributes(admin, type_id, props))["show"]
        assert shown["extra_specs"] == {"c": "3"}
        access = await lab.get(f"{CINDER}/types/{type_id}/os-volume-type-access")
        assert [e["project_id"] for e in access["volume_type_access"]] == [second]

    run(scenario)
