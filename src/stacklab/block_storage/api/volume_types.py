"""Volume types, their extra specs, access and encryption (cinder/api/v3/types.py,
contrib/types_manage.py, types_extra_specs.py, volume_type_access.py,
volume_type_encryption.py)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    holding,
    project_target,
    sorted_page,
    timestamp,
)
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.volume_types import type_not_found

# cinder/policies/type_extra_specs.py: what a user without read_sensitive sees of a
# type's extra specs.
USER_VISIBLE_EXTRA_SPECS = ("RESKEY:availability_zones", "multiattach",
                            "replication_enabled")
_ACCESS = "volume_extension:volume_type_access"


def render_type(call: Call, volume_type: m.VolumeType) -> dict[str, Any]:
    body: dict[str, Any] = {"id": volume_type.id, "name": volume_type.name,
                            "is_public": volume_type.is_public,
                            "description": volume_type.description}
    if call.allows("volume_extension:access_types_extra_specs"):
        specs = volume_type.extra_specs
        if not call.allows("volume_extension:types_extra_specs:read_sensitive"):
            specs = {k: v for k, v in specs.items() if k in USER_VISIBLE_EXTRA_SPECS}
        body["extra_specs"] = dict(specs)
    if call.allows("volume_extension:access_types_qos_specs_id"):
        body["qos_specs_id"] = volume_type.qos_specs_id
    # volume_type_access extends every type it shows.
    if call.allows(_ACCESS):
        body["os-volume-type-access:is_public"] = volume_type.is_public
    return body


def render_managed_type(call: Call, volume_type: m.VolumeType, *,
                        created: bool) -> dict[str, Any]:
    """What types_manage answers a create or an update with: cinder's older view (every extra
    spec, no qos_specs_id), and volume_type_access's flag on a create only, the one action of
    types_manage it extends."""
    body: dict[str, Any] = {"id": volume_type.id, "name": volume_type.name,
                            "is_public": volume_type.is_public,
                            "extra_specs": dict(volume_type.extra_specs),
                            "description": volume_type.description}
    if created and call.allows(_ACCESS):
        body["os-volume-type-access:is_public"] = volume_type.is_public
    return body


def _parse_is_public(value: str | None) -> bool | None:
    # cinder/api/api_utils.py _parse_is_public.
    if value is None:
        return True
    if value.strip().lower() == "none":
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "on", "yes", "y", "t"):
        return True
    if lowered in ("false", "0", "off", "no", "n", "f"):
        return False
    raise BadRequest(f"Invalid is_public filter [{value}]")


@api.route("GET", "/v3/types", policy="volume_extension:type_get_all",
           target=project_target, expected_errors=(400, 404))
async def list_types(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    admin = call.context.is_admin
    is_public = _parse_is_public(call.query.get("is_public")) if admin else True
    with service.db.session() as session:
        found = service.types.listing(session, call.context.project_id, is_public=is_public)
        if call.version_at_least("3.52") and "extra_specs" in call.query:
            found = holding(found, call.query["extra_specs"], "extra_specs",
                            lambda t: t.extra_specs)
        page, links = sorted_page(
            call, found, "types", "volume_type",
            sortable=("id", "name", "is_public", "description", "created_at", "updated_at"),
            marker_error=type_not_found)
        return {"volume_types": [render_type(call, t) for t in page], **links}


@api.route("GET", "/v3/types/{type_id}", expected_errors=(404,))
async def show_type(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, call.context.is_admin)
        call.authorize("volume_extension:type_get", project_target(call))
        return {"volume_type": render_type(call, volume_type)}


@api.route("POST", "/v3/types", policy="volume_extension:type_create",
           target=project_target, schema=schemas.TYPE_CREATE, expected_errors=(400, 409))
async def create_type(call: Call) -> dict[str, Any]:
    fields = call.body["volume_type"]
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.create(
            session, fields["name"], fields.get("description"),
            as_bool(fields.get("os-volume-type-access:is_public", True)),
            fields.get("extra_specs") or {})
        return {"volume_type": render_managed_type(call, volume_type, created=True)}


@api.route("PUT", "/v3/types/{type_id}", policy="volume_extension:type_update",
           target=project_target, schema=schemas.TYPE_UPDATE,
           expected_errors=(400, 404, 409))
async def update_type(call: Call) -> dict[str, Any]:
    fields = call.body["volume_type"]
    name, description = fields.get("name"), fields.get("description")
    is_public = fields.get("is_public")
    if name is not None and not name.strip():
        raise BadRequest("Volume type name can not be empty.")
    if name is None and description is None and is_public is None:
        raise BadRequest("Specify volume type name, description, is_public or a combination "
                         "thereof.")
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        service.types.update(session, volume_type, name=name, description=description,
                             is_public=None if is_public is None else as_bool(is_public))
        return {"volume_type": render_managed_type(call, volume_type, created=False)}


@api.route("DELETE", "/v3/types/{type_id}", policy="volume_extension:type_delete",
           target=project_target, status=202, expected_errors=(400, 404))
async def delete_type(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        service.types.delete(session, volume_type)


# -- extra specs ---------------------------------------------------------------------------

@api.route("GET", "/v3/types/{type_id}/extra_specs", expected_errors=(404,))
async def list_extra_specs(call: Call) -> dict[str, Any]:
    call.authorize("volume_extension:types_extra_specs:index", project_target(call))
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, call.context.is_admin)
        specs = volume_type.extra_specs
        if not call.allows("volume_extension:types_extra_specs:read_sensitive"):
            specs = {k: v for k, v in specs.items() if k in USER_VISIBLE_EXTRA_SPECS}
        return {"extra_specs": dict(specs)}


@api.route("POST", "/v3/types/{type_id}/extra_specs",
           policy="volume_extension:types_extra_specs:create", target=project_target,
           schema=schemas.EXTRA_SPECS_CREATE, expected_errors=(400, 404))
async def create_extra_specs(call: Call) -> dict[str, Any]:
    specs = call.body["extra_specs"]
    _check_cacheable(specs)
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        service.types.set_specs(session, volume_type, specs)
    return {"extra_specs": specs}


def _check_cacheable(specs: dict[str, str]) -> None:
    # cinder/api/contrib/types_extra_specs.py _check_cacheable.
    def on(key: str) -> bool:
        return str(specs.get(key, "")).strip().lower() in ("<is> true", "true")
    if on("cacheable") and on("multiattach"):
        raise BadRequest("cacheable cannot be set with multiattach.")


@api.route("GET", "/v3/types/{type_id}/extra_specs/{key}", expected_errors=(404,))
async def show_extra_spec(call: Call) -> dict[str, Any]:
    call.authorize("volume_extension:types_extra_specs:show", project_target(call))
    service = block_storage(call)
    key = call.params["key"]
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, call.context.is_admin)
        visible = (key in USER_VISIBLE_EXTRA_SPECS
                   or call.allows("volume_extension:types_extra_specs:read_sensitive"))
        if not visible or key not in volume_type.extra_specs:
            raise NotFound(f"Volume Type {volume_type.id} has no extra specs with key {key}.")
        return {key: volume_type.extra_specs[key]}


@api.route("PUT", "/v3/types/{type_id}/extra_specs/{key}",
           policy="volume_extension:types_extra_specs:update", target=project_target,
           schema=schemas.EXTRA_SPEC_UPDATE, expected_errors=(400, 404))
async def update_extra_spec(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    if key not in call.body:
        raise BadRequest("Request body and URI mismatch")
    _check_cacheable(call.body)
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        service.types.set_specs(session, volume_type, call.body)
    return dict(call.body)


@api.route("DELETE", "/v3/types/{type_id}/extra_specs/{key}",
           policy="volume_extension:types_extra_specs:delete", target=project_target,
           status=202, expected_errors=(400, 404))
async def delete_extra_spec(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        service.types.delete_spec(session, volume_type, call.params["key"])


# -- access --------------------------------------------------------------------------------

@api.route("GET", "/v3/types/{type_id}/os-volume-type-access",
           policy="volume_extension:volume_type_access:get_all_for_type",
           target=project_target, expected_errors=(404,))
async def list_access(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = service.types.get(session, call.params["type_id"],
                                        call.context.project_id, True)
        if volume_type.is_public:
            raise NotFound("Access list not available for public volume types.")
        return {"volume_type_access": [{"volume_type_id": volume_type.id, "project_id": p}
                                       for p in volume_type.projects]}


api.action_route("/v3/types/{type_id}/action", status=202, expected_errors=(400, 404, 409))


async def _change_access(call: Call, rule: str, add: bool) -> Reply:
    call.authorize(rule, project_target(call))
    key = "addProjectAccess" if add else "removeProjectAccess"
    project = call.body[key]["project"]
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = session.get(m.VolumeType, call.params["type_id"])
        if volume_type is None:
            raise type_not_found(call.params["type_id"])
        if add:
            service.types.add_access(volume_type, project)
        else:
            service.types.remove_access(volume_type, project)
    return Reply(None, status=202)


@api.action("/v3/types/{type_id}/action", "addProjectAccess", schema=schemas.ADD_ACCESS)
async def add_project_access(call: Call) -> Reply:
    return await _change_access(call, "volume_extension:volume_type_access:addProjectAccess",
                                True)


@api.action("/v3/types/{type_id}/action", "removeProjectAccess",
            schema=schemas.REMOVE_ACCESS)
async def remove_project_access(call: Call) -> Reply:
    return await _change_access(
        call, "volume_extension:volume_type_access:removeProjectAccess", False)


# -- encryption ------------------------------------------------------------------------------

def render_encryption(encryption: m.Encryption) -> dict[str, Any]:
    return {"volume_type_id": encryption.volume_type_id,
            "control_location": encryption.control_location,
            "encryption_id": encryption.encryption_id, "key_size": encryption.key_size,
            "provider": encryption.provider, "cipher": encryption.cipher,
            "deleted": False, "created_at": timestamp(encryption.created_at),
            "updated_at": timestamp(encryption.updated_at), "deleted_at": None}


def _encryption_type(call: Call, rule: str, session: Any) -> m.VolumeType:
    call.authorize(rule, project_target(call))
    found = session.get(m.VolumeType, call.params["type_id"])
    if found is None:
        raise type_not_found(call.params["type_id"])
    return found  # type: ignore[no-any-return]


@api.route("GET", "/v3/types/{type_id}/encryption", expected_errors=(404,))
async def show_encryption(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = _encryption_type(call, "volume_extension:volume_type_encryption:get",
                                       session)
        found = session.get(m.Encryption, volume_type.id)
        return render_encryption(found) if found is not None else {}


@api.route("GET", "/v3/types/{type_id}/encryption/{spec}", expected_errors=(404,))
async def show_encryption_spec(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    spec = call.params["spec"]
    with service.db.session() as session:
        volume_type = _encryption_type(call, "volume_extension:volume_type_encryption:get",
                                       session)
        found = session.get(m.Encryption, volume_type.id)
        rendered = render_encryption(found) if found is not None else {}
        if spec not in rendered:
            raise NotFound(f"Volume type encryption for type {volume_type.id} does not "
                           "exist.")
        return {spec: rendered[spec]}


def _encryption_fields(encryption: m.Encryption) -> dict[str, Any]:
    return {"volume_type_id": encryption.volume_type_id,
            "control_location": encryption.control_location,
            "encryption_id": encryption.encryption_id, "key_size": encryption.key_size,
            "provider": encryption.provider, "cipher": encryption.cipher}


@api.route("POST", "/v3/types/{type_id}/encryption", schema=schemas.ENCRYPTION_CREATE,
           expected_errors=(400, 404))
async def create_encryption(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = _encryption_type(
            call, "volume_extension:volume_type_encryption:create", session)
        found = service.types.set_encryption(session, volume_type, call.body["encryption"],
                                             creating=True)
        return {"encryption": _encryption_fields(found)}


@api.route("PUT", "/v3/types/{type_id}/encryption/{spec}",
           schema=schemas.ENCRYPTION_UPDATE, expected_errors=(400, 404))
async def update_encryption(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = _encryption_type(
            call, "volume_extension:volume_type_encryption:update", session)
        service.types.set_encryption(session, volume_type, call.body["encryption"],
                                     creating=False)
    return {"encryption": call.body["encryption"]}


@api.route("DELETE", "/v3/types/{type_id}/encryption/{spec}", status=202,
           expected_errors=(400, 404))
async def delete_encryption(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        volume_type = _encryption_type(
            call, "volume_extension:volume_type_encryption:delete", session)
        service.types.delete_encryption(session, volume_type)
