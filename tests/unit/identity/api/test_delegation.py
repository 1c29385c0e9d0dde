"""Trusts, domain configuration, policy blobs, endpoint groups and projects acting as domains
over HTTP (an in-process cloud), each body checked against keystone's own response schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.clock import isotime
from stacklab.cloud import Cloud
from support.apiref import assert_keystone_response
from support.inprocess import admin_token, ephemeral_config


class Keystone:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = self.client.request(method, f"/identity{path}", json=body,
                                       headers={"X-Auth-Token": self.token})
        return response.status_code, response.json() if response.content else None

    def ok(self, method: str, path: str, body: Any = None, *, template: str | None = None,
           status: int | None = None) -> Any:
        """The answer of a call that must succeed; checked against keystone's schema of
        ``template`` (the route's path template) when given."""
        code, answer = self.call(method, path, body)
        assert code < 300 if status is None else code == status, (code, answer)
        if template is not None:
            assert_keystone_response(answer, template, method)
        return answer

    def error(self, method: str, path: str, body: Any, code: int) -> str:
        status, answer = self.call(method, path, body)
        assert status == code, answer
        assert answer["error"]["code"] == code
        message: str = answer["error"]["message"]
        return message


@pytest.fixture
def admin() -> Iterator[Keystone]:
    cloud = Cloud(ephemeral_config())
    cloud.start("http://testserver")
    with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
        yield Keystone(client, admin_token(client))
    cloud.stop()
    assert cloud.unexpected_errors == 0


def password_token(admin: Keystone, user_id: str, scope: dict[str, Any] | None) -> Any:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {
        "user": {"id": user_id, "password": "pw"}}}}
    if scope is not None:
        auth["scope"] = scope
    return admin.client.post("/identity/v3/auth/tokens", json={"auth": auth})


def as_user(admin: Keystone, user_id: str, project_id: str) -> Keystone:
    response = password_token(admin, user_id, {"project": {"id": project_id}})
    assert response.status_code == 201, response.text
    return Keystone(admin.client, response.headers["X-Subject-Token"])


TRUSTS = "/v3/OS-TRUST/trusts"
TRUST = "/v3/OS-TRUST/trusts/{trust_id}"


def test_trust_lifecycle_and_trust_scoped_tokens(admin: Keystone) -> None:
    project = admin.ok("POST", "/v3/projects", {"project": {"name": "tp"}})["project"]
    trustor, trustee = (admin.ok("POST", "/v3/users", {"user": {"name": n, "password": "pw"}})
                        ["user"] for n in ("trustor", "trustee"))
    roles = [admin.ok("POST", "/v3/roles", {"role": {"name": n}})["role"]
             for n in ("Delegated", "NotDelegated")]
    member = admin.ok("GET", "/v3/roles?name=member")["roles"][0]
    for role in (*roles, member):
        admin.ok("PUT", f"/v3/projects/{project['id']}/users/{trustor['id']}/roles/{role['id']}")
    owner = as_user(admin, trustor["id"], project["id"])
    expires = isotime(int(admin_clock_now(admin)) + 3600)  # "...T12:00:00Z"
    body = {"trust": {"trustor_user_id": trustor["id"], "trustee_user_id": trustee["id"],
                      "project_id": project["id"], "impersonation": True,
                      "roles": [{"name": "Delegated"}], "expires_at": expires}}
    # Only the trustor may create it (keystone's policy says so first); bad times are 400s.
    assert admin.error("POST", TRUSTS, body, 403).endswith("identity:create_trust.")
    assert admin.error("POST", TRUSTS, {"trust": {**body["trust"], "trustor_user_id":
                                                  admin_user_id(admin)}}, 404) == \
        f"Could not find role: {roles[0]['id']}."
    assert owner.error("POST", TRUSTS, {"trust": {**body["trust"], "expires_at": "bad.123Z"}},
                       400).startswith("Timestamp not in expected format.")
    trust = owner.ok("POST", TRUSTS, body, template=TRUSTS, status=201)["trust"]
    assert trust["expires_at"] == expires.replace("Z", ".000000Z")
    assert [r["name"] for r in trust["roles"]] == ["Delegated"]
    assert trust["links"]["self"].endswith(f"{TRUSTS}/{trust['id']}")
    shown = owner.ok("GET", f"{TRUSTS}/{trust['id']}", template=TRUST)["trust"]
    assert shown == trust
    listed = owner.ok("GET", f"{TRUSTS}?trustor_user_id={trustor['id']}",
                      template=TRUSTS)["trusts"]
    assert [t["id"] for t in listed] == [trust["id"]] and "roles" not in listed[0]
    # keystone ignores a trailing slash (Tempest's client lists with one).
    assert trust["id"] in [t["id"] for t in admin.ok("GET", f"{TRUSTS}/",
                                                     template=TRUSTS)["trusts"]]
    # Listing another user's trusts, or all of them, is not a member's business.
    owner.error("GET", f"{TRUSTS}?trustor_user_id={trustee['id']}", None, 403)
    owner.error("GET", TRUSTS, None, 403)
    delegated = owner.ok("GET", f"{TRUSTS}/{trust['id']}/roles")
    assert [r["id"] for r in delegated["roles"]] == [roles[0]["id"]]
    assert owner.ok("GET", f"{TRUSTS}/{trust['id']}/roles/{roles[0]['id']}")["role"]["name"] \
        == "Delegated"
    assert admin.client.head(f"/identity{TRUSTS}/{trust['id']}/roles/{roles[0]['id']}",
                             headers={"X-Auth-Token": owner.token}).status_code == 200
    owner.error("GET", f"{TRUSTS}/{trust['id']}/roles/{roles[1]['id']}", None, 404)

    # The trustee's trust-scoped token: impersonating, it is the trustor's.
    response = password_token(admin, trustee["id"], {"OS-TRUST:trust": {"id": trust["id"]}})
    assert response.status_code == 201, response.text
    assert_keystone_response(response.json(), "/v3/auth/tokens", "POST", status="201")
    token = response.json()["token"]
    assert token["OS-TRUST:trust"] == {"id": trust["id"], "impersonation": True,
                                       "trustor_user": {"id": trustor["id"]},
                                       "trustee_user": {"id": trustee["id"]}}
    assert token["user"]["id"] == trustor["id"] and token["project"]["id"] == project["id"]
    assert {r["name"] for r in token["roles"]} == {"Delegated"}
    assert token["methods"] == ["password"] and token["catalog"]
    delegate = Keystone(admin.client, response.headers["X-Subject-Token"])
    # A delegated token makes no application credential that would outlive the trust.
    assert delegate.error("GET", f"/v3/users/{trustor['id']}/application_credentials", None,
                          403) == ("Cannot manage application credentials with a token issued "
                                   "via delegation.")
    validated = admin.client.get("/identity/v3/auth/tokens", headers={
        "X-Auth-Token": admin.token, "X-Subject-Token": delegate.token}).json()["token"]
    assert validated["OS-TRUST:trust"] == token["OS-TRUST:trust"]
    # Someone else may not use the trust; a trust token makes no other token.
    assert password_token(admin, trustor["id"], {"OS-TRUST:trust": {"id": trust["id"]}}
                          ).status_code == 403
    rescope = admin.client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": delegate.token}},
        "scope": {"project": {"id": project["id"]}}}})
    assert rescope.status_code == 403, rescope.text

    owner.ok("DELETE", f"{TRUSTS}/{trust['id']}", status=204)
    assert owner.error("GET", f"{TRUSTS}/{trust['id']}", None, 404) == \
        f"Could not find trust: {trust['id']}."
    # Its tokens went with it.
    assert admin.client.get("/identity/v3/auth/tokens", headers={
        "X-Auth-Token": admin.token, "X-Subject-Token": delegate.token}).status_code == 404
    assert password_token(admin, trustee["id"], {"OS-TRUST:trust": {"id": trust["id"]}}
                          ).status_code == 401


def admin_clock_now(admin: Keystone) -> float:
    """The cloud's time, read from the admin token's issue time."""
    import datetime as dt

    response = admin.client.get("/identity/v3/auth/tokens", headers={
        "X-Auth-Token": admin.token, "X-Subject-Token": admin.token})
    issued = response.json()["token"]["issued_at"]
    return dt.datetime.fromisoformat(issued.replace("Z", "+00:00")).timestamp()


def admin_user_id(admin: Keystone) -> str:
    user_id: str = admin.ok("GET", "/v3/users?name=admin")["users"][0]["id"]
    return user_id


CONFIG = {"identity": {"driver": "ldap"},
          "ldap": {"url": "ldap://myldap.com:389/", "user_tree_dn": "ou=Users,dc=org"}}


def test_domain_configuration_as_keystone_checks_it(admin: Keystone) -> None:
    domain = admin.ok("POST", "/v3/domains", {"domain": {"name": "configured"}})["domain"]
    path = f"/v3/domains/{domain['id']}/config"
    assert admin.ok("PUT", path, {"config": CONFIG}, status=201)["config"] == CONFIG
    # A second PUT replaces it and says 200; the sensitive password is kept, never shown.
    secret = {**CONFIG, "ldap": {**CONFIG["ldap"], "password": "hidden"}}
    assert admin.ok("PUT", path, {"config": secret}, status=200)["config"] == CONFIG
    assert admin.ok("GET", path)["config"] == CONFIG
    assert admin.ok("GET", f"{path}/ldap")["config"] == {"ldap": CONFIG["ldap"]}
    assert admin.ok("GET", f"{path}/ldap/url")["config"] == {"url": "ldap://myldap.com:389/"}
    changed = admin.ok("PATCH", f"{path}/identity",
                       {"config": {"identity": {"driver": "sql", "list_limit": 5}}})["config"]
    assert changed["identity"] == {"driver": "sql", "list_limit": 5}
    assert admin.ok("PATCH", f"{path}/identity/driver", {"config": {"driver": "x"}})[
        "config"]["identity"]["driver"] == "x"
    assert admin.error("PATCH", f"{path}/identity/driver", {"config": {"list_limit": 1}},
                       403).startswith("Invalid domain specific configuration: Trying to update "
                                       "option driver in group identity, but config provided")
    admin.ok("DELETE", f"{path}/identity/driver", status=204)
    assert admin.error("GET", f"{path}/identity/driver", None, 404) == (
        "Could not find option driver in group identity in domain configuration for domain "
        f"{domain['id']}.")
    assert admin.error("PUT", path, {"config": {"nova": {"x": 1}}}, 403) == (
        "Invalid domain specific configuration: Group nova is not supported for domain "
        "specific configurations.")
    assert admin.error("GET", f"{path}/ldap/bogus", None, 403).endswith(
        "Option bogus in group ldap is not supported for domain specific configurations.")
    admin.ok("DELETE", path, status=204)
    assert admin.error("GET", path, None, 404).startswith("Could not find any options")
    admin.error("GET", "/v3/domains/nope/config", None, 404)
    defaults = admin.ok("GET", "/v3/domains/config/default")["config"]
    assert defaults["identity"]["driver"] == "sql" and "list_limit" in defaults["identity"]
    assert admin.ok("GET", "/v3/domains/config/ldap/url/default")["config"] == {
        "url": "ldap://localhost"}
    assert admin.error("GET", "/v3/domains/config/ldap/password/default", None, 403).endswith(
        "Reading the default for option password in group ldap is not supported.")
    assert admin.ok("GET", "/v3/domains/default/config/security_compliance")["config"] == {
        "security_compliance": {"password_regex": None, "password_regex_description": None}}


def test_policy_blobs(admin: Keystone) -> None:
    made = admin.ok("POST", "/v3/policies", {"policy": {"blob": "{}", "type": "json", "x": 1}},
                    status=201)["policy"]
    assert (made["blob"], made["type"], made["x"]) == ("{}", "json", 1)
    assert admin.ok("PATCH", f"/v3/policies/{made['id']}", {"policy": {"type": "yaml"}})[
        "policy"]["type"] == "yaml"
    assert admin.ok("GET", "/v3/policies?type=yaml")["policies"] == [
        admin.ok("GET", f"/v3/policies/{made['id']}")["policy"]]
    admin.error("POST", "/v3/policies", {"policy": {"type": "json"}}, 400)
    admin.ok("DELETE", f"/v3/policies/{made['id']}", status=204)
    assert admin.error("GET", f"/v3/policies/{made['id']}", None, 404) == \
        f"Could not find policy: {made['id']}."


GROUPS = "/v3/OS-EP-FILTER/endpoint_groups"
GROUP = "/v3/OS-EP-FILTER/endpoint_groups/{endpoint_group_id}"


def test_endpoint_groups_and_project_endpoints(admin: Keystone) -> None:
    service = admin.ok("POST", "/v3/services", {"service": {"type": "t-ep"}})["service"]
    endpoint = admin.ok("POST", "/v3/endpoints", {"endpoint": {
        "service_id": service["id"], "interface": "public", "url": "http://ep"}})["endpoint"]
    project = admin.ok("POST", "/v3/projects", {"project": {"name": "ep"}})["project"]
    body = {"endpoint_group": {"name": "g", "description": "d",
                               "filters": {"service_id": service["id"]}}}
    group = admin.ok("POST", GROUPS, body, template=GROUPS, status=201)["endpoint_group"]
    assert group in admin.ok("GET", GROUPS, template=GROUPS)["endpoint_groups"]
    assert admin.ok("GET", f"{GROUPS}/{group['id']}", template=GROUP)["endpoint_group"] == group
    assert admin.client.head(f"/identity{GROUPS}/{group['id']}",
                             headers={"X-Auth-Token": admin.token}).status_code == 200
    assert admin.error("POST", GROUPS, {"endpoint_group": {"name": "bad", "filters": {
        "enabled": True}}}, 400).startswith(
        "Expecting to find service_id or region_id or interface in endpoint_group.")
    assert admin.error("POST", GROUPS, {"endpoint_group": {"name": "bad", "filters": {}}},
                       400) == "filters field is required and cannot be empty"
    renamed = admin.ok("PATCH", f"{GROUPS}/{group['id']}", {"endpoint_group": {"name": "h"}},
                       template=GROUP)["endpoint_group"]
    assert renamed["name"] == "h"
    assert [e["id"] for e in admin.ok("GET", f"{GROUPS}/{group['id']}/endpoints")[
        "endpoints"]] == [endpoint["id"]]
    on_project = f"{GROUPS}/{group['id']}/projects/{project['id']}"
    admin.error("GET", on_project, None, 404)
    admin.ok("PUT", on_project, status=204)
    assert admin.ok("GET", on_project)["project_endpoint_group"]["project_id"] == project["id"]
    assert [p["id"] for p in admin.ok("GET", f"{GROUPS}/{group['id']}/projects")[
        "projects"]] == [project["id"]]
    eps = f"/v3/OS-EP-FILTER/projects/{project['id']}/endpoints"
    assert [e["id"] for e in admin.ok("GET", eps)["endpoints"]] == [endpoint["id"]]
    admin.ok("DELETE", on_project, status=204)
    assert admin.ok("GET", eps)["endpoints"] == []
    direct = f"{eps}/{endpoint['id']}"
    assert admin.error("GET", direct, None, 404) == \
        f"Endpoint {endpoint['id']} not found in project {project['id']}"
    admin.ok("PUT", direct, status=204)
    admin.ok("GET", direct, status=204)
    assert [p["id"] for p in admin.ok("GET", f"/v3/OS-EP-FILTER/endpoints/{endpoint['id']}"
                                      "/projects")["projects"]] == [project["id"]]
    admin.ok("DELETE", direct, status=204)
    admin.ok("DELETE", f"{GROUPS}/{group['id']}", status=204)
    assert admin.error("GET", f"{GROUPS}/{group['id']}", None, 404) == \
        f"Could not find Endpoint Group: {group['id']}."


def test_projects_acting_as_domains(admin: Keystone) -> None:
    made = admin.ok("POST", "/v3/projects", {"project": {
        "name": "dom-project", "is_domain": True, "domain_id": None}},
        template="/v3/projects", status=201)["project"]
    assert (made["is_domain"], made["domain_id"], made["parent_id"]) == (True, None, None)
    assert made["id"] in [p["id"] for p in admin.ok("GET", "/v3/projects?is_domain=true")[
        "projects"]]
    assert made["id"] not in [p["id"] for p in admin.ok("GET", "/v3/projects")["projects"]]
    assert made["id"] in [d["id"] for d in admin.ok("GET", "/v3/domains")["domains"]]
    assert admin.ok("GET", f"/v3/projects/{made['id']}")["project"] == made
    assert admin.error("DELETE", f"/v3/projects/{made['id']}", None, 400).startswith(
        "cannot delete an enabled project acting as a domain")
    admin.error("PATCH", f"/v3/projects/{made['id']}", {"project": {"is_domain": False}}, 403)
    admin.ok("PATCH", f"/v3/projects/{made['id']}", {"project": {"enabled": False}})
    admin.ok("DELETE", f"/v3/projects/{made['id']}", status=204)
    admin.error("GET", f"/v3/domains/{made['id']}", None, 404)


def test_endpoint_regions_as_keystone(admin: Keystone) -> None:
    service = admin.ok("POST", "/v3/services", {"service": {"type": "t-region"}})["service"]
    endpoint = {"service_id": service["id"], "interface": "public", "url": "http://r"}
    assert admin.error("POST", "/v3/endpoints", {"endpoint": {**endpoint,
                                                             "region_id": "Nowhere"}}, 400) \
        .startswith("Expecting to find endpoint region_id in region table.")
    admin.error("GET", "/v3/regions/Nowhere", None, 404)
    # The legacy "region" alone makes the region, as keystone kept it for old clients.
    made = admin.ok("POST", "/v3/endpoints", {"endpoint": {**endpoint, "region": "NewRegion"}},
                    template="/v3/endpoints", status=201)["endpoint"]
    assert (made["region_id"], made["region"]) == ("NewRegion", "NewRegion")
    admin.ok("GET", "/v3/regions/NewRegion")
    moved = admin.ok("PATCH", f"/v3/endpoints/{made['id']}", {"endpoint": {"region": "Moved"}},
                     template="/v3/endpoints/{endpoint_id}")["endpoint"]
    assert (moved["region_id"], moved["region"]) == ("Moved", "Moved")
    admin.ok("GET", "/v3/regions/Moved")
    assert admin.error("PATCH", f"/v3/endpoints/{made['id']}",
                       {"endpoint": {"region_id": "Nowhere"}}, 400).startswith(
        "Expecting to find endpoint region_id in region table.")


def test_oauth1_consumers(admin: Keystone) -> None:
    made = admin.ok("POST", "/v3/OS-OAUTH1/consumers", {"consumer": {"description": "d"}},
                    status=201)["consumer"]
    assert made["secret"] and made["description"] == "d"
    shown = admin.ok("GET", f"/v3/OS-OAUTH1/consumers/{made['id']}")["consumer"]
    assert "secret" not in shown and shown["id"] == made["id"]
    admin.error("PATCH", f"/v3/OS-OAUTH1/consumers/{made['id']}",
                {"consumer": {"secret": "mine"}}, 400)
    assert admin.ok("PATCH", f"/v3/OS-OAUTH1/consumers/{made['id']}",
                    {"consumer": {"description": "e"}})["consumer"]["description"] == "e"
    assert made["id"] in [c["id"] for c in admin.ok("GET", "/v3/OS-OAUTH1/consumers")[
        "consumers"]]
    admin.ok("DELETE", f"/v3/OS-OAUTH1/consumers/{made['id']}", status=204)
    assert admin.error("GET", f"/v3/OS-OAUTH1/consumers/{made['id']}", None, 404) == \
        f"Could not find consumer: {made['id']}."


def test_application_credential_expiry_with_or_without_z(admin: Keystone) -> None:
    user_id = admin_user_id(admin)
    now = int(admin_clock_now(admin))
    path = f"/v3/users/{user_id}/application_credentials"
    for name, given in (("z", isotime(now + 3600)), ("bare", isotime(now + 3600)[:-1] + ".5")):
        made = admin.ok("POST", path, {"application_credential": {
            "name": f"exp-{name}", "expires_at": given}},
            template="/v3/users/{user_id}/application_credentials",
            status=201)["application_credential"]
        # keystone writes the stored datetime naive, with microseconds (Tempest compares
        # it with isoformat()).
        assert made["expires_at"] == given.rstrip("Z").split(".")[0] + (
            ".500000" if name == "bare" else ".000000")
    assert admin.error("POST", path, {"application_credential": {
        "name": "past", "expires_at": isotime(now - 60)}}, 400).startswith(
        "The 'expires_at' must not be before now.")
