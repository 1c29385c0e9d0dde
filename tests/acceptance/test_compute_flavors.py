"""Compute flavors, key pairs, limits, zones: the real CLI, and nova's schemas per microversion."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_nova_response, nova_success_code

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

VERSIONS = ("2.1", "2.2", "2.36", "2.55", "2.61", "2.75", "2.96")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Nova:
    def __init__(self, live: LiveCloud, token: str) -> None:
        self.client = httpx.Client(base_url=f"{live.url}/compute/v2.1", timeout=30,
                                   headers={"X-Auth-Token": token})

    def call(self, method: str, path: str, version: str, **kw: Any) -> httpx.Response:
        headers = {"OpenStack-API-Version": f"compute {version}"}
        response = self.client.request(method, path, headers=headers, **kw)
        assert response.status_code < 500, response.text
        assert "Traceback" not in response.text
        assert response.headers.get("openstack-api-version") in (f"compute {version}", None)
        return response


def token(live: LiveCloud, user: str = "admin", password: str = "secret",
          project: str = "admin") -> str:
    response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def nova(live: LiveCloud) -> Iterator[Nova]:
    client = Nova(live, token(live))
    yield client
    client.client.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_flavor_bodies_match_nova_at_each_microversion(nova: Nova, version: str) -> None:
    listed = nova.call("GET", "/flavors", version)
    assert listed.status_code == 200
    assert_nova_response(listed.json(), "/flavors", "GET", version)
    assert [f["name"] for f in listed.json()["flavors"]][:5] == \
        ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"]
    detail = nova.call("GET", "/flavors/detail", version).json()
    assert_nova_response(detail, "/flavors/detail", "GET", version)
    shown = nova.call("GET", "/flavors/1", version).json()
    assert_nova_response(shown, "/flavors/{id}", "GET", version)
    # nova showed "no swap" as "" until 2.75, as 0 since.
    at_least_275 = tuple(map(int, version.split("."))) >= (2, 75)
    assert shown["flavor"]["swap"] == (0 if at_least_275 else "")


def test_flavor_list_sorts_ascending_unless_told_and_pages_with_links(nova: Nova) -> None:
    by_ram = nova.call("GET", "/flavors/detail?sort_key=memory_mb", "2.1").json()["flavors"]
    rams = [f["ram"] for f in by_ram]
    assert rams == sorted(rams) and len(rams) >= 5
    down = nova.call("GET", "/flavors/detail?sort_key=memory_mb&sort_dir=desc", "2.1").json()
    assert [f["ram"] for f in down["flavors"]] == sorted(rams, reverse=True)
    ids = sorted(f["id"] for f in by_ram)  # nova orders by flavorid by default
    page = nova.call("GET", "/flavors?limit=2", "2.1").json()
    assert [f["id"] for f in page["flavors"]] == ids[:2]
    assert f"marker={ids[1]}" in page["flavors_links"][0]["href"]
    assert nova.call("GET", "/flavors?marker=nope", "2.1").status_code == 400


@pytest.mark.parametrize("version", ("2.1", "2.55", "2.75"))
def test_flavor_create_extra_specs_access_delete(nova: Nova, version: str) -> None:
    body: dict[str, Any] = {"name": unique("fl"), "ram": 128, "vcpus": 1, "disk": 1,
                            "os-flavor-access:is_public": False}
    if version != "2.1":
        body["description"] = "a test flavor"
    created = nova.call("POST", "/flavors", version, json={"flavor": body})
    assert created.status_code == nova_success_code("/flavors", "POST", version)
    assert_nova_response(created.json(), "/flavors", "POST", version)
    flavor_id = created.json()["flavor"]["id"]
    specs = nova.call("POST", f"/flavors/{flavor_id}/os-extra_specs", version,
                      json={"extra_specs": {"hw:cpu_policy": "dedicated", "quota:n": 3}})
    assert specs.status_code == 200
    assert specs.json() == {"extra_specs": {"hw:cpu_policy": "dedicated", "quota:n": "3"}}
    one = nova.call("GET", f"/flavors/{flavor_id}/os-extra_specs/hw:cpu_policy", version)
    assert one.json() == {"hw:cpu_policy": "dedicated"}
    access = nova.call("POST", f"/flavors/{flavor_id}/action", version,
                       json={"addTenantAccess": {"tenant": "p-123"}})
    assert access.status_code == 200
    assert access.json()["flavor_access"] == [{"flavor_id": flavor_id, "tenant_id": "p-123"}]
    again = nova.call("POST", f"/flavors/{flavor_id}/action", version,
                      json={"addTenantAccess": {"tenant": "p-123"}})
    assert again.status_code == 409
    deleted = nova.call("DELETE", f"/flavors/{flavor_id}", version)
    assert deleted.status_code == 202
    assert nova.call("GET", f"/flavors/{flavor_id}", version).status_code == 404


@pytest.mark.parametrize(("version", "body", "status"), [
    ("2.1", {"flavor": {"name": "x", "ram": 0, "vcpus": 1, "disk": 1}}, 400),
    ("2.1", {"flavor": {"name": "x", "ram": 1, "vcpus": 1}}, 400),
    ("2.1", {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 1, "bogus": 1}}, 400),
    ("2.1", {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 1,
                        "description": "too early"}}, 400),
    ("2.55", {"flavor": {"name": "m1.tiny", "ram": 1, "vcpus": 1, "disk": 1}}, 409),
])
def test_flavor_bad_input(nova: Nova, version: str, body: dict[str, Any], status: int) -> None:
    response = nova.call("POST", "/flavors", version, json=body)
    assert response.status_code == status, response.text
    fault = next(iter(response.json().values()))
    assert fault["code"] == status and fault["message"]


def test_unknown_flavor_is_item_not_found(nova: Nova) -> None:
    response = nova.call("GET", "/flavors/nope", "2.1")
    assert response.status_code == 404
    assert response.json() == {"itemNotFound": {"code": 404,
                                                "message": "Flavor nope could not be found."}}


def test_microversion_out_of_range_is_406(nova: Nova) -> None:
    response = nova.client.get("/flavors", headers={"OpenStack-API-Version": "compute 3.0"})
    assert response.status_code == 406
    latest = nova.client.get("/flavors", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.headers["openstack-api-version"] == "compute 2.104"


@pytest.mark.parametrize("version", ("2.1", "2.2", "2.10", "2.92"))
def test_keypair_bodies_and_status_codes(nova: Nova, version: str) -> None:
    name = unique("kp")
    body: dict[str, Any] = {"name": name}
    if version == "2.92":
        generated = nova.call("POST", "/os-keypairs", version, json={"keypair": body})
        assert generated.status_code == 400  # 2.92 no longer generates keys
        body["public_key"] = (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE5rP2lZ0n4G7WqOixQm3cQh3n2bQXGkq9Ju5m8Jm2xb x")
    created = nova.call("POST", "/os-keypairs", version, json={"keypair": body})
    assert created.status_code == nova_success_code("/os-keypairs", "POST", version)
    assert_nova_response(created.json(), "/os-keypairs", "POST", version)
    assert ("private_key" in created.json()["keypair"]) == (version != "2.92")
    listed = nova.call("GET", "/os-keypairs", version).json()
    assert_nova_response(listed, "/os-keypairs", "GET", version)
    shown = nova.call("GET", f"/os-keypairs/{name}", version).json()
    assert_nova_response(shown, "/os-keypairs/{keypair_name}", "GET", version)
    duplicate = nova.call("POST", "/os-keypairs", version, json={"keypair": body})
    assert duplicate.status_code == 409
    deleted = nova.call("DELETE", f"/os-keypairs/{name}", version)
    assert deleted.status_code == nova_success_code("/os-keypairs/{keypair_name}", "DELETE",
                                                    version)
    assert nova.call("GET", f"/os-keypairs/{name}", version).status_code == 404


def test_bad_public_key_is_400(nova: Nova) -> None:
    response = nova.call("POST", "/os-keypairs", "2.2",
                         json={"keypair": {"name": unique("bad"), "public_key": "not a key"}})
    assert response.status_code == 400
    assert "Keypair data is invalid" in response.json()["badRequest"]["message"]


@pytest.mark.parametrize("version", ("2.1", "2.36", "2.39", "2.57", "2.96"))
def test_limits_match_nova(nova: Nova, version: str) -> None:
    response = nova.call("GET", "/limits", version)
    assert response.status_code == 200
    assert_nova_response(response.json(), "/limits", "GET", version)
    assert response.json()["limits"]["absolute"]["maxTotalInstances"] == 10


def test_availability_zones(nova: Nova) -> None:
    zones = nova.call("GET", "/os-availability-zone", "2.1").json()
    assert_nova_response(zones, "/os-availability-zone", "GET", "2.1")
    assert [z["zoneName"] for z in zones["availabilityZoneInfo"]] == ["nova"]
    detail = nova.call("GET", "/os-availability-zone/detail", "2.1").json()
    assert_nova_response(detail, "/os-availability-zone/detail", "GET", "2.1")
    hosts = {z["zoneName"]: z["hosts"] for z in detail["availabilityZoneInfo"]}
    assert set(hosts["nova"]) == {"compute1.openstack.local", "compute2.openstack.local"}
    assert "nova-scheduler" in hosts["internal"]["controller1.openstack.local"]


def test_cli_flavor_and_keypair_flow(live: LiveCloud) -> None:
    name = unique("cli-fl")
    live.openstack("flavor", "create", "--ram", "256", "--disk", "1", "--vcpus", "1",
                   "--property", "hw:mem_page_size=large", name)
    shown = live.openstack_json("flavor", "show", name)
    assert shown["ram"] == 256 and shown["properties"] == {"hw:mem_page_size": "large"}
    live.openstack("flavor", "delete", name)
    # An all-digit id, as Tempest's int-id tests and `--id 12345` give it.
    numbered = unique("cli-fl")
    ident = str(10000 + uuid.uuid4().int % 80000)
    live.openstack("flavor", "create", "--id", ident, "--ram", "128", "--disk", "1",
                   "--vcpus", "1", numbered)
    assert live.openstack_json("flavor", "show", ident)["name"] == numbered
    live.openstack("flavor", "delete", ident)
    key = unique("cli-kp")
    private = live.openstack("keypair", "create", key).stdout
    assert "PRIVATE KEY" in private
    listed = live.openstack_json("keypair", "list")
    assert key in [k["Name"] for k in listed]
    live.openstack("keypair", "delete", key)


def test_member_cannot_manage_flavors(live: LiveCloud) -> None:
    project, user = unique("fp"), unique("fu")
    live.openstack("project", "create", project)
    live.openstack("user", "create", "--password", "pw", user)
    live.openstack("role", "add", "--project", project, "--user", user, "member")
    member = Nova(live, token(live, user, "pw", project))
    refused = member.call("POST", "/flavors", "2.1", json={"flavor": {
        "name": unique("nope"), "ram": 1, "vcpus": 1, "disk": 1}})
    assert refused.status_code == 403
    assert "os_compute_api:os-flavor-manage:create" in refused.json()["forbidden"]["message"]
    assert member.call("GET", "/flavors", "2.1").status_code == 200
    own = member.call("POST", "/os-keypairs", "2.2", json={"keypair": {"name": "mine"}})
    assert own.status_code == 201
    admin_view = member.call("GET", "/os-keypairs/mine", "2.10", params={"user_id": "other"})
    assert admin_view.status_code in (403, 404)
    member.client.close()


@pytest.mark.parametrize("version", ("2.1", "2.11", "2.53", "2.96"))
def test_compute_services_match_nova(nova: Nova, version: str) -> None:
    listed = nova.call("GET", "/os-services", version)
    assert listed.status_code == 200
    assert_nova_response(listed.json(), "/os-services", "GET", version)
    rows = {(s["host"], s["binary"]): s for s in listed.json()["services"]}
    assert {("compute1.openstack.local", "nova-compute"),
            ("compute2.openstack.local", "nova-compute"),
            ("controller1.openstack.local", "nova-scheduler"),
            ("controller2.openstack.local", "nova-conductor")} <= set(rows)
    assert all(s["state"] == "up" for s in rows.values())
    only = nova.call("GET", "/os-services", version, params={"binary": "nova-compute"}).json()
    assert {s["binary"] for s in only["services"]} == {"nova-compute"}


def test_disable_and_force_down_a_compute_service(live: LiveCloud, nova: Nova) -> None:
    host = "compute1.openstack.local"
    live.openstack("compute", "service", "set", "--disable", "--disable-reason", "fenced",
                   host, "nova-compute")
    live.openstack("--os-compute-api-version", "2.53", "compute", "service", "set", "--down",
                   host, "nova-compute")
    rows = live.openstack_json("compute", "service", "list", "--long", "--host", host)
    assert [(r["Status"], r["State"], r["Disabled Reason"], r["Forced Down"]) for r in rows] == \
        [("disabled", "down", "fenced", True)]
    service_id = rows[0]["ID"]
    restored = nova.call("PUT", f"/os-services/{service_id}", "2.53",
                         json={"status": "enabled", "forced_down": False})
    assert restored.status_code == 200
    assert_nova_response(restored.json(), "/os-services/{id}", "PUT", "2.53")
    assert restored.json()["service"]["state"] == "up"
    bad = nova.call("PUT", f"/os-services/{service_id}", "2.53", json={"status": "sleepy"})
    assert bad.status_code == 400
    legacy = nova.call("PUT", "/os-services/disable", "2.1",
                       json={"host": host, "binary": "nova-compute"})
    assert legacy.status_code == 200
    assert legacy.json() == {"service": {"host": host, "binary": "nova-compute",
                                         "status": "disabled"}}
    nova.call("PUT", "/os-services/enable", "2.1", json={"host": host, "binary": "nova-compute"})


@pytest.mark.parametrize("version", ("2.1", "2.28", "2.53", "2.88"))
def test_hypervisors_are_the_labs_compute_nodes(nova: Nova, version: str) -> None:
    listed = nova.call("GET", "/os-hypervisors", version)
    assert listed.status_code == 200
    assert_nova_response(listed.json(), "/os-hypervisors", "GET", version)
    names = sorted(h["hypervisor_hostname"] for h in listed.json()["hypervisors"])
    assert names == ["compute1.openstack.local", "compute2.openstack.local"]
    detail = nova.call("GET", "/os-hypervisors/detail", version).json()
    assert_nova_response(detail, "/os-hypervisors/detail", "GET", version)
    first = detail["hypervisors"][0]
    shown = nova.call("GET", f"/os-hypervisors/{first['id']}", version).json()
    assert_nova_response(shown, "/os-hypervisors/{id}", "GET", version)
    if version != "2.88":
        # The default lab's compute nodes (docs/topology.md; the course's are 1.5 GB, 1 vCPU).
        assert (first["memory_mb"], first["vcpus"]) == (32768, 8)
        assert first["host_ip"] == "10.10.10.53"


def test_cli_hypervisor_list(live: LiveCloud) -> None:
    rows = live.openstack_json("hypervisor", "list")
    assert sorted(r["Hypervisor Hostname"] for r in rows) == \
        ["compute1.openstack.local", "compute2.openstack.local"]
    assert {r["State"] for r in rows} == {"up"}


@pytest.mark.parametrize(("version", "body"), [
    ("2.1", {"name": "g", "policies": ["anti-affinity"]}),
    ("2.15", {"name": "g", "policies": ["soft-affinity"]}),
    ("2.64", {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 1}}),
])
def test_server_groups_match_nova(nova: Nova, version: str, body: dict[str, Any]) -> None:
    created = nova.call("POST", "/os-server-groups", version, json={"server_group": body})
    assert created.status_code == 200, created.text
    assert_nova_response(created.json(), "/os-server-groups", "POST", version)
    group_id = created.json()["server_group"]["id"]
    listed = nova.call("GET", "/os-server-groups", version).json()
    assert_nova_response(listed, "/os-server-groups", "GET", version)
    assert group_id in [g["id"] for g in listed["server_groups"]]
    shown = nova.call("GET", f"/os-server-groups/{group_id}", version).json()
    assert_nova_response(shown, "/os-server-groups/{id}", "GET", version)
    assert nova.call("DELETE", f"/os-server-groups/{group_id}", version).status_code == 204
    assert nova.call("GET", f"/os-server-groups/{group_id}", version).status_code == 404


@pytest.mark.parametrize(("version", "body"), [
    ("2.1", {"name": "g", "policies": ["soft-affinity"]}),  # soft policies came in 2.15
    ("2.64", {"name": "g", "policies": ["affinity"]}),  # 2.64 wants "policy"
    ("2.64", {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 2}}),
    ("2.64", {"name": "g", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}),
])
def test_server_group_bad_input(nova: Nova, version: str, body: dict[str, Any]) -> None:
    response = nova.call("POST", "/os-server-groups", version, json={"server_group": body})
    assert response.status_code == 400, response.text


def test_cli_server_group(live: LiveCloud) -> None:
    name = unique("grp")
    created = live.openstack_json("server", "group", "create", "--policy", "anti-affinity",
                                  name)
    assert created["policy"] == "anti-affinity" and created["members"] == []
    assert name in [g["Name"] for g in live.openstack_json("server", "group", "list")]
    live.openstack("server", "group", "delete", name)
