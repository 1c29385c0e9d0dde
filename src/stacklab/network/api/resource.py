"""neutron's generic controller: a resource declared once, listed and shown by one routine.

A ``Resource`` says what a neutron resource is to the API layer: its table, the attributes a
response shows (renderer), which of them are stored under another column name (from the
attribute map), which lists of strings are JSON columns, how attributes that are not stored
are filtered, what a caller may see (a SQL condition, so a list never loads rows it would then
drop), and which attributes its policy target reads. ``list_collection`` and ``show_one``
then do for every resource what neutron's controller does: filters on any attribute,
``fields``, sorting (neutron's checks and messages), limit/marker/page_reverse with
neutron's links, and the tag filters, all in one SQL query that returns only the page; the
``get_<resource>`` policy and its per-attribute rules are asked once per distinct target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import operator
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    Text,
    TypeDecorator,
    and_,
    false,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from stacklab.api.collector import collector_paused
from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.pagination import PageRequest, Window, page_query
from stacklab.api.service import Call, Handler, Reply
from stacklab.api.tag_filters import TagFilter
from stacklab.api.tag_filters import has_any as has_any  # security_groups reads it here
from stacklab.network import attributes
from stacklab.network.api.base import (
    LIST_CONTROLS,
    NEUTRON,
    api,
    authorize,
    check_attributes,
    checked_fields,
    network,
    only_fields,
    request_body,
    target_of,
)

Row = Any  # a SQL row (or an ORM object) a renderer reads attributes of
Render = Callable[[Session, Sequence[Row]], list[dict[str, Any]]]
Condition = ColumnElement[bool]

# What a filter value may say to match an attribute that is null.
_NULLISH = frozenset({"", "None", "null"})
_INT64 = 2**63


@dataclass(frozen=True)
class Parent:
    """A resource whose own visibility and policy target read another's (a port's or a
    subnet's network): joined once, its columns read under ``parent_<name>``."""

    model: Any
    on: str                              # the child's column holding the parent's id
    columns: tuple[str, ...]             # parent columns the condition and target read


@dataclass(frozen=True)
class Resource:
    name: str                            # as in policies and bodies: "port"
    collection: str                      # as in paths and list bodies: "ports"
    model: Any                           # the mapped class
    response: tuple[str, ...]            # every attribute a response shows
    render: Render                       # rows -> bodies, one batch per page
    not_found: Callable[[str], ApiError]
    # Who may see a row, as SQL (None: everyone); the caller's Call and the joined parent.
    visible: Callable[[Call, Any, Any], Condition | None] = lambda call, table, parent: (
        own_rows(call, table))
    # The attributes of a body the policy target reads (neutron's target keys; every body
    # shows them) and how the target is made of them and of the parent's columns.
    target_keys: tuple[str, ...] = ("project_id",)
    target: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]] = (
        lambda item, parent: target_of(item))
    parent: Parent | None = None
    # JSON columns holding lists of strings (tags, security_groups): filtered by membership.
    scalar_lists: frozenset[str] = frozenset({"tags"})
    # Filters on attributes a response shows but the store does not hold as such.
    computed: Mapping[str, Callable[[Any, list[str]], Condition]] = field(default_factory=dict)
    # Run before a list (the project's default security group comes into being on first need).
    before_list: Callable[[Call, Session], None] | None = None
    # The collection's path segment, where it is not its body key (security-groups).
    path: str = ""
    # What belongs to no project (agents): every route's rule is asked first, of the caller's
    # own project (as ``guarded`` routes do), and is every row's target; a list the rule
    # refuses is empty. Rows are not narrowed to a project.
    ownerless: bool = False
    # What a resource reads of the request beyond its rows (an agent is alive by the
    # service's clock and its down time): the resource as one call sees it.
    bind: Callable[[Call, Resource], Resource] | None = None
    # The store columns that order an unsorted list and break a sorted one's ties (the last
    # unique).
    tiebreak: tuple[str, ...] = ("created_at", "id")

    @property
    def table(self) -> Any:
        return self.model.__table__

    def column(self, attribute: str) -> Any:
        """The store column of an API attribute (the attribute map's renames), or None.
        ``tenant_id`` is ``project_id`` by its old name, to filter and sort by too."""
        if attribute == "tenant_id":
            attribute = "project_id"
        return self.table.c.get(attributes.column_of(self.name, attribute))

    def sortable(self) -> frozenset[str]:
        """What a list may be sorted by: the attributes a response shows that are stored."""
        return frozenset(k for k in self.response if self.column(k) is not None)

    def parent_table(self) -> Any:
        return None if self.parent is None else self.parent.model.__table__.alias("parent")

    @property
    def base_path(self) -> str:
        return f"/v2.0/{self.path or self.collection}"

    def for_call(self, call: Call) -> Resource:
        """The resource as ``call`` sees it (what ``bind`` and ``ownerless`` make of it)."""
        bound = self if self.bind is None else self.bind(call, self)
        if not self.ownerless:
            return bound
        own = own_project(call)
        return dataclasses.replace(bound, bind=None, visible=_everything,
                                   target=lambda item, parent: own)


def _everything(call: Call, table: Any, parent: Any) -> Condition | None:
    return None


def own_rows(call: Call, table: Any) -> Condition | None:
    """What most resources show: the caller's project's rows, every row to an admin."""
    return None if call.context.is_admin else table.c.project_id == call.context.project_id


# -- the query ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _decoded(text: str) -> Any:
    return json.loads(text)


class _SharedJson(TypeDecorator[Any]):
    """A JSON column read for rendering: equal texts ("[]", a project's default security
    group) decode once per process. The value is shared, so renderers copy what they
    return (they all do: ``list(row.tags)``, ``[dict(p) for p in ...]``)."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        # PostgreSQL's driver hands a json column over decoded (psycopg's json loader).
        return _decoded(value) if isinstance(value, str) else value


def _readable(column: Any) -> Any:
    if isinstance(column.type, JSON):
        return type_coerce(column, _SharedJson()).label(column.name)
    return column


@dataclass
class _Query:
    source: FromClause
    columns: list[Any]
    where: list[Condition]


def _base(call: Call, resource: Resource) -> _Query:
    table = resource.table
    parent = resource.parent_table()
    columns: list[Any] = [_readable(c) for c in table.c]
    source: FromClause = table
    if parent is not None and resource.parent is not None:
        source = table.join(parent, parent.c.id == table.c[resource.parent.on])
        columns += [parent.c[c].label(f"parent_{c}") for c in resource.parent.columns]
    condition = resource.visible(call, table, parent)
    return _Query(source, columns, [] if condition is None else [condition])


def _select(query: _Query, *columns: Any) -> Select[Any]:
    return select(*(columns or query.columns)).select_from(query.source).where(*query.where)


def _canonical_int(text: str) -> int | None:
    """An integer filter value as neutron's str() comparison reads it: only its own
    spelling matches, and nothing a 64-bit column could not hold."""
    try:
        number = int(text)
    except ValueError:
        return None
    return number if str(number) == text and -_INT64 <= number < _INT64 else None


def _moment(text: str) -> float | None:
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return moment.timestamp()


def matches(column: Any, wanted: list[str], *, scalar_list: bool = False) -> Condition:
    """What a rendered value compares as: booleans by their lower-case spelling, numbers
    and strings by their text, times in the API's format, null by its spellings; a JSON
    list of strings by membership (other JSON matches nothing)."""
    kind = column.type
    if isinstance(kind, Boolean):
        spelled = {w.lower() for w in wanted}
        clauses = [column.is_(value) for value, text in ((True, "true"), (False, "false"))
                   if text in spelled]
        return or_(false(), *clauses)
    if isinstance(kind, JSON):
        return has_any(column, wanted) if scalar_list else false()
    if isinstance(kind, Integer):
        numbers = [n for n in map(_canonical_int, wanted) if n is not None]
        clause: Condition = column.in_(numbers) if numbers else false()
    elif isinstance(kind, Float):
        moments = [t for t in map(_moment, wanted) if t is not None]
        clause = or_(false(), *(and_(column >= t, column < t + 1) for t in moments))
    else:
        clause = column.in_(wanted)
    if column.nullable and _NULLISH & set(wanted):
        clause = or_(clause, column.is_(None))
    return clause


def always_null(table: Any, wanted: list[str]) -> Condition:
    """A filter on an attribute every body shows as null (what stacklab does not serve)."""
    return true() if _NULLISH & set(wanted) else false()


def _filters(call: Call, resource: Resource, query: _Query, hidden: frozenset[str]) -> None:
    wanted: dict[str, list[str]] = {}
    for key, value in call.query.multi_items():
        if key not in LIST_CONTROLS:
            wanted.setdefault(key, []).append(value)
    shown = set(resource.response)
    for name, values in wanted.items():
        if name not in shown and name not in resource.computed:
            continue  # neutron ignores filters on attributes a resource does not have
        if name in hidden:
            # An attribute the caller may not see filters nothing in: it cannot match.
            query.where.append(false())
        elif name in resource.computed:
            query.where.append(resource.computed[name](resource.table, values))
        else:
            column = resource.column(name)
            query.where.append(false() if column is None else matches(
                column, values, scalar_list=name in resource.scalar_lists))
    tags = resource.column("tags")
    tag_filter = TagFilter.read(call.query, repeatable=True)
    if tags is None:
        # Bodies show no tags: asking for some finds nothing, excluding some excludes nothing.
        if tag_filter.wants_tags:
            query.where.append(false())
        return
    query.where += tag_filter.conditions(tags)


def _order(request: PageRequest, resource: Resource) -> list[Any]:
    """The sort keys as columns, ties broken by the resource's tiebreak (by default
    creation: the order of an unsorted list)."""
    order = [resource.column(key).desc() if direction == "desc" else
             resource.column(key).asc() for key, direction in request.sort]
    table = resource.table
    return [*order, *(table.c[name] for name in resource.tiebreak)]


# -- policy -------------------------------------------------------------------------------------


class Judge:
    """The ``get_<resource>`` verdict and the attributes ``get_<resource>:<attribute>`` hides,
    reached once per distinct policy target of a request (a page of 10,000 ports of one
    project on one network has one)."""

    def __init__(self, call: Call, resource: Resource) -> None:
        engine = call.policy
        self.call = call
        self.resource = resource
        self.guarded = tuple((k, f"get_{resource.name}:{k}") for k in resource.response
                             if engine.has_rule(f"get_{resource.name}:{k}"))
        self._seen: dict[Hashable, tuple[bool, frozenset[str]]] = {}
        keys = resource.target_keys
        # The target's own attributes of a body, as a tuple (every list row asks).
        self._key: Callable[[Mapping[str, Any]], Any] = (
            operator.itemgetter(*keys) if keys else lambda item: ())

    def own_hidden(self) -> frozenset[str]:
        """What the caller may not see of their own project's resources (for filters)."""
        target = {"project_id": self.call.context.project_id,
                  "tenant_id": self.call.context.project_id}
        return frozenset(k for k, rule in self.guarded if not self.call.allows(rule, target))

    def verdict(self, item: Mapping[str, Any], parent: Mapping[str, Any],
                parent_key: tuple[Any, ...] | None = None) -> tuple[bool, frozenset[str]]:
        key = (self._key(item), tuple(parent.values()) if parent_key is None else parent_key)
        known = self._seen.get(key)
        if known is None:
            target = self.resource.target(item, parent)
            allowed = self.call.allows(f"get_{self.resource.name}", target)
            hidden = frozenset(k for k, rule in self.guarded
                               if not self.call.allows(rule, target))
            known = self._seen[key] = (allowed, hidden)
        return known

    def verdict_of_row(self, item: Mapping[str, Any], row: Row) -> tuple[bool, frozenset[str]]:
        """As ``verdict``, the parent read from a list row (its last columns) only when this
        target is new."""
        count = 0 if self.resource.parent is None else len(self.resource.parent.columns)
        parent_key = tuple(row[len(row) - count:]) if count else ()
        key = (self._key(item), parent_key)
        known = self._seen.get(key)
        return known if known is not None else self.verdict(
            item, parent_of(self.resource, row), parent_key)

    def shown(self, item: dict[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
        for name in self.verdict(item, parent)[1]:
            item.pop(name, None)
        return item


def parent_of(resource: Resource, row: Row) -> dict[str, Any]:
    """The parent's columns a list row carries (``parent_<column>``)."""
    if resource.parent is None:
        return {}
    mapping = row._mapping
    return {c: mapping[f"parent_{c}"] for c in resource.parent.columns}


# -- the operations -------------------------------------------------------------------------------


def list_collection(call: Call, resource: Resource) -> dict[str, Any]:
    """``GET /v2.0/<collection>``: filtered, sorted and paged in SQL, rendered per page
    (without the collector walking the cloud's objects as the bodies pile up)."""
    resource = resource.for_call(call)
    if resource.ownerless and not call.allows(f"get_{resource.name}", own_project(call)):
        # As neutron's list controller: what policy hides is left out, not refused.
        return {resource.collection: []}
    judge = Judge(call, resource)
    with collector_paused(), network(call).db.session() as session:
        if resource.before_list is not None:
            resource.before_list(call, session)
        query = _base(call, resource)
        _filters(call, resource, query, judge.own_hidden())
        request = NEUTRON.request(call.query, resource.sortable())
        page = page_query(session, _select(query), id_column=resource.table.c.id,
                          order=_order(request, resource), request=request, dialect=NEUTRON)
        bodies = resource.render(session, page.items)
        return _shown_page(call, resource, judge, page, bodies)


def _shown_page(call: Call, resource: Resource, judge: Judge, page: Window[Row],
                bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The page's bodies as the caller may see them, and the page's links."""
    fields = call.query.getlist("fields")
    items = []
    for row, item in zip(page.items, bodies, strict=True):
        allowed, hidden = judge.verdict_of_row(item, row)
        if not allowed:
            continue
        for name in hidden:
            item.pop(name, None)
        items.append({k: v for k, v in item.items() if k in fields} if fields else item)
    path = f"/v2.0/{resource.path or resource.collection}"
    body = NEUTRON.links(page, query=call.query, url=call.url_for(path),
                         collection=resource.collection, id_of=_row_id)
    body[resource.collection] = items
    return body


def _row_id(row: Row) -> str:
    return str(row.id)


def find(call: Call, session: Session, resource: Resource, resource_id: str
         ) -> tuple[Row, dict[str, Any], dict[str, Any]]:
    """One row the caller may see and ``get_<resource>`` lets them, its body as they see it
    and its parent's columns; else the resource's own 404."""
    resource = resource.for_call(call)
    query = _base(call, resource)
    query.where.append(resource.table.c.id == resource_id)
    row = session.execute(_select(query)).first()
    if row is None:
        raise resource.not_found(resource_id)
    parent = parent_of(resource, row)
    judge = Judge(call, resource)
    item = resource.render(session, [row])[0]
    if not judge.verdict(item, parent)[0]:
        raise resource.not_found(resource_id)
    return row, judge.shown(item, parent), parent


def show_one(call: Call, resource: Resource, resource_id: str) -> dict[str, Any]:
    """``GET /v2.0/<collection>/<id>``."""
    with network(call).db.session() as session:
        body = find(call, session, resource, resource_id)[1]
    return {resource.name: only_fields(call, body)}


def shown(call: Call, session: Session, resource: Resource, row: Row,
          parent: Mapping[str, Any]) -> dict[str, Any]:
    """A body as the caller may see it, for a row just created or updated."""
    resource = resource.for_call(call)
    return Judge(call, resource).shown(resource.render(session, [row])[0], parent)


def load(call: Call, session: Session, resource: Resource, resource_id: str
         ) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The stored object the caller may see (else the resource's 404), its policy target
    and its parent's columns: what an update or a delete starts from."""
    resource = resource.for_call(call)
    row, _, parent = find(call, session, resource, resource_id)
    target = resource.target(resource.render(session, [row])[0], parent)
    return session.get(resource.model, resource_id), target, parent


Apply = Callable[[Call, Session, Any, dict[str, Any], Mapping[str, Any]], None]
Make = Callable[[Call, Session, str, dict[str, Any], Mapping[str, Any]], Any]
ParentFor = Callable[[Call, Session, dict[str, Any], str], Mapping[str, Any]]
Remove = Callable[[Call, Session, Any], None]


def assign(call: Call, session: Session, row: Any, fields: dict[str, Any],
           parent: Mapping[str, Any], *, resource: str) -> None:
    """The plain update: each attribute into its store column."""
    for name, value in fields.items():
        setattr(row, attributes.column_of(resource, name), value)


def create_bodies(call: Call, resource: Resource) -> tuple[list[dict[str, Any]], bool]:
    """The attributes of each resource a ``POST`` asks for, and whether it is a bulk create:
    ``{"ports": [{...}, ...]}`` (each item bare or as ``{"port": {...}}``, neutron's
    prepare_request_body) or the one ``{"port": {...}}``. Every item is checked before any
    is created."""
    body = call.body
    if isinstance(body, dict) and resource.collection in body:
        items = body[resource.collection]
        if not items:
            raise BadRequest("Resources required")
        if isinstance(items, (dict, str)):
            # neutron iterates it: keys or characters, none of them a resource's body.
            raise BadRequest(f"Object '{resource.name}' contains invalid data")
        if not isinstance(items, list):
            raise BadRequest("Body contains invalid data")
        bodies = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get(resource.name), dict):
                item = item[resource.name]
            if not isinstance(item, dict):
                raise BadRequest(f"Object '{resource.name}' contains invalid data")
            bodies.append(checked_fields(call, resource.name, item, create=True))
        return bodies, True
    return [request_body(call, resource.name, create=True)], False


def create_one(call: Call, resource: Resource, make: Make, *,
               parent_for: ParentFor | None = None) -> Reply:
    """``POST /v2.0/<collection>``, one resource or many (neutron's bulk create: all in one
    transaction, so all are created or none). Each body is checked by the attribute map and
    the project it names; then, for each, the parent it goes in as the caller may use it
    (``parent_for``: a port's or a subnet's network), ``create_<resource>`` and its
    attribute rules, all before anything is made; then the resource's own ``make``
    (references, quota, the domain's create) for each, in order; rendered as the caller may
    see them."""
    resource = resource.for_call(call)
    bodies, bulk = create_bodies(call, resource)
    with network(call).db.session() as session:
        checked = []
        for fields in bodies:
            project = fields.get("project_id") or fields.get("tenant_id") or \
                call.context.project_id or ""
            parent = {} if parent_for is None else parent_for(call, session, fields, project)
            target = resource.target({**fields, "project_id": project}, parent)
            authorize(call, f"create_{resource.name}", target)
            check_attributes(call, "create", resource.name, fields, target)
            checked.append((project, fields, parent))
        made = []
        for project, fields, parent in checked:
            made.append((make(call, session, project, fields, parent), parent))
            session.flush()
        shown_items = [shown(call, session, resource, row, parent) for row, parent in made]
    if bulk:
        return Reply({resource.collection: shown_items}, status=201)
    return Reply({resource.name: shown_items[0]}, status=201)


def update_one(call: Call, resource: Resource, resource_id: str, apply: Apply, *,
               prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    """``PUT /v2.0/<collection>/<id>``: the body checked by the attribute map (then by the
    resource's ``prepare``), the object found as the caller sees it, ``update_<resource>``
    and its attribute rules, then the resource's own ``apply``; a new revision, rendered as
    the caller may see it."""
    fields = request_body(call, resource.name, create=False)
    if prepare is not None:
        fields = prepare(fields)
    with network(call).db.session() as session:
        row, target, parent = load(call, session, resource, resource_id)
        authorize(call, f"update_{resource.name}", target)
        check_attributes(call, "update", resource.name, fields, target)
        apply(call, session, row, fields, parent)
        if "revision_number" in resource.table.c:  # agents have no standard attributes
            revise(call, row)
        session.flush()
        return {resource.name: shown(call, session, resource, row, parent)}


def revise(call: Call, row: Any) -> None:
    """A stored object changed (its attributes, its tags): it is updated now, a revision on."""
    row.updated_at = network(call).clock.now()
    row.revision_number += 1


def delete_one(call: Call, resource: Resource, resource_id: str, remove: Remove) -> None:
    """``DELETE /v2.0/<collection>/<id>``: found as the caller sees it, ``delete_<resource>``,
    then the resource's own ``remove`` (what may block it is domain logic)."""
    with network(call).db.session() as session:
        row, target, _ = load(call, session, resource, resource_id)
        authorize(call, f"delete_{resource.name}", target)
        remove(call, session, row)


# -- the routes -----------------------------------------------------------------------------------

After = Callable[[Call], Awaitable[None]]
Act = Callable[[Call, Session, Any, dict[str, Any]], dict[str, Any]]


def serve(resource: Resource, *, make: Make | None = None, apply: Apply | None = None,
          remove: Remove | None = None, parent_for: ParentFor | None = None,
          prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
          after: After | None = None) -> None:
    """Declare a resource's routes: list and show, then create, update and delete where the
    resource gives its own step of them; ``after`` runs once a write is stored."""
    collection, item = resource.base_path, resource.base_path + "/{id}"

    async def written(call: Call) -> None:
        if after is not None:
            await after(call)

    async def notify(call: Call, action: str, stage: str, payload: Any) -> None:
        # neutron's NotifierHook: <resource>.<action>.start with the request, .end with the
        # answer (a delete's: the id), from network.<host>, in the request's context.
        notifier = network(call).notifier
        if notifier is not None:
            await notifier(f"{resource.name}.{action}.{stage}", payload,
                           notification_context(call))

    def guard(call: Call, verb: str) -> None:
        # What belongs to no project has its rule asked before anything else is read.
        if resource.ownerless:
            authorize(call, f"{verb}_{resource.name}", own_project(call))

    @api.route("GET", collection)
    async def index(call: Call) -> dict[str, Any]:
        return list_collection(call, resource)

    @api.route("GET", item)
    async def show(call: Call) -> dict[str, Any]:
        guard(call, "get")
        return show_one(call, resource, call.params["id"])

    if make is not None:
        @api.route("POST", collection, status=201)
        async def create(call: Call) -> Reply:
            await notify(call, "create", "start", sent_body(call))
            guard(call, "create")
            reply = create_one(call, resource, make, parent_for=parent_for)
            await written(call)
            await notify(call, "create", "end", reply.body)
            return reply

    if apply is not None:
        @api.route("PUT", item)
        async def update(call: Call) -> dict[str, Any]:
            await notify(call, "update", "start", {**sent_body(call), "id": call.params["id"]})
            guard(call, "update")
            body = update_one(call, resource, call.params["id"], apply, prepare=prepare)
            await written(call)
            await notify(call, "update", "end", body)
            return body

    if remove is not None:
        @api.route("DELETE", item, status=204)
        async def delete(call: Call) -> None:
            deleted = {f"{resource.name}_id": call.params["id"]}
            await notify(call, "delete", "start", deleted)
            guard(call, "delete")
            delete_one(call, resource, call.params["id"], remove)
            await written(call)
            await notify(call, "delete", "end", deleted)


def sent_body(call: Call) -> dict[str, Any]:
    """The request's JSON object as it came (what neutron's .start notifications carry)."""
    return dict(call.body) if isinstance(call.body, Mapping) else {}


def notification_context(call: Call) -> dict[str, Any]:
    """The request's context on the bus (neutron's context, the keys consumers read)."""
    context = call.context
    return {"request_id": context.request_id, "global_request_id": context.global_request_id,
            "user_id": context.user_id, "project_id": context.project_id,
            "tenant_id": context.project_id, "is_admin": context.is_admin}


def member_action(resource: Resource, action: str, check: Callable[[Any], dict[str, Any]],
                  act: Act) -> None:
    """``PUT /v2.0/<collection>/<id>/<action>`` (neutron's member actions): the body checked
    by ``check``, the object found as the caller sees it (else the resource's 404), the
    ``<action>`` policy asked of its target, then ``act``, whose answer is the body."""

    @api.route("PUT", f"{resource.base_path}/{{id}}/{action}")
    async def handle(call: Call) -> dict[str, Any]:
        info = check(call.body)
        with network(call).db.session() as session:
            row, target, _ = load(call, session, resource, call.params["id"])
            authorize(call, action, target)
            return act(call, session, row, info)


def own_project(call: Call) -> dict[str, Any]:
    """The policy target of what belongs to no project (agents, zones): the caller's own."""
    return target_of({"project_id": call.context.project_id})


def guarded(method: str, path: str, rule: str, *, status: int = 200
            ) -> Callable[[Handler], Handler]:
    """Declare a route on what belongs to no project (the agents' scheduling, the zones):
    ``rule`` is asked first, of the caller's own project, and refused in neutron's words."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(call: Call) -> Any:
            authorize(call, rule, own_project(call))
            return await handler(call)

        api.route(method, path, status=status)(checked)
        return handler

    return register
