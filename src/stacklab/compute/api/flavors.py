"""``/flavors``: sizes, extra specs, access lists."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.pagination import Nova, page_items
from stacklab.api.query import int_param
from stacklab.api.service import Call, Handler, Reply, schemas_from
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, links, project_target
from stacklab.compute.api.servers import regex_filter
from stacklab.compute.schemas import (
    EXTRA_SPECS,
    FLAVOR_ACCESS_ACTIONS,
    FLAVOR_CREATE,
    FLAVOR_UPDATE,
)

# [api] max_limit 1000; nova's flavors controller sorts ascending unless told otherwise.
NOVA = Nova(default_dir="asc")
_SORTABLE = ("created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
             "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "vcpus")


def render_flavor(call: Call, f: m.Flavor, *, detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f.flavorid, "name": f.name,
                            "links": links(call, "flavors", f.flavorid)}
    if call.version_at_least("2.55"):
        body["description"] = f.description
    if not detail:
        return body
    swap: Any = f.swap
    if not f.swap and not call.version_at_least("2.75"):
        swap = ""  # nova showed "no swap" as an empty string before 2.75
    body.update({
        "ram": f.memory_mb, "disk": f.root_gb, "vcpus": f.vcpus, "swap": swap,
        "OS-FLV-EXT-DATA:ephemeral": f.ephemeral_gb, "os-flavor-access:is_public": f.is_public,
    })
    if not call.version_at_least("2.102"):
        # Dropped at 2.102: nova-network's rxtx_factor, and disabled (always false here).
        body["OS-FLV-DISABLED:disabled"] = f.disabled
        body["rxtx_factor"] = f.rxtx_factor
    if call.version_at_least("2.61"):
        body["extra_specs"] = dict(f.extra_specs)
    return body


def _is_public_filter(call: Call) -> bool | None:
    """nova: an admin sees public flavors unless he asks (``is_public=false|none``);
    anyone else sees the public ones and the private ones shared with his project."""
    if not call.context.is_admin:
        return None
    raw = call.query.get("is_public")
    if raw is None:
        return True
    lowered = raw.lower()
    return None if lowered == "none" else lowered in ("1", "true", "yes", "t", "on")


def _sort_value(row: m.Flavor, key: str) -> Any:
    # nova sorts by the public flavor id when asked for "id".
    return getattr(row, "flavorid" if key == "id" else key)


def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = compute(call)
    query = call.query
    sortable = _SORTABLE if not call.version_at_least("2.102") else tuple(
        key for key in _SORTABLE if key != "rxtx_factor")
    request = NOVA.request(query, sortable, default_sort=(("flavorid", "asc"),))
    # nova reads a name filter at every version (a regex, as its database's REGEXP);
    # only 2.102's query schema names it.
    name = query.get("name")
    pattern = regex_filter("name", name) if name is not None else None
    with service.db.session() as session:
        flavors = service.flavors.list_flavors(
            session, project_id=call.context.project_id, is_admin=call.context.is_admin,
            is_public=_is_public_filter(call), min_ram=int_param(query, "minRam"),
            min_disk=int_param(query, "minDisk"))
        if pattern is not None:
            flavors = [f for f in flavors if pattern.search(f.name)]
        page = page_items(flavors, request, NOVA, id_of=_flavorid, value_of=_sort_value)
        body: dict[str, Any] = {"flavors": [render_flavor(call, f, detail=detail)
                                            for f in page.items]}
    path = "/v2.1/flavors/detail" if detail else "/v2.1/flavors"
    body.update(NOVA.links(page, query=query, url=call.url_for(path), collection="flavors",
                           id_of=_flavorid))
    return body


def _flavorid(flavor: m.Flavor) -> str:
    return flavor.flavorid


@api.route("GET", "/v2.1/flavors", expected_errors=400)
async def list_flavors(call: Call) -> dict[str, Any]:
    return _list(call, detail=False)


@api.route("GET", "/v2.1/flavors/detail", expected_errors=400)
async def list_flavors_detail(call: Call) -> dict[str, Any]:
    return _list(call, detail=True)


@api.route("GET", "/v2.1/flavors/{flavor_id}", expected_errors=404)
async def show_flavor(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"],
                                     call.context.project_id, call.context.is_admin)
        return {"flavor": render_flavor(call, flavor)}


@api.route("POST", "/v2.1/flavors", policy="os_compute_api:os-flavor-manage:create",
           target=project_target, schema=schemas_from(FLAVOR_CREATE), expected_errors=(400, 409))
async def create_flavor(call: Call) -> dict[str, Any]:
    fields = dict(call.body["flavor"])
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.create(session, fields)
        session.flush()
        return {"flavor": render_flavor(call, flavor)}


@api.route("PUT", "/v2.1/flavors/{flavor_id}", policy="os_compute_api:os-flavor-manage:update",
           target=project_target, schema=FLAVOR_UPDATE, min_version="2.55",
           expected_errors=(400, 404))
async def update_flavor(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        flavor.description = call.body["flavor"]["description"]
        return {"flavor": render_flavor(call, flavor)}


@api.route("DELETE", "/v2.1/flavors/{flavor_id}", policy="os_compute_api:os-flavor-manage:delete",
           target=project_target, status=202, expected_errors=404)
async def delete_flavor(call: Call) -> None:
    service = compute(call)
    with service.db.session() as session:
        service.flavors.delete(session, call.params["flavor_id"])


# -- extra specs ---------------------------------------------------------------------------


@api.route("GET", "/v2.1/flavors/{flavor_id}/os-extra_specs",
           policy="os_compute_api:os-flavor-extra-specs:index", target=project_target,
           expected_errors=404)
async def list_extra_specs(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        return {"extra_specs": dict(flavor.extra_specs)}


@api.route("POST", "/v2.1/flavors/{flavor_id}/os-extra_specs",
           policy="os_compute_api:os-flavor-extra-specs:create", target=project_target,
           schema=EXTRA_SPECS, expected_errors=(400, 404, 409))
async def create_extra_specs(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        service.flavors.set_extra_specs(session, flavor, call.body["extra_specs"])
        return {"extra_specs": {k: str(v) for k, v in call.body["extra_specs"].items()}}


@api.route("GET", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}",
           policy="os_compute_api:os-flavor-extra-specs:show", target=project_target,
           expected_errors=404)
async def show_extra_spec(call: Call) -> dict[str, Any]:
    service = compute(call)
    key = call.params["key"]
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        if key not in flavor.extra_specs:
            raise NotFound(f"Flavor {flavor.flavorid} has no extra specs with key {key}.")
        return {key: flavor.extra_specs[key]}


@api.route("PUT", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}",
           policy="os_compute_api:os-flavor-extra-specs:update", target=project_target,
           expected_errors=(400, 404, 409))
async def update_extra_spec(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    body = call.body
    if not isinstance(body, dict) or list(body) != [key]:
        raise BadRequest("Request body and URI mismatch")
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        service.flavors.set_extra_specs(session, flavor, body)
        return {key: str(body[key])}


@api.route("DELETE", "/v2.1/flavors/{flavor_id}/os-extra_specs/{key}",
           policy="os_compute_api:os-flavor-extra-specs:delete", target=project_target,
           status=200, expected_errors=404)
async def delete_extra_spec(call: Call) -> Reply:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        service.flavors.delete_extra_spec(session, flavor, call.params["key"])
    return Reply(None, status=200)


# -- access --------------------------------------------------------------------------------


def _render_access(flavor: m.Flavor, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor.flavorid, "tenant_id": p}
                              for p in projects]}


@api.route("GET", "/v2.1/flavors/{flavor_id}/os-flavor-access",
           policy="os_compute_api:os-flavor-access", target=project_target, expected_errors=404)
async def list_access(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        flavor = service.flavors.get(session, call.params["flavor_id"])
        return _render_access(flavor, service.flavors.access(session, flavor))


_ACTION_PATH = "/v2.1/flavors/{flavor_id}/action"
api.action_route(_ACTION_PATH, expected_errors=(400, 404, 409))


def _access_action(adding: bool) -> Handler:
    async def change(call: Call) -> dict[str, Any]:
        service = compute(call)
        rule = "add_tenant_access" if adding else "remove_tenant_access"
        call.authorize(f"os_compute_api:os-flavor-access:{rule}", project_target(call))
        tenant = call.body["addTenantAccess" if adding else "removeTenantAccess"]["tenant"]
        with service.db.session() as session:
            flavor = service.flavors.get(session, call.params["flavor_id"])
            if adding:
                service.flavors.add_access(session, flavor, tenant)
            else:
                service.flavors.remove_access(session, flavor, tenant)
            session.flush()
            return _render_access(flavor, service.flavors.access(session, flavor))
    return change


api.action(_ACTION_PATH, "addTenantAccess", schema=FLAVOR_ACCESS_ACTIONS["addTenantAccess"])(
    _access_action(True))
api.action(_ACTION_PATH, "removeTenantAccess",
           schema=FLAVOR_ACCESS_ACTIONS["removeTenantAccess"])(_access_action(False))
