"""Metadata definitions' domain rules (image/metadefs.py), without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound
from stacklab.api.pagination import Glance
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image import models as m
from stacklab.image.metadefs import SEEDED_RESOURCE_TYPES, Metadefs
from stacklab.store.database import Database


def context(project: str, *roles: str) -> RequestContext:
    return RequestContext(request_id="req-test", project_id=project,
                          roles=list(roles) or ["member", "reader"])


ADMIN = context("p-admin", "admin", "member", "reader")


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database("sqlite://")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def metadefs() -> Metadefs:
    return Metadefs(VirtualClock(), IdSource(5))


def test_namespace_visibility_is_glance_s(db: Database, metadefs: Metadefs) -> None:
    with db.session() as session:
        metadefs.create_namespace(session, context("p1"), {"namespace": "Mine"})
        metadefs.create_namespace(session, context("p1"),
                                  {"namespace": "Shown", "visibility": "public"})
        ownerless = metadefs.create_namespace(session, ADMIN, {"namespace": "Nobody's"})
        ownerless.owner = None
    with db.session() as session:
        seen = {ns.namespace for ns in metadefs.list_namespaces(session, context("p2"), {})}
        assert seen == {"Shown", "Nobody's"}
        with pytest.raises(NotFound, match="namespace=Mine was not found"):
            metadefs.find(session, context("p2"), "Mine")
        with pytest.raises(NotFound, match="Namespace Mine not found"):
            metadefs.namespace(session, context("p2"), "Mine")
        assert metadefs.find(session, context("p1"), "Mine").visibility == "private"
        assert len(metadefs.list_namespaces(session, ADMIN, {})) == 3
        public = metadefs.list_namespaces(session, ADMIN, {"visibility": "public"})
        assert [ns.namespace for ns in public] == ["Shown"]


def test_create_holds_its_contents_and_names_are_unique(db: Database,
                                                        metadefs: Metadefs) -> None:
    with db.session() as session:
        namespace = metadefs.create_namespace(session, ADMIN, {
            "namespace": "OS::Lab", "protected": True,
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
            "properties": {"disk_bus": {"title": "Disk bus", "type": "string"}},
            "objects": [{"name": "Limits", "properties": {}}],
            "tags": [{"name": "fast"}]})
        assert [a.name for a in metadefs.associations(session, namespace)] == \
            ["OS::Glance::Image"]
        assert metadefs.get_property(session, namespace, "disk_bus").schema == \
            {"title": "Disk bus", "type": "string"}
        assert [o.name for o in metadefs.objects(session, namespace)] == ["Limits"]
        assert [t.name for t in metadefs.tags(session, namespace)] == ["fast"]
        with pytest.raises(Conflict, match="namespace=OS::Lab already exists"):
            metadefs.create_namespace(session, ADMIN, {"namespace": "OS::Lab"})
        with pytest.raises(Conflict, match="object with name=Limits already exists"):
            metadefs.create_object(session, namespace, {"name": "Limits"})
        with pytest.raises(Conflict, match="property with name=disk_bus already exists"):
            metadefs.create_property(session, namespace,
                                     {"name": "disk_bus", "title": "t", "type": "string"})
        with pytest.raises(Conflict, match="association of resource-type=OS::Glance::Image"):
            metadefs.associate(session, namespace, {"name": "OS::Glance::Image"})
        with pytest.raises(BadRequest, match="title"):
            metadefs.create_property(session, namespace, {"name": "x", "type": "string"})


def test_protected_namespace_keeps_itself_and_its_contents(db: Database,
                                                           metadefs: Metadefs) -> None:
    with db.session() as session:
        namespace = metadefs.create_namespace(session, ADMIN, {
            "namespace": "Kept", "protected": True, "tags": [{"name": "t"}],
            "objects": [{"name": "o"}],
            "resource_type_associations": [{"name": "OS::Nova::Flavor"}]})
        with pytest.raises(Forbidden, match="namespace Kept is protected"):
            metadefs.delete_namespace(session, namespace)
        with pytest.raises(Forbidden, match="tag t is protected"):
            metadefs.delete_tag(session, namespace, metadefs.get_tag(session, namespace, "t"))
        with pytest.raises(Forbidden, match="object o is protected"):
            metadefs.delete_object(session, namespace,
                                   metadefs.get_object(session, namespace, "o"))
        with pytest.raises(Forbidden, match="protected"):
            metadefs.delete_all(session, namespace, m.MetadefTag)
        with pytest.raises(Forbidden, match="resource-type-association OS::Nova::Flavor"):
            metadefs.dissociate(session, namespace, "OS::Nova::Flavor")
        # glance's update resets what the body leaves out: protected goes back to false.
        metadefs.update_namespace(session, ADMIN, namespace, {"namespace": "Kept"})
        assert (namespace.protected, namespace.visibility) == (False, "private")
        metadefs.delete_namespace(session, namespace)
        session.flush()
        assert session.query(m.MetadefTag).count() == 0  # contents go with it
        assert session.query(m.MetadefAssociation).count() == 0


def test_tags_are_unique_regardless_of_case_and_replace_unless_appended(
        db: Database, metadefs: Metadefs) -> None:
    with db.session() as session:
        namespace = metadefs.create_namespace(session, ADMIN, {"namespace": "Tags"})
        metadefs.create_tags(session, namespace, ["a", "b"], append=True)
        with pytest.raises(Conflict, match="case insensitive"):
            metadefs.create_tags(session, namespace, ["A"], append=True)
        with pytest.raises(Conflict, match="case insensitive"):
            metadefs.create_tags(session, namespace, ["x", "X"], append=False)
        metadefs.create_tags(session, namespace, ["c"], append=False)
        assert [t.name for t in metadefs.tags(session, namespace)] == ["c"]
        metadefs.create_tags(session, namespace, ["d"], append=True)
        assert sorted(t.name for t in metadefs.tags(session, namespace)) == ["c", "d"]
        with pytest.raises(Conflict):
            metadefs.rename_tag(session, namespace, metadefs.get_tag(session, namespace, "c"),
                                "D")
        renamed = metadefs.rename_tag(session, namespace,
                                      metadefs.get_tag(session, namespace, "c"), "C")
        assert renamed.name == "C"
        with pytest.raises(NotFound, match="tag with name=c was not found"):
            metadefs.get_tag(session, namespace, "c")


def test_resource_types_are_seeded_once_and_created_on_association(
        db: Database, metadefs: Metadefs) -> None:
    with db.session() as session:
        metadefs.seed_resource_types(session)
        metadefs.seed_resource_types(session)
        session.flush()
        names = [t.name for t in metadefs.resource_types(session)]
        assert sorted(names) == sorted(SEEDED_RESOURCE_TYPES)
        namespace = metadefs.create_namespace(session, ADMIN, {"namespace": "N"})
        metadefs.associate(session, namespace, {"name": "OS::Lab::Thing"})
        session.flush()
        assert "OS::Lab::Thing" in [t.name for t in metadefs.resource_types(session)]
        with pytest.raises(NotFound, match="resource-type=OS::Nova::Server to namespace=N"):
            metadefs.dissociate(session, namespace, "OS::Nova::Server")
        metadefs.dissociate(session, namespace, "OS::Lab::Thing")
        session.flush()
        assert metadefs.associations(session, namespace) == []


GLANCE = Glance(max_limit=1000, default_limit=25,
                marker_error=lambda marker: NotFound(f"namespace={marker} was not found."))


def _page(metadefs: Metadefs, session: Any, who: RequestContext, query: dict[str, str],
          filters: dict[str, Any] | None = None) -> tuple[list[str], bool]:
    request = GLANCE.request(query, ("namespace", "display_name", "created_at", "owner"),
                             default_sort=(("created_at", "desc"),))
    page = metadefs.list_page(session, who, filters or {}, request, GLANCE)
    return [row[0].namespace for row in page.items], page.more


def test_namespaces_are_filtered_sorted_and_paged_in_sql(db: Database) -> None:
    clock = VirtualClock()
    metadefs = Metadefs(clock, IdSource(5))
    with db.session() as session:
        for name, owner, visibility in (("A", "p1", "private"), ("B", "p2", "public"),
                                        ("C", "p2", "private"), ("D", "p1", "public"),
                                        ("E", "p1", "private")):
            metadefs.create_namespace(session, context(owner),
                                      {"namespace": name, "visibility": visibility})
            clock.advance(1)
        # Created in one instant with A: ties go by name, in the first key's direction.
        first = metadefs.find(session, ADMIN, "A").created_at
        metadefs.create_namespace(session, ADMIN, {"namespace": "Z"}).created_at = first
        metadefs.associate(session, metadefs.find(session, ADMIN, "D"),
                           {"name": "OS::Nova::Flavor"})
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(statement))
    with db.session() as session:
        assert _page(metadefs, session, ADMIN, {}) == (["E", "D", "C", "B", "Z", "A"], False)
        assert _page(metadefs, session, ADMIN, {"limit": "2"}) == (["E", "D"], True)
        assert any("LIMIT" in s for s in statements)
        assert _page(metadefs, session, ADMIN, {"limit": "2", "marker": "D"}) == \
            (["C", "B"], True)
        assert _page(metadefs, session, ADMIN, {"limit": "2", "marker": "B"}) == \
            (["Z", "A"], False)
        assert _page(metadefs, session, ADMIN, {"sort_key": "created_at", "sort_dir": "asc",
                                                "limit": "3"}) == (["A", "Z", "B"], True)
        assert _page(metadefs, session, ADMIN, {"sort": "owner:asc,namespace:desc"}) == \
            (["Z", "E", "D", "A", "C", "B"], False)
        # Visibility is glance's, in the query: p1's own and the public ones.
        assert _page(metadefs, session, context("p1"), {"sort": "namespace:asc"}) == \
            (["A", "B", "D", "E"], False)
        assert _page(metadefs, session, context("p1"), {"sort": "namespace:asc"},
                     {"visibility": "private"}) == (["A", "E"], False)
        assert _page(metadefs, session, context("p1"), {},
                     {"resource_types": ["OS::Nova::Flavor", "OS::Nova::Server"]}) == \
            (["D"], False)
        # Another project's private namespace is no marker.
        with pytest.raises(NotFound, match="namespace=C was not found"):
            _page(metadefs, session, context("p1"), {"marker": "C"})
        with pytest.raises(BadRequest, match="Invalid sort key"):
            _page(metadefs, session, ADMIN, {"sort_key": "description"})
