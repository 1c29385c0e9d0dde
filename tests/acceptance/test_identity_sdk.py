"""Identity v3 against a live cloud: raw HTTP checked against upstream, and the real SDK.

Every raw response body is validated with keystone's own schema (``derived/``) or, for
``/v3/auth/*``, the identity OpenAPI spec plus keystone's api-ref samples; every status is
keystone's. The openstacksdk/keystoneauth1 half checks what clients notice: tokens that
stop working the moment keystone would revoke them, project isolation, expiry, and that a
seeded cloud repeats its ids.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import openstack
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud
from support.apiref import assert_keystone_response, assert_shape_like_sample, sample

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SAMPLES = "api-ref/source/v3/samples/admin"
# Keystone shows password_expires_at as a time in some samples and null in others: null is
# what it sends when no password expiry is configured, which is the lab's (and upstream's)
# default.
PASSWORD_EXPIRY = "$.token.user.password_expires_at"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def keystone_sample(name: str) -> Any:
    return sample("keystone", f"{SAMPLES}/{name}")


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def request_id(self) -> str:
        return self.headers["x-openstack-request-id"]


class Raw:
    """Plain HTTP to the identity endpoint; every answer passes the checks all must pass."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(timeout=30)

    def call(self, method: str, path: str, *, token: str | None = None, body: Any = None,
             content: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        if token is not None:
            sent["X-Auth-Token"] = token
        if body is not None:
            content = json.dumps(body).encode()
        if content is not None:
            sent.setdefault("Content-Type", "application/json")
        response = self.client.request(method, f"{self.base}{path}", content=content,
                                       headers=sent)
        answer = Answer(response.status_code, response.headers, response.text)
        assert REQUEST_ID.match(answer.headers.get("x-openstack-request-id", "")), (
            f"{method} {path}: no req-<uuid> x-openstack-request-id: {dict(answer.headers)}")
        assert "Traceback" not in answer.text, f"{method} {path} leaked a traceback"
        assert answer.status < 500 or answer.status == 501, (
            f"{method} {path} -> {answer.status}: {answer.text}")
        return answer

    def expect(self, status: int, method: str, path: str, template: str | None = None,
               **kw: Any) -> Any:
        """Call, check keystone's status, validate the body against upstream; the body."""
        answer = self.call(method, path, **kw)
        assert answer.status == status, f"{method} {path}: {answer.status} {answer.text}"
        if status == 204:
            assert answer.text == "", f"{method} {path}: 204 with a body: {answer.text!r}"
            return None
        if template is not None:
            assert_keystone_response(answer.body, template, method, status=str(status))
        return answer.body

    def password_token(self, name: str, password: str, *, project: str | None = None,
                       scope: Any = None, domain: str = "default") -> Answer:
        auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
            "name": name, "domain": {"id": domain}, "password": password}}}}
        if project is not None:
            auth["scope"] = {"project": {"id": project}}
        elif scope is not None:
            auth["scope"] = scope
        return self.call("POST", "/v3/auth/tokens", body={"auth": auth})

    def token(self, name: str, password: str, **kw: Any) -> str:
        answer = self.password_token(name, password, **kw)
        assert answer.status == 201, answer.text
        return answer.headers["x-subject-token"]


@pytest.fixture(scope="module")
def raw(live: LiveCloud) -> Iterator[Raw]:
    client = Raw(live.auth_url)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def admin(raw: Raw) -> str:
    """A project-scoped admin token, as keystone-manage bootstrap's admin gets it."""
    return raw.token("admin", "secret", scope={"project": {
        "name": "admin", "domain": {"id": "default"}}})


@pytest.fixture(scope="module")
def domain(raw: Raw, admin: str) -> Iterator[str]:
    """A domain with a keystone-style 32-hex id.

    The identity spec (the only oracle for a few list routes) types every domain_id as a
    uuid, which keystone's default domain id "default" is not; entities in this domain
    keep those checks meaningful instead of skipping them.
    """
    created = raw.expect(201, "POST", "/v3/domains", token=admin,
                         body={"domain": {"name": unique("spec-dom")}})["domain"]
    yield created["id"]
    raw.expect(200, "PATCH", f"/v3/domains/{created['id']}", token=admin,
               body={"domain": {"enabled": False}})
    raw.expect(204, "DELETE", f"/v3/domains/{created['id']}", token=admin)


def role_id(raw: Raw, admin: str, name: str) -> str:
    roles = raw.expect(200, "GET", f"/v3/roles?name={name}", "/v3/roles", token=admin)["roles"]
    assert len(roles) == 1, roles
    return str(roles[0]["id"])


@dataclass
class Member:
    """A user with a role on a fresh project, and a token scoped to it."""

    user_id: str
    name: str
    password: str
    project_id: str
    token: str


def make_member(raw: Raw, admin: str, role: str = "member") -> Member:
    project = raw.expect(201, "POST", "/v3/projects", token=admin,
                         body={"project": {"name": unique("proj")}})["project"]
    name, password = unique("user"), "pw-" + uuid.uuid4().hex
    user = raw.expect(201, "POST", "/v3/users", token=admin, body={"user": {
        "name": name, "password": password, "default_project_id": project["id"]}})["user"]
    raw.expect(204, "PUT",
               f"/v3/projects/{project['id']}/users/{user['id']}/roles/"
               f"{role_id(raw, admin, role)}", token=admin)
    token = raw.token(name, password, project=project["id"])
    return Member(user["id"], name, password, project["id"], token)


def is_valid(raw: Raw, admin: str, token: str) -> int:
    """Keystone's answer to validating ``token``: 200, or 404 once it is no good."""
    return raw.call("GET", "/v3/auth/tokens", token=admin,
                    headers={"X-Subject-Token": token}).status


def works(raw: Raw, token: str, user_id: str) -> int:
    """The status a request made *with* ``token`` gets (401 once it is no good)."""
    return raw.call("GET", f"/v3/users/{user_id}", token=token).status


# --------------------------------------------------------------------------- resources, raw


def test_domains_crud(raw: Raw, admin: str) -> None:
    name = unique("dom")
    created = raw.expect(201, "POST", "/v3/domains", "/v3/domains", token=admin,
                         body={"domain": {"name": name, "description": "d"}})["domain"]
    path = f"/v3/domains/{created['id']}"
    assert created["name"] == name
    shown = raw.expect(200, "GET", path, "/v3/domains/{domain_id}", token=admin)["domain"]
    assert shown["id"] == created["id"]
    listed = raw.expect(200, "GET", "/v3/domains", "/v3/domains", token=admin)["domains"]
    assert created["id"] in {d["id"] for d in listed}
    # keystone refuses to delete an enabled domain (403): disable it first.
    assert raw.call("DELETE", path, token=admin).status == 403
    updated = raw.expect(200, "PATCH", path, "/v3/domains/{domain_id}", token=admin,
                         body={"domain": {"enabled": False, "description": "e"}})["domain"]
    assert updated["enabled"] is False and updated["description"] == "e"
    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404


def test_projects_crud_and_tags(raw: Raw, admin: str) -> None:
    name = unique("proj")
    created = raw.expect(201, "POST", "/v3/projects", "/v3/projects", token=admin,
                         body={"project": {"name": name, "tags": ["a"]}})["project"]
    path = f"/v3/projects/{created['id']}"
    assert created["domain_id"] == "default" and created["parent_id"] == "default"
    raw.expect(200, "GET", path, "/v3/projects/{project_id}", token=admin)
    listed = raw.expect(200, "GET", f"/v3/projects?name={name}", "/v3/projects",
                        token=admin)["projects"]
    assert [p["id"] for p in listed] == [created["id"]]
    updated = raw.expect(200, "PATCH", path, "/v3/projects/{project_id}", token=admin,
                         body={"project": {"description": "new"}})["project"]
    assert updated["description"] == "new"

    tags = f"{path}/tags"
    template = "/v3/projects/{project_id}/tags"
    assert raw.expect(200, "GET", tags, template, token=admin)["tags"] == ["a"]
    replaced = raw.expect(200, "PUT", tags, template, token=admin, body={"tags": ["x", "y"]})
    assert sorted(replaced["tags"]) == ["x", "y"]
    # (keystone's project-tags-update-response.json sample shows a project list, not the
    # tags: the derived schema is the oracle here.)
    add = raw.call("PUT", f"{tags}/z", token=admin)
    assert add.status == 201 and add.text == ""
    raw.expect(204, "GET", f"{tags}/z", token=admin)
    raw.expect(204, "DELETE", f"{tags}/z", token=admin)
    assert raw.call("GET", f"{tags}/z", token=admin).status == 404
    raw.expect(204, "DELETE", tags, token=admin)
    assert raw.expect(200, "GET", tags, template, token=admin)["tags"] == []

    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404


def test_project_tags_carry_links(raw: Raw, admin: str) -> None:
    project = raw.expect(201, "POST", "/v3/projects", token=admin,
                         body={"project": {"name": unique("proj"), "tags": ["a"]}})["project"]
    tags = f"/v3/projects/{project['id']}/tags"
    try:
        shown = raw.expect(200, "GET", tags, "/v3/projects/{project_id}/tags", token=admin)
        replaced = raw.expect(200, "PUT", tags, "/v3/projects/{project_id}/tags", token=admin,
                              body={"tags": ["b"]})
    finally:
        raw.expect(204, "DELETE", f"/v3/projects/{project['id']}", token=admin)
    assert shown["links"]["self"].endswith(tags)
    assert replaced["links"]["self"].endswith(tags)


def test_users_crud(raw: Raw, admin: str, domain: str) -> None:
    name = unique("user")
    created = raw.expect(201, "POST", "/v3/users", "/v3/users", token=admin,
                         body={"user": {"name": name, "password": "pw", "domain_id": domain,
                                        "email": "u@example.org"}})["user"]
    assert "password" not in created
    path = f"/v3/users/{created['id']}"
    raw.expect(200, "GET", path, "/v3/users/{user_id}", token=admin)
    listed = raw.expect(200, "GET", f"/v3/users?name={name}", "/v3/users", token=admin)
    assert [u["id"] for u in listed["users"]] == [created["id"]]
    updated = raw.expect(200, "PATCH", path, "/v3/users/{user_id}", token=admin,
                         body={"user": {"description": "dd", "enabled": False}})["user"]
    assert updated["enabled"] is False and updated["description"] == "dd"
    groups = raw.expect(200, "GET", f"{path}/groups", "/v3/users/{user_id}/groups",
                        token=admin)
    assert groups["groups"] == []
    projects = raw.expect(200, "GET", f"{path}/projects", "/v3/users/{user_id}/projects",
                          token=admin)
    assert projects["projects"] == []
    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404


def test_groups_crud_and_membership(raw: Raw, admin: str, domain: str) -> None:
    created = raw.expect(201, "POST", "/v3/groups", "/v3/groups", token=admin,
                         body={"group": {"name": unique("grp"), "domain_id": domain}})["group"]
    path = f"/v3/groups/{created['id']}"
    raw.expect(200, "GET", path, "/v3/groups/{group_id}", token=admin)
    listed = raw.expect(200, "GET", "/v3/groups", "/v3/groups", token=admin)["groups"]
    assert created["id"] in {g["id"] for g in listed}
    raw.expect(200, "PATCH", path, "/v3/groups/{group_id}", token=admin,
               body={"group": {"description": "g"}})
    user = raw.expect(201, "POST", "/v3/users", token=admin,
                      body={"user": {"name": unique("user"), "domain_id": domain}})["user"]
    member = f"{path}/users/{user['id']}"
    raw.expect(204, "PUT", member, token=admin)
    assert raw.call("HEAD", member, token=admin).status == 204
    raw.expect(204, "GET", member, token=admin)
    users = raw.expect(200, "GET", f"{path}/users", "/v3/groups/{group_id}/users",
                       token=admin)["users"]
    assert [u["id"] for u in users] == [user["id"]]
    mine = raw.expect(200, "GET", f"/v3/users/{user['id']}/groups",
                      "/v3/users/{user_id}/groups", token=admin)["groups"]
    assert [g["id"] for g in mine] == [created["id"]]
    raw.expect(204, "DELETE", member, token=admin)
    assert raw.call("HEAD", member, token=admin).status == 404
    raw.expect(204, "DELETE", path, token=admin)
    raw.expect(204, "DELETE", f"/v3/users/{user['id']}", token=admin)
    assert raw.call("GET", path, token=admin).status == 404


def test_roles_crud_and_grants(raw: Raw, admin: str) -> None:
    role = raw.expect(201, "POST", "/v3/roles", "/v3/roles", token=admin,
                      body={"role": {"name": unique("role")}})["role"]
    path = f"/v3/roles/{role['id']}"
    raw.expect(200, "GET", path, "/v3/roles/{role_id}", token=admin)
    listed = raw.expect(200, "GET", "/v3/roles", "/v3/roles", token=admin)["roles"]
    assert role["id"] in {r["id"] for r in listed}
    raw.expect(200, "PATCH", path, "/v3/roles/{role_id}", token=admin,
               body={"role": {"description": "r"}})

    project = raw.expect(201, "POST", "/v3/projects", token=admin,
                         body={"project": {"name": unique("proj")}})["project"]
    user = raw.expect(201, "POST", "/v3/users", token=admin,
                      body={"user": {"name": unique("user")}})["user"]
    group = raw.expect(201, "POST", "/v3/groups", token=admin,
                       body={"group": {"name": unique("grp")}})["group"]
    for scope, scope_id in (("projects", project["id"]), ("domains", "default")):
        for actor, actor_id in (("users", user["id"]), ("groups", group["id"])):
            base = f"/v3/{scope}/{scope_id}/{actor}/{actor_id}/roles"
            one = f"{base}/{role['id']}"
            raw.expect(204, "PUT", one, token=admin)
            raw.expect(204, "GET", one, token=admin)
            assert raw.call("HEAD", one, token=admin).status == 204
            template = f"/v3/{scope}/{{{scope[:-1]}_id}}/{actor}/{{{actor[:-1]}_id}}/roles"
            granted = raw.expect(200, "GET", base, template, token=admin)["roles"]
            assert [r["id"] for r in granted] == [role["id"]]
            raw.expect(204, "DELETE", one, token=admin)
            assert raw.call("GET", one, token=admin).status == 404
    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404
    for leftover in (f"/v3/projects/{project['id']}", f"/v3/users/{user['id']}",
                     f"/v3/groups/{group['id']}"):
        raw.expect(204, "DELETE", leftover, token=admin)


def test_role_inferences(raw: Raw, admin: str) -> None:
    prior = raw.expect(201, "POST", "/v3/roles", token=admin,
                       body={"role": {"name": unique("prior")}})["role"]
    implied = raw.expect(201, "POST", "/v3/roles", token=admin,
                         body={"role": {"name": unique("implied")}})["role"]
    one = f"/v3/roles/{prior['id']}/implies/{implied['id']}"
    template = "/v3/roles/{prior_role_id}/implies/{implied_role_id}"
    created = raw.expect(201, "PUT", one, template, token=admin)
    assert_shape_like_sample(created, keystone_sample("create-role-inferences-response.json"))
    assert created["role_inference"]["implies"]["id"] == implied["id"]
    raw.expect(200, "GET", one, template, token=admin)
    assert raw.call("HEAD", one, token=admin).status == 204
    listed = raw.expect(200, "GET", f"/v3/roles/{prior['id']}/implies",
                        "/v3/roles/{prior_role_id}/implies", token=admin)
    assert [r["id"] for r in listed["role_inference"]["implies"]] == [implied["id"]]
    assert_shape_like_sample(listed,
                             keystone_sample("list-implied-roles-for-role-response.json"))
    every = raw.expect(200, "GET", "/v3/role_inferences", "/v3/role_inferences", token=admin)
    # The sample shows a description on each role; keystone's code
    # (build_prior_role_response_data / build_implied_role_response_data) sends id, name
    # and links only, and so does its derived schema.
    assert_shape_like_sample(every, keystone_sample("role-inferences-response.json"),
                             ignore={"$.role_inferences[*].prior_role.description",
                                     "$.role_inferences[*].implies[*].description"})
    priors = {i["prior_role"]["name"]: {r["name"] for r in i["implies"]}
              for i in every["role_inferences"]}
    # keystone-manage bootstrap's chain.
    # keystone-manage bootstrap: admin => manager => member => reader.
    assert "manager" in priors["admin"] and "member" in priors["manager"]
    assert "reader" in priors["member"]
    assert priors[prior["name"]] == {implied["name"]}
    raw.expect(204, "DELETE", one, token=admin)
    assert raw.call("GET", one, token=admin).status == 404
    for role in (prior, implied):
        raw.expect(204, "DELETE", f"/v3/roles/{role['id']}", token=admin)


def test_role_assignments(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin, role="admin")
    group = raw.expect(201, "POST", "/v3/groups", token=admin,
                       body={"group": {"name": unique("grp")}})["group"]
    raw.expect(204, "PUT", f"/v3/groups/{group['id']}/users/{member.user_id}", token=admin)
    reader = role_id(raw, admin, "reader")
    raw.expect(204, "PUT", f"/v3/domains/default/groups/{group['id']}/roles/{reader}",
               token=admin)
    template = "/v3/role_assignments"
    # The samples' first item is a domain assignment; ours differ in scope kind, which the
    # derived schema (a oneOf of project, domain and system scopes) already checks.
    any_scope = {"$.role_assignments[*].scope.domain"}

    direct = raw.expect(200, "GET", f"/v3/role_assignments?user.id={member.user_id}",
                        template, token=admin)
    assert_shape_like_sample(direct, keystone_sample("role-assignments-list-response.json"),
                             ignore=any_scope)
    assert [(a["scope"], a["role"]["id"]) for a in direct["role_assignments"]] == [
        ({"project": {"id": member.project_id}}, role_id(raw, admin, "admin"))]

    effective = raw.expect(
        200, "GET", f"/v3/role_assignments?effective&user.id={member.user_id}", template,
        token=admin)
    assert_shape_like_sample(effective,
                             keystone_sample("role-assignments-effective-list-response.json"),
                             ignore=any_scope)
    roles = {(next(iter(a["scope"])), a["role"]["id"]) for a in effective["role_assignments"]}
    # admin implies member implies reader; the group's domain role reaches the user.
    assert {("project", role_id(raw, admin, n)) for n in ("admin", "member", "reader")} <= roles
    assert ("domain", reader) in roles
    via_group = [a for a in effective["role_assignments"] if "domain" in a["scope"]]
    assert via_group and all("membership" in a["links"] for a in via_group)
    assert all("user" in a for a in effective["role_assignments"])

    named = raw.expect(
        200, "GET",
        f"/v3/role_assignments?effective&include_names=true&user.id={member.user_id}",
        template, token=admin)
    # keystone's include_names sample is not valid JSON (a comma is missing), so the
    # shape is checked field by field here.
    for item in named["role_assignments"]:
        assert item["role"]["name"] and item["user"]["name"] == member.name
        assert item["user"]["domain"] == {"id": "default", "name": "Default"}
        scope = item["scope"].get("project") or item["scope"]["domain"]
        assert scope["name"]

    raw.expect(204, "DELETE", f"/v3/groups/{group['id']}", token=admin)
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
    raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)


def test_collection_self_link_keeps_the_query(raw: Raw, admin: str) -> None:
    body = raw.expect(200, "GET", "/v3/role_assignments?effective", "/v3/role_assignments",
                      token=admin)
    assert body["links"]["self"].endswith("/v3/role_assignments?effective")


def test_regions_crud(raw: Raw, admin: str) -> None:
    created = raw.expect(201, "POST", "/v3/regions", "/v3/regions", token=admin,
                         body={"region": {"description": "r"}})["region"]
    chosen = unique("Region")
    put = raw.expect(201, "PUT", f"/v3/regions/{chosen}", "/v3/regions/{region_id}",
                     token=admin, body={"region": {"parent_region_id": created["id"]}})
    assert put["region"]["id"] == chosen and put["region"]["parent_region_id"] == created["id"]
    path = f"/v3/regions/{created['id']}"
    raw.expect(200, "GET", path, "/v3/regions/{region_id}", token=admin)
    listed = raw.expect(200, "GET", "/v3/regions", "/v3/regions", token=admin)["regions"]
    assert {created["id"], chosen} <= {r["id"] for r in listed}
    raw.expect(200, "PATCH", path, "/v3/regions/{region_id}", token=admin,
               body={"region": {"description": "s"}})
    # keystone deletes the child regions with their parent (none holds an endpoint).
    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404
    assert raw.call("GET", f"/v3/regions/{chosen}", token=admin).status == 404


def test_services_and_endpoints_crud(raw: Raw, admin: str) -> None:
    service = raw.expect(201, "POST", "/v3/services", "/v3/services", token=admin,
                         body={"service": {"type": unique("type"), "name": "svc"}})["service"]
    spath = f"/v3/services/{service['id']}"
    raw.expect(200, "GET", spath, "/v3/services/{service_id}", token=admin)
    raw.expect(200, "GET", "/v3/services", "/v3/services", token=admin)
    raw.expect(200, "PATCH", spath, "/v3/services/{service_id}", token=admin,
               body={"service": {"description": "s"}})
    endpoint = raw.expect(201, "POST", "/v3/endpoints", "/v3/endpoints", token=admin, body={
        "endpoint": {"service_id": service["id"], "interface": "public",
                     "url": "http://example.org:9999/v1", "region_id": "RegionOne"}})["endpoint"]
    epath = f"/v3/endpoints/{endpoint['id']}"
    raw.expect(200, "GET", epath, "/v3/endpoints/{endpoint_id}", token=admin)
    listed = raw.expect(200, "GET", f"/v3/endpoints?service_id={service['id']}",
                        "/v3/endpoints", token=admin)["endpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    raw.expect(200, "PATCH", epath, "/v3/endpoints/{endpoint_id}", token=admin,
               body={"endpoint": {"interface": "internal"}})
    raw.expect(204, "DELETE", epath, token=admin)
    raw.expect(204, "DELETE", spath, token=admin)
    assert raw.call("GET", spath, token=admin).status == 404


def test_credentials_crud(raw: Raw, admin: str) -> None:
    token = raw.expect(200, "GET", "/v3/auth/tokens", token=admin,
                       headers={"X-Subject-Token": admin})["token"]
    me, project = token["user"]["id"], token["project"]["id"]
    # keystone insists on a project for ec2 credentials (400 without one).
    access = uuid.uuid4().hex
    assert raw.call("POST", "/v3/credentials", token=admin, body={"credential": {
        "blob": json.dumps({"access": access, "secret": "b"}), "type": "ec2",
        "user_id": me}}).status == 400
    created = raw.expect(201, "POST", "/v3/credentials", "/v3/credentials", token=admin, body={
        "credential": {"blob": json.dumps({"access": access, "secret": "b"}), "type": "ec2",
                       "user_id": me, "project_id": project}})["credential"]
    path = f"/v3/credentials/{created['id']}"
    raw.expect(200, "GET", path, "/v3/credentials/{credential_id}", token=admin)
    listed = raw.expect(200, "GET", "/v3/credentials", "/v3/credentials", token=admin)
    assert created["id"] in {c["id"] for c in listed["credentials"]}
    raw.expect(200, "PATCH", path, "/v3/credentials/{credential_id}", token=admin,
               body={"credential": {"blob": json.dumps({"access": access, "secret": "c"})}})
    raw.expect(204, "DELETE", path, token=admin)
    assert raw.call("GET", path, token=admin).status == 404


def test_application_credentials_raw(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    base = f"/v3/users/{member.user_id}/application_credentials"
    created = raw.expect(201, "POST", base, "/v3/users/{user_id}/application_credentials",
                         token=member.token, body={"application_credential": {
                             "name": "monitoring", "description": "m"}})
    credential = created["application_credential"]
    assert credential["secret"] and credential["project_id"] == member.project_id
    assert_shape_like_sample(created,
                             keystone_sample("application-credential-create-response.json"),
                             ignore={"$.application_credential.access_rules",
                                     "$.application_credential.expires_at"})
    one = f"{base}/{credential['id']}"
    template = "/v3/users/{user_id}/application_credentials/{application_credential_id}"
    shown = raw.expect(200, "GET", one, template, token=member.token)
    assert "secret" not in shown["application_credential"]
    listed = raw.expect(200, "GET", base, "/v3/users/{user_id}/application_credentials",
                        token=member.token)
    assert [c["id"] for c in listed["application_credentials"]] == [credential["id"]]

    auth = raw.call("POST", "/v3/auth/tokens", body={"auth": {"identity": {
        "methods": ["application_credential"],
        "application_credential": {"id": credential["id"], "secret": credential["secret"]}}}})
    assert auth.status == 201, auth.text
    assert_keystone_response(auth.body, "/v3/auth/tokens", "POST", status="201")
    assert_shape_like_sample(auth.body,
                             keystone_sample("auth-application-credential-response.json"))
    assert auth.body["token"]["application_credential"]["id"] == credential["id"]

    raw.expect(204, "DELETE", one, token=member.token)
    assert raw.call("GET", one, token=member.token).status == 404
    # keystone revokes the tokens made with a deleted application credential.
    assert is_valid(raw, admin, auth.headers["x-subject-token"]) == 404
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)


# --------------------------------------------------------------------------- tokens, raw


def test_token_issue_validate_check_revoke(raw: Raw, admin: str) -> None:
    issued = raw.password_token("admin", "secret", scope={"project": {
        "name": "admin", "domain": {"id": "default"}}})
    assert issued.status == 201
    token = issued.headers["x-subject-token"]
    assert_keystone_response(issued.body, "/v3/auth/tokens", "POST", status="201")
    assert_shape_like_sample(issued.body,
                             keystone_sample("auth-password-project-scoped-response.json"),
                             ignore={PASSWORD_EXPIRY})

    validated = raw.call("GET", "/v3/auth/tokens", token=admin,
                         headers={"X-Subject-Token": token})
    assert validated.status == 200 and validated.headers["x-subject-token"] == token
    assert_keystone_response(validated.body, "/v3/auth/tokens", "GET")
    assert_shape_like_sample(validated.body,
                             keystone_sample("auth-password-project-scoped-response.json"),
                             ignore={PASSWORD_EXPIRY})
    assert validated.body["token"]["audit_ids"] == issued.body["token"]["audit_ids"]
    nocatalog = raw.expect(200, "GET", "/v3/auth/tokens?nocatalog", "/v3/auth/tokens",
                           token=admin, headers={"X-Subject-Token": token})
    assert "catalog" not in nocatalog["token"]
    assert raw.call("HEAD", "/v3/auth/tokens", token=admin,
                    headers={"X-Subject-Token": token}).status == 200

    raw.expect(204, "DELETE", "/v3/auth/tokens", token=admin,
               headers={"X-Subject-Token": token})
    assert is_valid(raw, admin, token) == 404
    assert raw.call("HEAD", "/v3/auth/tokens", token=admin,
                    headers={"X-Subject-Token": token}).status == 404
    assert works(raw, token, "x") == 401


def test_token_unscoped_and_rescoped(raw: Raw, admin: str) -> None:
    unscoped = raw.password_token("admin", "secret", scope="unscoped")
    assert unscoped.status == 201
    assert_keystone_response(unscoped.body, "/v3/auth/tokens", "POST", status="201")
    assert_shape_like_sample(unscoped.body,
                             keystone_sample("auth-password-unscoped-response.json"))
    assert "catalog" not in unscoped.body["token"] and "roles" not in unscoped.body["token"]

    rescoped = raw.call("POST", "/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["token"],
                     "token": {"id": unscoped.headers["x-subject-token"]}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert rescoped.status == 201, rescoped.text
    assert_keystone_response(rescoped.body, "/v3/auth/tokens", "POST", status="201")
    assert_shape_like_sample(rescoped.body, keystone_sample("auth-token-scoped-response.json"),
                             ignore={PASSWORD_EXPIRY})
    token = rescoped.body["token"]
    # keystone's token method keeps the methods the first token was got with (Tempest's
    # test_rescope_token checks {"password", "token"}).
    assert sorted(token["methods"]) == ["password", "token"]
    # the audit chain: the rescoped token carries the original's audit id second.
    assert token["audit_ids"][1] == unscoped.body["token"]["audit_ids"][0]

    system = raw.password_token("admin", "secret", scope={"system": {"all": True}})
    assert system.status == 201
    assert_keystone_response(system.body, "/v3/auth/tokens", "POST", status="201")
    assert system.body["token"]["system"] == {"all": True}


def test_auth_catalog_projects_domains_system(raw: Raw, admin: str) -> None:
    catalog = raw.expect(200, "GET", "/v3/auth/catalog", "/v3/auth/catalog", token=admin)
    assert_shape_like_sample(catalog, keystone_sample("get-service-catalog-response.json"))
    identity = [s for s in catalog["catalog"] if s["type"] == "identity"]
    assert identity and {e["interface"] for e in identity[0]["endpoints"]} >= {"public"}

    projects = raw.expect(200, "GET", "/v3/auth/projects", "/v3/auth/projects", token=admin)
    assert_shape_like_sample(projects,
                             keystone_sample("get-available-project-scopes-response.json"))
    assert "admin" in {p["name"] for p in projects["projects"]}

    system = raw.expect(200, "GET", "/v3/auth/system", "/v3/auth/system", token=admin)
    assert_shape_like_sample(system,
                             keystone_sample("get-available-system-scopes-response.json"))
    assert system["system"] == [{"all": True}]

    # A user with a domain role sees that domain among his scopes, and no system scope.
    member = make_member(raw, admin)
    raw.expect(204, "PUT", f"/v3/domains/default/users/{member.user_id}/roles/"
               f"{role_id(raw, admin, 'reader')}", token=admin)
    domains = raw.expect(200, "GET", "/v3/auth/domains", "/v3/auth/domains",
                         token=member.token)
    assert_shape_like_sample(domains,
                             keystone_sample("get-available-domain-scopes-response.json"))
    assert [d["id"] for d in domains["domains"]] == ["default"]
    assert raw.expect(200, "GET", "/v3/auth/system", "/v3/auth/system",
                      token=member.token)["system"] == []
    mine = raw.expect(200, "GET", "/v3/auth/projects", "/v3/auth/projects",
                      token=member.token)["projects"]
    assert [p["id"] for p in mine] == [member.project_id]
    domain_token = raw.password_token(member.name, member.password,
                                      scope={"domain": {"id": "default"}})
    assert domain_token.status == 201, domain_token.text
    assert_keystone_response(domain_token.body, "/v3/auth/tokens", "POST", status="201")
    assert domain_token.body["token"]["domain"] == {"id": "default", "name": "Default"}
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)


def test_no_is_admin_project_without_admin_project_config(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    try:
        body = raw.password_token(member.name, member.password,
                                  project=member.project_id).body
    finally:
        raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
        raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)
    assert "is_admin_project" not in body["token"]


@pytest.mark.parametrize("scope", ["unscoped", "system"])
def test_auth_catalog_needs_a_project_token(raw: Raw, scope: str) -> None:
    token = raw.token("admin", "secret",
                      scope="unscoped" if scope == "unscoped" else {"system": {"all": True}})
    answer = raw.call("GET", "/v3/auth/catalog", token=token)
    assert answer.status == 403, answer.text
    assert answer.body["error"]["message"] == (
        "A project-scoped token is required to produce a service catalog.")


# --------------------------------------------------------------------------- request ids


def test_request_ids_on_every_answer(raw: Raw, admin: str) -> None:
    # Raw.call asserts the header on every answer; here the odd ones: errors, no auth,
    # discovery, an unimplemented path.
    seen = set()
    for method, path, token in (("GET", "/", None), ("GET", "/v3", None),
                                ("GET", "/v3/projects", None),
                                ("GET", "/v3/projects/nope", admin),
                                ("GET", "/v3/OS-FEDERATION/identity_providers", admin),
                                ("HEAD", "/v3/projects", admin)):
        seen.add(raw.call(method, path, token=token).request_id)
    assert len(seen) == 6, "every request gets its own id"


def test_global_request_id_is_accepted_and_logged(live: LiveCloud, raw: Raw,
                                                   admin: str) -> None:
    incoming = f"req-{uuid.uuid4()}"
    answer = raw.call("GET", "/v3/projects", token=admin,
                      headers={"X-OpenStack-Request-ID": incoming})
    assert answer.status == 200
    local = answer.request_id
    # keystone (oslo.middleware request_id) keeps its own id and records the caller's as
    # the global request id.
    assert local != incoming
    logs = httpx.get(f"{live.url}/stacklab/v1/logs", params={"request_id": local},
                     headers={"X-Auth-Token": admin}).json()
    lines = logs["logs"]
    assert lines, logs
    assert all(line["request_id"] == local for line in lines)
    assert all(line["global_request_id"] == incoming for line in lines)
    assert any("/v3/projects" in line["message"] and "200" in line["message"]
               for line in lines)

    # Not req-<uuid>: ignored as oslo.middleware ignores it, never an error.
    bogus = raw.call("GET", "/v3/projects", token=admin,
                     headers={"X-OpenStack-Request-ID": "not-a-request-id"})
    assert bogus.status == 200
    logged = httpx.get(f"{live.url}/stacklab/v1/logs", params={"request_id": bogus.request_id},
                       headers={"X-Auth-Token": admin}).json()["logs"]
    assert logged and all(line["global_request_id"] is None for line in logged)


# --------------------------------------------------------------------------- openstacksdk


def test_sdk_project_user_role_and_login(live: LiveCloud) -> None:
    conn = live.connect()
    project = conn.identity.create_project(name=unique("sdkproj"), domain_id="default")
    user = conn.identity.create_user(name=unique("sdkuser"), password="pw1",
                                     default_project_id=project.id, domain_id="default")
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, member)
    assert conn.identity.validate_user_has_project_role(project, user, member)
    assigned = list(conn.identity.role_assignments(user_id=user.id))
    assert [(a.scope["project"]["id"], a.role["id"]) for a in assigned] == [
        (project.id, member.id)]

    theirs = live.connect(username=user.name, password="pw1", project_name=project.name)
    token = theirs.session.get_token()
    checked = conn.identity.validate_token(token)
    assert checked.user["id"] == user.id and checked.project["id"] == project.id
    assert {r["name"] for r in checked.roles} == {"member", "reader"}
    assert conn.identity.check_token(token) is True
    conn.identity.revoke_token(token)
    assert conn.identity.check_token(token) is False

    conn.identity.delete_user(user)
    conn.identity.delete_project(project)
    conn.close()


def test_sdk_application_credential_login(live: LiveCloud) -> None:
    conn = live.connect()
    project = conn.identity.create_project(name=unique("acproj"), domain_id="default")
    user = conn.identity.create_user(name=unique("acuser"), password="pw",
                                     domain_id="default")
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    theirs = live.connect(username=user.name, password="pw", project_name=project.name)
    credential = theirs.identity.create_application_credential(user.id, name="ci")
    assert credential.secret

    with_it = openstack.connect(
        load_yaml_config=False, load_envvars=False,
        auth_type="v3applicationcredential", region_name="RegionOne",
        auth={"auth_url": live.auth_url, "application_credential_id": credential.id,
              "application_credential_secret": credential.secret})
    assert with_it.current_project_id == project.id
    assert with_it.identity.get_user(user.id).name == user.name
    by_name = openstack.connect(
        load_yaml_config=False, load_envvars=False,
        auth_type="v3applicationcredential", region_name="RegionOne",
        auth={"auth_url": live.auth_url, "application_credential_name": "ci",
              "username": user.name, "user_domain_id": "default",
              "application_credential_secret": credential.secret})
    assert by_name.current_user_id == user.id

    theirs.identity.delete_application_credential(user.id, credential.id)
    gone = openstack.connect(
        load_yaml_config=False, load_envvars=False,
        auth_type="v3applicationcredential", region_name="RegionOne",
        auth={"auth_url": live.auth_url, "application_credential_id": credential.id,
              "application_credential_secret": credential.secret})
    with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
        gone.authorize()
    for c in (with_it, by_name, theirs):
        c.close()
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)
    conn.close()


def test_password_change_revokes_old_tokens(live: LiveCloud, raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    before = member.token
    theirs = live.connect(username=member.name, password=member.password,
                          project_id=member.project_id, project_name=None)
    theirs.identity.update_password(member.user_id, member.password, "new-password")

    assert is_valid(raw, admin, before) == 404
    assert works(raw, before, member.user_id) == 401
    assert raw.password_token(member.name, member.password,
                              project=member.project_id).status == 401
    fresh = raw.token(member.name, "new-password", project=member.project_id)
    assert works(raw, fresh, member.user_id) == 200

    # keystone checks the original password: a wrong one is 401, and nothing changes.
    wrong = raw.call("POST", f"/v3/users/{member.user_id}/password", body={"user": {
        "original_password": "not-it", "password": "third"}})
    assert wrong.status == 401
    assert works(raw, fresh, member.user_id) == 200

    # An admin resetting the password (PATCH) revokes the user's tokens too.
    conn = live.connect()
    conn.identity.update_user(member.user_id, password="reset-by-admin")
    assert works(raw, fresh, member.user_id) == 401
    assert raw.password_token(member.name, "reset-by-admin",
                              project=member.project_id).status == 201
    conn.identity.delete_user(member.user_id)
    conn.close()
    theirs.close()


def test_disabling_a_user_invalidates_his_tokens(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    assert works(raw, member.token, member.user_id) == 200
    raw.expect(200, "PATCH", f"/v3/users/{member.user_id}", token=admin,
               body={"user": {"enabled": False}})
    assert works(raw, member.token, member.user_id) == 401
    assert is_valid(raw, admin, member.token) == 404
    assert raw.password_token(member.name, member.password,
                              project=member.project_id).status == 401
    raw.expect(200, "PATCH", f"/v3/users/{member.user_id}", token=admin,
               body={"user": {"enabled": True}})
    # re-enabling does not resurrect revoked tokens.
    assert works(raw, member.token, member.user_id) == 401
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)


def test_removing_the_role_invalidates_the_project_token_at_once(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    assert works(raw, member.token, member.user_id) == 200
    started = time.monotonic()
    raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}/users/{member.user_id}/"
               f"roles/{role_id(raw, admin, 'member')}", token=admin)
    assert works(raw, member.token, member.user_id) == 401
    assert is_valid(raw, admin, member.token) == 404
    assert time.monotonic() - started < 1.0, "must not depend on a cache expiring"
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
    raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)


def test_deleting_the_project_invalidates_its_tokens(raw: Raw, admin: str) -> None:
    member = make_member(raw, admin)
    unscoped = raw.token(member.name, member.password, scope="unscoped")
    raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)
    assert works(raw, member.token, member.user_id) == 401
    assert is_valid(raw, admin, member.token) == 404
    # the user's other tokens live on.
    assert is_valid(raw, admin, unscoped) == 200
    raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)


# --------------------------------------------------------------------------- isolation


def test_project_member_is_isolated(live: LiveCloud, raw: Raw, admin: str) -> None:
    alice = make_member(raw, admin)
    bob = make_member(raw, admin)
    me = alice.token
    assert raw.expect(200, "GET", f"/v3/projects/{alice.project_id}",
                      "/v3/projects/{project_id}", token=me)["project"]["id"] == alice.project_id
    assert raw.call("GET", f"/v3/projects/{bob.project_id}", token=me).status == 403
    assert raw.call("GET", "/v3/users", token=me).status == 403
    assert raw.call("GET", f"/v3/users/{bob.user_id}", token=me).status == 403
    assert raw.call("POST", "/v3/projects", token=me,
                    body={"project": {"name": unique("nope")}}).status == 403
    assert raw.call("PUT", f"/v3/projects/{alice.project_id}/users/{alice.user_id}/roles/"
                    f"{role_id(raw, admin, 'admin')}", token=me).status == 403

    credential = raw.expect(201, "POST", f"/v3/users/{bob.user_id}/application_credentials",
                            token=bob.token,
                            body={"application_credential": {"name": "bobs"}})
    bobs = credential["application_credential"]["id"]
    assert raw.call("GET", f"/v3/users/{bob.user_id}/application_credentials",
                    token=me).status == 403
    assert raw.call("GET", f"/v3/users/{bob.user_id}/application_credentials/{bobs}",
                    token=me).status == 403
    assert raw.call("DELETE", f"/v3/users/{bob.user_id}/application_credentials/{bobs}",
                    token=me).status == 403
    # Through her own path she cannot reach it either (the status is the next test's).
    assert raw.call("GET", f"/v3/users/{alice.user_id}/application_credentials/{bobs}",
                    token=me).status in (403, 404)
    assert raw.expect(200, "GET", f"/v3/users/{bob.user_id}/application_credentials/{bobs}",
                      token=bob.token)["application_credential"]["id"] == bobs
    assert raw.call("POST", f"/v3/users/{bob.user_id}/application_credentials", token=me,
                    body={"application_credential": {"name": "x"}}).status == 403

    # The SDK sees the same walls.
    conn = live.connect(username=alice.name, password=alice.password,
                        project_id=alice.project_id, project_name=None)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.identity.get_project(bob.project_id)
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(conn.identity.users())
    conn.close()
    for member in (alice, bob):
        raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
        raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)


def test_someone_elses_credential_through_own_path_is_403(raw: Raw, admin: str) -> None:
    alice, bob = make_member(raw, admin), make_member(raw, admin)
    bobs = raw.expect(201, "POST", f"/v3/users/{bob.user_id}/application_credentials",
                      token=bob.token, body={"application_credential": {"name": "b"}})
    one = f"/v3/users/{alice.user_id}/application_credentials/"
    one += bobs["application_credential"]["id"]
    statuses = [raw.call(method, one, token=alice.token).status for method in ("GET", "DELETE")]
    for member in (alice, bob):
        raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
        raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)
    assert statuses == [403, 403]


def test_admin_of_any_project_is_a_cloud_admin(raw: Raw, admin: str) -> None:
    # keystone's admin_required is "role:admin or is_admin:1" with no scope check, and its
    # admin-only rules accept project-scoped tokens (2024.1's secure RBAC phase 1): so the
    # admin role on *any* project, not only on the bootstrap "admin" project, makes a
    # cloud administrator. Operators who want otherwise override the policy.
    boss = make_member(raw, admin, role="admin")
    other = make_member(raw, admin)
    assert raw.call("GET", f"/v3/projects/{other.project_id}", token=boss.token).status == 200
    assert raw.call("GET", "/v3/users", token=boss.token).status == 200
    made = raw.expect(201, "POST", "/v3/projects", token=boss.token,
                      body={"project": {"name": unique("byboss")}})["project"]
    raw.expect(204, "DELETE", f"/v3/projects/{made['id']}", token=boss.token)
    for member in (boss, other):
        raw.expect(204, "DELETE", f"/v3/users/{member.user_id}", token=admin)
        raw.expect(204, "DELETE", f"/v3/projects/{member.project_id}", token=admin)


# --------------------------------------------------------------------------- other clouds


def _admin_token(url: str) -> httpx.Response:
    return httpx.post(f"{url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}, timeout=30)


def test_token_expiry(tmp_path: Path) -> None:
    config = tmp_path / "short.ini"
    config.write_text("[token]\nexpiration = 2\n")
    cloud = start_cloud(tmp_path, "--config", str(config), "--ephemeral")
    with contextlib.ExitStack() as stack:
        stack.callback(stop_cloud, cloud)
        issued = _admin_token(cloud.url)
        assert issued.status_code == 201
        token = issued.headers["x-subject-token"]
        body = issued.json()["token"]
        lifetime = _parse(body["expires_at"]) - _parse(body["issued_at"])
        assert 1.9 < lifetime < 2.1, body
        api = Raw(cloud.auth_url)
        stack.callback(api.client.close)
        assert api.call("GET", "/v3/auth/tokens", token=token,
                        headers={"X-Subject-Token": token}).status == 200
        time.sleep(3)
        fresh = _admin_token(cloud.url).headers["x-subject-token"]
        expired = api.call("GET", "/v3/auth/tokens", token=fresh,
                           headers={"X-Subject-Token": token})
        assert expired.status == 404, expired.text
        assert api.call("GET", "/v3/projects", token=token).status == 401
        # keystone's allow_expired (for service users finishing long operations).
        late = api.call("GET", "/v3/auth/tokens?allow_expired=1", token=fresh,
                        headers={"X-Subject-Token": token})
        assert late.status == 200, late.text


def _parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class SeededRun:
    admin_user_id: str
    admin_project_id: str
    project_id: str
    audit_ids: list[str]
    token: str
    issued_at: str


def _seeded_calls(cloud: LiveCloud) -> SeededRun:
    """The same calls on each seeded cloud: bootstrap state, a project, a token."""
    first = _admin_token(cloud.url)
    assert first.status_code == 201
    body = first.json()["token"]
    created = httpx.post(f"{cloud.auth_url}/v3/projects", json={"project": {"name": "same"}},
                         headers={"X-Auth-Token": first.headers["x-subject-token"]}, timeout=30)
    assert created.status_code == 201
    second = _admin_token(cloud.url)
    return SeededRun(body["user"]["id"], body["project"]["id"], created.json()["project"]["id"],
                     second.json()["token"]["audit_ids"], second.headers["x-subject-token"],
                     second.json()["token"]["issued_at"])


def _run_seeded(tmp_path: Path, name: str, seed: int) -> SeededRun:
    folder = tmp_path / name
    folder.mkdir()
    cloud = start_cloud(folder, "--seed", str(seed), "--ephemeral")
    try:
        return _seeded_calls(cloud)
    finally:
        stop_cloud(cloud)


def _fernet_iv(token: str) -> bytes:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return raw[9:25]  # version (1) + timestamp (8), then the 16-byte IV


def test_seed_repeats_ids(tmp_path: Path) -> None:
    one = _run_seeded(tmp_path, "a", 5)
    two = _run_seeded(tmp_path, "b", 5)
    assert (one.admin_user_id, one.admin_project_id, one.project_id) == (
        two.admin_user_id, two.admin_project_id, two.project_id)
    assert one.audit_ids == two.audit_ids
    # The token's random parts repeat (its IV) and its size; the token string itself cannot
    # across two sequential runs: a Fernet token carries its issue time (seconds in the
    # Fernet header, and stacklab's payload even holds sub-second issued_at/expires_at).
    assert _fernet_iv(one.token) == _fernet_iv(two.token)
    assert len(one.token) == len(two.token)
    other = _run_seeded(tmp_path, "c", 6)
    assert other.admin_user_id != one.admin_user_id
    assert other.project_id != one.project_id
    assert other.audit_ids != one.audit_ids
    assert _fernet_iv(other.token) != _fernet_iv(one.token)

