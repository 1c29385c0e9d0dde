"""OS::Keystone::* plugins driven as heat-engine drives them, against the lab's keystone."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourceFailure
from stacklab.orchestration.template.errors import StackValidationFailed
from unit.orchestration.resources.plugins.conftest import Lab, run

KEYSTONE = "/identity/v3"


def plugin(name: str) -> Any:
    found = registry.get(name)
    assert found is not None, name
    return found()


def test_project_user_group_and_role_with_assignments() -> None:
    async def scenario(lab: Lab) -> None:
        admin = await lab.admin_context("project")
        project = plugin("OS::Keystone::Project")
        project_id, project_props = await lab.create(project, admin, {
            "name": "team", "description": "the team", "tags": ["a"]})
        shown = (await lab.get(f"{KEYSTONE}/projects/{project_id}"))["project"]
        assert (shown["name"], shown["description"], shown["tags"], shown["domain_id"]) == (
            "team", "the team", ["a"], "default")
        attributes = await project.attributes(admin, project_id, project_props)
        assert attributes["domain_id"] == "default" and attributes["enabled"] is True

        role = plugin("OS::Keystone::Role")
        rctx = await lab.admin_context("role")
        role_id, role_props = await lab.create(role, rctx, {"name": "auditor"})
        role_props = await lab.update(role, rctx, role_id, role_props, {"name": "auditor2"})
        assert (await lab.get(f"{KEYSTONE}/roles/{role_id}"))["role"]["name"] == "auditor2"

        group = plugin("OS::Keystone::Group")
        gctx = await lab.admin_context("group")
        group_id, group_props = await lab.create(group, gctx, {
            "roles": [{"role": "auditor2", "project": "team"}]})
        assert (await lab.get(f"{KEYSTONE}/groups/{group_id}"))["group"]["name"] == \
            gctx.physical_name()
        await lab.get(f"{KEYSTONE}/projects/{project_id}/groups/{group_id}/roles/{role_id}",
                      expect=204)

        user = plugin("OS::Keystone::User")
        uctx = await lab.admin_context("user")
        user_id, user_props = await lab.create(user, uctx, {
            "name": "ann", "password": "pw-ann", "default_project": "team",
            "groups": [group_id], "roles": [{"role": "member", "project": project_id}]})
        attributes = await user.attributes(uctx, user_id, user_props)
        assert (attributes["name"], attributes["default_project_id"]) == ("ann", project_id)
        # The user logs in to the project the template gave her a role on.
        assert await lab.login("ann", "pw-ann", "team")
        await lab.get(f"{KEYSTONE}/groups/{group_id}/users/{user_id}", expect=204)

        user_props = await lab.update(user, uctx, user_id, user_props, {
            **{k: v for k, v in user_props.items() if v is not None},
            "groups": [], "roles": [], "enabled": False})
        await lab.get(f"{KEYSTONE}/groups/{group_id}/users/{user_id}", expect=404)
        assert (await lab.get(f"{KEYSTONE}/users/{user_id}"))["user"]["enabled"] is False
        assignments = await lab.get(f"{KEYSTONE}/role_assignments?user.id={user_id}")
        assert assignments["role_assignments"] == []

        for kind, ctx, ident, props in ((user, uctx, user_id, user_props),
                                        (group, gctx, group_id, group_props),
                                        (role, rctx, role_id, role_props),
                                        (project, admin, project_id, project_props)):
            await lab.delete(kind, ctx, ident, props)
        for path in (f"users/{user_id}", f"groups/{group_id}", f"roles/{role_id}",
                     f"projects/{project_id}"):
            await lab.get(f"{KEYSTONE}/{path}", expect=404)

    run(scenario)


def test_a_member_gets_keystones_403_and_unknown_names_heats_text() -> None:
    async def scenario(lab: Lab) -> None:
        ctx = await lab.context("project")
        with pytest.raises(ServiceCallError) as refused:
            await lab.create(plugin("OS::Keystone::Project"), ctx, {"name": "mine"})
        assert refused.value.status == 403
        admin = await lab.admin_context("group")
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(plugin("OS::Keystone::Group"), admin, {
                "roles": [{"role": "no-such-role", "project": "admin"}]})
        assert str(caught.value) == "The KeystoneRole (no-such-role) could not be found."

    run(scenario)


def test_a_role_assignment_names_a_project_or_a_domain() -> None:
    from stacklab.orchestration.resources.properties import check_properties

    found = plugin("OS::Keystone::User")
    properties = check_properties(type(found).PROPERTIES, {"roles": [{"role": "member"}]},
                                  path=["resources", "u"], custom=lambda name, value: True)
    with pytest.raises(StackValidationFailed) as caught:
        found.validate(properties)
    assert str(caught.value) == "Either project or domain must be specified for role member"
