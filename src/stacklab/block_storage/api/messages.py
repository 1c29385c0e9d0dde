"""User messages (3.3, cinder/api/v3/messages.py and its view): list, show, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    project_target,
    sorted_page,
    timestamp,
)
from stacklab.block_storage.api.volumes import caller, links
from stacklab.block_storage.messages import message_not_found, user_message

M = "/v3/messages/{message_id}"
# cinder/api/v3/resource_filters.json "message", and what a list also takes.
FILTERS = frozenset({"resource_uuid", "resource_type", "event_id", "request_id",
                     "message_level"})
PAGING = frozenset({"limit", "marker", "offset", "sort", "sort_key", "sort_dir"})
SORTABLE = ("id", "created_at", "expires_at", "event_id", "message_level", "resource_type",
            "resource_uuid", "request_id", "project_id")


def message_target(row: m.Message) -> dict[str, Any]:
    return {"project_id": row.project_id, "id": row.id}


def render_message(call: Call, row: m.Message) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id, "event_id": row.event_id, "user_message": user_message(row),
        "message_level": row.message_level, "created_at": timestamp(row.created_at),
        "guaranteed_until": timestamp(row.expires_at), "request_id": row.request_id,
        "links": links(call, "messages", row.id)}
    if row.resource_type:
        body["resource_type"] = row.resource_type
    if row.resource_uuid:
        body["resource_uuid"] = row.resource_uuid
    return body


def _load(call: Call, session: Any, rule: str) -> m.Message:
    row = block_storage(call).messages.get(session, call.params["message_id"], caller(call))
    call.authorize(rule, message_target(row))
    return row


@api.route("GET", "/v3/messages", min_version="3.3", policy="message:get_all",
           target=project_target, expected_errors=(400, 404))
async def list_messages(call: Call) -> dict[str, Any]:
    query = call.query
    # Filters, sorting and pages from 3.5 (cinder reads no query before).
    paginated = call.version_at_least("3.5")
    if call.version_at_least("3.31"):
        unknown = sorted(k for k in query if k not in FILTERS | PAGING
                         and not (k.endswith("~") and k[:-1] in FILTERS))
        if unknown:
            raise BadRequest(f"Invalid filter keys: {', '.join(unknown)}")
    with block_storage(call).db.session() as session:
        # Newest first (cinder's default: created_at, then id, descending).
        statement = select(m.Message).order_by(m.Message.created_at.desc(),
                                               m.Message.id.desc())
        if not call.context.is_admin:
            statement = statement.where(m.Message.project_id == call.context.project_id)
        if paginated:
            for key in FILTERS:
                if key in query:
                    statement = statement.where(getattr(m.Message, key) == query[key])
                elif f"{key}~" in query and call.version_at_least("3.34"):
                    statement = statement.where(
                        getattr(m.Message, key).contains(query[f"{key}~"]))
        rows = list(session.scalars(statement))
        page_links: dict[str, Any] = {}
        if paginated:
            rows, page_links = sorted_page(call, rows, "messages", "messages",
                                           sortable=SORTABLE, marker_error=message_not_found)
        return {"messages": [render_message(call, row) for row in rows], **page_links}


@api.route("GET", M, min_version="3.3", expected_errors=(403, 404))
async def show_message(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"message": render_message(call, _load(call, session, "message:get"))}


@api.route("DELETE", M, min_version="3.3", status=204, expected_errors=(403, 404))
async def delete_message(call: Call) -> Reply:
    with block_storage(call).db.session() as session:
        session.delete(_load(call, session, "message:delete"))
    return Reply(None, status=204)
