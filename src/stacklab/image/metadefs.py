"""glance's metadata definitions (metadefs): namespaces and what they hold.

A namespace (``OS::Compute::Hypervisor``) groups property definitions, objects (named
groups of properties), tags and the resource types it applies to. Names, not ids, are
what the API addresses. Who sees a namespace is glance's rule (its db layer): an admin
sees all, anyone a public one or one without owner, a project its own. The policy
rules (``policies.py``, glance's defaults: admin-only writes) are the handlers'.

glance fills the standard namespaces only when an operator runs ``glance-manage
db_load_metadefs`` (devstack does). stacklab seeds only the resource types those files
associate with, so that listing resource types answers as on a devstack cloud; the
namespaces themselves are not loaded (their texts are glance's, not stacklab's data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound
from stacklab.api.pagination import Dialect, PageRequest, Window, page_query
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.image import models as m

# The resource types glance's standard metadefs (etc/metadefs) associate with.
SEEDED_RESOURCE_TYPES = ("OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor",
                         "OS::Nova::Aggregate", "OS::Nova::Server", "OS::Trove::Instance")
# What a namespace holds, and what glance's messages call each.
HeldRow = TypeVar("HeldRow", m.MetadefObject, m.MetadefProperty, m.MetadefTag)
_WHAT: dict[type[Any], str] = {m.MetadefObject: "object", m.MetadefProperty: "property",
                               m.MetadefTag: "tag"}
# What a namespace defines by a body of its own: objects and properties.
Defined = TypeVar("Defined", m.MetadefObject, m.MetadefProperty)
NAMESPACE_FIELDS = ("namespace", "display_name", "description", "visibility", "protected",
                    "owner")


def namespace_missing(name: str) -> NotFound:
    """How the sub-resources and writes say a namespace is not there (or not visible)."""
    return NotFound(f"Namespace {name} not found")


class Metadefs:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    # -- namespaces ----------------------------------------------------------------------

    @staticmethod
    def visible(context: RequestContext, namespace: m.MetadefNamespace) -> bool:
        if context.is_admin or namespace.owner is None or namespace.visibility == "public":
            return True
        return context.project_id is not None and namespace.owner == context.project_id

    def find(self, session: Session, context: RequestContext, name: str) -> m.MetadefNamespace:
        """A namespace the caller can see; glance's show wording when it cannot."""
        found = session.scalar(select(m.MetadefNamespace).where(
            m.MetadefNamespace.namespace == name))
        if found is None or not self.visible(context, found):
            raise NotFound(f"Metadata definition namespace={name} was not found.")
        return found

    def namespace(self, session: Session, context: RequestContext,
                  name: str) -> m.MetadefNamespace:
        """A namespace the caller can see, for what is in it and for writes."""
        try:
            return self.find(session, context, name)
        except NotFound:
            raise namespace_missing(name) from None

    @staticmethod
    def seen_by(context: RequestContext) -> ColumnElement[bool] | None:
        """``visible`` as SQL (None: every namespace)."""
        if context.is_admin:
            return None
        ns = m.MetadefNamespace
        own = false() if context.project_id is None else ns.owner == context.project_id
        return or_(ns.owner.is_(None), ns.visibility == "public", own)

    def _namespaces(self, context: RequestContext, filters: Mapping[str, Any]) -> Select[Any]:
        ns = m.MetadefNamespace
        query = select(ns)
        seen = self.seen_by(context)
        if seen is not None:
            query = query.where(seen)
        if filters.get("visibility"):
            query = query.where(ns.visibility == filters["visibility"])
        wanted = filters.get("resource_types")
        if wanted:
            query = query.where(exists(
                select(1).select_from(m.MetadefAssociation).join(
                    m.MetadefResourceType,
                    m.MetadefResourceType.id == m.MetadefAssociation.resource_type_id).where(
                    m.MetadefAssociation.namespace_id == ns.id,
                    m.MetadefResourceType.name.in_(list(wanted)))))
        return query

    def list_namespaces(self, session: Session, context: RequestContext,
                        filters: Mapping[str, Any]) -> list[m.MetadefNamespace]:
        """Every namespace the caller sees that ``filters`` (visibility, resource_types)
        keep, oldest first."""
        ns = m.MetadefNamespace
        return list(session.scalars(self._namespaces(context, filters).order_by(
            ns.created_at, ns.namespace)))

    def list_page(self, session: Session, context: RequestContext, filters: Mapping[str, Any],
                  request: PageRequest, dialect: Dialect) -> Window[Any]:
        """One page of them (rows of one ``MetadefNamespace``), cut in SQL; the marker is a
        namespace's name. Ties go by creation, then by name, in the first key's direction
        (glance breaks them by creation and its row id)."""
        ns = m.MetadefNamespace
        first = request.sort[0][1] if request.sort else "desc"
        order = [_ordered(getattr(ns, key), direction) for key, direction in request.sort]
        return page_query(session, self._namespaces(context, filters),
                          id_column=ns.namespace, request=request, dialect=dialect,
                          order=[*order, _ordered(ns.created_at, first),
                                 _ordered(ns.namespace, first)])

    def create_namespace(self, session: Session, context: RequestContext,
                         body: Mapping[str, Any]) -> m.MetadefNamespace:
        name = body["namespace"]
        if session.scalar(select(m.MetadefNamespace.id).where(
                m.MetadefNamespace.namespace == name)) is not None:
            raise Conflict(f"The metadata definition namespace={name} already exists.")
        now = self.clock.now()
        namespace = m.MetadefNamespace(
            id=self.ids.uuid(), namespace=name, display_name=body.get("display_name"),
            description=body.get("description"),
            visibility=body.get("visibility") or "private",
            protected=bool(body.get("protected", False)),
            owner=body.get("owner") or context.project_id, created_at=now, updated_at=now)
        session.add(namespace)
        session.flush()
        for association in body.get("resource_type_associations") or []:
            self.associate(session, namespace, association)
        for item in body.get("objects") or []:
            self.create_object(session, namespace, item)
        for prop_name, schema in (body.get("properties") or {}).items():
            self.create_property(session, namespace, {**schema, "name": prop_name})
        self.create_tags(session, namespace, [t["name"] for t in body.get("tags") or []],
                         append=True)
        return namespace

    def update_namespace(self, session: Session, context: RequestContext,
                         namespace: m.MetadefNamespace,
                         body: Mapping[str, Any]) -> m.MetadefNamespace:
        """glance's update replaces every field: one left out takes its default."""
        name = body["namespace"]
        if name != namespace.namespace and session.scalar(select(m.MetadefNamespace.id).where(
                m.MetadefNamespace.namespace == name)) is not None:
            raise Conflict(f"Invalid update. It would result in a duplicate metadata "
                           f"definition namespace with the same name of {name}")
        namespace.namespace = name
        namespace.display_name = body.get("display_name")
        namespace.description = body.get("description")
        namespace.visibility = body.get("visibility") or "private"
        namespace.protected = bool(body.get("protected") or False)
        namespace.owner = body.get("owner") or context.project_id
        namespace.updated_at = self.clock.now()
        return namespace

    def delete_namespace(self, session: Session, namespace: m.MetadefNamespace) -> None:
        self._check_unprotected(namespace)
        session.delete(namespace)

    def delete_all(self, session: Session, namespace: m.MetadefNamespace,
                   kind: type[m.MetadefObject] | type[m.MetadefProperty] | type[m.MetadefTag],
                   ) -> None:
        """``DELETE .../objects``, ``.../properties``, ``.../tags``: the namespace must be
        deletable, as glance asks of it."""
        self._check_unprotected(namespace)
        for row in session.scalars(select(kind).where(kind.namespace_id == namespace.id)):
            session.delete(row)

    @staticmethod
    def _check_unprotected(namespace: m.MetadefNamespace) -> None:
        if namespace.protected:
            raise Forbidden(f"Metadata definition namespace {namespace.namespace} is "
                            "protected and cannot be deleted.")

    # -- resource types ------------------------------------------------------------------

    def seed_resource_types(self, session: Session) -> None:
        now = self.clock.now()
        known = set(session.scalars(select(m.MetadefResourceType.name)))
        for name in SEEDED_RESOURCE_TYPES:
            if name not in known:
                session.add(m.MetadefResourceType(id=self.ids.uuid(), name=name, protected=True,
                                                  created_at=now, updated_at=now))

    def resource_types(self, session: Session) -> list[m.MetadefResourceType]:
        return list(session.scalars(select(m.MetadefResourceType).order_by(
            m.MetadefResourceType.created_at, m.MetadefResourceType.name)))

    def associations(self, session: Session,
                     namespace: m.MetadefNamespace) -> list[Association]:
        rows = session.execute(select(m.MetadefAssociation, m.MetadefResourceType.name).join(
            m.MetadefResourceType,
            m.MetadefResourceType.id == m.MetadefAssociation.resource_type_id).where(
            m.MetadefAssociation.namespace_id == namespace.id).order_by(
            m.MetadefAssociation.created_at, m.MetadefResourceType.name))
        return [Association(name, row) for row, name in rows]

    def associate(self, session: Session, namespace: m.MetadefNamespace,
                  body: Mapping[str, Any]) -> Association:
        """Associate a resource type, created on the way if new (as glance does)."""
        name = body["name"]
        now = self.clock.now()
        kind = session.scalar(select(m.MetadefResourceType).where(
            m.MetadefResourceType.name == name))
        if kind is None:
            kind = m.MetadefResourceType(id=self.ids.uuid(), name=name, protected=False,
                                         created_at=now, updated_at=now)
            session.add(kind)
            session.flush()
        if session.get(m.MetadefAssociation, (namespace.id, kind.id)) is not None:
            raise Conflict(f"The metadata definition resource-type association of "
                           f"resource-type={name} to namespace={namespace.namespace} "
                           "already exists.")
        row = m.MetadefAssociation(namespace_id=namespace.id, resource_type_id=kind.id,
                                   prefix=body.get("prefix"),
                                   properties_target=body.get("properties_target"),
                                   created_at=now, updated_at=now)
        session.add(row)
        return Association(name, row)

    def dissociate(self, session: Session, namespace: m.MetadefNamespace, name: str) -> None:
        found = next((a for a in self.associations(session, namespace) if a.name == name), None)
        if found is None:
            raise NotFound(f"The metadata definition resource-type association of "
                           f"resource-type={name} to namespace={namespace.namespace}, "
                           "was not found.")
        if namespace.protected:
            raise Forbidden(f"Metadata definition resource-type-association {name} is "
                            "protected and cannot be deleted.")
        session.delete(found.row)

    # -- what a namespace holds: objects, properties, tags ----------------------------------

    @staticmethod
    def rows(session: Session, kind: type[HeldRow], namespace: m.MetadefNamespace) -> list[HeldRow]:
        """Every one of ``kind`` in the namespace, oldest first."""
        return list(session.scalars(select(kind).where(kind.namespace_id == namespace.id)
                                    .order_by(kind.created_at, kind.name)))

    @staticmethod
    def get(session: Session, kind: type[HeldRow], namespace: m.MetadefNamespace,
            name: str) -> HeldRow:
        found = session.scalar(select(kind).where(kind.namespace_id == namespace.id,
                                                  kind.name == name))
        if found is None:
            raise NotFound(f"The metadata definition {_WHAT[kind]} with name={name} was not "
                           f"found in namespace={namespace.namespace}.")
        return found

    @staticmethod
    def remove(session: Session, namespace: m.MetadefNamespace,
               row: m.MetadefObject | m.MetadefProperty | m.MetadefTag) -> None:
        """Delete one: not from a protected namespace."""
        if namespace.protected:
            raise Forbidden(f"Metadata definition {_WHAT[type(row)]} {row.name} is protected "
                            "and cannot be deleted.")
        session.delete(row)

    def _define(self, session: Session, kind: type[Defined], namespace: m.MetadefNamespace,
                body: Mapping[str, Any]) -> Defined:
        """A new object or property as ``body`` defines it, its name free in the namespace."""
        name = body["name"]
        self._check_free(session, kind, namespace, name, _WHAT[kind])
        now = self.clock.now()
        row = kind(id=self.ids.uuid(), namespace_id=namespace.id, name=name,
                   created_at=now, updated_at=now, **_definition(kind, body))
        session.add(row)
        session.flush()
        return row

    def redefine(self, session: Session, namespace: m.MetadefNamespace, row: Defined,
                 body: Mapping[str, Any]) -> Defined:
        """An object's or a property's update: glance replaces the whole definition, the
        name included."""
        kind = type(row)
        if body["name"] != row.name:
            self._check_free(session, kind, namespace, body["name"], _WHAT[kind],
                             updating=True)
        row.name = body["name"]
        for field, value in _definition(kind, body).items():
            setattr(row, field, value)
        row.updated_at = self.clock.now()
        return row

    # -- objects -------------------------------------------------------------------------
    # Each kind's own names for the steps above, which namespace creation and the tests use.

    def objects(self, session: Session, namespace: m.MetadefNamespace) -> list[m.MetadefObject]:
        return self.rows(session, m.MetadefObject, namespace)

    def get_object(self, session: Session, namespace: m.MetadefNamespace,
                   name: str) -> m.MetadefObject:
        return self.get(session, m.MetadefObject, namespace, name)

    def create_object(self, session: Session, namespace: m.MetadefNamespace,
                      body: Mapping[str, Any]) -> m.MetadefObject:
        return self._define(session, m.MetadefObject, namespace, body)

    def delete_object(self, session: Session, namespace: m.MetadefNamespace,
                      row: m.MetadefObject) -> None:
        self.remove(session, namespace, row)

    # -- properties ----------------------------------------------------------------------

    def get_property(self, session: Session, namespace: m.MetadefNamespace,
                     name: str) -> m.MetadefProperty:
        return self.get(session, m.MetadefProperty, namespace, name)

    def create_property(self, session: Session, namespace: m.MetadefNamespace,
                        body: Mapping[str, Any]) -> m.MetadefProperty:
        return self._define(session, m.MetadefProperty, namespace, body)

    # -- tags ----------------------------------------------------------------------------

    def tags(self, session: Session, namespace: m.MetadefNamespace) -> list[m.MetadefTag]:
        return self.rows(session, m.MetadefTag, namespace)

    def get_tag(self, session: Session, namespace: m.MetadefNamespace,
                name: str) -> m.MetadefTag:
        return self.get(session, m.MetadefTag, namespace, name)

    def create_tags(self, session: Session, namespace: m.MetadefNamespace,
                    names: Sequence[str], *, append: bool) -> list[m.MetadefTag]:
        """Add tags; without ``append`` (glance's ``X-Openstack-Append``) they replace the
        namespace's tags. Names are unique regardless of case, in the request too."""
        seen: set[str] = set()
        for name in names:
            if name.lower() in seen:
                raise Conflict(_duplicate_tag(name, namespace))
            seen.add(name.lower())
        if not append:
            for row in self.tags(session, namespace):
                session.delete(row)
            session.flush()
        created = []
        for name in names:
            self._check_tag_free(session, namespace, name)
            now = self.clock.now()
            row = m.MetadefTag(id=self.ids.uuid(), namespace_id=namespace.id, name=name,
                               created_at=now, updated_at=now)
            session.add(row)
            created.append(row)
        session.flush()
        return created

    def rename_tag(self, session: Session, namespace: m.MetadefNamespace, row: m.MetadefTag,
                   name: str) -> m.MetadefTag:
        if name.lower() != row.name.lower():
            self._check_tag_free(session, namespace, name)
        row.name = name
        row.updated_at = self.clock.now()
        return row

    def delete_tag(self, session: Session, namespace: m.MetadefNamespace,
                   row: m.MetadefTag) -> None:
        self.remove(session, namespace, row)

    def _check_tag_free(self, session: Session, namespace: m.MetadefNamespace,
                        name: str) -> None:
        if session.scalar(select(m.MetadefTag.id).where(
                m.MetadefTag.namespace_id == namespace.id,
                func.lower(m.MetadefTag.name) == name.lower())) is not None:
            raise Conflict(_duplicate_tag(name, namespace))

    @staticmethod
    def _check_free(session: Session, kind: type[m.MetadefObject] | type[m.MetadefProperty],
                    namespace: m.MetadefNamespace, name: str, what: str, *,
                    updating: bool = False) -> None:
        if session.scalar(select(kind.id).where(kind.namespace_id == namespace.id,
                                                kind.name == name)) is None:
            return
        if updating:
            raise Conflict(f"Invalid update. It would result in a duplicate metadata "
                           f"definition {what} with the same name={name} in "
                           f"namespace={namespace.namespace}.")
        raise Conflict(f"A metadata definition {what} with name={name} already exists in "
                       f"namespace={namespace.namespace}.")


class Association:
    """A resource type association with its resource type's name."""

    def __init__(self, name: str, row: m.MetadefAssociation) -> None:
        self.name = name
        self.row = row


def _definition(kind: type[m.MetadefObject] | type[m.MetadefProperty],
                body: Mapping[str, Any]) -> dict[str, Any]:
    """The columns an object's or a property's body sets, besides its name."""
    if kind is m.MetadefProperty:
        return {"schema": _property_schema(body)}
    return {"description": body.get("description"),
            "required": list(body.get("required") or []),
            "properties": dict(body.get("properties") or {})}


def _property_schema(body: Mapping[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in body.items() if k != "name"}
    if "type" not in schema or "title" not in schema:
        raise BadRequest("Property definitions need a 'title' and a 'type'.")
    return schema


def _duplicate_tag(name: str, namespace: m.MetadefNamespace) -> str:
    return (f"A metadata tag with name={name} already exists in "
            f"namespace={namespace.namespace}. (Please note that metadata tag names are "
            "case insensitive).")


def _ordered(column: Any, direction: str) -> Any:
    return column.desc() if direction == "desc" else column.asc()
