"""Volume transfers: create, list, show, accept, delete, under both of cinder's paths:
``/v3/volume-transfers`` (cinder/api/v3/volume_transfer.py: ``no_snapshots`` from 3.55,
pagination from 3.59) and the older ``/v3/os-volume-transfer``
(cinder/api/contrib/volume_transfer.py). Both render with one view, whose links say
``os-volume-transfer`` as cinder's do."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, VersionedSchema
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage, limited, project_target, timestamp
from stacklab.block_storage.api.base import sorted_page as paged
from stacklab.block_storage.api.volumes import caller, links, volume_target
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.transfers import transfer_not_found

PREFIXES = ("/v3/volume-transfers", "/v3/os-volume-transfer")
SORTABLE = ("id", "name", "created_at", "volume_id")

# cinder/api/schemas/volume_transfer.py (a name is stripped, so only its length counts).
_NAME: dict[str, Any] = {"oneOf": [{"type": "string", "minLength": 0, "maxLength": 255},
                                   {"type": "null"}]}


def _create(no_snapshots: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"volume_id": s.UUID, "name": _NAME}
    if no_snapshots:
        fields["no_snapshots"] = s.BOOLEAN
    return s._wrapped("transfer", {"type": "object", "properties": fields,
                                   "required": ["volume_id"], "additionalProperties": False})


CREATE = _create(False)
CREATE_355 = _create(True)
ACCEPT = s._wrapped("accept", {
    "type": "object", "properties": {"auth_key": {"type": ["string", "integer"]}},
    "required": ["auth_key"], "additionalProperties": False})


def summary(call: Call, transfer: m.Transfer) -> dict[str, Any]:
    return {"id": transfer.id, "volume_id": transfer.volume_id, "name": transfer.name,
            "links": links(call, "os-volume-transfer", transfer.id)}


def detail(call: Call, transfer: m.Transfer) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": transfer.id, "created_at": timestamp(transfer.created_at),
        "name": transfer.name, "volume_id": transfer.volume_id,
        "links": links(call, "os-volume-transfer", transfer.id)}
    if call.version_at_least("3.55"):
        body["no_snapshots"] = transfer.no_snapshots
    if call.version_at_least("3.57"):
        body["destination_project_id"] = transfer.destination_project_id
        body["source_project_id"] = transfer.source_project_id
        body["accepted"] = transfer.accepted
    return body


def _listed(call: Call, prefix: str, is_detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    everyone = call.context.is_admin and as_bool(call.query.get("all_tenants", "false"))
    with service.db.session() as session:
        found = service.transfers.listed(session, None if everyone
                                         else call.context.project_id)
        if "name" in call.query:
            found = [t for t in found if t.name == call.query["name"]]
        if "volume_id" in call.query:
            found = [t for t in found if t.volume_id == call.query["volume_id"]]
        if prefix == PREFIXES[0] and call.version_at_least("3.59"):
            page, page_links = paged(call, found, prefix.removeprefix("/v3/"),
                                     "os-volume-transfer", sortable=SORTABLE,
                                     marker_error=transfer_not_found)
        else:
            # Before pagination: oldest first, cut by limit and offset only.
            found.sort(key=lambda t: (t.created_at, t.id))
            page = limited(call, found)
            page_links = {}
        items = [detail(call, t) if is_detail else summary(call, t) for t in page]
    return {"transfers": items, **page_links}


def _declare(prefix: str) -> None:
    one = f"{prefix}/{{transfer_id}}"
    schema: Any = ([VersionedSchema(CREATE, None, "3.54"),
                    VersionedSchema(CREATE_355, "3.55", None)]
                   if prefix == PREFIXES[0] else CREATE)

    @api.route("POST", prefix, status=202, schema=schema, expected_errors=(400, 404))
    async def create_transfer(call: Call) -> dict[str, Any]:
        fields = call.body["transfer"]
        name = fields.get("name")
        service = block_storage(call)
        with service.db.session() as session:
            volume = service.volumes.get(session, fields["volume_id"], caller(call))
            call.authorize("volume:create_transfer", volume_target(volume))
            transfer, auth_key = service.transfers.create(
                session, volume, name.strip() if name is not None else None,
                no_snapshots=(prefix == PREFIXES[0]
                              and as_bool(fields.get("no_snapshots", False))))
            body = detail(call, transfer)
        # Shown this once: only its hash is kept.
        body["auth_key"] = auth_key
        return {"transfer": body}

    @api.route("GET", prefix, policy="volume:get_all_transfers", target=project_target,
               expected_errors=(400, 404))
    async def list_transfers(call: Call) -> dict[str, Any]:
        return _listed(call, prefix, False)

    @api.route("GET", f"{prefix}/detail", policy="volume:get_all_transfers",
               target=project_target, expected_errors=(400, 404))
    async def list_transfers_detail(call: Call) -> dict[str, Any]:
        return _listed(call, prefix, True)

    @api.route("GET", one, policy="volume:get_transfer", target=project_target,
               expected_errors=(404,))
    async def show_transfer(call: Call) -> dict[str, Any]:
        service = block_storage(call)
        with service.db.session() as session:
            transfer = service.transfers.get(session, call.params["transfer_id"],
                                             caller(call))
            return {"transfer": detail(call, transfer)}

    @api.route("DELETE", one, status=202, expected_errors=(404,))
    async def delete_transfer(call: Call) -> None:
        service = block_storage(call)
        with service.db.session() as session:
            transfer = service.transfers.get(session, call.params["transfer_id"],
                                             caller(call))
            volume = session.get(m.Volume, transfer.volume_id)
            if volume is not None:
                call.authorize("volume:delete_transfer", volume_target(volume))
            service.transfers.delete(session, transfer)

    @api.route("POST", f"{one}/accept", status=202, schema=ACCEPT,
               policy="volume:accept_transfer", target=project_target,
               expected_errors=(400, 404, 413))
    async def accept_transfer(call: Call) -> dict[str, Any]:
        service = block_storage(call)
        with service.db.session() as session:
            transfer = service.transfers.get(session, call.params["transfer_id"], None)
            service.transfers.accept(session, caller(call), transfer,
                                     call.body["accept"]["auth_key"])
            return {"transfer": summary(call, transfer)}

    # Distinct handler names per prefix keep the operations apart in the API's table.
    for handler in (create_transfer, list_transfers, list_transfers_detail, show_transfer,
                    delete_transfer, accept_transfer):
        handler.__name__ = f"{handler.__name__}_{prefix.rsplit('/', 1)[-1]}"


for _prefix in PREFIXES:
    _declare(_prefix)
