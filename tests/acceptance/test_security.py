"""The walls every user relies on, tried from outside with the real clients and raw HTTP.

- an unscoped token opens no project-scoped API (401), while keystone keeps serving it;
- the lab's own API (``/stacklab/v1``) answers only an admin token, health aside;
- no password, secret or token reaches the logs, even with ``--debug --json-logs``;
- passwords and application-credential secrets count beyond bcrypt's 72 bytes.

One cloud for the module, started with ``--debug --json-logs`` so that its log file holds
every line the lab writes.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud

pytestmark = pytest.mark.acceptance

AUTH_REQUIRED = "The request you have made requires authentication."
# What a keystone Fernet token looks like, wherever it is written.
FERNET = re.compile(r"gAAAAA[A-Za-z0-9_\-]{20,}")
NO_CLOUDS = {"OS_CLOUD": "", "OS_CLIENT_CONFIG_FILE": os.devnull}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    started = start_cloud(tmp_path_factory.mktemp("security"), "--debug", "--json-logs")
    yield started
    stop_cloud(started)


def call(cloud: LiveCloud, method: str, path: str, *, token: str | None = None,
         body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = dict(headers or {})
    if token is not None:
        sent["X-Auth-Token"] = token
    response = httpx.request(method, f"{cloud.url}{path}", json=body, headers=sent, timeout=30)
    # 501 names an operation stacklab does not implement; any other 5xx is a fault.
    assert response.status_code < 500 or response.status_code == 501, (
        f"{method} {path}: {response.status_code} {response.text}")
    return response


def issue(cloud: LiveCloud, user: str, password: str, project: str | None = None,
          *, user_id: str | None = None) -> httpx.Response:
    who: dict[str, Any] = {"id": user_id} if user_id else {
        "name": user, "domain": {"id": "default"}}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        **who, "password": password}}}}
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return call(cloud, "POST", "/identity/v3/auth/tokens", body={"auth": auth})


def token_of(cloud: LiveCloud, user: str = "admin", password: str = "secret",
             project: str | None = "admin") -> str:
    response = issue(cloud, user, password, project)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


@dataclass
class Member:
    name: str
    id: str
    password: str
    project: str
    project_id: str


@pytest.fixture(scope="module")
def admin(cloud: LiveCloud) -> str:
    return token_of(cloud)


def new_member(cloud: LiveCloud, admin: str, password: str = "member-pass") -> Member:
    """A user with the member role on a project of its own (as a course's student)."""
    project = call(cloud, "POST", "/identity/v3/projects", token=admin, body={"project": {
        "name": unique("sec-proj"), "domain_id": "default"}}).json()["project"]
    name = unique("sec-user")
    user = call(cloud, "POST", "/identity/v3/users", token=admin, body={"user": {
        "name": name, "domain_id": "default", "password": password}})
    assert user.status_code == 201, user.text
    user_id = user.json()["user"]["id"]
    roles = call(cloud, "GET", "/identity/v3/roles?name=member", token=admin).json()["roles"]
    granted = call(cloud, "PUT", f"/identity/v3/projects/{project['id']}/users/{user_id}/roles/"
                   f"{roles[0]['id']}", token=admin)
    assert granted.status_code == 204, granted.text
    return Member(name, user_id, password, project["name"], project["id"])


@pytest.fixture(scope="module")
def member(cloud: LiveCloud, admin: str) -> Member:
    return new_member(cloud, admin)


# -- unscoped tokens --------------------------------------------------------------------------

# One call per project-scoped service, reads and writes; each answers a scoped token.
PROJECT_SCOPED = [
    ("GET", "/compute/v2.1/servers", None),
    ("GET", "/compute/v2.1/flavors", None),
    ("POST", "/compute/v2.1/os-keypairs", {"keypair": {"name": "unscoped-kp"}}),
    ("GET", "/image/v2/images", None),
    ("GET", "/networking/v2.0/networks", None),
    ("POST", "/networking/v2.0/networks", {"network": {"name": "unscoped-net"}}),
    ("GET", "/stacklab/v1/status", None),
]


def error_message(response: httpx.Response) -> str:
    """The message of an error in any of the services' formats."""
    body = response.json()
    for wrapper in ("error", "NeutronError", "unauthorized", "forbidden"):
        if wrapper in body:
            return str(body[wrapper]["message"])
    return str(body["message"])  # glance


@pytest.mark.parametrize(("method", "path", "body"), PROJECT_SCOPED,
                         ids=[f"{m} {p}" for m, p, _ in PROJECT_SCOPED])
def test_an_unscoped_token_opens_no_project_scoped_api(
        cloud: LiveCloud, member: Member, method: str, path: str, body: Any) -> None:
    unscoped = token_of(cloud, member.name, member.password, None)
    refused = call(cloud, method, path, token=unscoped, body=body)
    assert refused.status_code == 401, refused.text
    assert error_message(refused) == AUTH_REQUIRED
    assert refused.headers["WWW-Authenticate"] == f'Keystone uri="{cloud.url}/identity"'
    if not path.startswith("/stacklab"):
        # The same user scoped to its project gets through: the scope is what was missing.
        scoped = token_of(cloud, member.name, member.password, member.project)
        assert call(cloud, "GET", path, token=scoped).status_code == 200


def test_nothing_was_created_with_an_unscoped_token(cloud: LiveCloud, member: Member) -> None:
    unscoped = token_of(cloud, member.name, member.password, None)
    assert call(cloud, "POST", "/compute/v2.1/os-keypairs", token=unscoped,
                body={"keypair": {"name": "kp-unscoped"}}).status_code == 401
    scoped = token_of(cloud, member.name, member.password, member.project)
    keypairs = call(cloud, "GET", "/compute/v2.1/os-keypairs", token=scoped).json()["keypairs"]
    assert "kp-unscoped" not in [k["keypair"]["name"] for k in keypairs]


def test_keystone_keeps_serving_unscoped_tokens(cloud: LiveCloud, admin: str) -> None:
    user = new_member(cloud, admin, password="before-change")
    unscoped = token_of(cloud, user.name, user.password, None)
    projects = call(cloud, "GET", "/identity/v3/auth/projects", token=unscoped)
    assert projects.status_code == 200
    assert [p["id"] for p in projects.json()["projects"]] == [user.project_id]
    assert call(cloud, "GET", "/identity/v3/auth/domains", token=unscoped).status_code == 200
    assert call(cloud, "GET", "/identity/v3/auth/system", token=unscoped).status_code == 200
    assert call(cloud, "GET", f"/identity/v3/users/{user.id}/projects",
                token=unscoped).status_code == 200
    validated = call(cloud, "GET", "/identity/v3/auth/tokens", token=unscoped,
                     headers={"X-Subject-Token": unscoped})
    assert validated.status_code == 200
    assert "project" not in validated.json()["token"]
    # The usual next step: rescope the unscoped token to a project.
    rescoped = call(cloud, "POST", "/identity/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"id": user.project_id}}}})
    assert rescoped.status_code == 201, rescoped.text
    assert rescoped.json()["token"]["project"]["id"] == user.project_id
    changed = call(cloud, "POST", f"/identity/v3/users/{user.id}/password", token=unscoped,
                   body={"user": {"original_password": "before-change",
                                  "password": "after-change"}})
    assert changed.status_code == 204, changed.text
    assert issue(cloud, user.name, "after-change").status_code == 201


def test_unscoped_token_through_the_openstack_cli_and_sdk(cloud: LiveCloud,
                                                          member: Member) -> None:
    """The clients send the token as given to the endpoint named (``admin_token``).

    (With ``--os-auth-type token`` and no project, keystoneauth gets an unscoped token whose
    catalog is empty, so the CLI never finds a compute or network endpoint to call.)
    """
    unscoped = token_of(cloud, member.name, member.password, None)
    scoped = token_of(cloud, member.name, member.password, member.project)
    for endpoint, command in ((f"{cloud.url}/networking", ("network", "list")),
                              (f"{cloud.url}/image/v2", ("image", "list"))):
        for token, allowed in ((scoped, True), (unscoped, False)):
            result = cloud.openstack("--os-auth-type", "admin_token", "--os-endpoint", endpoint,
                                     "--os-token", token, *command, check=False, **NO_CLOUDS)
            if allowed:
                assert result.returncode == 0, result.stderr
            else:
                assert result.returncode != 0
                assert "401" in result.stderr and AUTH_REQUIRED in result.stderr, result.stderr

    import openstack
    from openstack import exceptions

    def sdk(token: str, endpoint: str) -> Any:
        return openstack.connect(load_yaml_config=False, load_envvars=False,
                                 auth_type="admin_token",
                                 auth={"endpoint": endpoint, "token": token})

    compute = f"{cloud.url}/compute/v2.1"
    created = sdk(scoped, compute).compute.create_keypair(name=unique("sdk-kp"))
    assert created.name.startswith("sdk-kp")
    with pytest.raises(exceptions.HttpException) as refused:
        sdk(unscoped, compute).compute.create_keypair(name=unique("sdk-kp"))
    assert refused.value.status_code == 401
    with pytest.raises(exceptions.HttpException) as listed:
        list(sdk(unscoped, f"{cloud.url}/networking").network.networks())
    assert listed.value.status_code == 401


# -- the lab's own API ------------------------------------------------------------------------

LAB_CALLS = [
    ("GET", "/stacklab/v1/status"),
    ("GET", "/stacklab/v1/logs"),
    ("GET", "/stacklab/v1/nodes/network1/netns"),
    ("GET", "/stacklab/v1/nodes/network1/netns?text"),
    ("POST", "/stacklab/v1/nodes/monitor/up"),  # up already: nothing changes
]


@pytest.mark.parametrize(("method", "path"), LAB_CALLS, ids=[f"{m} {p}" for m, p in LAB_CALLS])
def test_the_lab_api_takes_only_an_admin_token(cloud: LiveCloud, admin: str, member: Member,
                                                method: str, path: str) -> None:
    anonymous = call(cloud, method, path)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {"code": 401, "title": "Unauthorized",
                                          "message": AUTH_REQUIRED}}
    assert anonymous.headers["WWW-Authenticate"] == f'Keystone uri="{cloud.url}/identity"'
    assert anonymous.headers["x-openstack-request-id"].startswith("req-")

    assert call(cloud, method, path, token="not-a-token").status_code == 401

    student = call(cloud, method, path,
                   token=token_of(cloud, member.name, member.password, member.project))
    assert student.status_code == 403
    assert student.json() == {"error": {
        "code": 403, "title": "Forbidden",
        "message": "You are not authorized to perform the requested action: stacklab:admin."}}

    assert call(cloud, method, path, token=admin).status_code == 200


def test_the_lab_api_answers_as_keystone_does(cloud: LiveCloud, admin: str) -> None:
    status = call(cloud, "GET", "/stacklab/v1/status", token=admin).json()
    assert status["status"] == "ready" and len(status["nodes"]) == 12
    netns = call(cloud, "GET", "/stacklab/v1/nodes/network1/netns?text", token=admin)
    assert netns.headers["content-type"].startswith("text/plain")
    missing = call(cloud, "GET", "/stacklab/v1/nodes/nowhere/netns", token=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Could not find node: nowhere."
    bad_limit = call(cloud, "GET", "/stacklab/v1/logs?limit=many", token=admin)
    assert bad_limit.status_code == 400
    assert "limit" in bad_limit.json()["error"]["message"]
    logs = call(cloud, "GET", "/stacklab/v1/logs?limit=3", token=admin).json()["logs"]
    assert len(logs) == 3
    wrong_method = call(cloud, "DELETE", "/stacklab/v1/status", token=admin)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET, HEAD"


def test_health_stays_public(cloud: LiveCloud) -> None:
    health = call(cloud, "GET", "/stacklab/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ready"
    assert call(cloud, "HEAD", "/stacklab/v1/health").status_code == 200


# -- hashes: every byte of a password or secret counts ------------------------------------------

SHARED = "a-long-passphrase-" * 4  # 72 bytes, bcrypt's whole input


def as_user(cloud: LiveCloud, user: Member, password: str) -> dict[str, str]:
    return {**NO_CLOUDS, "OS_AUTH_URL": cloud.auth_url, "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": user.name, "OS_PASSWORD": password,
            "OS_PROJECT_NAME": user.project, "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne"}


def test_long_passwords_sharing_72_bytes_do_not_both_log_in(cloud: LiveCloud,
                                                            admin: str) -> None:
    assert len(SHARED.encode()) == 72
    first, second = SHARED + "first", SHARED + "second"
    user = new_member(cloud, admin, password=first)
    issued = cloud.openstack_json("token", "issue", **as_user(cloud, user, first))
    assert issued["user_id"] == user.id
    refused = cloud.openstack("token", "issue", check=False, **as_user(cloud, user, second))
    assert refused.returncode != 0
    assert "401" in refused.stderr, refused.stderr
    # A password changed through the CLI counts in full too.
    third = SHARED + "third"
    cloud.openstack("user", "password", "set", "--original-password", first,
                    "--password", third, **as_user(cloud, user, first))
    assert issue(cloud, user.name, third).status_code == 201
    assert issue(cloud, user.name, SHARED + "thirds").status_code == 401
    assert issue(cloud, user.name, first).status_code == 401


def test_long_application_credential_secrets_sharing_72_bytes(cloud: LiveCloud,
                                                               admin: str) -> None:
    user = new_member(cloud, admin, password="app-cred-owner")
    secret = SHARED + "real"
    created = cloud.openstack_json("application", "credential", "create", "--secret", secret,
                                   unique("long"), **as_user(cloud, user, "app-cred-owner"))
    assert created["Secret"] == secret

    import openstack
    from openstack import exceptions

    def connect(given: str) -> Any:
        return openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type="v3applicationcredential",
            auth={"auth_url": cloud.auth_url, "application_credential_id": created["ID"],
                  "application_credential_secret": given}, region_name="RegionOne")

    assert FERNET.match(connect(secret).authorize())
    # keystoneauth's 401 at authentication comes wrapped in the SDK's base exception.
    with pytest.raises(exceptions.SDKException, match=r"\(HTTP 401\)"):
        connect(SHARED + "fake").authorize()


# -- logs ---------------------------------------------------------------------------------------


def test_logs_hold_no_password_secret_or_token(cloud: LiveCloud, admin: str) -> None:
    """Every kind of secret the identity API takes or hands out, then the whole log read.

    Some requests are refused with messages that quote the secret back to its sender (a
    too-long secret, a password that is not valid Unicode): the sender may see it, the log
    may not.
    """
    secrets: list[str] = [admin]
    user = new_member(cloud, admin, password="first-Password-1")
    secrets.append("first-Password-1")

    changed = call(cloud, "POST", f"/identity/v3/users/{user.id}/password",
                   token=token_of(cloud, user.name, "first-Password-1", user.project),
                   body={"user": {"original_password": "first-Password-1",
                                  "password": "second-Password-2"}})
    assert changed.status_code == 204, changed.text
    secrets.append("second-Password-2")
    wrong = call(cloud, "POST", f"/identity/v3/users/{user.id}/password",
                 token=token_of(cloud, user.name, "second-Password-2", user.project),
                 body={"user": {"original_password": "wrong-Password-0",
                                "password": "third-Password-3"}})
    assert wrong.status_code == 401
    secrets += ["wrong-Password-0", "third-Password-3"]
    assert issue(cloud, user.name, "wrong-Password-9").status_code == 401
    secrets.append("wrong-Password-9")

    token = token_of(cloud, user.name, "second-Password-2", user.project)
    secrets.append(token)
    assert call(cloud, "GET", "/identity/v3/auth/tokens", token=token,
                headers={"X-Subject-Token": token}).status_code == 200
    # A token where no API takes one: in a query string, and in a path.
    call(cloud, "GET", f"/identity/v3/projects?token={token}", token=token)
    call(cloud, "GET", f"/identity/v3/auth/tokens/{token}", token=token)

    generated = call(cloud, "POST", f"/identity/v3/users/{user.id}/application_credentials",
                     token=token, body={"application_credential": {"name": unique("gen")}})
    assert generated.status_code == 201, generated.text
    app_cred = generated.json()["application_credential"]
    secrets.append(app_cred["secret"])
    given = call(cloud, "POST", f"/identity/v3/users/{user.id}/application_credentials",
                 token=token, body={"application_credential": {
                     "name": unique("given"), "secret": "Given-App-Secret-42"}})
    assert given.status_code == 201, given.text
    secrets.append("Given-App-Secret-42")
    app_token = call(cloud, "POST", "/identity/v3/auth/tokens", body={"auth": {"identity": {
        "methods": ["application_credential"], "application_credential": {
            "id": app_cred["id"], "secret": app_cred["secret"]}}}})
    assert app_token.status_code == 201, app_token.text
    secrets.append(app_token.headers["X-Subject-Token"])
    too_long = "L" * 5000
    refused = call(cloud, "POST", f"/identity/v3/users/{user.id}/application_credentials",
                   token=token, body={"application_credential": {"name": unique("long"),
                                                                 "secret": too_long}})
    assert refused.status_code == 400
    secrets.append(too_long[:100])
    # Refused, quoting the value (its status is the input validation's business).
    httpx.post(f"{cloud.url}/identity/v3/users", headers={
        "X-Auth-Token": admin, "Content-Type": "application/json"}, timeout=30,
        content=b'{"user": {"name": "u", "password": "Lone-\\ud800-Surrogate"}}')
    secrets.append("Lone-")

    ec2 = call(cloud, "POST", f"/identity/v3/users/{user.id}/credentials/OS-EC2", token=token,
               body={"tenant_id": user.project_id})
    assert ec2.status_code == 201, ec2.text
    secrets.append(ec2.json()["credential"]["secret"])
    blob = call(cloud, "POST", "/identity/v3/credentials", token=admin, body={"credential": {
        "type": "ec2", "user_id": user.id, "project_id": user.project_id,
        "blob": json.dumps({"access": unique("access"), "secret": "Blob-Secret-77"})}})
    assert blob.status_code == 201, blob.text
    secrets.append("Blob-Secret-77")

    # The CLI's way in, too: a user created with a password, and its token.
    cli_password = "Cli-Password-5"
    cli_user = new_member(cloud, admin, password="unused-by-cli")
    cloud.openstack("user", "set", "--password", cli_password, cli_user.name)
    cli_token = cloud.openstack_json("token", "issue",
                                     **as_user(cloud, cli_user, cli_password))["id"]
    secrets += [cli_password, cli_token]

    logged = call(cloud, "GET", "/stacklab/v1/logs?limit=100000", token=admin).json()["logs"]
    stored = json.dumps(logged)
    written = cloud.log.read_text()
    # Both are the whole story: the requests above are there, with their details.
    for text in (stored, written):
        assert f"/v3/users/{user.id}/password" in text
        assert "application_credentials" in text and "OS-EC2" in text
        assert "identity error 400" in text
    for secret in secrets:
        assert secret not in stored, f"{secret[:12]}... in GET /stacklab/v1/logs"
        assert secret not in written, f"{secret[:12]}... in the server's log file"
    assert not FERNET.search(stored), FERNET.search(stored)
    assert not FERNET.search(written), FERNET.search(written)
    # --json-logs: one JSON document a line; the masked values left their mark.
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "message", "request_id"} <= set(line)
                         for line in lines)
    assert any("***" in line["message"] for line in lines)


def test_init_hook_output_is_masked(tmp_path: Any) -> None:
    """A hook that prints what the CLI shows of an application credential (its secret)."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "10-appcred.openstack").write_text(
        "application credential create --secret Hook-Secret-Value-1 hook-cred\n")
    # Ready (health 200) once the hooks have run.
    hooked = start_cloud(tmp_path, "--init-hooks", str(hooks), "--json-logs")
    try:
        admin = token_of(hooked)
        logged = json.dumps(call(hooked, "GET", "/stacklab/v1/logs?limit=100000",
                                 token=admin).json())
        assert "hook-cred" in logged, "the hook's output is logged"
        assert "Hook-Secret-Value-1" not in logged
        assert "Hook-Secret-Value-1" not in hooked.log.read_text()
    finally:
        stop_cloud(hooked)
