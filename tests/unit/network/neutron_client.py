"""In-process Networking clients for the tests of this folder (fixtures in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.testclient import TestClient


class Neutron:
    """Raw requests to ``/networking`` with one token; never a 5xx, always neutron's error
    body when it is an error."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token
        self.sent = 0

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        self.sent += 1
        response = self.client.request(method, f"/networking{path}", json=body,
                                       headers={"X-Auth-Token": self.token})
        assert response.status_code < 500, f"{method} {path} {body!r}: {response.text}"
        if response.status_code >= 400:
            error = response.json()["NeutronError"]
            assert set(error) == {"type", "message", "detail"}, error
        return response

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def create(self, collection: str, resource: str, **fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.ok("POST", f"/v2.0/{collection}", {resource: fields},
                                          201)[resource]
        return created


def expect_error(response: httpx.Response, status: int, kind: str,
                 message: str | None = None) -> str:
    assert response.status_code == status, f"{status} expected: {response.text}"
    error = response.json()["NeutronError"]
    assert error["type"] == kind, error
    if message is not None:
        assert error["message"] == message, error
    text: str = error["message"]
    return text


@dataclass
class Tenant:
    name: str
    project_id: str
    neutron: Neutron


def member(client: TestClient, admin: Neutron, name: str, role: str = "member") -> Tenant:
    identity = {"X-Auth-Token": admin.token}
    project = client.post("/identity/v3/projects", headers=identity, json={
        "project": {"name": name, "domain_id": "default"}})
    assert project.status_code == 201, project.text
    user = client.post("/identity/v3/users", headers=identity, json={
        "user": {"name": name, "password": "pw", "domain_id": "default"}})
    assert user.status_code == 201, user.text
    project_id, user_id = project.json()["project"]["id"], user.json()["user"]["id"]
    roles = client.get("/identity/v3/roles", headers=identity, params={"name": role})
    role_id = roles.json()["roles"][0]["id"]
    granted = client.put(f"/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}",
                         headers=identity)
    assert granted.status_code == 204, granted.text
    token = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": name, "domain": {"id": "default"}, "password": "pw"}}},
        "scope": {"project": {"id": project_id}}}})
    assert token.status_code == 201, token.text
    return Tenant(name, project_id, Neutron(client, token.headers["X-Subject-Token"]))
