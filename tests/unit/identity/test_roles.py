"""The role assignment list's filters and a user's projects, without HTTP."""

from __future__ import annotations

from sqlalchemy.orm import Session

from stacklab.identity.roles import AssignmentQuery, EffectiveAssignment
from stacklab.identity.service import IdentityService


def world(identity: IdentityService, session: Session) -> dict[str, str]:
    """A user in a group; the group holds member on a parent project (inherited to its
    child), the user reader on a domain; admin implies member implies reader."""
    user = identity.users.create_user(session, {"name": "u"}, "default")
    group = identity.users.create_group(session, {"name": "g"}, "default")
    parent = identity.resources.create_project(session, {"name": "parent"}, "default")
    session.flush()
    child = identity.resources.create_project(session, {"name": "child",
                                                        "parent_id": parent.id}, "default")
    session.flush()
    identity.users.add_member(session, group.id, user.id)
    member = identity.roles.find_role(session, "member").id
    reader = identity.roles.find_role(session, "reader").id
    identity.roles.grant(session, "group", group.id, "project", parent.id, member)
    identity.roles.grant(session, "group", group.id, "project", parent.id, member,
                         inherited=True)
    identity.roles.grant(session, "user", user.id, "domain", "default", reader)
    return {"user": user.id, "group": group.id, "parent": parent.id, "child": child.id,
            "member": member, "reader": reader}


def pairs(found: list[EffectiveAssignment]) -> set[tuple[str, str, str, bool]]:
    return {(a.actor_id, a.scope_id, a.role_id, a.inherited) for a in found}


def test_direct_assignments_filtered_by_actor_scope_role(started: IdentityService) -> None:
    with started.db.session() as session:
        w = world(started, session)
        listed = started.roles.list_assignments
        assert pairs(listed(session, AssignmentQuery(group_id=w["group"]))) == {
            (w["group"], w["parent"], w["member"], False),
            (w["group"], w["parent"], w["member"], True)}
        assert pairs(listed(session, AssignmentQuery(user_id=w["user"]))) == {
            (w["user"], "default", w["reader"], False)}
        assert pairs(listed(session, AssignmentQuery(group_id=w["group"],
                                                     inherited_only=True))) == {
            (w["group"], w["parent"], w["member"], True)}
        assert listed(session, AssignmentQuery(user_id=w["user"], project_id=w["parent"])) \
            == []
        assert pairs(listed(session, AssignmentQuery(domain_id="default", role_id=w["reader"]))) \
            == {(w["user"], "default", w["reader"], False)}
        system = listed(session, AssignmentQuery(system=True))
        assert system and {a.scope_kind for a in system} == {"system"}


def test_effective_assignments_expand_groups_inheritance_and_implied_roles(
        started: IdentityService) -> None:
    with started.db.session() as session:
        w = world(started, session)
        listed = started.roles.list_assignments
        mine = listed(session, AssignmentQuery(effective=True, user_id=w["user"]))
        assert {(a.scope_id, a.role_id) for a in mine} == {
            (w["parent"], w["member"]), (w["parent"], w["reader"]),
            (w["child"], w["member"]), (w["child"], w["reader"]),
            ("default", w["reader"])}
        # An effective list names the group the role came through, not the group's rows.
        through = listed(session, AssignmentQuery(effective=True, group_id=w["group"]))
        assert through and {(a.actor_id, a.via_group_id) for a in through} == {
            (w["user"], w["group"])}
        parent_only = listed(session, AssignmentQuery(effective=True, project_id=w["parent"]))
        with_subtree = listed(session, AssignmentQuery(effective=True, project_id=w["parent"],
                                                       include_subtree=True))
        assert {a.scope_id for a in parent_only} == {w["parent"]}
        assert {a.scope_id for a in with_subtree} == {w["parent"], w["child"]}


def test_a_user_s_projects_and_domains_come_through_groups_and_inheritance(
        started: IdentityService) -> None:
    with started.db.session() as session:
        w = world(started, session)
        assert [p.id for p in started.roles.projects_of(session, w["user"])] == \
            sorted([w["parent"], w["child"]])
        assert [d.id for d in started.roles.domains_of(session, w["user"])] == ["default"]
        loner = started.users.create_user(session, {"name": "loner"}, "default")
        session.flush()
        assert started.roles.projects_of(session, loner.id) == []
        assert started.roles.domains_of(session, loner.id) == []


def test_a_domain_role_gives_only_the_global_roles_it_implies(started: IdentityService) -> None:
    """keystone strips domain-specific roles from effective lists and tokens."""
    with started.db.session() as session:
        user = started.users.create_user(session, {"name": "d"}, "default")
        project = started.resources.create_project(session, {"name": "dp"}, "default")
        local = started.roles.create_role(session, {"name": "local", "domain_id": "default"})
        session.flush()
        started.roles.grant(session, "user", user.id, "project", project.id, local.id)
        query = AssignmentQuery(effective=True, user_id=user.id, project_id=project.id)
        assert started.roles.list_assignments(session, query) == []
        assert started.roles.roles_for(session, user.id, "project", project.id) == []
        reader = started.roles.find_role(session, "reader").id
        started.roles.create_inference(session, local.id, reader)
        assert [a.role_id for a in started.roles.list_assignments(session, query)] == [reader]
        assert [r.id for r in started.roles.roles_for(session, user.id, "project",
                                                       project.id)] == [reader]
        # Not in the direct list, which keeps what was granted.
        direct = AssignmentQuery(user_id=user.id, project_id=project.id)
        assert [a.role_id for a in started.roles.list_assignments(session, direct)] == \
            [local.id]
