"""The Identity API object, its renderers and the policy targets handlers share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy.orm import Session

from stacklab.api.errors import keystone_error
from stacklab.api.service import Call, ServiceApi
from stacklab.identity import models as m
from stacklab.identity.service import IdentityService

# keystone serves unscoped tokens (listing the projects to scope to, changing a password...);
# its policy, not the scope, decides.
api = ServiceApi(
    "identity", errors=keystone_error, strict_json_content_type=True, requires_scope=False,
    token_middleware=False,
    malformed_json_message="Expecting to find valid JSON in request body. The server could not "
    "comply with the request since it is either malformed or otherwise incorrect. The client "
    "is assumed to be in error.")


def flat(prefix: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A nested target flattened to the dotted keys oslo.policy check strings use."""
    result: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, Mapping):
            result.update(flat(name, item))
        else:
            result[name] = item
    return result


def link(call: Call, path: str) -> dict[str, str]:
    return {"self": call.url_for(path)}


def collection_links(call: Call, path: str) -> dict[str, Any]:
    query = call.request.url.query
    return {"self": call.url_for(path) + (f"?{query}" if query else ""), "previous": None,
            "next": None}


def query_bool(call: Call, name: str) -> bool | None:
    value = call.query.get(name)
    if value is None:
        return None
    # keystone treats any value but "0"/"false" as true for flag-like filters.
    return value.lower() not in ("0", "false", "no", "off")


def query_flag(call: Call, name: str) -> bool:
    """A flag such as ``?effective`` that is true when present without a value."""
    if name not in call.query:
        return False
    return call.query[name].lower() not in ("0", "false", "no", "off")


def default_domain(call: Call) -> str:
    """Where a project, user or group is created when the body names no domain."""
    return call.context.domain_id or identity(call).state.config.identity.default_domain_id


def render_domain(call: Call, d: m.Domain) -> dict[str, Any]:
    return {**d.extra, "id": d.id, "name": d.name, "description": d.description or "",
            "enabled": d.enabled, "tags": list(d.tags), "options": dict(d.options),
            "links": link(call, f"/v3/domains/{d.id}")}


def render_project(call: Call, p: m.Project | m.Domain) -> dict[str, Any]:
    """A project; a domain, as the project acting as it (``is_domain``)."""
    if isinstance(p, m.Domain):
        return {**p.extra, "id": p.id, "name": p.name, "domain_id": None,
                "description": p.description or "", "enabled": p.enabled, "parent_id": None,
                "is_domain": True, "tags": list(p.tags), "options": dict(p.options),
                "links": link(call, f"/v3/projects/{p.id}")}
    return {**p.extra, "id": p.id, "name": p.name, "domain_id": p.domain_id,
            "description": p.description or "", "enabled": p.enabled,
            "parent_id": p.parent_id or p.domain_id, "is_domain": False, "tags": list(p.tags),
            "options": dict(p.options), "links": link(call, f"/v3/projects/{p.id}")}


def render_user(call: Call, u: m.User) -> dict[str, Any]:
    from stacklab.clock import isotime

    body: dict[str, Any] = {**u.extra, "id": u.id, "name": u.name, "domain_id": u.domain_id,
                            "enabled": u.enabled,
                            "password_expires_at": isotime(u.password_expires_at, subsecond=True)
                            if u.password_expires_at else None,
                            "options": dict(u.options),
                            "links": link(call, f"/v3/users/{u.id}")}
    for optional in ("default_project_id", "description", "email"):
        value = getattr(u, optional)
        if value is not None:
            body[optional] = value
    return body


def render_group(call: Call, g: m.Group) -> dict[str, Any]:
    return {**g.extra, "id": g.id, "name": g.name, "domain_id": g.domain_id,
            "description": g.description or "", "links": link(call, f"/v3/groups/{g.id}")}


def render_role(call: Call, r: m.Role) -> dict[str, Any]:
    body: dict[str, Any] = {**r.extra, "id": r.id, "name": r.name, "domain_id": r.domain_id,
                            "description": r.description, "options": dict(r.options),
                            "links": link(call, f"/v3/roles/{r.id}")}
    return body


def role_ref(call: Call, r: m.Role) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "links": link(call, f"/v3/roles/{r.id}")}


@contextmanager
def backend(call: Call) -> Iterator[tuple[IdentityService, Session]]:
    """The call's identity service and a session of its store (committed if all went well)."""
    service = identity(call)
    with service.db.session() as session:
        yield service, session


def identity(call: Call) -> IdentityService:
    """The Identity service of the cloud serving this call."""
    return cast(IdentityService, call.service)
