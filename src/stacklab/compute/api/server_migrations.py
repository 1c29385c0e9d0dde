"""``/servers/{id}/migrations``: a server's live migrations under way, shown, forced to
complete or aborted (nova's server migrations API, 2.22 to 2.80)."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.server_actions import check_state, precondition
from stacklab.compute.api.servers import bus_context, check_lock, get_instance, server_target
from stacklab.compute.api.views import usage_time
from stacklab.compute.casts import Cast
from stacklab.compute.moves import in_progress_live_migration, live_migrations_in_progress

_MIGRATIONS = "/v2.1/servers/{server_id}/migrations"
_POLICY = "os_compute_api:servers:migrations:"
_HOSTS = ("dest_compute", "dest_host", "dest_node", "source_compute", "source_node")
_FORCE_COMPLETE = precondition((states.ACTIVE,), (states.MIGRATING,))
_ABORT = precondition(None, (states.MIGRATING,))
# force_complete's body: nova's schema (the key with a null value).
_FORCE_COMPLETE_BODY = {"type": "object", "required": ["force_complete"],
                        "additionalProperties": False,
                        "properties": {"force_complete": {"type": "null"}}}


def _render(call: Call, migration: m.Migration, *, hosts: bool) -> dict[str, Any]:
    # No progress counters: the lab's copy reports none (nova's null before the first).
    body: dict[str, Any] = {
        "id": migration.id, "server_uuid": migration.instance_uuid,
        "status": migration.status, "created_at": usage_time(migration.created_at),
        "updated_at": usage_time(migration.updated_at),
        **dict.fromkeys(_HOSTS),
        **{f"{kind}_{what}_bytes": None for kind in ("memory", "disk")
           for what in ("total", "processed", "remaining")}}
    if hosts:
        # One node per compute host: the node is the host's name.
        body.update(source_compute=migration.source_compute,
                    source_node=migration.source_compute,
                    dest_compute=migration.dest_compute, dest_node=migration.dest_compute)
    if call.version_at_least("2.59"):
        body["uuid"] = migration.uuid
    if call.version_at_least("2.80"):
        body.update(user_id=migration.user_id, project_id=migration.project_id)
    return body


@api.route("GET", _MIGRATIONS, policy=f"{_POLICY}index", target=server_target,
           min_version="2.23", expected_errors=404)
async def list_server_migrations(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        # Only an admin (by default) sees where the server goes: others get nulls.
        hosts = call.allows(f"{_POLICY}index:host", server_target(call))
        return {"migrations": [_render(call, row, hosts=hosts)
                               for row in live_migrations_in_progress(session, instance)]}


@api.route("GET", f"{_MIGRATIONS}/{{migration_id}}", policy=f"{_POLICY}show",
           target=server_target, min_version="2.23", expected_errors=404)
async def show_server_migration(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        migration = in_progress_live_migration(session, instance, call.params["migration_id"])
        return {"migration": _render(call, migration, hosts=True)}


async def _send(call: Call, cast: Cast) -> None:
    await compute(call).bus.cast(cast.target, cast.method, ctxt=bus_context(call), **cast.kwargs)


@api.route("DELETE", f"{_MIGRATIONS}/{{migration_id}}", policy=f"{_POLICY}delete",
           target=server_target, min_version="2.24", status=202,
           expected_errors=(400, 404, 409))
async def abort_server_migration(call: Call) -> Reply:
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        check_state(instance, "abort live migration", _ABORT)
        cast = service.moves.abort_live_migration(
            session, instance, call.params["migration_id"],
            in_queue=call.version_at_least("2.65"))
        service.instances.start_action(session, instance, "live_migration_cancel",
                                       bus_context(call))
    await _send(call, cast)
    return Reply(None, status=202)


_ACTION = f"{_MIGRATIONS}/{{migration_id}}/action"
api.action_route(_ACTION, expected_errors=(400, 403, 404, 409))


@api.action(_ACTION, "force_complete", schema=_FORCE_COMPLETE_BODY, min_version="2.22",
            expected_errors=(400, 403, 404, 409))
async def force_complete(call: Call) -> Reply:
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        call.authorize(f"{_POLICY}force_complete", {"project_id": instance.project_id,
                                                     "user_id": instance.user_id})
        check_lock(call, instance)
        check_state(instance, "force_complete", _FORCE_COMPLETE)
        cast = service.moves.force_complete(session, instance, call.params["migration_id"])
        service.instances.start_action(session, instance, "live_migration_force_complete",
                                       bus_context(call))
    await _send(call, cast)
    return Reply(None, status=202)
