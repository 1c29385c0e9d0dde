"""Helpers for calling the Block Storage API in-process."""

from __future__ import annotations

from starlette.testclient import TestClient

V3 = "/volume/v3"


def at(token: str, version: str = "3.71") -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"volume {version}"}


def member_token(client: TestClient, admin: str, name: str) -> tuple[str, str]:
    """A new project and a user with the member role in it: (token, project id)."""
    headers = {"X-Auth-Token": admin}
    project = client.post("/identity/v3/projects", headers=headers,
                          json={"project": {"name": f"p-{name}"}}).json()["project"]["id"]
    user = client.post("/identity/v3/users", headers=headers, json={
        "user": {"name": f"u-{name}", "password": f"pw-{name}"}}).json()["user"]["id"]
    member = client.get("/identity/v3/roles?name=member", headers=headers).json()["roles"][0]
    client.put(f"/identity/v3/projects/{project}/users/{user}/roles/{member['id']}",
               headers=headers)
    issued = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": user, "password": f"pw-{name}"}}},
        "scope": {"project": {"id": project}}}})
    assert issued.status_code == 201, issued.text
    return issued.headers["X-Subject-Token"], project
