"""A server's live migrations over HTTP (nova's server migrations API): listed while under
way, shown, forced to complete, aborted; each answer checked with nova's response schema of
the request's microversion, each refusal with nova's status and words."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.compute import models as m
from stacklab.compute import states
from support.apiref import assert_nova_response, nova_request_schema
from support.inprocess import admin_token

BASE = "/compute/v2.1"
NOT_FOUND = {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}


@pytest.fixture
def token(client: TestClient) -> str:
    return admin_token(client)


def at(token: str, version: str) -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {version}"}


def boot(client: TestClient, token: str) -> str:
    headers = at(token, "2.96")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    created = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "mover", "imageRef": image, "flavorRef": "1", "networks": "none"}})
    assert created.status_code == 202, created.text
    ident: str = created.json()["server"]["id"]
    return ident


def under_way(cloud: Cloud, server: str, status: str = "running",
              kind: str = "live-migration") -> int:
    """A migration of ``server`` caught mid-way (the fast profile ends them at once)."""
    service = cloud.compute
    with service.db.session() as session:
        instance = session.scalar(select(m.Instance).where(m.Instance.uuid == server))
        assert instance is not None
        instance.task_state = states.MIGRATING
        row = m.Migration(
            uuid=service.ids.uuid(), instance_uuid=server, migration_type=kind,
            status=status, source_compute=instance.host, dest_compute="elsewhere",
            old_flavor=dict(instance.flavor), new_flavor=dict(instance.flavor),
            project_id=instance.project_id, user_id=instance.user_id,
            created_at=service.clock.now(), updated_at=service.clock.now())
        session.add(row)
        session.flush()
        return row.id


def role_token(client: TestClient, admin: str, role_name: str) -> tuple[str, str]:
    """A token of a user with ``role_name`` on the admin's project, and that project."""
    headers = {"X-Auth-Token": admin}
    user = client.post("/identity/v3/users", headers=headers, json={"user": {
        "name": role_name, "domain_id": "default", "password": "pw"}}).json()["user"]["id"]
    roles = client.get("/identity/v3/roles", headers=headers).json()["roles"]
    role = next(r["id"] for r in roles if r["name"] == role_name)
    project = client.get("/identity/v3/auth/tokens", headers={
        **headers, "X-Subject-Token": admin}).json()["token"]["project"]["id"]
    assert client.put(f"/identity/v3/projects/{project}/users/{user}/roles/{role}",
                      headers=headers).status_code == 204
    answer = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": role_name, "domain": {"id": "default"}, "password": "pw"}}},
        "scope": {"project": {"id": project}}}})
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"], project


@pytest.mark.parametrize("version", ["2.23", "2.59", "2.80", "2.104"])
def test_in_progress_live_migrations_are_listed_and_shown(
        client: TestClient, cloud: Cloud, token: str, version: str) -> None:
    server = boot(client, token)
    url = f"{BASE}/servers/{server}/migrations"
    empty = client.get(url, headers=at(token, version))
    assert (empty.status_code, empty.json()) == (200, {"migrations": []})
    ident = under_way(cloud, server)
    under_way(cloud, server, status="completed")  # over: not listed
    under_way(cloud, server, status="pre-migrating", kind="migration")  # cold: not listed
    listed = client.get(url, headers=at(token, version))
    assert listed.status_code == 200, listed.text
    assert_nova_response(listed.json(), "/servers/{server_id}/migrations", "GET", version)
    [migration] = listed.json()["migrations"]
    assert (migration["id"], migration["server_uuid"], migration["status"],
            migration["dest_compute"]) == (ident, server, "running", "elsewhere")
    minor = int(version.split(".")[1])
    assert ("uuid" in migration) == (minor >= 59)
    assert ("project_id" in migration) == (minor >= 80)
    shown = client.get(f"{url}/{ident}", headers=at(token, version))
    assert shown.status_code == 200, shown.text
    assert_nova_response(shown.json(), "/servers/{server_id}/migrations/{id}", "GET", version)
    assert shown.json()["migration"] == migration


def test_the_api_starts_at_its_microversions(client: TestClient, cloud: Cloud,
                                             token: str) -> None:
    server = boot(client, token)
    ident = under_way(cloud, server)
    url = f"{BASE}/servers/{server}/migrations"
    assert client.get(url, headers=at(token, "2.22")).json() == NOT_FOUND
    assert client.get(f"{url}/{ident}", headers=at(token, "2.22")).json() == NOT_FOUND
    assert client.delete(f"{url}/{ident}", headers=at(token, "2.23")).status_code == 404
    forced = client.post(f"{url}/{ident}/action", headers=at(token, "2.21"),
                         json={"force_complete": None})
    assert forced.status_code == 404


def test_showing_what_is_not_an_in_progress_live_migration_is_404(
        client: TestClient, cloud: Cloud, token: str) -> None:
    server = boot(client, token)
    url = f"{BASE}/servers/{server}/migrations"
    done = under_way(cloud, server, status="completed")
    cold = under_way(cloud, server, status="pre-migrating", kind="migration")
    for ident, message in (
            ("999", f"In-progress live migration 999 is not found for server {server}."),
            ("x1", f"In-progress live migration x1 is not found for server {server}."),
            # Beyond a 64-bit key no row can match (SQLite would refuse the parameter).
            ("9" * 23, f"In-progress live migration {'9' * 23} is not found for server "
             f"{server}."),
            (str(cold), f"Migration {cold} for server {server} is not live-migration."),
            (str(done), f"Live migration {done} for server {server} is not in progress.")):
        answer = client.get(f"{url}/{ident}", headers=at(token, "2.80"))
        assert answer.json() == {"itemNotFound": {"code": 404, "message": message}}
    assert client.get(f"{BASE}/servers/nope/migrations",
                      headers=at(token, "2.80")).status_code == 404


def test_force_complete_asks_the_source_and_refuses_what_is_not_running(
        client: TestClient, cloud: Cloud, token: str) -> None:
    server = boot(client, token)
    url = f"{BASE}/servers/{server}/migrations"
    body = {"force_complete": None}
    schema = nova_request_schema("/servers/{server_id}/migrations/{id}/action", "POST", "2.22",
                                 action="force_complete")
    assert schema is not None
    not_migrating = client.post(f"{url}/1/action", headers=at(token, "2.22"), json=body)
    assert not_migrating.status_code == 409
    assert "task_state None" in not_migrating.json()["conflictingRequest"]["message"]
    queued = under_way(cloud, server, status="queued")
    refused = client.post(f"{url}/{queued}/action", headers=at(token, "2.22"), json=body)
    assert refused.json() == {"badRequest": {"code": 400, "message": (
        f"Migration {queued} state of instance {server} is queued. Cannot force complete "
        "while the migration is in this state.")}}
    unknown = client.post(f"{url}/999/action", headers=at(token, "2.22"), json=body)
    assert unknown.json() == {"badRequest": {"code": 400, "message": (
        f"Migration 999 not found for instance {server}")}}
    bad = client.post(f"{url}/{queued}/action", headers=at(token, "2.22"),
                      json={"force_complete": {}})
    assert bad.status_code == 400
    running = under_way(cloud, server)
    forced = client.post(f"{url}/{running}/action", headers=at(token, "2.22"), json=body)
    assert (forced.status_code, forced.content) == (202, b"")
    actions = client.get(f"{BASE}/servers/{server}/os-instance-actions",
                         headers=at(token, "2.80")).json()["instanceActions"]
    assert actions[0]["action"] == "live_migration_force_complete"


def test_abort_cancels_a_running_migration_and_queued_ones_from_2_65(
        client: TestClient, cloud: Cloud, token: str) -> None:
    server = boot(client, token)
    url = f"{BASE}/servers/{server}/migrations"
    queued = under_way(cloud, server, status="queued")
    early = client.delete(f"{url}/{queued}", headers=at(token, "2.64"))
    assert early.json() == {"badRequest": {"code": 400, "message": (
        f"Migration {queued} state of instance {server} is queued. Cannot abort live "
        "migration while the migration is in this state.")}}
    assert client.delete(f"{url}/999", headers=at(token, "2.65")).json() == {
        "itemNotFound": {"code": 404, "message": f"Migration 999 not found for instance "
                                                 f"{server}"}}
    aborted = client.delete(f"{url}/{queued}", headers=at(token, "2.65"))
    assert aborted.status_code == 202, aborted.text
    with cloud.compute.db.session() as session:
        row = session.scalar(select(m.Migration).where(m.Migration.id == queued))
        assert row is not None and row.status == "cancelled"
    shown = client.get(f"{BASE}/servers/{server}", headers=at(token, "2.80")).json()["server"]
    assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    # No longer migrating: nothing is left to abort.
    again = client.delete(f"{url}/{queued}", headers=at(token, "2.65"))
    assert again.status_code == 409
    running = under_way(cloud, server)
    assert client.delete(f"{url}/{running}", headers=at(token, "2.24")).status_code == 202
    with cloud.compute.db.session() as session:
        row = session.scalar(select(m.Migration).where(m.Migration.id == running))
        # The copy stops at its next step (the source rolls it back then).
        assert row is not None and row.status == "cancelling"


def test_a_project_manager_lists_without_hosts_and_cannot_show(
        client: TestClient, cloud: Cloud, token: str) -> None:
    server = boot(client, token)
    ident = under_way(cloud, server)
    manager, project = role_token(client, token, "manager")
    url = f"{BASE}/servers/{server}/migrations"
    listed = client.get(url, headers=at(manager, "2.80"))
    assert listed.status_code == 200, listed.text
    [migration] = listed.json()["migrations"]
    assert migration["id"] == ident
    assert [migration[k] for k in ("source_compute", "source_node", "dest_compute",
                                   "dest_host", "dest_node")] == [None] * 5
    assert client.get(f"{url}/{ident}", headers=at(manager, "2.80")).status_code == 403
    # os-migrations: the manager's own project only, hosts hidden there too.
    mine = client.get(f"{BASE}/os-migrations", headers=at(manager, "2.80"),
                      params={"project_id": project, "migration_type": "live-migration"})
    assert mine.status_code == 200, mine.text
    assert_nova_response(mine.json(), "/os-migrations", "GET", "2.80")
    rows: list[dict[str, Any]] = mine.json()["migrations"]
    assert [r["id"] for r in rows] == [ident]
    assert rows[0]["source_compute"] is None and rows[0]["project_id"] == project
    every = client.get(f"{BASE}/os-migrations", headers=at(manager, "2.80"))
    assert every.status_code == 403
    member, _ = role_token(client, token, "member")
    assert client.get(url, headers=at(member, "2.80")).status_code == 403
