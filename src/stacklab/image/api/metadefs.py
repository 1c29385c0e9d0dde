"""``/v2/metadefs``: metadata definition namespaces, their objects, properties, tags and
resource type associations, and the schema documents describing them.

Policy as glance's ``MetadefAPIPolicy``: the target is the namespace's owner and
visibility; a refusal on a namespace the caller cannot even read is a 404, so that
other projects' private namespaces stay unseen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden, NotFound
from stacklab.api.pagination import Glance
from stacklab.api.service import Call, Reply
from stacklab.api.validation import Schema
from stacklab.clock import isotime
from stacklab.image import metadef_schemas as schemas
from stacklab.image import models as m
from stacklab.image.api.base import api, images
from stacklab.image.metadefs import Association, Defined, HeldRow, Metadefs

_ROOT = "/v2/metadefs/namespaces"
_NS = _ROOT + "/{namespace}"
_NAMESPACE = Schema(schemas.NAMESPACE)
_OBJECT = Schema(schemas.OBJECT)
_PROPERTY = Schema(schemas.PROPERTY)
_ASSOCIATION = Schema(schemas.ASSOCIATION)
_TAG = Schema(schemas.TAG)
_TAGS = Schema(schemas.TAGS)
_SORTABLE = ("namespace", "display_name", "created_at", "updated_at", "visibility", "owner")
_NOT_FOUND = "The resource could not be found."


def _metadefs(call: Call) -> Metadefs:
    return images(call).metadefs


def _target(call: Call, namespace: m.MetadefNamespace | None) -> dict[str, Any]:
    if namespace is None:
        return {"project_id": call.context.project_id}
    return {"project_id": namespace.owner, "visibility": namespace.visibility}


def _enforce(call: Call, rule: str, namespace: m.MetadefNamespace | None = None) -> None:
    """glance's refusal: 404 when the caller may not read the namespace, else 403."""
    target = _target(call, namespace)
    if call.allows(rule, target):
        return
    if namespace is not None and (rule == "get_metadef_namespace" or
                                  not call.allows("get_metadef_namespace", target)):
        raise NotFound(_NOT_FOUND)
    call.authorize(rule, target)


@contextmanager
def _inside(call: Call, *rules: str) -> Iterator[tuple[Metadefs, Session, m.MetadefNamespace]]:
    """The path's namespace, once the caller may see it and every one of ``rules`` allows."""
    service = _metadefs(call)
    with images(call).db.session() as session:
        namespace = service.namespace(session, call.context, call.params["namespace"])
        for rule in rules:
            _enforce(call, rule, namespace)
        yield service, session, namespace


def _checked(body: Any, schema: Schema) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("Body expected in request.")
    for name in schemas.READ_ONLY:
        if name in body:
            raise Forbidden(f"Attribute '{name}' is read-only.")
    schema.validate(body)
    return body


def _stamps(row: Any) -> dict[str, Any]:
    return {"created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at)}


def _present(body: dict[str, Any]) -> dict[str, Any]:
    """glance's wsme views leave out what is unset."""
    return {k: v for k, v in body.items() if v is not None}


# -- rendering ---------------------------------------------------------------------------


def render_namespace(namespace: m.MetadefNamespace) -> dict[str, Any]:
    return _present({
        "namespace": namespace.namespace, "display_name": namespace.display_name,
        "description": namespace.description, "visibility": namespace.visibility,
        "protected": namespace.protected, "owner": namespace.owner, **_stamps(namespace),
        "self": f"{_ROOT}/{namespace.namespace}", "schema": "/v2/schemas/metadefs/namespace",
    })


def render_association(association: Association) -> dict[str, Any]:
    row = association.row
    return _present({"name": association.name, "prefix": row.prefix,
                     "properties_target": row.properties_target, **_stamps(row)})


def render_object(namespace: m.MetadefNamespace, row: m.MetadefObject) -> dict[str, Any]:
    return _present({
        "name": row.name, "description": row.description, "required": row.required,
        "properties": row.properties, **_stamps(row),
        "self": f"{_ROOT}/{namespace.namespace}/objects/{row.name}",
        "schema": "/v2/schemas/metadefs/object",
    })


def render_property(row: m.MetadefProperty) -> dict[str, Any]:
    return {"name": row.name, **row.schema}


def render_tag(row: m.MetadefTag) -> dict[str, Any]:
    return {"name": row.name, **_stamps(row)}


def _namespace_detail(call: Call, session: Session, namespace: m.MetadefNamespace,
                      resource_type: str | None) -> dict[str, Any]:
    service = _metadefs(call)
    body = render_namespace(namespace)
    associations = service.associations(session, namespace)
    prefix = next((a.row.prefix for a in associations if a.name == resource_type), None) \
        if resource_type else None
    prefix = prefix or ""
    objects = [render_object(namespace, row) for row in service.objects(session, namespace)]
    for item in objects:
        if prefix and "properties" in item:
            item["properties"] = {prefix + k: v for k, v in item["properties"].items()}
        if prefix and "required" in item:
            item["required"] = [prefix + k for k in item["required"]]
    if objects:
        body["objects"] = objects
    if associations:
        body["resource_type_associations"] = [render_association(a) for a in associations]
    properties = {prefix + row.name: row.schema
                  for row in service.rows(session, m.MetadefProperty, namespace)}
    if properties:
        body["properties"] = properties
    tags = [{"name": row.name} for row in service.tags(session, namespace)]
    if tags:
        body["tags"] = tags
    return body


# -- schema documents ---------------------------------------------------------------------


def _schema_route(name: str) -> None:
    async def show(call: Call) -> dict[str, Any]:
        return schemas.documents()[name]

    api.route("GET", f"/v2/schemas/metadefs/{name}")(show)


for _name in schemas.documents():
    _schema_route(_name)


# -- namespaces --------------------------------------------------------------------------


@api.route("GET", _ROOT)
async def list_namespaces(call: Call) -> dict[str, Any]:
    _enforce(call, "get_metadef_namespaces")
    _enforce(call, "list_metadef_resource_types")
    query = call.query
    visibility = query.get("visibility")
    if visibility and visibility not in ("public", "private"):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    service = images(call)
    dialect = Glance(max_limit=service.options.api_limit_max,
                     default_limit=service.options.limit_param_default,
                     marker_error=lambda marker: NotFound(
                         f"Metadata definition namespace={marker} was not found."))
    request = dialect.request(query, _SORTABLE, default_sort=(("created_at", "desc"),))
    resource_types = [t for t in (query.get("resource_types") or "").split(",") if t]
    with service.db.session() as session:
        page = service.metadefs.list_page(
            session, call.context, {"visibility": visibility, "resource_types": resource_types},
            request, dialect)
        rendered = []
        # As glance: the page is cut by the database, then what the policy refuses is left
        # out of it (the next link still follows the database's page).
        for (namespace,) in page.items:
            if not call.allows("get_metadef_namespace", _target(call, namespace)):
                continue
            body = render_namespace(namespace)
            associations = service.metadefs.associations(session, namespace)
            if associations:
                body["resource_type_associations"] = [render_association(a)
                                                      for a in associations]
            rendered.append(body)
    others = [(k, v) for k, v in query.multi_items() if k != "marker"]
    first = f"{_ROOT}?{urlencode(others)}" if others else _ROOT
    result: dict[str, Any] = {"namespaces": rendered, "first": first,
                              "schema": "/v2/schemas/metadefs/namespaces"}
    result.update(dialect.links(page, query=query, url=_ROOT, collection="namespaces",
                                id_of=_namespace_name))
    return result


def _namespace_name(row: Any) -> str:
    return str(row[0].namespace)


@api.route("POST", _ROOT, status=201)
async def create_namespace(call: Call) -> Reply:
    body = _checked(call.body, _NAMESPACE)
    _enforce(call, "add_metadef_namespace")
    for key, rule in (("resource_type_associations", "add_metadef_resource_type_association"),
                      ("objects", "add_metadef_object"), ("properties", "add_metadef_property"),
                      ("tags", "add_metadef_tag")):
        if body.get(key):
            _enforce(call, rule)
    service = _metadefs(call)
    with images(call).db.session() as session:
        namespace = service.create_namespace(session, call.context, body)
        rendered = render_namespace(namespace)
    # glance answers a create with what was asked for inside it, as sent.
    for key in ("resource_type_associations", "objects", "properties", "tags"):
        if body.get(key):
            rendered[key] = body[key]
    return Reply(rendered, headers={"Location": rendered["self"]})


@api.route("GET", _NS)
async def show_namespace(call: Call) -> dict[str, Any]:
    service = _metadefs(call)
    with images(call).db.session() as session:
        namespace = service.find(session, call.context, call.params["namespace"])
        _enforce(call, "get_metadef_namespace", namespace)
        for rule in ("list_metadef_resource_types", "get_metadef_objects",
                     "get_metadef_properties", "get_metadef_tags"):
            _enforce(call, rule, namespace)
        return _namespace_detail(call, session, namespace, call.query.get("resource_type"))


@api.route("PUT", _NS)
async def update_namespace(call: Call) -> dict[str, Any]:
    body = _checked(call.body, _NAMESPACE)
    with _inside(call, "modify_metadef_namespace") as (service, session, namespace):
        return render_namespace(service.update_namespace(session, call.context, namespace,
                                                         body))


@api.route("DELETE", _NS, status=204)
async def delete_namespace(call: Call) -> None:
    with _inside(call, "delete_metadef_namespace") as (service, session, namespace):
        service.delete_namespace(session, namespace)


# -- resource types and associations ------------------------------------------------------


@api.route("GET", "/v2/metadefs/resource_types")
async def list_resource_types(call: Call) -> dict[str, Any]:
    _enforce(call, "list_metadef_resource_types")
    with images(call).db.session() as session:
        return {"resource_types": [{"name": row.name, **_stamps(row)}
                                   for row in _metadefs(call).resource_types(session)]}


@api.route("GET", _NS + "/resource_types")
async def list_associations(call: Call) -> dict[str, Any]:
    with _inside(call, "get_metadef_resource_type") as (service, session, namespace):
        return {"resource_type_associations": [
            render_association(a) for a in service.associations(session, namespace)]}


@api.route("POST", _NS + "/resource_types", status=201)
async def create_association(call: Call) -> dict[str, Any]:
    body = _checked(call.body, _ASSOCIATION)
    with _inside(call, "add_metadef_resource_type_association") as (service, session, namespace):
        association = service.associate(session, namespace, body)
        session.flush()
        return render_association(association)


@api.route("DELETE", _NS + "/resource_types/{resource_type}", status=204)
async def delete_association(call: Call) -> None:
    with _inside(call, "remove_metadef_resource_type_association") as (service, session,
                                                                       namespace):
        service.dissociate(session, namespace, call.params["resource_type"])


# -- what a namespace holds: objects, properties, tags ------------------------------------

Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Held(Generic[HeldRow]):
    """One kind of what a namespace holds, declared once.

    Its collection (``objects``) names the path, the list's key and the list's rule
    (``get_metadef_objects``); its member (``object``) the path parameter
    (``object_name``) and the rules of one (``get_metadef_object``,
    ``modify_metadef_object``). What differs between the kinds is declared: the list's
    body, the renderer, the update step, the delete's rule, and how one is created.
    """

    collection: str
    member: str
    kind: type[HeldRow]
    schema: Schema  # a body that defines one: an update's, and ``make``'s
    listing: Callable[[Metadefs, Session, m.MetadefNamespace], dict[str, Any]]
    render: Callable[[m.MetadefNamespace, HeldRow], dict[str, Any]]
    update: Callable[[Metadefs, Session, m.MetadefNamespace, HeldRow, dict[str, Any]], HeldRow]
    delete_rule: str
    # ``DELETE .../<collection>``: glance asks that the namespace may be deleted.
    delete_all_rules: tuple[str, ...] = ("delete_metadef_namespace",)
    # POST .../<collection>: one made from its body by ``make``, or a handler of its own.
    make: Callable[[Metadefs, Session, m.MetadefNamespace, dict[str, Any]], HeldRow] | None \
        = None
    create: Handler | None = None
    create_one: Handler | None = None  # POST .../<collection>/{name}
    # The name ``show`` looks for, when it is not the path's as sent.
    shown_name: Callable[[Call, Session, m.MetadefNamespace], str] | None = None

    @property
    def param(self) -> str:
        return f"{self.member}_name"


def serve(held: Held[Any]) -> None:
    """Declare the routes of one kind: list, create, delete all, show, update, delete."""
    collection = f"{_NS}/{held.collection}"
    one = f"{collection}/{{{held.param}}}"

    async def listed(call: Call) -> dict[str, Any]:
        with _inside(call, f"get_metadef_{held.collection}") as (service, session, namespace):
            return held.listing(service, session, namespace)

    async def delete_all(call: Call) -> None:
        with _inside(call, *held.delete_all_rules) as (service, session, namespace):
            service.delete_all(session, namespace, held.kind)

    async def show(call: Call) -> dict[str, Any]:
        with _inside(call, f"get_metadef_{held.member}") as (service, session, namespace):
            name = held.shown_name(call, session, namespace) if held.shown_name \
                else call.params[held.param]
            return held.render(namespace, service.get(session, held.kind, namespace, name))

    async def update(call: Call) -> dict[str, Any]:
        body = _checked(call.body, held.schema)
        with _inside(call, f"modify_metadef_{held.member}") as (service, session, namespace):
            row = service.get(session, held.kind, namespace, call.params[held.param])
            return held.render(namespace, held.update(service, session, namespace, row, body))

    def made_by(step: Callable[[Metadefs, Session, m.MetadefNamespace, dict[str, Any]],
                               Any]) -> Handler:
        async def make(call: Call) -> dict[str, Any]:
            body = _checked(call.body, held.schema)
            with _inside(call, f"add_metadef_{held.member}") as (service, session, namespace):
                return held.render(namespace, step(service, session, namespace, body))
        return make

    async def delete(call: Call) -> None:
        with _inside(call, held.delete_rule) as (service, session, namespace):
            service.remove(session, namespace,
                           service.get(session, held.kind, namespace, call.params[held.param]))

    api.route("GET", collection)(listed)
    create = held.create or (made_by(held.make) if held.make is not None else None)
    if create is not None:
        api.route("POST", collection, status=201)(create)
    api.route("DELETE", collection, status=204)(delete_all)
    api.route("GET", one)(show)
    if held.create_one is not None:
        api.route("POST", one, status=201, body_optional=True)(held.create_one)
    api.route("PUT", one)(update)
    api.route("DELETE", one, status=204)(delete)


def _property_name(call: Call, session: Session, namespace: m.MetadefNamespace) -> str:
    """A property asked for with its resource type's prefix (``?resource_type=``) is found
    under its own name, as glance strips the prefix."""
    name = call.params["property_name"]
    wanted = call.query.get("resource_type")
    if wanted:
        prefix = next((a.row.prefix for a in _metadefs(call).associations(session, namespace)
                       if a.name == wanted), None)
        if prefix and name.startswith(prefix):
            return name[len(prefix):]
    return name


async def create_tags(call: Call) -> dict[str, Any]:
    body = _checked(call.body, _TAGS)
    names = [tag["name"] for tag in body.get("tags", [])]
    # oslo's bool_from_string, as glance reads the header: anything else is false.
    append = call.headers.get("x-openstack-append", "").strip().lower() in (
        "1", "t", "true", "on", "y", "yes")
    with _inside(call, "add_metadef_tags") as (service, session, namespace):
        created = service.create_tags(session, namespace, names, append=append)
        return {"tags": [{"name": row.name} for row in created]}


async def create_tag(call: Call) -> dict[str, Any]:
    name = call.params["tag_name"]
    if len(name) > 80:
        raise BadRequest(f"Tag name {name!r} is longer than 80 characters.")
    with _inside(call, "add_metadef_tag") as (service, session, namespace):
        (row,) = service.create_tags(session, namespace, [name], append=True)
        return render_tag(row)


def _render_property(namespace: m.MetadefNamespace, row: m.MetadefProperty) -> dict[str, Any]:
    return render_property(row)


def _render_tag(namespace: m.MetadefNamespace, row: m.MetadefTag) -> dict[str, Any]:
    return render_tag(row)


def _redefine(service: Metadefs, session: Session, namespace: m.MetadefNamespace,
              row: Defined, body: dict[str, Any]) -> Defined:
    return service.redefine(session, namespace, row, body)


HELD = (
    Held("objects", "object", m.MetadefObject, _OBJECT,
         # glance's objects list names its schema without the leading slash.
         listing=lambda service, session, namespace: {
             "objects": [render_object(namespace, row)
                         for row in service.objects(session, namespace)],
             "schema": "v2/schemas/metadefs/objects"},
         render=render_object,
         update=_redefine,
         delete_rule="delete_metadef_object",
         make=lambda service, session, namespace, body: service.create_object(
             session, namespace, body)),
    Held("properties", "property", m.MetadefProperty, _PROPERTY,
         listing=lambda service, session, namespace: {
             "properties": {row.name: row.schema
                            for row in service.rows(session, m.MetadefProperty, namespace)}},
         render=_render_property,
         update=_redefine,
         delete_rule="remove_metadef_property",
         make=lambda service, session, namespace, body: service.create_property(
             session, namespace, body),
         shown_name=_property_name),
    Held("tags", "tag", m.MetadefTag, _TAG,
         listing=lambda service, session, namespace: {
             "tags": [render_tag(row) for row in service.tags(session, namespace)]},
         render=_render_tag,
         update=lambda service, session, namespace, row, body: service.rename_tag(
             session, namespace, row, body["name"]),
         delete_rule="delete_metadef_tag",
         delete_all_rules=("delete_metadef_namespace", "delete_metadef_tags"),
         create=create_tags, create_one=create_tag),
)
for _held in HELD:
    serve(_held)
