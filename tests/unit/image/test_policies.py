"""glance's default rules, evaluated by stacklab's PolicyEngine (oslo.policy underneath).

Targets are built in the shapes documented in ``stacklab.image.policies``: an existing
image is ``project_id``/``owner`` = its owner, ``visibility``, and ``member_id`` = the
caller's project only when the caller reached a shared image as a sharee; a proposed
image is ``project_id``/``owner``/``visibility``; listing is ``project_id`` = caller's.
"""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.policy import PolicyEngine
from stacklab.image.policies import RULES, RULES_BY_NAME

OWNER = "p-owner"
OTHER = "p-other"

# Roles as keystone's implied roles expand them in a token.
ADMIN = ("admin", "member", "reader")
MEMBER = ("member", "reader")
READER = ("reader",)


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(RULES)


def on_project(roles: tuple[str, ...], project: str = OWNER) -> RequestContext:
    return RequestContext(request_id="req-test", user_id="u-alice", user_domain_id="default",
                          project_id=project, project_domain_id="default",
                          roles=list(roles), authenticated=True)


def image(visibility: str = "private", *, owner: str = OWNER,
          member_id: str | None = None) -> dict[str, Any]:
    """An existing image as glance's ImageTarget presents it."""
    return {"id": "img-1", "project_id": owner, "owner": owner, "visibility": visibility,
            "member_id": member_id, "status": "active", "protected": False}


def proposal(owner: str, visibility: str = "private") -> dict[str, Any]:
    """The target glance builds for POST /v2/images."""
    return {"project_id": owner, "owner": owner, "visibility": visibility}


def test_rule_names_are_unique_and_scoped_as_glance_registers_them() -> None:
    assert len(RULES) == len(RULES_BY_NAME) == 67
    unscoped = {r.name for r in RULES if not r.scope_types}
    assert unscoped == {"default", "context_is_admin", "service_api",
                        "metadef_default", "metadef_admin"}
    assert all(r.scope_types == ("project",) for r in RULES if r.name not in unscoped)
    assert all(r.description for r in RULES)


def test_check_strings_keep_glance_spelling() -> None:
    assert RULES_BY_NAME["add_image"].check_str == (
        "rule:context_is_admin or (role:member and project_id:%(project_id)s "
        "and project_id:%(owner)s)")
    assert RULES_BY_NAME["get_image"].check_str == (
        "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or "
        "project_id:%(member_id)s or 'community':%(visibility)s or "
        "'public':%(visibility)s or 'shared':%(visibility)s))")
    assert RULES_BY_NAME["get_members"].check_str == (
        "rule:context_is_admin or role:reader and (project_id:%(project_id)s or "
        "project_id:%(member_id)s)")
    assert RULES_BY_NAME["modify_member"].check_str == (
        "rule:context_is_admin or (role:member and project_id:%(member_id)s)")
    assert RULES_BY_NAME["publicize_image"].check_str == "rule:context_is_admin"


def test_member_may_add_an_image_to_his_own_project(engine: PolicyEngine) -> None:
    assert engine.allows("add_image", proposal(OWNER), on_project(MEMBER))


def test_member_may_not_add_an_image_owned_by_another_project(engine: PolicyEngine) -> None:
    assert not engine.allows("add_image", proposal(OTHER), on_project(MEMBER))
    assert engine.allows("add_image", proposal(OTHER), on_project(ADMIN))


def test_reader_may_not_add_an_image(engine: PolicyEngine) -> None:
    assert not engine.allows("add_image", proposal(OWNER), on_project(READER))


@pytest.mark.parametrize("visibility", ["public", "community"])
def test_any_reader_may_get_a_public_or_community_image(
    engine: PolicyEngine, visibility: str
) -> None:
    assert engine.allows("get_image", image(visibility), on_project(READER, OTHER))


def test_reader_of_another_project_may_not_get_a_private_image(engine: PolicyEngine) -> None:
    assert not engine.allows("get_image", image("private"), on_project(READER, OTHER))
    assert engine.allows("get_image", image("private"), on_project(READER))
    assert engine.allows("get_image", image("private"), on_project(ADMIN, OTHER))


def test_only_admin_may_publicize(engine: PolicyEngine) -> None:
    ctx_owner = on_project(MEMBER)
    assert not engine.allows("publicize_image", proposal(OWNER, "public"), ctx_owner)
    assert not engine.allows("publicize_image", image("private"), ctx_owner)
    assert engine.allows("publicize_image", image("private"), on_project(ADMIN, OTHER))
    # Community visibility, by contrast, is the owner's to give.
    assert engine.allows("communitize_image", image("private"), ctx_owner)


def test_owner_member_may_modify_but_not_others_or_readers(engine: PolicyEngine) -> None:
    assert engine.allows("modify_image", image(), on_project(MEMBER))
    assert not engine.allows("modify_image", image(), on_project(READER))
    assert not engine.allows("modify_image", image("public"), on_project(MEMBER, OTHER))


def test_sharee_reaches_a_shared_image_through_member_id(engine: PolicyEngine) -> None:
    sharee = on_project(MEMBER, OTHER)
    shared = image("shared", member_id=OTHER)
    assert engine.allows("get_image", shared, sharee)
    assert engine.allows("download_image", shared, sharee)
    assert engine.allows("get_members", shared, sharee)
    assert engine.allows("modify_member", shared, sharee)
    # Without member_id (a non-member, or the owner) the member rules refuse.
    assert not engine.allows("get_members", image("shared"), sharee)
    assert not engine.allows("modify_member", image("shared"), sharee)
    # Sharing is the owner's business, not the sharee's.
    assert not engine.allows("add_member", shared, sharee)


def test_get_image_lets_any_reader_see_a_shared_image(engine: PolicyEngine) -> None:
    # glance's DB lookup hides shared images from non-members before policy runs;
    # the default rule itself does not.
    assert engine.allows("get_image", image("shared"), on_project(READER, OTHER))


def test_owner_may_not_accept_a_share_of_his_own_image(engine: PolicyEngine) -> None:
    owner = on_project(MEMBER)
    assert not engine.allows("modify_member", image("shared"), owner)
    assert engine.allows("add_member", image("shared"), owner)
    assert engine.allows("get_members", image("shared"), on_project(READER))


def test_deactivate_is_for_admins_and_the_owners_members(engine: PolicyEngine) -> None:
    # glance's api-ref still says admin only; since Wallaby the owner's members may too.
    assert engine.allows("deactivate", image(owner=OTHER), on_project(ADMIN))
    assert engine.allows("deactivate", image(), on_project(MEMBER))
    assert not engine.allows("deactivate", image(), on_project(READER))
    assert not engine.allows("deactivate", image("public"), on_project(MEMBER, OTHER))
    assert not engine.allows("reactivate", image("public"), on_project(MEMBER, OTHER))


def test_listing_needs_a_reader_on_the_callers_project(engine: PolicyEngine) -> None:
    assert engine.allows("get_images", {"project_id": OTHER}, on_project(READER, OTHER))
    assert not engine.allows("get_images", {"project_id": OTHER}, on_project((), OTHER))


def test_owner_none_never_matches(engine: PolicyEngine) -> None:
    ownerless = {"project_id": None, "owner": None, "visibility": "private"}
    assert not engine.allows("modify_image", ownerless, on_project(MEMBER))


def test_admin_only_and_service_rules(engine: PolicyEngine) -> None:
    member = on_project(MEMBER)
    for rule in ("copy_image", "delete_image_location", "tasks_api_access", "cache_list",
                 "stores_info_detail", "add_metadef_namespace"):
        assert not engine.allows(rule, {}, member), rule
        assert engine.allows(rule, {}, on_project(ADMIN, OTHER)), rule
    assert engine.allows("stores_info_detail", {}, on_project(("service",), OTHER))
    assert engine.allows("fetch_image_location", image(), on_project(("service",), OTHER))
    assert not engine.allows("fetch_image_location", image(), member)


def test_unenforced_task_rules_allow_anyone(engine: PolicyEngine) -> None:
    assert engine.allows("get_task", {}, on_project(READER))


def test_metadef_namespace_read_by_owner_or_when_public(engine: PolicyEngine) -> None:
    private_ns = {"project_id": OWNER, "visibility": "private"}
    public_ns = {"project_id": OWNER, "visibility": "public"}
    stranger = on_project(READER, OTHER)
    assert engine.allows("get_metadef_namespace", public_ns, stranger)
    assert not engine.allows("get_metadef_namespace", private_ns, stranger)
    assert engine.allows("get_metadef_objects", private_ns, on_project(READER))


def test_system_and_domain_scoped_admins_are_refused(engine: PolicyEngine) -> None:
    system = RequestContext(request_id="req-test", user_id="u-sys", system_scope="all",
                            roles=list(ADMIN), authenticated=True)
    domain = RequestContext(request_id="req-test", user_id="u-dom", domain_id="default",
                            roles=list(ADMIN), authenticated=True)
    for ctx in (system, domain):
        assert not engine.allows("get_image", image("public"), ctx)
        assert not engine.allows("deactivate", image(), ctx)
