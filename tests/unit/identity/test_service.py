"""Identity's domain logic without HTTP: bootstrap, roles a token carries, revocation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.api.errors import NotFound, Unauthorized
from stacklab.clock import VirtualClock
from stacklab.identity.service import IdentityService
from stacklab.ids import IdSource
from stacklab.store.database import Database
from support.inprocess import ephemeral_config


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def identity(clock: VirtualClock) -> Iterator[IdentityService]:
    db = Database("sqlite://")
    db.upgrade()
    service = IdentityService(db, clock, IdSource(11), ephemeral_config())
    service.start([])
    yield service
    db.dispose()


def password_auth(name: str, password: str, project: str | None = None) -> dict[str, object]:
    auth: dict[str, object] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "domain": {"id": "default"}, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return auth


def issue(identity: IdentityService, auth: dict[str, object]) -> str:
    with identity.db.session() as session:
        return identity.auth.issue(identity.auth.authenticate(session, auth).payload)


def make_user(identity: IdentityService, name: str, project: str, role: str) -> str:
    with identity.db.session() as session:
        user = identity.users.create_user(session, {"name": name, "password": "pw"}, "default")
        target = identity.resources.find_project(session, name=project, domain_id="default")
        role_row = identity.roles.find_role(session, role)
        session.flush()
        identity.roles.grant(session, "user", user.id, "project", target.id, role_row.id)
        return user.id


def test_bootstrap_is_idempotent(identity: IdentityService) -> None:
    identity.bootstrap()
    with identity.db.session() as session:
        assert [r.name for r in identity.roles.list_roles(session, {})] == \
            ["admin", "manager", "member", "reader", "service"]
        # The admin, and the services' own users (DevStack's nova, neutron, ...).
        assert sorted(u.name for u in identity.users.list_users(session, {})) == \
            ["admin", "cinder", "glance", "heat", "neutron", "nova", "placement"]


def test_admin_token_carries_implied_roles(identity: IdentityService) -> None:
    info = identity.auth.validate(issue(identity, password_auth("admin", "secret", "admin")))
    assert sorted(info.role_names) == ["admin", "manager", "member", "reader"]
    assert info.project is not None and info.project["name"] == "admin"
    assert info.is_admin_project  # no [resource] admin_project_name: every project is


def test_wrong_password_and_unknown_user_are_401(identity: IdentityService) -> None:
    for auth in (password_auth("admin", "nope", "admin"), password_auth("ghost", "x")):
        with pytest.raises(Unauthorized):
            issue(identity, auth)


def test_no_role_on_project_is_401(identity: IdentityService) -> None:
    with identity.db.session() as session:
        identity.users.create_user(session, {"name": "lonely", "password": "pw"}, "default")
    with pytest.raises(Unauthorized, match="has no access"):
        issue(identity, password_auth("lonely", "pw", "admin"))


def test_group_role_reaches_members(identity: IdentityService) -> None:
    with identity.db.session() as session:
        user = identity.users.create_user(session, {"name": "g-user", "password": "pw"},
                                          "default")
        group = identity.users.create_group(session, {"name": "ops"}, "default")
        project = identity.resources.find_project(session, name="service", domain_id="default")
        session.flush()
        identity.users.add_member(session, group.id, user.id)
        identity.roles.grant(session, "group", group.id, "project", project.id,
                             identity.roles.find_role(session, "member").id)
    info = identity.auth.validate(issue(identity, password_auth("g-user", "pw", "service")))
    assert sorted(info.role_names) == ["member", "reader"]


def test_inherited_domain_role_reaches_projects(identity: IdentityService) -> None:
    with identity.db.session() as session:
        user = identity.users.create_user(session, {"name": "inh", "password": "pw"},
                                          "default")
        session.flush()
        identity.roles.grant(session, "user", user.id, "domain", "default",
                             identity.roles.find_role(session, "reader").id, inherited=True)
    info = identity.auth.validate(issue(identity, password_auth("inh", "pw", "service")))
    assert info.role_names == ["reader"]


def test_password_change_revokes_tokens(identity: IdentityService,
                                        clock: VirtualClock) -> None:
    user_id = make_user(identity, "pw-user", "admin", "member")
    token = issue(identity, password_auth("pw-user", "pw", "admin"))
    clock.advance(0.001)
    with identity.db.session() as session:
        identity.users.change_password(session, user_id, "pw", "new")
    with pytest.raises(NotFound):
        identity.auth.validate(token)
    clock.advance(0.001)
    # A token issued after the change, in the same second, is good.
    identity.auth.validate(issue(identity, password_auth("pw-user", "new", "admin")))


def test_removed_assignment_revokes_project_tokens(identity: IdentityService,
                                                   clock: VirtualClock) -> None:
    user_id = make_user(identity, "rm-user", "admin", "member")
    token = issue(identity, password_auth("rm-user", "pw", "admin"))
    with identity.db.session() as session:
        project = identity.resources.find_project(session, name="admin", domain_id="default")
        identity.roles.revoke_grant(session, "user", user_id, "project", project.id,
                                    identity.roles.find_role(session, "member").id)
    with pytest.raises(NotFound):
        identity.auth.validate(token)


def test_token_revocation_by_audit_id_spares_other_tokens(identity: IdentityService,
                                                          clock: VirtualClock) -> None:
    first = issue(identity, password_auth("admin", "secret", "admin"))
    second = issue(identity, password_auth("admin", "secret", "admin"))
    with identity.db.session() as session:
        identity.auth.revoke(session, identity.auth.validate(first).payload)
    with pytest.raises(NotFound):
        identity.auth.validate(first)
    identity.auth.validate(second)


def test_expiry_in_virtual_time(identity: IdentityService, clock: VirtualClock) -> None:
    token = issue(identity, password_auth("admin", "secret", "admin"))
    clock.advance(3599)
    identity.auth.validate(token)
    clock.advance(2)
    with pytest.raises(NotFound):
        identity.auth.validate(token)
    # Within allow_expired_window, a service may still look an expired token up.
    identity.auth.validate(token, allow_expired=True)


def test_revocations_survive_a_restart(identity: IdentityService, clock: VirtualClock) -> None:
    token = issue(identity, password_auth("admin", "secret", "admin"))
    with identity.db.session() as session:
        identity.auth.revoke(session, identity.auth.validate(token).payload)
    reborn = IdentityService(identity.db, clock, IdSource(11), ephemeral_config())
    reborn.start([])
    with pytest.raises(NotFound):
        reborn.auth.validate(token)


def _project_id(identity: IdentityService, name: str) -> str:
    with identity.db.session() as session:
        return identity.resources.find_project(session, name=name, domain_id="default").id


def _change(identity: IdentityService, change: str, user_id: str, token: str) -> None:
    with identity.db.session() as session:
        if change == "revoke the token":
            identity.auth.revoke(session, identity.auth.validate(token).payload)
        elif change == "remove the assignment":
            identity.roles.revoke_grant(session, "user", user_id, "project",
                                        _project_id(identity, "service"),
                                        identity.roles.find_role(session, "member").id)
        elif change == "disable the user":
            identity.users.update_user(session, user_id, {"enabled": False})
        elif change == "disable the project":
            identity.resources.update_project(session, _project_id(identity, "service"),
                                              {"enabled": False})
        else:
            identity.resources.update_domain(session, "default", {"enabled": False})


@pytest.mark.parametrize("change", ["revoke the token", "remove the assignment",
                                    "disable the user", "disable the project",
                                    "disable the domain"])
def test_a_validated_token_is_refused_at_once_after_a_change(
        identity: IdentityService, clock: VirtualClock, change: str) -> None:
    """The decoded token, its subject and roles and the rendered body are kept between
    validations; none of it outlives a change in this process."""
    user_id = make_user(identity, f"cached-{change.split()[-1]}", "service", "member")
    token = issue(identity, password_auth(f"cached-{change.split()[-1]}", "pw", "service"))
    for _ in range(2):  # the second validation is served from what the first kept
        info = identity.auth.validate(token)
        identity.auth.render(None, info, with_catalog=True)
    clock.advance(0.001)
    _change(identity, change, user_id, token)
    with pytest.raises(NotFound):
        identity.auth.validate(token)


def test_the_rendered_catalog_follows_a_new_endpoint_at_once(identity: IdentityService) -> None:
    info = identity.auth.validate(issue(identity, password_auth("admin", "secret", "admin")))
    before = identity.auth.render(None, info, with_catalog=True)["token"]["catalog"]
    assert identity.auth.render(None, info, with_catalog=True)["token"]["catalog"] == before
    with identity.db.session() as session:
        service = identity.catalog.create_service(session, {"type": "dns", "name": "designate"})
        session.flush()
        identity.catalog.create_endpoint(session, {
            "service_id": service.id, "interface": "public",
            "url": "http://dns.test/$(project_id)s", "region_id": None})
    catalog = identity.auth.render(None, info, with_catalog=True)["token"]["catalog"]
    [dns] = [s for s in catalog if s["type"] == "dns"]
    project_id = _project_id(identity, "admin")
    assert [e["url"] for e in dns["endpoints"]] == [f"http://dns.test/{project_id}"]
