"""keystone's generic controller: every declared resource's five routes, its targets, filters,
``list_limit`` truncation and links, through an in-process cloud."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.identity.api import api
from stacklab.identity.api.catalog import ENDPOINTS, REGIONS, SERVICES
from stacklab.identity.api.credentials import CREDENTIALS
from stacklab.identity.api.projects import DOMAINS, PROJECTS
from stacklab.identity.api.resource import Resource
from stacklab.identity.api.roles import ROLES
from stacklab.identity.api.users import GROUPS, USERS
from stacklab.identity.service import IdentityService
from stacklab.ids import IdSource
from stacklab.store.database import Database
from support.inprocess import admin_token, ephemeral_config

DECLARED = (DOMAINS, PROJECTS, USERS, GROUPS, ROLES, REGIONS, SERVICES, ENDPOINTS, CREDENTIALS)
# Create bodies of the resources a name alone does not make (the others: {"name": ...}).
NEW: dict[str, dict[str, Any]] = {"region": {}, "service": {"type": "compute"},
                                  "endpoint": {"interface": "public", "url": "http://x"}}
# What an update changes, where a description is not shown.
CHANGE: dict[str, dict[str, Any]] = {"endpoint": {"url": "http://y"}, "credential": {"blob": "b2"}}


class Keystone:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.request(method, f"/identity{path}", json=body,
                                       headers={"X-Auth-Token": self.token})
        return response.status_code, response.json() if response.content else None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert status < 300, answer
        return answer


def cloud_with(list_limit: int | None) -> Iterator[Keystone]:
    config = ephemeral_config()
    config.identity.list_limit = list_limit
    cloud = Cloud(config)
    cloud.start("http://testserver")
    with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
        yield Keystone(client, admin_token(client))
    cloud.stop()


@pytest.fixture
def admin() -> Iterator[Keystone]:
    yield from cloud_with(None)


@pytest.fixture
def limited() -> Iterator[Keystone]:
    yield from cloud_with(2)


def member_of(admin: Keystone, project: str, name: str) -> Keystone:
    """A user holding the member role on ``project``, with a token scoped to it."""
    user = admin.ok("POST", "/v3/users", {"user": {"name": name, "password": "pw"}})["user"]
    role = admin.ok("GET", "/v3/roles?name=member")["roles"][0]
    admin.ok("PUT", f"/v3/projects/{project}/users/{user['id']}/roles/{role['id']}")
    response = admin.client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"id": user["id"],
                                                                    "password": "pw"}}},
        "scope": {"project": {"id": project}}}})
    assert response.status_code == 201, response.text
    return Keystone(admin.client, response.headers["X-Subject-Token"])


def create_body(admin: Keystone, resource: Resource, name: str) -> dict[str, Any]:
    if resource.member == "endpoint":
        service = admin.ok("POST", "/v3/services", {"service": {"type": f"t-{name}"}})
        return {**NEW["endpoint"], "service_id": service["service"]["id"]}
    if resource.member == "credential":
        user = admin.ok("POST", "/v3/users", {"user": {"name": f"owner-{name}"}})["user"]
        return {"user_id": user["id"], "type": "cert", "blob": name}
    return dict(NEW.get(resource.member, {"name": name}))


def test_every_declared_resource_names_methods_identity_has() -> None:
    db = Database("sqlite://")
    service = IdentityService(db, VirtualClock(), IdSource(3), ephemeral_config())
    for resource in DECLARED:
        for verb in ("list", "get", "create", "update", "delete"):
            assert callable(resource.method(service, verb)), (resource.member, verb)
    db.dispose()


def test_routes_carry_keystone_policy_names_and_codes() -> None:
    served = {(op.method, op.path): op for op in api.operations}
    for r in DECLARED:
        member = f"/v3/{r.collection}/{{{r.member}_id}}"
        expected = {("GET", f"/v3/{r.collection}"): (f"identity:list_{r.collection}", 200),
                    ("POST", f"/v3/{r.collection}"): (f"identity:create_{r.member}", 201),
                    ("GET", member): (f"identity:get_{r.member}", 200),
                    ("PATCH", member): (f"identity:update_{r.member}", 200),
                    ("DELETE", member): (f"identity:delete_{r.member}", 204)}
        for key, (policy, status) in expected.items():
            assert (served[key].policy, served[key].status) == (policy, status), key
        assert served[("POST", f"/v3/{r.collection}")].schema is not None
        assert served[("PATCH", member)].schema is not None
    assert served[("PUT", "/v3/regions/{region_id}")].policy == "identity:create_region"
    assert ("PUT", "/v3/users/{user_id}") not in served


def test_each_resource_round_trips_with_keystone_codes_and_messages(admin: Keystone) -> None:
    for r in DECLARED:
        body = create_body(admin, r, f"x-{r.member}")
        status, created = admin.call("POST", f"/v3/{r.collection}", {r.member: body})
        assert status == 201, created
        item = created[r.member]
        self_link = f"http://testserver/identity/v3/{r.collection}/{item['id']}"
        assert item["links"] == {"self": self_link}
        assert admin.ok("GET", f"/v3/{r.collection}/{item['id']}") == created
        listed = admin.ok("GET", f"/v3/{r.collection}")
        assert item["id"] in [entry["id"] for entry in listed[r.collection]]
        assert listed["links"] == {"self": f"http://testserver/identity/v3/{r.collection}",
                                   "previous": None, "next": None}
        assert "truncated" not in listed
        change = CHANGE.get(r.member, {"description": "changed"})
        updated = admin.ok("PATCH", f"/v3/{r.collection}/{item['id']}", {r.member: change})
        assert {k: updated[r.member][k] for k in change} == change
        if r.member == "domain":
            admin.ok("PATCH", f"/v3/domains/{item['id']}", {"domain": {"enabled": False}})
        assert admin.call("DELETE", f"/v3/{r.collection}/{item['id']}") == (204, None)
        for method in ("GET", "PATCH", "DELETE"):
            status, error = admin.call(method, f"/v3/{r.collection}/{item['id']}",
                                       {r.member: change} if method == "PATCH" else None)
            assert status == 404
            assert error["error"]["message"] == f"Could not find {r.member}: {item['id']}."


def test_duplicates_are_409_with_keystone_s_message(admin: Keystone) -> None:
    admin.ok("POST", "/v3/groups", {"group": {"name": "g"}})
    status, error = admin.call("POST", "/v3/groups", {"group": {"name": "g"}})
    assert status == 409
    assert error["error"]["message"] == ("Conflict occurred attempting to store group - "
                                         "Duplicate entry found with name g at domain ID "
                                         "default.")


def test_filters_and_flags_reach_the_list(admin: Keystone) -> None:
    admin.ok("POST", "/v3/users", {"user": {"name": "on"}})
    admin.ok("POST", "/v3/users", {"user": {"name": "off", "enabled": False}})
    names = [u["name"] for u in admin.ok("GET", "/v3/users?enabled=false")["users"]]
    assert names == ["off"]
    assert [u["name"] for u in admin.ok("GET", "/v3/users?name=on")["users"]] == ["on"]
    domain = admin.ok("POST", "/v3/domains", {"domain": {"name": "elsewhere"}})["domain"]
    admin.ok("POST", "/v3/users", {"user": {"name": "far", "domain_id": domain["id"]}})
    listed = admin.ok("GET", f"/v3/users?domain_id={domain['id']}")
    assert [u["name"] for u in listed["users"]] == ["far"]
    assert listed["links"]["self"].endswith(f"/v3/users?domain_id={domain['id']}")


def test_a_row_target_reads_the_row_first(admin: Keystone) -> None:
    project = admin.ok("POST", "/v3/projects", {"project": {"name": "p"}})["project"]
    alice = member_of(admin, project["id"], "alice")
    other = admin.ok("POST", "/v3/users", {"user": {"name": "other"}})["user"]
    # Another user's row exists: the policy says no. A missing one: keystone's 404 first.
    assert alice.call("GET", f"/v3/users/{other['id']}")[0] == 403
    assert alice.call("GET", "/v3/users/missing")[1]["error"]["message"] == \
        "Could not find user: missing."
    mine = admin.ok("GET", "/v3/users?name=alice")["users"][0]
    assert alice.ok("GET", f"/v3/users/{mine['id']}")["user"]["name"] == "alice"
    # A project's target is its own id: its member may read it, not another.
    assert alice.ok("GET", f"/v3/projects/{project['id']}")["project"]["name"] == "p"
    elsewhere = admin.ok("POST", "/v3/projects", {"project": {"name": "q"}})["project"]
    assert alice.call("GET", f"/v3/projects/{elsewhere['id']}")[0] == 403


def test_credentials_list_only_what_the_caller_may_show(admin: Keystone) -> None:
    project = admin.ok("POST", "/v3/projects", {"project": {"name": "p"}})["project"]
    alice = member_of(admin, project["id"], "alice")
    bob = admin.ok("POST", "/v3/users", {"user": {"name": "bob"}})["user"]
    admin.ok("POST", "/v3/credentials",
             {"credential": {"user_id": bob["id"], "type": "cert", "blob": "bob's"}})
    alice_id = admin.ok("GET", "/v3/users?name=alice")["users"][0]["id"]
    alice.ok("POST", "/v3/credentials",
             {"credential": {"user_id": alice_id, "type": "cert", "blob": "mine"}})
    assert [c["blob"] for c in alice.ok("GET", "/v3/credentials")["credentials"]] == ["mine"]
    assert sorted(c["blob"] for c in admin.ok("GET", "/v3/credentials")["credentials"]) == \
        ["bob's", "mine"]


def test_a_region_is_created_at_the_caller_s_id(admin: Keystone) -> None:
    status, created = admin.call("PUT", "/v3/regions/north", {"region": {"description": "n"}})
    assert (status, created["region"]["id"]) == (201, "north")
    status, error = admin.call("PUT", "/v3/regions/north", {"region": {}})
    assert status == 409
    assert error["error"]["message"] == ("Conflict occurred attempting to store region - "
                                         "Duplicate ID, north.")


def test_a_project_show_adds_the_hierarchy_asked_for(admin: Keystone) -> None:
    parent = admin.ok("POST", "/v3/projects", {"project": {"name": "top"}})["project"]
    child = admin.ok("POST", "/v3/projects",
                     {"project": {"name": "leaf", "parent_id": parent["id"]}})["project"]
    shown = admin.ok("GET", f"/v3/projects/{child['id']}?parents_as_ids")["project"]
    assert [p["project"]["id"] for p in shown["parents"]] == [parent["id"]]
    assert "subtree" not in shown
    shown = admin.ok("GET", f"/v3/projects/{parent['id']}?subtree_as_list")["project"]
    assert [p["project"]["id"] for p in shown["subtree"]] == [child["id"]]
    assert "parents" not in admin.ok("GET", f"/v3/projects/{parent['id']}")["project"]


def test_users_and_groups_are_cut_at_the_identity_list_limit(limited: Keystone) -> None:
    # The bootstrap's admin and service users are already more than two.
    listed = limited.ok("GET", "/v3/users")
    assert len(listed["users"]) == 2
    assert listed["truncated"] is True
    group = limited.ok("POST", "/v3/groups", {"group": {"name": "g1"}})["group"]
    listed = limited.ok("GET", "/v3/groups")
    assert (len(listed["groups"]), "truncated" in listed) == (1, False)
    limited.ok("POST", "/v3/groups", {"group": {"name": "g2"}})
    assert "truncated" not in limited.ok("GET", "/v3/groups")
    limited.ok("POST", "/v3/groups", {"group": {"name": "g3"}})
    assert limited.ok("GET", "/v3/groups")["truncated"] is True
    users = limited.ok("GET", "/v3/users")["users"]
    for user in users:
        limited.ok("PUT", f"/v3/groups/{group['id']}/users/{user['id']}")
    assert "truncated" not in limited.ok("GET", f"/v3/groups/{group['id']}/users")
    third = limited.ok("POST", "/v3/users", {"user": {"name": "aaa-third"}})["user"]
    limited.ok("PUT", f"/v3/groups/{group['id']}/users/{third['id']}")
    members = limited.ok("GET", f"/v3/groups/{group['id']}/users")
    assert (len(members["users"]), members["truncated"]) == (2, True)
    # Other backends have no limit here: every project is listed.
    for n in range(3):
        limited.ok("POST", "/v3/projects", {"project": {"name": f"p{n}"}})
    projects = limited.ok("GET", "/v3/projects")
    assert len(projects["projects"]) > 2 and "truncated" not in projects
