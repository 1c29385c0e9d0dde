"""Identity v3 driven by the real ``openstack`` CLI, as an operator of the lab would drive it.

Every CLI call starts a Python interpreter (~1 s), so each test walks a whole lifecycle and
checks several behaviours per call. The cloud is shared by the session: every name carries a
``cli-`` prefix and a short per-test tag.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from acceptance.conftest import LiveCloud
from support import osc

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.every_shape]

NOT_AUTHORIZED = "You are not authorized to perform the requested action: identity:"
# openstacksdk merges a clouds.yaml entry (the stacklab one, or ~/.config's) into the options
# of the command line unless the file it reads is empty.
NO_CLOUDS = {"OS_CLOUD": "", "OS_CLIENT_CONFIG_FILE": os.devnull}


def as_user(live: LiveCloud, user: str, password: str, project: str) -> dict[str, str]:
    """Environment of an openrc for ``user``, with no clouds.yaml to fall back on."""
    return {
        **NO_CLOUDS, "OS_AUTH_URL": live.auth_url, "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": user, "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
    }


def assignments(rows: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    """``role assignment list --names`` rows as comparable (role, actor, target) triples."""
    return {(row["Role"], row["User"] or row["Group"],
             row["Project"] or row["Domain"] or f"system:{row['System']}") for row in rows}


def failed(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Assert the command failed and its stderr carries every needle; return stderr."""
    assert result.returncode != 0, result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr
    return result.stderr


def cli(live: LiveCloud, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real CLI with environment overrides, unchecked.

    ``LiveCloud.env`` sets OS_CLOUD and OS_CLIENT_CONFIG_FILE itself, so another user's
    openrc or another clouds.yaml cannot go through ``live.openstack``.
    """
    full = live.env()
    full.update(env)
    return osc.run(args, full, timeout=120)


def cli_json(live: LiveCloud, *args: str, **env: str) -> Any:
    result = cli(live, *args, "-f", "json", **env)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return json.loads(result.stdout)


@dataclass
class Member:
    """A user with the member role on its own project (both in the Default domain)."""

    project: dict[str, Any]
    user: dict[str, Any]
    password: str

    def env(self, live: LiveCloud, password: str | None = None) -> dict[str, str]:
        return as_user(live, self.user["name"], password or self.password,
                       self.project["name"])


@pytest.fixture(scope="module")
def member(live: LiveCloud) -> Member:
    project = live.openstack_json("project", "create", "--description", "member home",
                                  "cli-mem-proj")
    user = live.openstack_json(
        "user", "create", "--password", "mem-pw-1", "--project", project["id"],
        "--email", "mem@example.org", "--description", "a plain member", "cli-mem-user")
    live.openstack("role", "add", "--user", user["id"], "--project", project["id"], "member")
    return Member(project, user, "mem-pw-1")


@pytest.fixture(scope="module")
def admin_token(live: LiveCloud) -> dict[str, Any]:
    token: dict[str, Any] = live.openstack_json("token", "issue")
    return token


# --------------------------------------------------------------------------- tokens, catalog


def test_token_issue_and_identity_catalog(live: LiveCloud, admin_token: dict[str, Any]) -> None:
    assert set(admin_token) == {"id", "expires", "project_id", "user_id"}
    assert admin_token["id"].startswith("gAAAAA")  # a Fernet token, as keystone issues them
    expires = datetime.datetime.strptime(admin_token["expires"], "%Y-%m-%dT%H:%M:%S%z")
    lifetime = (expires - datetime.datetime.now(datetime.UTC)).total_seconds()
    assert 3600 - 120 < lifetime <= 3600 + 5  # keystone's [token] expiration default

    admin = live.openstack_json("user", "show", "admin")
    assert (admin_token["user_id"], admin["domain_id"]) == (admin["id"], "default")

    url = live.url + "/identity"
    expected = {("public", "RegionOne", url), ("internal", "RegionOne", url),
                ("admin", "RegionOne", url)}
    services = live.openstack_json("catalog", "list")
    identity = [s for s in services if s["Type"] == "identity"]
    assert len(identity) == 1 and identity[0]["Name"] == "keystone"
    assert {(e["interface"], e["region"], e["url"]) for e in identity[0]["Endpoints"]} == expected

    shown = live.openstack_json("catalog", "show", "identity")
    assert (shown["name"], shown["type"]) == ("keystone", "identity")
    assert {(e["interface"], e["region_id"], e["url"]) for e in shown["endpoints"]} == expected
    assert {e["id"] for e in shown["endpoints"]} == {e["id"] for e in identity[0]["Endpoints"]}


# --------------------------------------------------------------------------- domains, projects


def test_domain_and_project_lifecycle(live: LiveCloud) -> None:
    domain = live.openstack_json("domain", "create", "--description", "lab domain", "cli-dp-dom")
    assert (domain["name"], domain["enabled"], domain["description"]) == \
        ("cli-dp-dom", True, "lab domain")

    parent = live.openstack_json("project", "create", "--domain", "cli-dp-dom",
                                 "--description", "the parent", "--tag", "cli-dp-t1",
                                 "cli-dp-parent")
    assert parent["domain_id"] == domain["id"]
    # A top-level project's parent is its domain (projects acting as domains).
    assert parent["parent_id"] == domain["id"]
    assert (parent["description"], parent["tags"], parent["is_domain"]) == \
        ("the parent", ["cli-dp-t1"], False)
    child = live.openstack_json("project", "create", "--domain", "cli-dp-dom",
                                "--parent", parent["id"], "--tag", "cli-dp-t1",
                                "--tag", "cli-dp-t2", "cli-dp-child")
    assert (child["domain_id"], child["parent_id"]) == (domain["id"], parent["id"])

    in_domain = live.openstack_json("project", "list", "--domain", "cli-dp-dom", "--long")
    assert {(p["Name"], p["Description"], p["Domain ID"]) for p in in_domain} == {
        ("cli-dp-parent", "the parent", domain["id"]), ("cli-dp-child", "", domain["id"])}
    tagged = live.openstack_json("project", "list", "--tags", "cli-dp-t2")
    assert [p["ID"] for p in tagged] == [child["id"]]

    live.openstack("project", "set", "--domain", "cli-dp-dom", "--name", "cli-dp-child2",
                   "--disable", "--tag", "cli-dp-t3", "cli-dp-child")
    shown = live.openstack_json("project", "show", child["id"])
    assert (shown["name"], shown["enabled"], shown["parent_id"]) == \
        ("cli-dp-child2", False, parent["id"])
    assert set(shown["tags"]) == {"cli-dp-t1", "cli-dp-t2", "cli-dp-t3"}

    failed(live.openstack("domain", "delete", "cli-dp-dom", check=False), "403",
           "Cannot delete a domain that is enabled, please disable it first.")
    live.openstack("project", "delete", child["id"], parent["id"])

    live.openstack("domain", "set", "--disable", "cli-dp-dom")
    shown = live.openstack_json("domain", "show", domain["id"])
    assert (shown["name"], shown["enabled"], shown["description"]) == \
        ("cli-dp-dom", False, "lab domain")
    live.openstack("domain", "delete", domain["id"])
    remaining = live.openstack_json("domain", "list")
    assert domain["id"] not in {d["ID"] for d in remaining}
    assert ("default", "Default", True) in {(d["ID"], d["Name"], d["Enabled"]) for d in remaining}


# --------------------------------------------------------------------------- users, groups, roles


def test_users_groups_roles_and_assignments(live: LiveCloud, member: Member) -> None:
    user, project = member.user, member.project
    assert (user["email"], user["description"], user["default_project_id"],
            user["domain_id"], user["enabled"]) == \
        ("mem@example.org", "a plain member", project["id"], "default", True)
    assert "password" not in user

    users = live.openstack_json("user", "list", "--domain", "default", "--long")
    row = next(u for u in users if u["ID"] == user["id"])
    assert (row["Name"], row["Project"], row["Domain"], row["Email"], row["Description"],
            row["Enabled"]) == ("cli-mem-user", project["id"], "default", "mem@example.org",
                                "a plain member", True)
    assert "admin" in {u["Name"] for u in users}
    assert live.openstack_json("user", "show", "cli-mem-user") == user

    group = live.openstack_json("group", "create", "--description", "ops", "cli-ur-grp")
    assert (group["name"], group["description"], group["domain_id"]) == \
        ("cli-ur-grp", "ops", "default")
    live.openstack("group", "add", "user", "cli-ur-grp", "cli-mem-user")
    contains = live.openstack("group", "contains", "user", "cli-ur-grp", "cli-mem-user")
    assert contains.stdout.strip() == "cli-mem-user in group cli-ur-grp"
    assert [u["ID"] for u in live.openstack_json("user", "list", "--group", "cli-ur-grp")] == \
        [user["id"]]
    live.openstack("group", "set", "--name", "cli-ur-grp2", "--description", "operators",
                   "cli-ur-grp")
    mine = live.openstack_json("group", "list", "--user", user["id"], "--long")
    assert [(g["ID"], g["Name"], g["Description"]) for g in mine] == \
        [(group["id"], "cli-ur-grp2", "operators")]

    role = live.openstack_json("role", "create", "--description", "first", "cli-ur-role")
    assert (role["name"], role["description"], role["domain_id"]) == \
        ("cli-ur-role", "first", None)
    live.openstack("role", "set", "--name", "cli-ur-role2", "--description", "renamed",
                   "cli-ur-role")
    shown = live.openstack_json("role", "show", "cli-ur-role2")
    assert (shown["id"], shown["description"]) == (role["id"], "renamed")

    live.openstack("role", "add", "--group", "cli-ur-grp2", "--project", project["id"],
                   "cli-ur-role2")
    live.openstack("role", "add", "--group", "cli-ur-grp2", "--domain", "default",
                   "cli-ur-role2")
    live.openstack("role", "add", "--user", user["id"], "--domain", "default", "reader")
    live.openstack("role", "add", "--user", user["id"], "--system", "all", "reader")
    implied = live.openstack_json("implied", "role", "create", "cli-ur-role2",
                                  "--implied-role", "service")
    assert implied["prior_role"] == role["id"]
    rules = {(r["Prior Role Name"], r["Implied Role Name"])
             for r in live.openstack_json("implied", "role", "list")}
    assert {("cli-ur-role2", "service"), ("member", "reader")} <= rules

    u, g, p, d = "cli-mem-user@Default", "cli-ur-grp2@Default", "cli-mem-proj@Default", "Default"
    on_project = live.openstack_json("role", "assignment", "list", "--project", project["id"],
                                     "--names")
    assert assignments(on_project) == {("member", u, p), ("cli-ur-role2", g, p)}
    # Effective: the group's roles come down to its member as the member's own, and
    # implications are expanded (member implies reader, cli-ur-role2 implies service).
    effective = live.openstack_json("role", "assignment", "list", "--user", user["id"],
                                    "--names", "--effective")
    assert assignments(effective) == {
        ("member", u, p), ("reader", u, p), ("cli-ur-role2", u, p), ("service", u, p),
        ("cli-ur-role2", u, d), ("service", u, d), ("reader", u, d),
        ("reader", u, "system:all")}

    live.openstack("implied", "role", "delete", "cli-ur-role2", "--implied-role", "service")
    live.openstack("role", "remove", "--user", user["id"], "--system", "all", "reader")
    live.openstack("role", "remove", "--user", user["id"], "--domain", "default", "reader")
    live.openstack("role", "remove", "--group", "cli-ur-grp2", "--project", project["id"],
                   "cli-ur-role2")
    # Still in the group, which keeps its role on the domain, which no longer implies service.
    effective = live.openstack_json("role", "assignment", "list", "--user", user["id"],
                                    "--names", "--effective")
    assert assignments(effective) == {("member", u, p), ("reader", u, p),
                                      ("cli-ur-role2", u, d)}

    live.openstack("group", "remove", "user", "cli-ur-grp2", "cli-mem-user")
    gone = live.openstack("group", "contains", "user", "cli-ur-grp2", "cli-mem-user")
    # Not a member: the CLI says so on stderr and still exits 0.
    assert gone.stdout == "" and "cli-mem-user not in group cli-ur-grp2" in gone.stderr
    live.openstack("role", "delete", "cli-ur-role2")
    live.openstack("group", "delete", "cli-ur-grp2")


# --------------------------------------------------------------------------- catalog admin


def test_region_service_endpoint_lifecycle(live: LiveCloud) -> None:
    region = live.openstack_json("region", "create", "--description", "east", "cli-rse-reg")
    assert region == {"region": "cli-rse-reg", "description": "east", "parent_region": None}
    child = live.openstack_json("region", "create", "--parent-region", "cli-rse-reg",
                                "cli-rse-sub")
    assert child["parent_region"] == "cli-rse-reg"
    live.openstack("region", "set", "--description", "east, rack 2", "cli-rse-sub")
    regions = {r["Region"]: (r["Parent Region"], r["Description"])
               for r in live.openstack_json("region", "list")}
    assert regions["cli-rse-reg"] == (None, "east")
    assert regions["cli-rse-sub"] == ("cli-rse-reg", "east, rack 2")
    assert "RegionOne" in regions

    service = live.openstack_json("service", "create", "--name", "cli-rse-svc",
                                  "--description", "lab svc", "cli-rse-type")
    assert (service["name"], service["type"], service["enabled"], service["description"]) == \
        ("cli-rse-svc", "cli-rse-type", True, "lab svc")
    public = live.openstack_json("endpoint", "create", "--region", "cli-rse-reg",
                                 "cli-rse-svc", "public", "http://svc.example/pub")
    assert (public["service_id"], public["region_id"], public["interface"], public["enabled"]) \
        == (service["id"], "cli-rse-reg", "public", True)
    internal = live.openstack_json("endpoint", "create", "--region", "cli-rse-reg", "--disable",
                                   "cli-rse-svc", "internal", "http://svc.example/int")
    assert internal["enabled"] is False
    live.openstack("endpoint", "set", "--enable", "--url", "http://svc.example/int2",
                   internal["id"])
    shown = live.openstack_json("endpoint", "show", internal["id"])
    assert (shown["url"], shown["enabled"], shown["service_name"], shown["region"]) == \
        ("http://svc.example/int2", True, "cli-rse-svc", "cli-rse-reg")
    listed = live.openstack_json("endpoint", "list", "--service", "cli-rse-type")
    assert {(e["ID"], e["Interface"], e["URL"], e["Enabled"]) for e in listed} == {
        (public["id"], "public", "http://svc.example/pub", True),
        (internal["id"], "internal", "http://svc.example/int2", True)}

    failed(live.openstack("region", "delete", "cli-rse-reg", check=False), "403",
           "Unable to delete region cli-rse-reg because it or its child regions have "
           "associated endpoints.")

    live.openstack("service", "set", "--name", "cli-rse-svc2", "--disable", service["id"])
    services = live.openstack_json("service", "list", "--long")
    assert (service["id"], "cli-rse-svc2", "cli-rse-type", False, "lab svc") in \
        {(s["ID"], s["Name"], s["Type"], s["Enabled"], s["Description"]) for s in services}
    shown = live.openstack_json("service", "show", "cli-rse-svc2")
    assert (shown["id"], shown["enabled"]) == (service["id"], False)

    live.openstack("endpoint", "delete", public["id"])
    # Deleting a service takes its remaining endpoints with it.
    live.openstack("service", "delete", service["id"])
    live.openstack("region", "delete", "cli-rse-sub", "cli-rse-reg")
    missing = live.openstack("endpoint", "show", internal["id"], check=False)
    failed(missing, f"No Endpoint found for {internal['id']}")


def test_region_delete_cascades_to_child_regions(live: LiveCloud) -> None:
    live.openstack("region", "create", "cli-rcc-top")
    live.openstack("region", "create", "--parent-region", "cli-rcc-top", "cli-rcc-sub")
    live.openstack("region", "delete", "cli-rcc-top")
    regions = {r["Region"] for r in live.openstack_json("region", "list")}
    assert not {"cli-rcc-top", "cli-rcc-sub"} & regions


def test_region_with_endpoints_is_not_deleted(live: LiveCloud) -> None:
    service = live.openstack_json("service", "create", "--name", "cli-rwe-svc", "cli-rwe-type")
    try:
        live.openstack("region", "create", "cli-rwe-reg")
        live.openstack("endpoint", "create", "--region", "cli-rwe-reg", service["id"],
                       "public", "http://rwe.example/")
        failed(live.openstack("region", "delete", "cli-rwe-reg", check=False), "403",
               "Unable to delete region cli-rwe-reg because it or its child regions have "
               "associated endpoints.")
    finally:
        live.openstack("service", "delete", service["id"])


def test_bootstrap_role_implications(live: LiveCloud) -> None:
    rules = {(r["Prior Role Name"], r["Implied Role Name"])
             for r in live.openstack_json("implied", "role", "list")}
    defaults = {rule for rule in rules if rule[0] in ("admin", "manager", "member")}
    assert defaults == {("admin", "manager"), ("manager", "member"), ("member", "reader")}


def test_duplicate_project_conflict_names_the_project(live: LiveCloud, member: Member) -> None:
    result = live.openstack("project", "create", "cli-mem-proj", check=False)
    message = failed(result, "409", "Conflict occurred attempting to store project")
    assert "name is cli-mem-proj" in message


# --------------------------------------------------------------------------- app credentials


def test_application_credential_lifecycle_and_use(live: LiveCloud, tmp_path: Path,
                                                  admin_token: dict[str, Any]) -> None:
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)).replace(
        microsecond=0, tzinfo=None)
    created = live.openstack_json(
        "application", "credential", "create", "--role", "member", "--unrestricted",
        "--expiration", expires.isoformat(), "--description", "ci robot",
        "--secret", "cli-ac-secret", "cli-ac-cred")
    assert (created["Name"], created["Description"], created["Project ID"],
            created["Unrestricted"], created["Secret"]) == \
        ("cli-ac-cred", "ci robot", admin_token["project_id"], True, "cli-ac-secret")
    assert [r["name"] for r in created["Roles"]] == ["member"]
    assert created["Expires At"].startswith(expires.isoformat())

    listed = live.openstack_json("application", "credential", "list")
    assert [c["ID"] for c in listed if c["Name"] == "cli-ac-cred"] == [created["ID"]]
    shown = live.openstack_json("application", "credential", "show", "cli-ac-cred")
    assert "Secret" not in shown  # the secret is shown once, at creation
    assert {k: v for k, v in created.items() if k != "Secret"} == shown

    clouds = yaml.safe_load(live.clouds_yaml.read_text())
    clouds["clouds"]["cli-ac"] = {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": live.auth_url, "application_credential_id": created["ID"],
                 "application_credential_secret": "cli-ac-secret"},
        "region_name": "RegionOne", "identity_api_version": 3,
    }
    clouds_file = tmp_path / "clouds.yaml"
    clouds_file.write_text(yaml.safe_dump(clouds))
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds_file), "OS_CLOUD": "cli-ac"}

    token = cli_json(live, "token", "issue", **env)
    assert (token["user_id"], token["project_id"]) == \
        (admin_token["user_id"], admin_token["project_id"])
    # The credential carries only the member role, not the admin's admin role.
    failed(cli(live, "user", "list", **env), "403", NOT_AUTHORIZED + "list_users")

    live.openstack("application", "credential", "delete", created["ID"])
    failed(cli(live, "token", "issue", **env), "(HTTP 401)")


# --------------------------------------------------------------------------- RBAC, passwords


def test_member_rbac_and_password_changes(live: LiveCloud, member: Member) -> None:
    env = member.env(live)
    for args, action in ((("user", "list"), "list_users"),
                         (("project", "create", "cli-rbac-nope"), "create_project"),
                         (("role", "assignment", "list"), "list_role_assignments")):
        failed(cli(live, *args, **env), "403", NOT_AUTHORIZED + action)

    credential = cli_json(live, "application", "credential", "create", "cli-rbac-cred",
                          **env)
    assert credential["Project ID"] == member.project["id"]
    assert "member" in {r["name"] for r in credential["Roles"]}
    assert "admin" not in {r["name"] for r in credential["Roles"]}

    failed(cli(live, "token", "issue", **member.env(live, "wrong")), "(HTTP 401)")

    live.openstack("user", "set", "--disable", member.user["id"])
    try:
        failed(cli(live, "token", "issue", **env), "(HTTP 401)")
    finally:  # the member is shared with the other tests of this module
        live.openstack("user", "set", "--enable", "--password", "mem-pw-2", member.user["id"])
        member.password = "mem-pw-2"
    failed(cli(live, "token", "issue", **env), "(HTTP 401)")  # the old password
    token = cli_json(live, "token", "issue", **member.env(live))
    assert (token["user_id"], token["project_id"]) == (member.user["id"], member.project["id"])


def test_token_revoke_takes_effect_at_once(live: LiveCloud, member: Member) -> None:
    token = cli_json(live, "token", "issue", **member.env(live))["id"]
    project_id = member.project["id"]
    # admin_token sends the token as X-Auth-Token straight to the API, as a service would.
    direct = ("--os-auth-type", "admin_token", "--os-token", token,
              "--os-endpoint", live.auth_url + "/v3")
    before = cli_json(live, *direct, "project", "show", project_id, **NO_CLOUDS)
    assert before["name"] == "cli-mem-proj"

    live.openstack("token", "revoke", token)
    failed(cli(live, *direct, "project", "show", project_id, **NO_CLOUDS),
           "401", "The request you have made requires authentication.")
    # Re-scoping a revoked token through POST /v3/auth/tokens: keystone's token plugin
    # validates it and answers TokenNotFound, a 404, not a 401.
    failed(cli(live, "--os-auth-type", "token", "--os-token", token, "--os-project-id",
               project_id, "project", "show", project_id, **NO_CLOUDS,
               OS_AUTH_URL=live.auth_url, OS_IDENTITY_API_VERSION="3"),
           "Failed to validate token (HTTP 404)")


def test_the_forked_cli_answers_as_the_executable(live: LiveCloud) -> None:
    """support/osc.py forks each call from a server that has made the CLI's imports: the
    same calls through ``.venv/bin/openstack`` itself must print and exit the same."""
    env = live.env()
    calls = [
        ("--version",),
        ("catalog", "list", "-f", "json"),
        ("region", "show", "RegionOne", "-f", "json"),
        ("project", "show", "no-such-project"),  # an API error: stderr and exit code 1
        ("project", "list", "--no-such-option"),  # argparse's error, exit code 2
        ("--no-such-option",),  # not a command, exit code 2
    ]
    outcomes = []
    for argv in calls:
        forked = osc.run(argv, env, timeout=120)
        executed = subprocess.run([str(osc.EXECUTABLE), *argv], env=env, capture_output=True,
                                  text=True, timeout=120)
        assert (forked.returncode, forked.stdout, forked.stderr) == (
            executed.returncode, executed.stdout, executed.stderr), argv
        outcomes.append(forked.returncode)
    assert outcomes == [0, 0, 0, 1, 2, 2]
    # cliff names the program from argv[0] when it is imported: the server's must be the CLI's.
    assert osc.run(("--version",), env, timeout=120).stdout.startswith("openstack ")


def test_a_forked_call_past_its_timeout_is_killed(live: LiveCloud) -> None:
    """A server that takes the connection and never answers: the call is killed at its
    timeout and says so as subprocess.run does."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = {key: value for key, value in live.env().items() if key != "OS_CLOUD"}
        env.update(OS_AUTH_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/v3",
                   OS_USERNAME="admin", OS_PASSWORD="secret", OS_PROJECT_NAME="admin",
                   OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
        with pytest.raises(subprocess.TimeoutExpired):
            osc.run(("project", "list"), env, timeout=3)
