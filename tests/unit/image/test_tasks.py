"""Tasks' records and [import_filtering_opts] (image/tasks.py), without HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.pagination import Glance
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image.tasks import TASK_TIME_TO_LIVE, ImportFilter, Tasks, config_list
from stacklab.store.database import Database


def context(project: str, *roles: str) -> RequestContext:
    return RequestContext(request_id="req-1", project_id=project, user_id="u1",
                          roles=list(roles) or ["member", "reader"])


@pytest.mark.parametrize(("uri", "allowed"), [
    ("http://127.0.0.1:8123/disk.qcow2", True),
    ("https://127.0.0.1/disk", True),
    ("http://[::1]:9000/disk", True),
    ("http://localhost/disk", False),          # names are not the allowed addresses
    ("http://2130706433/disk", False),         # an encoded address is no address
    ("http://0x7f000001/disk", False),
    ("http://10.0.0.1/disk", False),
    ("http://example.com/disk", False),
    ("ftp://127.0.0.1/disk", False),
    ("file:///etc/passwd", False),
    ("127.0.0.1/disk", False),
    ("http://127.0.0.1:99999/disk", False),    # no such port
    ("", False), (None, False),
])
def test_default_filter_allows_loopback_addresses_only(uri: str | None, allowed: bool) -> None:
    assert ImportFilter().allows(uri) is allowed


def test_allow_lists_win_over_deny_lists_as_in_glance() -> None:
    both = ImportFilter(allowed_hosts=("127.0.0.1",), disallowed_hosts=("127.0.0.1",))
    assert both.allows("http://127.0.0.1/x")
    deny_only = ImportFilter(allowed_hosts=(), disallowed_hosts=("10.0.0.1",),
                             allowed_ports=(), disallowed_ports=(8080,))
    assert deny_only.allows("http://10.0.0.2/x")
    assert not deny_only.allows("http://10.0.0.1/x")
    assert not deny_only.allows("http://10.0.0.2:8080/x")
    ports = ImportFilter(allowed_ports=(80, 443))
    assert ports.allows("http://127.0.0.1/x")  # no port given: glance checks none
    assert not ports.allows("http://127.0.0.1:8080/x")


def test_config_lists_read_both_spellings() -> None:
    assert config_list("a, b") == ("a", "b")
    assert config_list("['glance-direct', web-download]") == ("glance-direct", "web-download")
    assert config_list("") == ()


@pytest.fixture
def db() -> Iterator[Database]:
    database = Database("sqlite://")
    database.upgrade()
    yield database
    database.dispose()


def test_tasks_are_the_owner_s_and_expire_after_they_end(db: Database) -> None:
    clock = VirtualClock()
    tasks = Tasks(clock, IdSource(1))
    with db.session() as session:
        task = tasks.create(session, context("p1"), "import", {"import_from": "x"},
                            image_id="img")
        tasks.begin(task)
        assert task.status == "processing" and task.expires_at is None
        assert (task.request_id, task.user_id, task.owner) == ("req-1", "u1", "p1")
        task_id = task.id
    with db.session() as session:
        assert [t.id for t in tasks.for_image(session, context("p1"), "img")] == [task_id]
        assert tasks.for_image(session, context("p2"), "img") == []
        with pytest.raises(NotFound):
            tasks.get(session, context("p2"), task_id)
        admin = context("p2", "admin", "member", "reader")
        assert tasks.get(session, admin, task_id).id == task_id
        tasks.succeed(tasks.get(session, context("p1"), task_id), {"image_id": "img"})
    clock.advance(TASK_TIME_TO_LIVE - 1)
    with db.session() as session:
        found = tasks.get(session, context("p1"), task_id)
        assert (found.status, found.result) == ("success", {"image_id": "img"})
        assert [t.id for t in tasks.list_tasks(session, context("p1"),
                                               {"status": "success"})] == [task_id]
        assert tasks.list_tasks(session, context("p1"), {"status": "failure"}) == []
    clock.advance(2)
    with db.session() as session:
        assert tasks.list_tasks(session, context("p1"), {}) == []
        with pytest.raises(NotFound):
            tasks.get(session, context("p1"), task_id)


def test_tasks_are_filtered_sorted_and_paged_in_sql(db: Database) -> None:
    clock = VirtualClock()
    tasks = Tasks(clock, IdSource(3))
    dialect = Glance(max_limit=1000, default_limit=25, marker_error=lambda marker: BadRequest(
        f"Task with the given id {marker} not found"))
    made: dict[str, str] = {}
    with db.session() as session:
        for name, owner in (("a", "p1"), ("b", "p2"), ("c", "p1"), ("d", "p1"), ("gone", "p1")):
            task = tasks.create(session, context(owner), "import", {})
            made[name] = task.id
            clock.advance(1)
        tasks.succeed(tasks.get(session, context("p1"), made["c"]))
        tasks.fail(tasks.get(session, context("p1"), made["gone"]), "broken")
        tasks.get(session, context("p1"), made["gone"]).expires_at = clock.now() - 1
    name_of = {task_id: name for name, task_id in made.items()}

    def page(who: RequestContext, query: dict[str, str],
             filters: dict[str, str | None] | None = None) -> tuple[list[str], bool]:
        request = dialect.request(query, ("created_at", "status", "id"),
                                  default_sort=(("created_at", "desc"),))
        window = tasks.list_page(session, who, filters or {}, request, dialect)
        return [name_of[row[0].id] for row in window.items], window.more

    admin = context("p-admin", "admin", "member", "reader")
    with db.session() as session:
        # The expired task is listed no more; a member sees their project's.
        assert page(admin, {}) == (["d", "c", "b", "a"], False)
        assert page(context("p1"), {}) == (["d", "c", "a"], False)
        assert page(context("p1"), {"limit": "1"}) == (["d"], True)
        assert page(context("p1"), {"limit": "1", "marker": made["c"]}) == (["a"], False)
        assert page(admin, {"sort_key": "created_at", "sort_dir": "asc", "limit": "2",
                            "marker": made["a"]}) == (["b", "c"], True)
        # Ties go by creation in the first key's direction.
        assert page(admin, {"sort": "status:asc"}, {"status": "pending"}) == \
            (["a", "b", "d"], False)
        with pytest.raises(BadRequest, match=f"id {made['b']} not found"):
            page(context("p1"), {"marker": made["b"]})
        with pytest.raises(BadRequest, match=f"id {made['gone']} not found"):
            page(admin, {"marker": made["gone"]})
