"""cinder's ``…/metadata`` routes, the same six for volumes and snapshots.

Each owner kind brings how to load one of its records under a policy rule (a 404 for what
the caller may not see), its rule names, and the domain object that changes its metadata
(which keeps its own checks, such as a volume in maintenance).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import api, block_storage

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService


class MetadataStore(Protocol):
    def set_metadata(self, owner: Any, metadata: Mapping[str, str], *,
                     replace: bool) -> dict[str, Any]: ...

    def delete_metadata(self, owner: Any, key: str) -> None: ...


@dataclass(frozen=True)
class MetadataOwner:
    prefix: str  # "/v3/volumes/{volume_id}"
    noun: str  # "Volume", in the messages
    load: Callable[[Call, Any, str], Any]  # (call, session, rule) -> the record
    store: Callable[[BlockStorageService], MetadataStore]
    get_rule: str
    create_rule: str  # POST (merge); cinder's volumes have a rule of their own for it
    update_rule: str  # PUT, whole or one key
    delete_rule: str


def declare_metadata_routes(owner: MetadataOwner) -> None:
    base = f"{owner.prefix}/metadata"

    @api.route("GET", base, expected_errors=(404,))
    async def show_metadata(call: Call) -> dict[str, Any]:
        with block_storage(call).db.session() as session:
            record = owner.load(call, session, owner.get_rule)
            return {"metadata": dict(record.metadata_)}

    async def set_metadata(call: Call, replace: bool) -> dict[str, Any]:
        service = block_storage(call)
        with service.db.session() as session:
            record = owner.load(call, session,
                                owner.update_rule if replace else owner.create_rule)
            return {"metadata": owner.store(service).set_metadata(
                record, call.body["metadata"], replace=replace)}

    @api.route("POST", base, schema=schemas.METADATA, expected_errors=(400, 404))
    async def create_metadata(call: Call) -> dict[str, Any]:
        return await set_metadata(call, False)

    @api.route("PUT", base, schema=schemas.METADATA, expected_errors=(400, 404))
    async def replace_metadata(call: Call) -> dict[str, Any]:
        return await set_metadata(call, True)

    @api.route("GET", f"{base}/{{key}}", expected_errors=(404,))
    async def show_metadata_item(call: Call) -> dict[str, Any]:
        key = call.params["key"]
        with block_storage(call).db.session() as session:
            record = owner.load(call, session, owner.get_rule)
            if key not in record.metadata_:
                raise NotFound(f"{owner.noun} {record.id} has no metadata with key {key}.")
            return {"meta": {key: record.metadata_[key]}}

    @api.route("PUT", f"{base}/{{key}}", schema=schemas.META_ITEM, expected_errors=(400, 404))
    async def update_metadata_item(call: Call) -> dict[str, Any]:
        key = call.params["key"]
        meta = call.body["meta"]
        if key not in meta:
            raise BadRequest("Request body and URI mismatch")
        service = block_storage(call)
        with service.db.session() as session:
            record = owner.load(call, session, owner.update_rule)
            owner.store(service).set_metadata(record, meta, replace=False)
        return {"meta": dict(meta)}

    @api.route("DELETE", f"{base}/{{key}}", expected_errors=(400, 404))
    async def delete_metadata_item(call: Call) -> Reply:
        service = block_storage(call)
        with service.db.session() as session:
            record = owner.load(call, session, owner.delete_rule)
            owner.store(service).delete_metadata(record, call.params["key"])
        return Reply(None, status=200)
