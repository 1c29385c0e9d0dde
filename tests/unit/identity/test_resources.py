"""Project tags as the resource backend keeps them: validated, unique, keystone's 404s."""

from __future__ import annotations

import pytest

from stacklab.api.errors import BadRequest, NotFound
from stacklab.identity.service import IdentityService


def test_tags_are_added_checked_and_removed(started: IdentityService) -> None:
    with started.db.session() as session:
        project = started.resources.create_project(session, {"name": "tagged"}, "default")
        started.resources.add_tag(session, project.id, "a")
        started.resources.add_tag(session, project.id, "b")
        assert started.resources.add_tag(session, project.id, "a").tags == ["a", "b"]
        assert started.resources.check_tag(session, project.id, "b") is project
        started.resources.remove_tag(session, project.id, "a")
        assert project.tags == ["b"]
        for missing in (lambda: started.resources.check_tag(session, project.id, "a"),
                        lambda: started.resources.remove_tag(session, project.id, "a")):
            with pytest.raises(NotFound, match=r"^Could not find project tag: a\.$"):
                missing()


@pytest.mark.parametrize("tag", ["", "x" * 256, "a,b", "a/b"])
def test_a_tag_keystone_refuses_is_400(started: IdentityService, tag: str) -> None:
    with started.db.session() as session:
        project = started.resources.create_project(session, {"name": "p"}, "default")
        with pytest.raises(BadRequest, match="is not a valid tag"):
            started.resources.add_tag(session, project.id, tag)
        assert project.tags == []


def test_projects_are_filtered_by_tags_in_the_store(started: IdentityService) -> None:
    with started.db.session() as session:
        for name, tags in (("ab", ["a", "b"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
            started.resources.create_project(session, {"name": name, "tags": tags}, "default")
        session.flush()

        def names(**filters: str) -> list[str]:
            listed = started.resources.list_projects(
                session, {k.replace("_", "-"): v for k, v in filters.items()})
            return [p.name for p in listed if p.name not in ("admin", "service")]

        assert names(tags="a,b") == ["ab"]
        assert names(tags_any="b,c") == ["ab", "c"]
        assert names(not_tags="a,b") == ["a", "c", "none"]
        assert names(not_tags_any="a,c") == ["none"]
        assert names(tags="a", not_tags_any="b") == ["a"]
        # An empty filter is no filter; an empty name in a list is a name no project has.
        assert names(tags="") == names(tags_any="") == ["a", "ab", "c", "none"]
        assert names(tags="a,,b") == []
