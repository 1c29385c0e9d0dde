"""``/v2.0/auto-allocated-topology/{project_id}`` (neutron's auto-allocated-topology): show
makes the project's topology on first ask (``?fields=dry-run`` only checks that it could),
delete takes it down. Not a stored collection, so not on the generic controller: the
handlers check as neutron's do (the project first, then the rule) and call the domain code
(``stacklab.network.auto_allocation``)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError
from stacklab.api.service import Call, Reply
from stacklab.network import auto_allocation
from stacklab.network.api.base import api, authorize, network, target_of

PATH = "/v2.0/auto-allocated-topology/{project_id}"


def _project(call: Call) -> str:
    """The project the path names; ``None`` (what a client sends without one) is the
    caller's. Another project's topology is the admin's business only."""
    project = call.params["project_id"]
    if project == "None":
        project = call.context.project_id or ""
    if not call.context.is_admin and project != call.context.project_id:
        raise ApiError("Not authorized.", status=403, kind="NotAuthorized")
    return str(project)


@api.route("GET", PATH)
async def show_auto_allocated_topology(call: Call) -> dict[str, Any]:
    project = _project(call)
    fields = call.query.getlist("fields")
    dry_run = auto_allocation.DRY_RUN in fields
    if fields and not dry_run:
        raise ApiError("Bad auto_allocate request: Unrecognized field.", status=400,
                       kind="BadRequest")
    authorize(call, "get_auto_allocated_topology", target_of({"project_id": project}))
    service = network(call)
    with service.db.session() as session:
        if dry_run:
            auto_allocation.check_requirements(session)
            network_id = auto_allocation.DRY_RUN_PASSED
        else:
            network_id = auto_allocation.allocate(service, session, project, call.context)
    return {"auto_allocated_topology": auto_allocation.response(network_id, project)}


@api.route("DELETE", PATH)
async def delete_auto_allocated_topology(call: Call) -> Reply:
    project = _project(call)
    authorize(call, "delete_auto_allocated_topology", target_of({"project_id": project}))
    service = network(call)
    with service.db.session() as session:
        auto_allocation.release(service, session, project)
    return Reply(None, status=204)
