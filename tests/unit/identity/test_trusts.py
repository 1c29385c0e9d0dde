"""OS-TRUST's rules without HTTP: who may delegate what, for how long and how often, and the
tokens a trust gives its trustee (on the injected virtual clock)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from stacklab.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from stacklab.clock import VirtualClock, isotime
from stacklab.identity.service import IdentityService
from stacklab.identity.trusts import Caller

HOUR = 3600.0


@dataclass
class Delegation:
    trustor: str
    trustee: str
    project: str
    delegated: str  # a role the trustor holds and delegates
    kept: str  # a role the trustor holds and keeps


def setup(identity: IdentityService) -> Delegation:
    with identity.db.session() as session:
        users = [identity.users.create_user(session, {"name": n, "password": "pw"}, "default")
                 for n in ("trustor", "trustee")]
        project = identity.resources.create_project(session, {"name": "p"}, "default")
        roles = [identity.roles.create_role(session, {"name": n}) for n in ("delegated", "kept")]
        session.flush()
        for role in roles:
            identity.roles.grant(session, "user", users[0].id, "project", project.id, role.id)
        return Delegation(users[0].id, users[1].id, project.id, roles[0].id, roles[1].id)


def trust_body(d: Delegation, **extra: Any) -> dict[str, Any]:
    return {"trustor_user_id": d.trustor, "trustee_user_id": d.trustee, "project_id": d.project,
            "impersonation": False, "roles": [{"name": "delegated"}], **extra}


def create(identity: IdentityService, d: Delegation, caller: Caller | None = None,
           **extra: Any) -> str:
    with identity.db.session() as session:
        trust = identity.trusts.create(session, caller or Caller(d.trustor),
                                       trust_body(d, **extra))
        return trust.id


def clock(identity: IdentityService) -> VirtualClock:
    moving = identity.state.clock
    assert isinstance(moving, VirtualClock)
    return moving


def trust_token(identity: IdentityService, user: str, trust_id: str) -> Any:
    with identity.db.session() as session:
        return identity.auth.authenticate(session, {
            "identity": {"methods": ["password"],
                         "password": {"user": {"id": user, "password": "pw"}}},
            "scope": {"OS-TRUST:trust": {"id": trust_id}}})


def test_a_trust_delegates_roles_the_trustor_holds(started: IdentityService) -> None:
    d = setup(started)
    trust_id = create(started, d)
    with started.db.session() as session:
        trust = started.trusts.get(session, trust_id)
        assert trust.role_ids == [d.delegated]
        # Not redelegatable unless asked: depth 0.
        assert trust.redelegation_count == 0 and trust.remaining_uses is None
        assert [r.id for r in started.trusts.roles_of(session, trust)] == [d.delegated]
        with pytest.raises(NotFound, match=rf"^Could not find role: {d.kept}\.$"):
            started.trusts.role_of(session, trust, d.kept)
        admin_role = started.roles.find_role(session, "admin").id
        with pytest.raises(NotFound, match=rf"^Could not find role: {admin_role}\.$"):
            started.trusts.create(session, Caller(d.trustor),
                                  trust_body(d, roles=[{"id": admin_role}]))
        with pytest.raises(Forbidden, match="The authenticated user should match the trustor"):
            started.trusts.create(session, Caller(d.trustee), trust_body(d))
        with pytest.raises(Forbidden, match="At least one role should be specified"):
            started.trusts.create(session, Caller(d.trustor), trust_body(d, roles=[]))
        with pytest.raises(Forbidden, match="'application_credential' is not allowed"):
            started.trusts.create(session, Caller(d.trustor, methods=("application_credential",)),
                                  trust_body(d))
        with pytest.raises(NotFound, match=r"^Could not find user: nobody\.$"):
            started.trusts.create(session, Caller(d.trustor),
                                  trust_body(d, trustee_user_id="nobody"))


def test_expires_at_is_keystone_s_iso_time_z_or_not(started: IdentityService) -> None:
    d = setup(started)
    now = started.state.clock.now()
    later = isotime(now + HOUR)  # "...Z"
    with started.db.session() as session:
        with_z = started.trusts.create(session, Caller(d.trustor), trust_body(d, expires_at=later))
        without = started.trusts.create(session, Caller(d.trustor),
                                        trust_body(d, expires_at=later.rstrip("Z")))
        assert with_z.expires_at == without.expires_at == now + HOUR
        with pytest.raises(BadRequest, match=r"^Timestamp not in expected format"):
            started.trusts.create(session, Caller(d.trustor),
                                  trust_body(d, expires_at="bad.123Z"))
        with pytest.raises(BadRequest, match=r"^The 'expires_at' must not be before now"):
            started.trusts.create(session, Caller(d.trustor),
                                  trust_body(d, expires_at=isotime(now - 1)))
    clock(started).advance(HOUR + 1)
    with started.db.session() as session, pytest.raises(NotFound):
        started.trusts.get(session, with_z.id)
    # An expired trust is still listed, as keystone lists it.
    with started.db.session() as session:
        assert with_z.id in [t.id for t in started.trusts.list_trusts(
            session, trustor_user_id=d.trustor)]


def test_a_trust_token_is_the_trustee_s_with_only_the_delegated_roles(
        started: IdentityService) -> None:
    d = setup(started)
    trust_id = create(started, d)
    info = trust_token(started, d.trustee, trust_id)
    assert info.payload.trust_id == trust_id and info.payload.project_id == d.project
    assert info.user["id"] == d.trustee
    assert {r["id"] for r in info.roles} == {d.delegated}
    token = started.auth.issue(info.payload)
    with started.db.session() as session:
        body = started.auth.render(session, started.auth.validate(token), with_catalog=False)
    assert body["token"]["OS-TRUST:trust"] == {
        "id": trust_id, "trustor_user": {"id": d.trustor}, "trustee_user": {"id": d.trustee},
        "impersonation": False}
    assert body["token"]["project"]["id"] == d.project and "is_domain" not in body["token"]
    # Only the trustee may use it.
    with pytest.raises(Forbidden, match=r"^User is not a trustee\.$"):
        trust_token(started, d.trustor, trust_id)
    # A trust token cannot make another token.
    with started.db.session() as session, pytest.raises(Forbidden, match="trust-scoped token"):
        started.auth.authenticate(session, {"identity": {"methods": ["token"],
                                                         "token": {"id": token}},
                                            "scope": {"project": {"id": d.project}}})


def test_impersonation_shows_the_trustor(started: IdentityService) -> None:
    d = setup(started)
    info = trust_token(started, d.trustee, create(started, d, impersonation=True))
    assert info.user["id"] == d.trustor and info.payload.user_id == d.trustee


def test_remaining_uses_count_the_tokens_a_trust_gives(started: IdentityService) -> None:
    d = setup(started)
    trust_id = create(started, d, remaining_uses=2)
    trust_token(started, d.trustee, trust_id)
    last = started.auth.issue(trust_token(started, d.trustee, trust_id).payload)
    # The token of the last use stays good; the trust gives no more.
    started.auth.validate(last)
    with pytest.raises(Unauthorized, match=rf"^Could not find trust: {trust_id}\.$"):
        trust_token(started, d.trustee, trust_id)
    with started.db.session() as session, pytest.raises(BadRequest, match="remaining_uses"):
        started.trusts.create(session, Caller(d.trustor),
                              trust_body(d, remaining_uses=1, allow_redelegation=True))


def test_trust_tokens_end_with_the_trust_or_the_trustor_s_role(started: IdentityService) -> None:
    d = setup(started)
    trust_id = create(started, d, expires_at=isotime(started.state.clock.now() + HOUR))
    token = started.auth.issue(trust_token(started, d.trustee, trust_id).payload)
    started.auth.validate(token)
    clock(started).advance(HOUR + 1)
    with pytest.raises(NotFound):
        started.auth.validate(token)
    other = create(started, d)
    token = started.auth.issue(trust_token(started, d.trustee, other).payload)
    with started.db.session() as session:
        started.roles.revoke_grant(session, "user", d.trustor, "project", d.project, d.delegated)
    with pytest.raises(NotFound):
        started.auth.validate(token)
    with pytest.raises(Forbidden, match="Trustee has no delegated roles"):
        trust_token(started, d.trustee, other)


def test_redelegation_hands_on_at_most_what_the_trust_holds(started: IdentityService) -> None:
    d = setup(started)
    parent_id = create(started, d, allow_redelegation=True, impersonation=False)
    with started.db.session() as session:
        third = started.users.create_user(session, {"name": "third"}, "default").id
        assert started.trusts.get(session, parent_id).redelegation_count == 3
    # The trustee, through its trust token, delegates on to a third user.
    trustee = Caller(d.trustee, trust_id=parent_id)
    body = trust_body(d, trustor_user_id=d.trustee, trustee_user_id=third,
                      allow_redelegation=True)
    with started.db.session() as session:
        child = started.trusts.create(session, trustee, body)
        assert (child.redelegated_trust_id, child.redelegation_count) == (parent_id, 2)
        session.flush()
        # The chain holds only while its agents do.
        started.users.get_user(session, d.trustee).enabled = False
        with pytest.raises(Forbidden, match="One of the trust agents is disabled"):
            started.trusts.get(session, child.id)
        started.users.get_user(session, d.trustee).enabled = True
        with pytest.raises(Forbidden, match="Impersonation is not allowed"):
            started.trusts.create(session, trustee, {**body, "impersonation": True})
        with pytest.raises(Forbidden, match='Modifying "redelegation_count"'):
            started.trusts.create(session, trustee, {**body, "redelegation_count": 3})
        with pytest.raises(Forbidden, match="greater than allowed 3"):
            started.trusts.create(session, Caller(d.trustor),
                                  trust_body(d, allow_redelegation=True, redelegation_count=4))
        started.trusts.delete(session, parent_id)
        session.flush()
        # Deleting a trust deletes the trusts redelegated from it.
        for gone in (parent_id, child.id):
            with pytest.raises(NotFound):
                started.trusts.get(session, gone)
    # A trust that may not be redelegated is not.
    plain = create(started, d)
    with started.db.session() as session, pytest.raises(Forbidden, match="depth of 0"):
        started.trusts.create(session, Caller(d.trustee, trust_id=plain),
                              {**body, "allow_redelegation": False})


def test_a_deleted_user_takes_its_trusts_along(started: IdentityService) -> None:
    d = setup(started)
    trust_id = create(started, d)
    with started.db.session() as session:
        started.users.delete_user(session, d.trustee)
    with started.db.session() as session, pytest.raises(NotFound):
        started.trusts.get(session, trust_id)


def test_rescoping_keeps_the_methods_of_the_first_token(started: IdentityService) -> None:
    d = setup(started)
    with started.db.session() as session:
        first = started.auth.authenticate(session, {"identity": {
            "methods": ["password"],
            "password": {"user": {"id": d.trustor, "password": "pw"}}}})
        token = started.auth.issue(first.payload)
        rescoped = started.auth.authenticate(session, {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": d.project}}})
    assert rescoped.payload.methods == ("password", "token")
    assert started.auth.validate(started.auth.issue(rescoped.payload)).payload.methods == \
        ("password", "token")
