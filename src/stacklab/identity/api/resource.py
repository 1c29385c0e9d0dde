"""keystone's generic controller: a resource declared once, its five routes served from it.

A ``Resource`` says what one keystone entity is to the API: its member and collection names
(body keys, paths, policy names ``identity:list_<collection>``, ``identity:get_<member>``…,
and the names of the identity service's methods: ``<part>.list_<collection>``,
``get_<member>``, ``create_<member>``, ``update_<member>``, ``delete_<member>``), the query
parameters a list passes on as filters, the policy targets (a member's row read first, so a
missing one is keystone's 404 before its policy is asked), and its renderer. ``serve``
declares on the Identity API what keystone's flask resources do for each: list with the
collection's links (and ``truncated`` past the backend's ``list_limit``), show, create (201),
PATCH update and delete (204). Each handler parses, calls one service method and renders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call, TargetLoader
from stacklab.config import Config
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    default_domain,
    flat,
    identity,
    query_bool,
)
from stacklab.identity.service import IdentityService

Row = Any  # a model row the service returns and the renderer reads
Render = Callable[[Call, Row], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    member: str                          # "user": body key, path parameter, policy names
    collection: str                      # "users": path and list body key
    part: str                            # the IdentityService part with its methods: "users"
    render: Render
    create_schema: Mapping[str, Any] | None = None
    update_schema: Mapping[str, Any] | None = None
    # Query parameters a list passes as they are, and those read as keystone's booleans.
    filters: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # The member's policy target: these row attributes under ``target.<member>``, plus
    # what ``target_more`` reads of the row; or, where keystone reads no row, one made of
    # the path alone. Neither: the default target.
    target_keys: tuple[str, ...] = ()
    target_more: Callable[[Row], Mapping[str, Any]] | None = None
    path_target: TargetLoader | None = None
    # The create target: these attributes of the body under ``target.<member>``.
    new_target_keys: tuple[str, ...] = ()
    # Created in a domain: the caller's (or the configured default) unless the body says.
    in_domain: bool = False
    list_target: TargetLoader | None = None
    # Which list entries the caller may see (keystone filters credentials so).
    visible: Callable[[Call, Row], bool] | None = None
    # The backend's ``list_limit``: a longer list is cut and says ``truncated``.
    list_limit: Callable[[Config], int | None] | None = None
    # What a show adds to the rendered member (a project's parents and subtree).
    detail: Callable[[Call, IdentityService, Session, Row], Mapping[str, Any]] | None = None
    # ``PUT <collection>/<id>`` creates with the caller's id (regions).
    put_creates: bool = False
    # An extension's path prefix: "OS-EP-FILTER/".
    prefix: str = ""

    @property
    def path(self) -> str:
        return f"/v3/{self.prefix}{self.collection}"

    @property
    def id_param(self) -> str:
        return f"{self.member}_id"

    @property
    def member_path(self) -> str:
        return f"{self.path}/{{{self.id_param}}}"

    def action(self, verb: str) -> str:
        """``list_users``, ``get_user``…: the service method's name, and the policy's."""
        return f"{verb}_{self.collection if verb == 'list' else self.member}"

    def method(self, service: IdentityService, verb: str) -> Callable[..., Any]:
        found: Callable[..., Any] = getattr(getattr(service, self.part), self.action(verb))
        return found

    def load(self, call: Call) -> Row:
        """The row the path names (keystone's "Could not find <member>: <id>." if none)."""
        with backend(call) as (service, session):
            return self.method(service, "get")(session, call.params[self.id_param])

    def target(self, call: Call) -> dict[str, Any]:
        """The policy target of the member the path names."""
        if self.path_target is not None:
            return dict(self.path_target(call))
        row = self.load(call)
        target = flat(f"target.{self.member}", {k: getattr(row, k) for k in self.target_keys})
        if self.target_more is not None:
            target.update(self.target_more(row))
        return target

    def new_target(self, call: Call) -> dict[str, Any]:
        fields = call.body[self.member]
        values = {key: fields.get(key) for key in self.new_target_keys}
        if self.in_domain:
            values["domain_id"] = fields.get("domain_id") or default_domain(call)
        return flat(f"target.{self.member}", values)

    def rows(self, call: Call, service: IdentityService, session: Session) -> Sequence[Row]:
        filters: dict[str, Any] = {name: call.query.get(name) for name in self.filters}
        filters.update({name: query_bool(call, name) for name in self.flags})
        found = self.method(service, "list")(session, filters)
        if self.visible is not None:
            return [row for row in found if self.visible(call, row)]
        return list(found)

    def listing(self, call: Call, rows: Sequence[Row], path: str | None = None) \
            -> dict[str, Any]:
        """A list body: the rendered rows, the collection's links, ``truncated`` if cut."""
        limit = self.list_limit(identity(call).state.config) if self.list_limit else None
        cut = limit is not None and 0 < limit < len(rows)
        shown = rows[:limit] if cut else rows
        body: dict[str, Any] = {self.collection: [self.render(call, row) for row in shown],
                                "links": collection_links(call, path or self.path)}
        if cut:
            body["truncated"] = True
        return body


def serve(resource: Resource) -> Resource:
    """Declare the resource's list, show, create, update and delete on the Identity API."""
    r = resource
    member_target = r.target if (r.target_keys or r.target_more or r.path_target) else None

    async def list_collection(call: Call) -> dict[str, Any]:
        with backend(call) as (service, session):
            return r.listing(call, r.rows(call, service, session))

    async def show(call: Call) -> dict[str, Any]:
        with backend(call) as (service, session):
            row = r.method(service, "get")(session, call.params[r.id_param])
            body = r.render(call, row)
            if r.detail is not None:
                body.update(r.detail(call, service, session, row))
            return {r.member: body}

    async def create(call: Call) -> dict[str, Any]:
        given: tuple[str, ...] = (default_domain(call),) if r.in_domain else ()
        if r.id_param in call.params:
            given = (*given, call.params[r.id_param])
        with backend(call) as (service, session):
            row = r.method(service, "create")(session, call.body[r.member], *given)
            return {r.member: r.render(call, row)}

    async def update(call: Call) -> dict[str, Any]:
        with backend(call) as (service, session):
            row = r.method(service, "update")(session, call.params[r.id_param],
                                              call.body[r.member])
            return {r.member: r.render(call, row)}

    async def delete(call: Call) -> None:
        with backend(call) as (service, session):
            r.method(service, "delete")(session, call.params[r.id_param])

    def policy(verb: str) -> str:
        return f"identity:{r.action(verb)}"

    api.route("GET", r.path, policy=policy("list"), target=r.list_target)(list_collection)
    api.route("POST", r.path, policy=policy("create"), status=201, schema=r.create_schema,
              target=r.new_target if (r.new_target_keys or r.in_domain) else None)(create)
    if r.put_creates:
        api.route("PUT", r.member_path, policy=policy("create"), status=201,
                  schema=r.create_schema)(create)
    api.route("GET", r.member_path, policy=policy("get"), target=member_target)(show)
    api.route("PATCH", r.member_path, policy=policy("update"), target=member_target,
              schema=r.update_schema)(update)
    api.route("DELETE", r.member_path, policy=policy("delete"), target=member_target,
              status=204)(delete)
    return resource


def domain_filter_target(call: Call) -> dict[str, Any]:
    """The target of a list filtered by domain (projects, users, groups)."""
    domain_id = call.query.get("domain_id")
    return {"target.domain_id": domain_id, "domain_id": domain_id}
