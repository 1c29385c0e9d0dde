"""Application credentials' caller checks, access rules and EC2 key pairs, without HTTP."""

from __future__ import annotations

import json

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import Forbidden, NotFound
from stacklab.identity.service import IdentityService


def caller(identity: IdentityService, name: str) -> RequestContext:
    """A member of the bootstrap's admin project, as its token's context says."""
    with identity.db.session() as session:
        user = identity.users.create_user(session, {"name": name}, "default")
        project = identity.resources.find_project(session, name="admin", domain_id="default")
        session.flush()
        identity.roles.grant(session, "user", user.id, "project", project.id,
                             identity.roles.find_role(session, "member").id)
        return RequestContext("req-1", user_id=user.id, project_id=project.id)


RULE = {"service": "compute", "path": "/v2.1/servers", "method": "GET"}


def test_an_application_credential_is_the_caller_s_own(started: IdentityService) -> None:
    alice = caller(started, "alice")
    with started.db.session() as session:
        assert alice.user_id is not None
        credential, secret = started.app_creds.create(
            session, alice, alice.user_id, {"name": "ci", "access_rules": [RULE]})
        assert credential.project_id == alice.project_id and secret
        assert sorted(started.roles.get_role(session, r).name for r in credential.role_ids) == \
            ["member", "reader"]
        with pytest.raises(Forbidden, match="identity:create_application_credential"):
            started.app_creds.create(session, alice, "someone-else", {"name": "x"})
        unscoped = RequestContext("req-2", user_id=alice.user_id)
        with pytest.raises(Forbidden, match="project-scoped token"):
            started.app_creds.create(session, unscoped, alice.user_id, {"name": "x"})
        through = RequestContext("req-3", user_id=alice.user_id, project_id=alice.project_id,
                                 application_credential_id=credential.id)
        with pytest.raises(Forbidden, match="restricted application credential"):
            started.app_creds.create(session, through, alice.user_id, {"name": "x"})


def test_access_rules_are_found_filtered_and_never_deleted(started: IdentityService) -> None:
    alice = caller(started, "alice")
    assert alice.user_id is not None
    with started.db.session() as session:
        started.app_creds.create(session, alice, alice.user_id,
                                 {"name": "ci", "access_rules": [RULE]})
        (rule,) = started.app_creds.access_rules(session, alice.user_id)
        assert started.app_creds.access_rule(session, alice.user_id, rule["id"]) == rule
        assert started.app_creds.access_rules(session, alice.user_id,
                                              {"service": "image"}) == []
        assert started.app_creds.access_rules(session, alice.user_id,
                                              {"method": "GET", "path": ""}) == [rule]
        with pytest.raises(Forbidden, match="in use by an application credential"):
            started.app_creds.delete_access_rule(session, alice.user_id, rule["id"])
        with pytest.raises(NotFound, match=r"^Could not find access rule: nope\.$"):
            started.app_creds.access_rule(session, alice.user_id, "nope")


def test_an_ec2_key_pair_is_found_by_its_access_key(started: IdentityService) -> None:
    alice = caller(started, "alice")
    assert alice.user_id is not None and alice.project_id is not None
    with started.db.session() as session:
        made = started.credentials.create_ec2(session, alice.user_id, alice.project_id)
        access = json.loads(made.blob)["access"]
        assert started.credentials.get_ec2(session, alice.user_id, access) is made
        with pytest.raises(NotFound, match=rf"^Could not find credential: {access}\.$"):
            started.credentials.get_ec2(session, "another-user", access)
        with pytest.raises(NotFound, match=r"^Could not find project: nope\.$"):
            started.credentials.create_ec2(session, alice.user_id, "nope")
        started.credentials.delete_ec2(session, alice.user_id, access)
        session.flush()
        with pytest.raises(NotFound):
            started.credentials.get_ec2(session, alice.user_id, access)


def test_an_access_rule_outlives_its_credential_until_deleted(started: IdentityService) -> None:
    alice = caller(started, "alice")
    assert alice.user_id is not None
    with started.db.session() as session:
        credential, _ = started.app_creds.create(session, alice, alice.user_id,
                                                 {"name": "ci", "access_rules": [RULE]})
        (rule,) = started.app_creds.access_rules(session, alice.user_id)
        # A second credential with the same rule shares it.
        again, _ = started.app_creds.create(session, alice, alice.user_id,
                                            {"name": "cd", "access_rules": [RULE]})
        assert again.access_rules == [rule]
        for made in (credential, again):
            started.app_creds.delete(session, alice.user_id, made.id)
        session.flush()
        assert started.app_creds.access_rules(session, alice.user_id) == [rule]
        started.app_creds.delete_access_rule(session, alice.user_id, rule["id"])
        session.flush()
        assert started.app_creds.access_rules(session, alice.user_id) == []
        with pytest.raises(NotFound):
            started.app_creds.delete_access_rule(session, alice.user_id, rule["id"])
