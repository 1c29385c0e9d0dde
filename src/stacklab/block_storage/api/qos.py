"""QoS specs and their associations with volume types (cinder/api/contrib/qos_specs_manage.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import api, block_storage, project_target, sorted_page
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.volume_types import qos_not_found

_RULE = "volume_extension:qos_specs_manage:{}"


def render_qos(qos: m.QosSpecs) -> dict[str, Any]:
    return {"specs": dict(qos.specs), "consumer": qos.consumer, "name": qos.name,
            "id": qos.id}


def _links(call: Call, ident: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": call.url_for(f"/v3/qos-specs/{ident}")},
            {"rel": "bookmark", "href": call.url_for(f"/qos-specs/{ident}")}]


def _authorize(call: Call, verb: str) -> None:
    call.authorize(_RULE.format(verb), project_target(call))


@api.route("GET", "/v3/qos-specs", expected_errors=(400, 404))
async def list_qos(call: Call) -> dict[str, Any]:
    _authorize(call, "get_all")
    service = block_storage(call)
    with service.db.session() as session:
        found = list(session.scalars(select(m.QosSpecs)))
        page, links = sorted_page(call, found, "qos-specs", "qos_specs",
                                  sortable=("id", "name", "consumer", "created_at"),
                                  marker_error=qos_not_found)
        return {"qos_specs": [render_qos(q) for q in page], **links}


@api.route("POST", "/v3/qos-specs", schema=schemas.QOS_CREATE, expected_errors=(400, 409))
async def create_qos(call: Call) -> dict[str, Any]:
    _authorize(call, "create")
    fields = dict(call.body["qos_specs"])
    name = fields.pop("name").strip()
    if not name:
        raise BadRequest("Invalid input received: QoS specs name can not be empty.")
    consumer = fields.pop("consumer", "back-end")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.create_qos(session, name, consumer, fields)
        return {"qos_specs": render_qos(qos), "links": _links(call, qos.id)}


@api.route("GET", "/v3/qos-specs/{qos_id}", expected_errors=(404,))
async def show_qos(call: Call) -> dict[str, Any]:
    _authorize(call, "get")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        return {"qos_specs": render_qos(qos), "links": _links(call, qos.id)}


@api.route("PUT", "/v3/qos-specs/{qos_id}", schema=schemas.QOS_SET,
           expected_errors=(400, 404))
async def update_qos(call: Call) -> dict[str, Any]:
    _authorize(call, "update")
    specs = call.body["qos_specs"]
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        service.types.update_qos(qos, specs)
    return {"qos_specs": dict(specs)}


@api.route("DELETE", "/v3/qos-specs/{qos_id}", status=202, expected_errors=(400, 404))
async def delete_qos(call: Call) -> None:
    _authorize(call, "delete")
    force = as_bool(call.query.get("force", "False")) if call.query.get("force") in (
        None, *[str(v) for v in schemas.BOOLEAN["enum"]]) else False
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        service.types.delete_qos(session, qos, force)


@api.route("PUT", "/v3/qos-specs/{qos_id}/delete_keys", schema=schemas.QOS_UNSET,
           status=202, expected_errors=(400, 404))
async def delete_qos_keys(call: Call) -> None:
    _authorize(call, "update")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        service.types.delete_qos_keys(qos, call.body["keys"])


@api.route("GET", "/v3/qos-specs/{qos_id}/associations", expected_errors=(404,))
async def associations(call: Call) -> dict[str, Any]:
    _authorize(call, "get")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        return {"qos_associations": [
            {"association_type": "volume_type", "name": t.name, "id": t.id}
            for t in service.types.associations(session, qos)]}


@api.route("GET", "/v3/qos-specs/{qos_id}/associate", status=202, expected_errors=(400, 404))
async def associate(call: Call) -> Reply:
    _authorize(call, "update")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        service.types.associate(session, qos, call.query.get("vol_type_id"))
    return Reply(None, status=202)


@api.route("GET", "/v3/qos-specs/{qos_id}/disassociate", status=202,
           expected_errors=(400, 404))
async def disassociate(call: Call) -> Reply:
    _authorize(call, "update")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        service.types.disassociate(session, qos, call.query.get("vol_type_id"))
    return Reply(None, status=202)


@api.route("GET", "/v3/qos-specs/{qos_id}/disassociate_all", status=202,
           expected_errors=(404,))
async def disassociate_all(call: Call) -> Reply:
    _authorize(call, "update")
    service = block_storage(call)
    with service.db.session() as session:
        qos = service.types.qos(session, call.params["qos_id"])
        for volume_type in service.types.associations(session, qos):
            volume_type.qos_specs_id = None
    return Reply(None, status=202)
