"""``POST /os-server-external-events``: what neutron (and later cinder) tell nova of servers.

Only a service user or an admin may send them (nova's
``os_compute_api:os-server-external-events:create``). Each event is answered
on its own: ``code`` 200 when handed to the server's compute, 404 for a
server nova does not know, 422 for a server on no host; the whole answer is
200 when every event was taken, 207 when some were not, and 404 when none
was.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import NotFound
from stacklab.api.service import Call, Reply, schemas_from
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.servers import bus_context

# nova's uuid format (oslo's is_uuid_like): dashes, braces and a urn:uuid: prefix tolerated.
_UUID_LIKE = r"^(?:urn:)?(?:uuid:)?[{}]*(?:-*[0-9a-fA-F]){32}-*[{}]*\Z"

# The event names each microversion accepts, from its first one on.
_NAMES = (
    ("2.1", ("network-changed", "network-vif-plugged", "network-vif-unplugged",
             "network-vif-deleted")),
    ("2.51", ("volume-extended",)),
    ("2.76", ("power-update",)),
    ("2.82", ("accelerator-request-bound",)),
    ("2.93", ("volume-reimaged",)),
)


def _schema(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"events": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {
                "server_uuid": {"type": "string", "pattern": _UUID_LIKE},
                "name": {"type": "string", "enum": names},
                "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
                "tag": {"type": "string", "maxLength": 255},
            },
            "required": ["server_uuid", "name"],
            "additionalProperties": False}}},
        "required": ["events"],
        "additionalProperties": False,
    }


def _table() -> dict[str, dict[str, Any]]:
    """The body schema from each microversion that adds event names."""
    table: dict[str, dict[str, Any]] = {}
    names: list[str] = []
    for since, added in _NAMES:
        names = [*names, *added]
        table[since] = _schema(names)
    return table


EVENTS = _table()


@api.route("POST", "/v2.1/os-server-external-events",
           policy="os_compute_api:os-server-external-events:create",
           schema=schemas_from(EVENTS), expected_errors=(400, 403, 404))
async def create_external_events(call: Call) -> Reply:
    answers = await compute(call).external_events(list(call.body["events"]),
                                                  bus_context(call))
    if all(a["code"] != 200 for a in answers):
        raise NotFound("No instances found for any event")
    status = 200 if all(a["code"] == 200 for a in answers) else 207
    return Reply({"events": answers}, status=status)
