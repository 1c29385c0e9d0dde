"""No input answers 5xx: every declared route of each service, fuzzed with Hypothesis.

The runs are derandomized (the same requests every time, so CI is repeatable) and
bounded by a number of requests per service chosen so the four together take a
couple of minutes on a 2-core machine. ``tests/support/fuzz.py`` says how the
requests are made. Each test prints what it sent and how the service answered.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.observability.logging import LOGGERS, configure
from support.fuzz import Campaign, assert_no_server_errors, run
from support.inprocess import admin_token

# Requests per service: about 1-3 ms each in-process, more for compute's creates.
EXAMPLES = {"identity": 4000, "image": 3000, "compute": 4000, "network": 4000,
            "volume": 3000, "orchestration": 1500}
if os.environ.get("STACKLAB_FUZZ_EXAMPLES"):
    EXAMPLES = dict.fromkeys(EXAMPLES, int(os.environ["STACKLAB_FUZZ_EXAMPLES"]))


@pytest.fixture(autouse=True)
def served_logging(cloud: Cloud) -> Iterator[None]:
    """Logging as ``stacklab up`` sets it: every INFO line goes through the secret masking,
    whose patterns read what clients send (error messages quote it). Restored afterwards."""
    saved = [(logger, logger.level, logger.propagate, list(logger.handlers))
             for logger in map(logging.getLogger, LOGGERS)]
    configure(store=cloud.logs)
    yield
    for logger, level, propagate, handlers in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in handlers:
            logger.addHandler(handler)


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in statuses or (statuses == (200,) and response.status_code in (
        201, 202)), response.text
    return response.json() if response.content else None


def test_identity_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    before = {p["id"] for p in _ok(client.get("/identity/v3/projects", headers=headers),
                                   200)["projects"]}
    before |= {u["id"] for u in _ok(client.get("/identity/v3/users", headers=headers),
                                    200)["users"]}
    before |= {r["id"] for r in _ok(client.get("/identity/v3/roles", headers=headers),
                                    200)["roles"]}
    before.add("default")
    base = "/identity/v3"

    made: dict[str, list[Any]] = {}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = _ok(client.post(base + path, json=body, headers=headers), 201)
        made.setdefault(f"POST /v3{path}", []).append(body)
        return next(iter(answer.values()))  # type: ignore[no-any-return]

    domain = post("/domains", {"domain": {"name": "fuzz-domain"}})
    project = post("/projects", {"project": {"name": "fuzz-project", "tags": ["t1"]}})
    user = post("/users", {"user": {"name": "fuzz-user", "password": "pw",
                                    "default_project_id": project["id"]}})
    group = post("/groups", {"group": {"name": "fuzz-group"}})
    role = post("/roles", {"role": {"name": "fuzz-role"}})
    implied = post("/roles", {"role": {"name": "fuzz-implied"}})
    region = post("/regions", {"region": {"id": "fuzz-region"}})
    service = post("/services", {"service": {"type": "fuzz", "name": "fuzz"}})
    endpoint = post("/endpoints", {"endpoint": {"service_id": service["id"],
                                                "interface": "public",
                                                "url": "http://fuzz.example"}})
    credential = post("/credentials", {"credential": {"type": "cert", "blob": "x",
                                                      "user_id": user["id"]}})
    _ok(client.put(f"{base}/projects/{project['id']}/users/{user['id']}/roles/{role['id']}",
                   headers=headers), 204)
    _ok(client.put(f"{base}/roles/{role['id']}/implies/{implied['id']}", headers=headers),
        201)
    campaign = Campaign(
        _api(cloud, "identity"), "/identity", client, headers,
        ids={"domain_id": [domain["id"]], "project_id": [project["id"]],
             "user_id": [user["id"]], "group_id": [group["id"]],
             "role_id": [role["id"], implied["id"]], "prior_role_id": [role["id"]],
             "implied_role_id": [implied["id"]], "region_id": [region["id"]],
             "service_id": [service["id"]], "endpoint_id": [endpoint["id"]],
             "credential_id": [credential["id"]], "tag": ["t1", "é"],
             "actor_id": [user["id"], group["id"]], "target_id": [project["id"], domain["id"]],
             "access_rule_id": ["0"], "access": ["ec2"]},
        samples={
            "POST /v3/auth/tokens": [{"auth": {"identity": {"methods": ["password"],
                                                            "password": {"user": {
                                                                "id": user["id"],
                                                                "password": "pw"}}}}}],
            "POST /v3/users/{user_id}/application_credentials": [
                {"application_credential": {"name": "ac", "roles": [{"name": "fuzz-role"}],
                                            "expires_at": "2099-01-01T00:00:00Z"}}],
            "POST /v3/users/{user_id}/password": [
                {"user": {"password": "pw2", "original_password": "pw"}}],
            "POST /v3/users/{user_id}/credentials/OS-EC2": [{"tenant_id": project["id"]}],
            "PUT /v3/projects/{project_id}/tags": [{"tags": ["a", "b"]}],
            "PATCH /v3/projects/{project_id}": [{"project": {"name": "p2", "enabled": True}}],
            "PATCH /v3/users/{user_id}": [{"user": {"name": "u2", "password": "x"}}],
            "PATCH /v3/domains/{domain_id}": [{"domain": {"enabled": False}}],
            "PATCH /v3/roles/{role_id}": [{"role": {"name": "r2"}}],
            "PATCH /v3/groups/{group_id}": [{"group": {"description": "d"}}],
            "PATCH /v3/regions/{region_id}": [{"region": {"description": "d"}}],
            "PUT /v3/regions/{region_id}": [{"region": {"description": "d"}}],
            "PATCH /v3/services/{service_id}": [{"service": {"enabled": False}}],
            "PATCH /v3/endpoints/{endpoint_id}": [{"endpoint": {"url": "http://x"}}],
            "PATCH /v3/credentials/{credential_id}": [{"credential": {"blob": "y"}}],
            **made,
        })
    counter = iter(range(10**6))

    def refresh() -> dict[str, list[str]]:
        n = next(counter)
        found: dict[str, list[str]] = {}
        for path, key, body in (
                ("/projects", "project_id", {"project": {"name": f"fz-p{n}"}}),
                ("/users", "user_id", {"user": {"name": f"fz-u{n}", "password": "pw"}}),
                ("/groups", "group_id", {"group": {"name": f"fz-g{n}"}}),
                ("/roles", "role_id", {"role": {"name": f"fz-r{n}"}}),
                ("/domains", "domain_id", {"domain": {"name": f"fz-d{n}"}})):
            answer = client.post(base + path, json=body, headers=headers)
            if answer.status_code == 201:
                found[key] = [next(iter(answer.json().values()))["id"]]
        return found

    campaign.refresh = refresh
    campaign.harvest()
    campaign.extra_headers.append({"X-Auth-Token": member_token(client, headers)})
    # The admin's own user, project, roles and domain stay out of reach: deleting them would
    # end the run's token, not find a bug.
    for name, values in campaign.ids.items():
        campaign.ids[name] = [v for v in values if v not in before]
    run(campaign, EXAMPLES["identity"])
    assert_no_server_errors(campaign, cloud)


def test_image_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    base = "/image/v2"
    image = _ok(client.post(f"{base}/images", json={
        "name": "fuzz", "disk_format": "raw", "container_format": "bare"}, headers=headers),
        201)
    uploaded = _ok(client.post(f"{base}/images", json={
        "name": "fuzz-data", "disk_format": "raw", "container_format": "bare",
        "visibility": "shared"}, headers=headers), 201)
    _ok(client.put(f"{base}/images/{uploaded['id']}/file", content=b"x" * 64,
                   headers={**headers, "content-type": "application/octet-stream"}), 204)
    member = "5f0d2a1c8b6e4b3f9d7a1e2c3b4a5d6e"
    _ok(client.post(f"{base}/images/{uploaded['id']}/members", json={"member": member},
                    headers=headers), 200)
    _ok(client.put(f"{base}/images/{image['id']}/tags/t1", headers=headers), 204)
    counter = iter(range(10**6))

    def refresh() -> dict[str, list[str]]:
        answer = client.post(f"{base}/images", json={"name": f"fz{next(counter)}"},
                             headers=headers)
        return {"image_id": [answer.json()["id"]]} if answer.status_code == 201 else {}

    campaign = Campaign(
        _api(cloud, "image"), "/image", client, headers, refresh=refresh,
        ids={"image_id": [image["id"], uploaded["id"]], "member_id": [member],
             "tag": ["t1", "é"]},
        samples={
            "PATCH /v2/images/{image_id}": [
                [{"op": "replace", "path": "/name", "value": "n"}],
                [{"op": "add", "path": "/min_ram", "value": 1}],
                [{"op": "add", "path": "/prop", "value": "v"}],
                [{"op": "remove", "path": "/prop"}]],
            "POST /v2/images": [{"name": "i", "disk_format": "qcow2", "container_format": "bare",
                                 "min_ram": 64, "min_disk": 1, "tags": ["a"],
                                 "visibility": "private", "protected": False, "extra": "p"}],
            "POST /v2/images/{image_id}/members": [{"member": "someone"}],
            "PUT /v2/images/{image_id}/members/{member_id}": [{"status": "accepted"}],
            "POST /v2/images/{image_id}/import": [{"method": {"name": "glance-direct"}}],
        },
        extra_headers=[{}, {"content-type": "application/openstack-images-v2.1-json-patch"},
                       {"content-type": "application/octet-stream"}])
    campaign.harvest()
    campaign.extra_headers.append({"X-Auth-Token": member_token(client, headers)})
    run(campaign, EXAMPLES["image"])
    assert_no_server_errors(campaign, cloud)


def test_compute_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    token = admin_token(client)
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.96"}
    base = "/compute/v2.1"
    image = _ok(client.get("/image/v2/images", headers=headers), 200)["images"][0]["id"]
    flavor = _ok(client.post(f"{base}/flavors", json={"flavor": {
        "name": "fuzz", "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": False}}, headers=headers), 200)["flavor"]
    keypair = _ok(client.post(f"{base}/os-keypairs", json={"keypair": {
        "name": "fuzz-key", "public_key": _public_key()}},
        headers=headers), 200)["keypair"]
    group = _ok(client.post(f"{base}/os-server-groups", json={"server_group": {
        "name": "fuzz", "policy": "soft-affinity"}}, headers=headers), 200)["server_group"]
    # The fuzz boots servers too: no quota should stop it.
    for name in ("instances", "cores", "ram"):
        setattr(cloud.config.quota, name, -1)

    def refresh() -> dict[str, list[str]]:
        servers = []
        for index in range(3):
            answer = client.post(f"{base}/servers", json={"server": {
                "name": f"fuzz-{index}", "imageRef": image, "flavorRef": "1",
                "networks": "none", "metadata": {"k": "v"}, "tags": ["t1"]}}, headers=headers)
            if answer.status_code == 202:
                servers.append(answer.json()["server"]["id"])
        return {"server_id": servers}

    servers = refresh()["server_id"]
    # A volume to attach (os-volume_attachments and block device mappings name it).
    made = client.post("/volume/v3/volumes", json={"volume": {"size": 1, "name": "fuzz"}},
                       headers=headers)
    volumes = [made.json()["volume"]["id"]] if made.status_code == 202 else []
    server_body = {"server": {"name": "fuzz", "imageRef": image, "flavorRef": flavor["id"],
                              "networks": "none", "min_count": 1, "max_count": 1,
                              "metadata": {"k": "v"}, "key_name": "fuzz-key",
                              "availability_zone": "nova", "tags": ["a"],
                              "user_data": "aGVsbG8=",
                              "block_device_mapping_v2": [{"boot_index": 0, "uuid": image,
                                                           "source_type": "image",
                                                           "destination_type": "local"}]},
                   "os:scheduler_hints": {"group": group["id"]}}
    actions = [{"os-stop": None}, {"os-start": None}, {"reboot": {"type": "HARD"}},
               {"pause": None}, {"unpause": None}, {"suspend": None}, {"resume": None},
               {"lock": {"locked_reason": "r"}}, {"unlock": None},
               {"rescue": {"adminPass": "p"}}, {"unrescue": None},
               {"resize": {"flavorRef": flavor["id"]}}, {"confirmResize": None},
               {"revertResize": None}, {"rebuild": {"imageRef": image, "name": "r"}},
               {"createImage": {"name": "snap", "metadata": {"a": "b"}}},
               {"shelve": None}, {"unshelve": None}, {"shelveOffload": None},
               {"os-getConsoleOutput": {"length": 10}},
               {"os-getVNCConsole": {"type": "novnc"}}, {"migrate": {"host": None}},
               {"os-migrateLive": {"host": None, "block_migration": "auto"}},
               {"evacuate": {}}, {"os-resetState": {"state": "active"}},
               {"addSecurityGroup": {"name": "default"}},
               {"removeSecurityGroup": {"name": "default"}}, {"trigger_crash_dump": None},
               {"changePassword": {"adminPass": "p"}}, {"createBackup": {
                   "name": "b", "backup_type": "daily", "rotation": 1}}]
    campaign = Campaign(
        _api(cloud, "compute"), "/compute", client, headers,
        ids={"server_id": servers, "flavor_id": [flavor["id"], "1"],
             "name": [keypair["name"]], "group_id": [group["id"]], "key": ["k", "é"],
             "tag": ["t1", "é"], "action": ["enable", "disable", "force-down"],
             "project_id": [_admin_project(client, headers)],
             "request_id": ["req-0"], "port_id": ["0"], "volume_id": volumes},
        samples={
            "POST /v2.1/servers": [server_body],
            "POST /v2.1/flavors": [{"flavor": {"name": "f", "ram": 64, "vcpus": 1, "disk": 1,
                                               "swap": 0, "rxtx_factor": 1.0, "id": "fid",
                                               "OS-FLV-EXT-DATA:ephemeral": 0}}],
            "POST /v2.1/os-keypairs": [{"keypair": {"name": "k2", "public_key": _public_key()}},
                                       {"keypair": {"name": "k3", "type": "ssh"}}],
            "POST /v2.1/servers/{server_id}/action": actions,
            "POST /v2.1/servers/{server_id}/os-volume_attachments": [
                {"volumeAttachment": {"volumeId": v, "device": "/dev/vdb", "tag": "t",
                                      "delete_on_termination": False}} for v in volumes],
            "PUT /v2.1/servers/{server_id}/os-volume_attachments/{volume_id}": [
                {"volumeAttachment": {"volumeId": v, "delete_on_termination": True}}
                for v in volumes],
            "PUT /v2.1/servers/{server_id}": [{"server": {"name": "n",
                                                          "description": "d"}}],
            "POST /v2.1/flavors/{flavor_id}/action": [
                {"addTenantAccess": {"tenant": "p"}}, {"removeTenantAccess": {"tenant": "p"}}],
            "POST /v2.1/flavors/{flavor_id}/os-extra_specs": [
                {"extra_specs": {"hw:cpu_policy": "shared"}}],
            "PUT /v2.1/flavors/{flavor_id}/os-extra_specs/{key}": [{"k": "v"}],
            "PUT /v2.1/servers/{server_id}/metadata": [{"metadata": {"a": "b"}}],
            "POST /v2.1/servers/{server_id}/metadata": [{"metadata": {"a": "b"}}],
            "PUT /v2.1/servers/{server_id}/metadata/{key}": [{"meta": {"k": "v"}}],
            "PUT /v2.1/servers/{server_id}/tags": [{"tags": ["a", "b"]}],
            "POST /v2.1/servers/{server_id}/remote-consoles": [
                {"remote_console": {"protocol": "vnc", "type": "novnc"}}],
            "POST /v2.1/os-server-groups": [{"server_group": {"name": "g",
                                                              "policy": "affinity"}}],
            "POST /v2.1/servers/{server_id}/os-interface": [
                {"interfaceAttachment": {"net_id": "x"}}],
            "PUT /v2.1/os-quota-sets/{project_id}": [{"quota_set": {"instances": 20,
                                                                    "cores": "30"}}],
            "PUT /v2.1/os-services/{action}": [{"host": "compute1.openstack.local",
                                                "binary": "nova-compute"}],
        },
        extra_headers=[{}, {}, {}, {"OpenStack-API-Version": "compute 2.1"},
                       {"OpenStack-API-Version": "compute 2.53"},
                       {"OpenStack-API-Version": "compute 2.73"},
                       {"OpenStack-API-Version": "compute latest"},
                       {"OpenStack-API-Version": "compute 2.9999"},
                       {"X-OpenStack-Nova-API-Version": "2.15"}],
        refresh=refresh)
    campaign.harvest()
    campaign.extra_headers.append({"X-Auth-Token": member_token(client, headers)})
    run(campaign, EXAMPLES["compute"])
    assert_no_server_errors(campaign, cloud)


def test_network_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    base = "/networking/v2.0"

    made: dict[str, list[Any]] = {}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = _ok(client.post(base + path, json=body, headers=headers), 201)
        made.setdefault(f"POST /v2.0{path}", []).append(body)
        return next(iter(answer.values()))  # type: ignore[no-any-return]

    network = post("/networks", {"network": {"name": "fuzz", "admin_state_up": True,
                                             "shared": False, "mtu": 1400,
                                             "port_security_enabled": True}})
    subnet = post("/subnets", {"subnet": {"network_id": network["id"], "ip_version": 4,
                                          "cidr": "10.77.0.0/24", "gateway_ip": "10.77.0.1",
                                          "enable_dhcp": True,
                                          "dns_nameservers": ["8.8.8.8"],
                                          "allocation_pools": [{"start": "10.77.0.10",
                                                                "end": "10.77.0.99"}],
                                          "host_routes": [{"destination": "10.9.0.0/16",
                                                           "nexthop": "10.77.0.5"}]}})
    port = post("/ports", {"port": {"network_id": network["id"], "name": "p",
                                    "fixed_ips": [{"subnet_id": subnet["id"],
                                                   "ip_address": "10.77.0.20"}],
                                    "security_groups": [],
                                    "allowed_address_pairs": [{"ip_address": "10.77.0.30"}],
                                    "extra_dhcp_opts": [{"opt_name": "mtu",
                                                         "opt_value": "1400"}]}})
    post("/ports", {"port": {"network_id": network["id"], "mac_address": "fa:16:3e:00:00:01",
                             "admin_state_up": False, "binding:host_id": "compute1"}})
    router = post("/routers", {"router": {"name": "fuzz", "admin_state_up": True,
                                          "ha": False, "distributed": False}})
    group = post("/security-groups", {"security_group": {"name": "fuzz"}})
    rule = post("/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22}})
    pool = post("/subnetpools", {"subnetpool": {"name": "fuzz", "prefixes": ["10.200.0.0/16"],
                                                "default_prefixlen": 24}})
    public = [n for n in _ok(client.get(f"{base}/networks?name=public", headers=headers),
                             200)["networks"]]
    fips = []
    if public:
        fips.append(post("/floatingips", {"floatingip": {
            "floating_network_id": public[0]["id"]}})["id"])
    counter = iter(range(10**6))

    def refresh() -> dict[str, list[str]]:
        n = next(counter)
        found: dict[str, list[str]] = {}
        created = client.post(f"{base}/networks", json={"network": {"name": f"fz{n}"}},
                              headers=headers)
        if created.status_code != 201:
            return found
        net = created.json()["network"]["id"]
        found["network_id"] = [net]
        for path, key, body in (
                ("/subnets", "subnet_id", {"subnet": {"network_id": net, "ip_version": 4,
                                                      "cidr": f"10.{100 + n % 100}.0.0/24"}}),
                ("/ports", "port_id", {"port": {"network_id": net}}),
                ("/routers", "router_id", {"router": {"name": f"fz{n}"}}),
                ("/security-groups", "group_id", {"security_group": {"name": f"fz{n}"}})):
            answer = client.post(base + path, json=body, headers=headers)
            if answer.status_code == 201:
                found[key] = [next(iter(answer.json().values()))["id"]]
        return found

    campaign = Campaign(
        _api(cloud, "network"), "/networking", client, headers, refresh=refresh,
        ids={"network_id": [network["id"]], "subnet_id": [subnet["id"]],
             "port_id": [port["id"]], "router_id": [router["id"]],
             "group_id": [group["id"]], "rule_id": [rule["id"]], "pool_id": [pool["id"]],
             "fip_id": fips, "tag": ["t1", "é"],
             "collection": ["networks", "ports", "subnets", "routers"],
             "resource_id": [network["id"], port["id"]],
             "project_id": [_admin_project(client, headers)]},
        samples={
            "PUT /v2.0/routers/{router_id}/add_router_interface": [
                {"subnet_id": subnet["id"]}, {"port_id": port["id"]}],
            "PUT /v2.0/routers/{router_id}/remove_router_interface": [
                {"subnet_id": subnet["id"]}],
            "PUT /v2.0/{collection}/{resource_id}/tags": [{"tags": ["a"]}],
            "PUT /v2.0/networks/{network_id}": [{"network": {"name": "n", "mtu": 1300,
                                                             "admin_state_up": False}}],
            "PUT /v2.0/subnets/{subnet_id}": [{"subnet": {"name": "s", "enable_dhcp": False,
                                                          "gateway_ip": None}}],
            "PUT /v2.0/ports/{port_id}": [{"port": {"name": "p", "security_groups": [
                group["id"]], "fixed_ips": [{"subnet_id": subnet["id"]}]}}],
            "PUT /v2.0/routers/{router_id}": [{"router": {"routes": [
                {"destination": "10.1.0.0/16", "nexthop": "10.77.0.7"}]}},
                {"router": {"external_gateway_info": {"network_id": (public or [
                    network])[0]["id"], "enable_snat": True}}}],
            "PUT /v2.0/security-groups/{group_id}": [{"security_group": {"name": "g"}}],
            "PUT /v2.0/subnetpools/{pool_id}": [{"subnetpool": {"name": "g",
                                                                "prefixes": ["10.201.0.0/16"]}}],
            "PUT /v2.0/floatingips/{fip_id}": [{"floatingip": {"port_id": port["id"]}}],
            "PUT /v2.0/quotas/{project_id}": [{"quota": {"network": 20, "port": -1}}],
            **made,
        })
    campaign.harvest()
    campaign.extra_headers.append({"X-Auth-Token": member_token(client, headers)})
    run(campaign, EXAMPLES["network"])
    assert_no_server_errors(campaign, cloud)


def test_block_storage_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    token = admin_token(client)
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "volume 3.71"}
    base = "/volume/v3"

    def post(path: str, body: dict[str, Any], *statuses: int) -> dict[str, Any]:
        answer: dict[str, Any] = _ok(client.post(base + path, json=body, headers=headers),
                                     *statuses)
        return next(iter(answer.values()))  # type: ignore[no-any-return]

    volume_type = post("/types", {"volume_type": {
        "name": "fuzz", "os-volume-type-access:is_public": False,
        "extra_specs": {"volume_backend_name": "lvm"}}}, 200)
    qos = post("/qos-specs", {"qos_specs": {"name": "fuzz", "read_iops_sec": "10"}}, 200)
    volume = post("/volumes", {"volume": {"size": 1, "name": "fuzz",
                                          "metadata": {"k": "v"}}}, 202)
    for _ in range(200):  # the scheduler and the volume service work in the background
        shown = _ok(client.get(f"{base}/volumes/{volume['id']}", headers=headers), 200)
        if shown["volume"]["status"] != "creating":
            break
        time.sleep(0.01)
    snapshot = post("/snapshots", {"snapshot": {"volume_id": volume["id"], "name": "fuzz",
                                                "metadata": {"k": "v"}}}, 202)
    project = _admin_project(client, headers)
    counter = iter(range(10**6))
    instance = "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"

    def available() -> str | None:
        made = client.post(f"{base}/volumes", json={"volume": {"size": 1}}, headers=headers)
        if made.status_code != 202:
            return None
        ident = str(made.json()["volume"]["id"])
        for _ in range(200):
            shown = client.get(f"{base}/volumes/{ident}", headers=headers)
            if shown.status_code != 200 or shown.json()["volume"]["status"] != "creating":
                break
            time.sleep(0.01)
        return ident

    def attachment(volume_id: str | None) -> list[str]:
        made = client.post(f"{base}/attachments", headers=headers, json={"attachment": {
            "volume_uuid": volume_id, "instance_uuid": instance, "connector": CONNECTOR}})
        return [made.json()["attachment"]["id"]] if made.status_code == 200 else []

    def transfer(volume_id: str | None) -> tuple[list[str], list[str]]:
        made = client.post(f"{base}/volume-transfers", headers=headers,
                           json={"transfer": {"volume_id": volume_id, "name": "fz"}})
        if made.status_code != 202:
            return [], []
        return [made.json()["transfer"]["id"]], [made.json()["transfer"]["auth_key"]]

    # An attachment, a backup (with its export record) and a transfer to aim at.
    attachments = attachment(available())
    backup = post("/backups", {"backup": {"volume_id": volume["id"], "name": "fuzz"}}, 202)
    for _ in range(300):
        shown = _ok(client.get(f"{base}/backups/{backup['id']}", headers=headers), 200)
        if shown["backup"]["status"] != "creating":
            break
        time.sleep(0.01)
    record = client.get(f"{base}/backups/{backup['id']}/export_record", headers=headers)
    records = [record.json()] if record.status_code == 200 else []
    transfers, keys = transfer(available())
    # A group with a volume and its group snapshot, and a user message (a volume no
    # backend takes), to aim at.
    default_type = _ok(client.get(f"{base}/types/default", headers=headers),
                       200)["volume_type"]["id"]
    group_type = post("/group_types", {"group_type": {"name": "fuzz"}}, 202)
    group = post("/groups", {"group": {"name": "fuzz", "group_type": group_type["id"],
                                       "volume_types": [default_type]}}, 202)
    time.sleep(0.05)
    client.post(f"{base}/volumes", headers=headers, json={"volume": {
        "size": 1, "group_id": group["id"]}})
    time.sleep(0.05)
    made = client.post(f"{base}/group_snapshots", headers=headers, json={
        "group_snapshot": {"group_id": group["id"], "name": "fuzz"}})
    group_snapshots = [made.json()["group_snapshot"]["id"]] if made.status_code == 202 \
        else []
    post("/types", {"volume_type": {"name": "fuzz-nowhere",
                                    "extra_specs": {"storage_protocol": "pigeon"}}}, 200)
    post("/volumes", {"volume": {"size": 1, "volume_type": "fuzz-nowhere"}}, 202)
    time.sleep(0.05)
    messages = [m["id"] for m in _ok(client.get(f"{base}/messages", headers=headers),
                                     200)["messages"]]

    def refresh() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        made = client.post(f"{base}/volumes", json={"volume": {"size": 1}}, headers=headers)
        if made.status_code == 202:
            found["volume_id"] = [made.json()["volume"]["id"]]
        typed = client.post(f"{base}/types", json={"volume_type": {
            "name": f"fz{next(counter)}"}}, headers=headers)
        if typed.status_code == 200:
            found["type_id"] = [typed.json()["volume_type"]["id"]]
        found["attachment_id"] = attachment(available())
        found["transfer_id"] = transfer(available())[0]
        made = client.post(f"{base}/backups", headers=headers, json={"backup": {
            "volume_id": volume["id"], "force": True}})
        if made.status_code == 202:
            found["backup_id"] = [made.json()["backup"]["id"]]
        return {key: value for key, value in found.items() if value}

    campaign = Campaign(
        _api(cloud, "volume"), "/volume", client, headers, refresh=refresh,
        ids={"volume_id": [volume["id"]], "snapshot_id": [snapshot["id"]],
             "attachment_id": attachments, "backup_id": [backup["id"]],
             "transfer_id": transfers, "group_id": [group["id"]],
             "group_type_id": [group_type["id"]], "group_snapshot_id": group_snapshots,
             "message_id": messages, "class_name": ["gold"],
             "type_id": [volume_type["id"], "default"], "qos_id": [qos["id"]],
             "project_id": [project], "key": ["k", "volume_backend_name", "é"],
             "spec": ["cipher", "provider"], "action": ["enable", "disable",
                                                        "disable-log-reason", "freeze"]},
        samples={
            "POST /v3/volumes": [{"volume": {"size": 1, "volume_type": "fuzz",
                                             "availability_zone": "nova",
                                             "metadata": {"a": "b"}}},
                                 {"volume": {"snapshot_id": snapshot["id"]}},
                                 {"volume": {"source_volid": volume["id"], "size": 2}},
                                 {"volume": {"size": 10**20, "name": "\udcff"}},
                                 {"volume": {"backup_id": backup["id"]}}],
            "POST /v3/volumes/{volume_id}/action": [
                {"os-extend": {"new_size": 2}}, {"os-set_bootable": {"bootable": True}},
                {"os-update_readonly_flag": {"readonly": False}},
                {"os-set_image_metadata": {"metadata": {"a": "b"}}},
                {"os-unset_image_metadata": {"key": "a"}}, {"os-show_image_metadata": {}},
                {"os-reset_status": {"status": "available"}}, {"os-force_delete": {}},
                {"os-reserve": {}}, {"os-unreserve": {}}, {"os-begin_detaching": {}},
                {"os-roll_detaching": {}},
                {"os-attach": {"instance_uuid": instance, "mountpoint": "/dev/vdb",
                               "mode": "rw"}},
                {"os-detach": {"attachment_id": (attachments or [None])[0]}},
                {"os-initialize_connection": {"connector": CONNECTOR}},
                {"os-terminate_connection": {"connector": CONNECTOR}},
                {"os-force_detach": {"connector": CONNECTOR,
                                     "attachment_id": (attachments or [None])[0]}},
                {"os-retype": {"new_type": "fuzz", "migration_policy": "on-demand"}},
                {"os-migrate_volume": {"host": "controller1.openstack.local@lvm#lvm",
                                       "force_host_copy": False, "lock_volume": True}},
                {"os-migrate_volume_completion": {"new_volume": volume["id"],
                                                  "error": False}},
                {"os-volume_upload_image": {"image_name": "fz", "force": True,
                                            "disk_format": "raw",
                                            "container_format": "bare"}},
                {"os-unmanage": {}}, {"os-extend_volume_completion": {"error": False}}],
            "POST /v3/attachments": [{"attachment": {
                "volume_uuid": volume["id"], "instance_uuid": instance,
                "connector": CONNECTOR, "mode": "rw"}}],
            "PUT /v3/attachments/{attachment_id}": [{"attachment": {"connector": CONNECTOR}}],
            "POST /v3/attachments/{attachment_id}/action": [{"os-complete": {}}],
            "POST /v3/backups": [{"backup": {"volume_id": volume["id"], "name": "b",
                                             "description": "d", "incremental": False,
                                             "force": True, "metadata": {"k": "v"},
                                             "snapshot_id": snapshot["id"],
                                             "availability_zone": "nova"}}],
            "PUT /v3/backups/{backup_id}": [{"backup": {"name": "n", "description": "d",
                                                        "metadata": {"a": "b"}}}],
            "POST /v3/backups/{backup_id}/restore": [
                {"restore": {"volume_id": volume["id"], "name": "r"}},
                {"restore": {"name": "r"}}],
            "POST /v3/backups/{backup_id}/action": [
                {"os-reset_status": {"status": "available"}}, {"os-force_delete": {}}],
            "POST /v3/backups/import_record": records,
            "POST /v3/volume-transfers": [{"transfer": {"volume_id": volume["id"],
                                                        "name": "t", "no_snapshots": True}}],
            "POST /v3/os-volume-transfer": [{"transfer": {"volume_id": volume["id"],
                                                          "name": "t"}}],
            "POST /v3/volume-transfers/{transfer_id}/accept": [
                {"accept": {"auth_key": key}} for key in keys or ["0" * 16]],
            "POST /v3/os-volume-transfer/{transfer_id}/accept": [
                {"accept": {"auth_key": key}} for key in keys or ["0" * 16]],
            "POST /v3/snapshots/{snapshot_id}/action": [
                {"os-reset_status": {"status": "available"}}, {"os-force_delete": {}}],
            "POST /v3/types/{type_id}/action": [
                {"addProjectAccess": {"project": project}},
                {"removeProjectAccess": {"project": project}}],
            "POST /v3/types/{type_id}/encryption": [{"encryption": {
                "provider": "luks", "control_location": "front-end", "key_size": 256}}],
            "PUT /v3/os-quota-sets/{project_id}": [{"quota_set": {"volumes": 20}}],
            "PUT /v3/os-quota-class-sets/{class_name}": [{"quota_class_set": {
                "volumes": 20, "gigabytes": "500", "volumes_fuzz": -1}}],
            "POST /v3/group_snapshots": [{"group_snapshot": {
                "group_id": group["id"], "name": "g", "description": "d"}}],
            "POST /v3/group_snapshots/{group_snapshot_id}/action": [
                {"reset_status": {"status": "available"}}],
            "POST /v3/groups/action": [
                {"create-from-src": {"source_group_id": group["id"], "name": "c"}},
                *({"create-from-src": {"group_snapshot_id": g}} for g in group_snapshots)],
            "PUT /v3/os-services/{action}": [{"host": "controller1.openstack.local@lvm",
                                              "binary": "cinder-volume"}],
            "PUT /v3/qos-specs/{qos_id}/delete_keys": [{"keys": ["read_iops_sec"]}],
        })
    campaign.harvest()
    campaign.extra_headers.append({"X-Auth-Token": member_token(client, headers)})
    campaign.extra_headers.append({"OpenStack-API-Version": "volume 3.0"})
    run(campaign, EXAMPLES["volume"])
    assert_no_server_errors(campaign, cloud)


CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:fuzz", "ip": "192.0.2.7",
             "host": "fuzz-host", "platform": "x86_64", "os_type": "linux2",
             "multipath": False, "wwpns": ["500143802426baf4"]}


def member_token(client: TestClient, headers: dict[str, str]) -> str:
    """A token of a plain member of another project: some requests come from one."""
    base = "/identity/v3"
    project = _ok(client.post(f"{base}/projects", headers=headers, json={
        "project": {"name": "fuzz-member-project"}}), 201)["project"]
    user = _ok(client.post(f"{base}/users", headers=headers, json={"user": {
        "name": "fuzz-member", "password": "member-pw"}}), 201)["user"]
    roles = _ok(client.get(f"{base}/roles?name=member", headers=headers), 200)["roles"]
    _ok(client.put(f"{base}/projects/{project['id']}/users/{user['id']}/roles/"
                   f"{roles[0]['id']}", headers=headers), 204)
    return _token_of(client, user["id"], project["id"])


def _token_of(client: TestClient, user_id: str, project_id: str) -> str:
    response = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": user_id, "password": "member-pw"}}},
        "scope": {"project": {"id": project_id}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def _public_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " fuzz"


HOT = {"heat_template_version": "2018-08-31",
       "parameters": {"n": {"type": "number", "default": 8}},
       "resources": {"r": {"type": "OS::Heat::RandomString",
                           "properties": {"length": {"get_param": "n"}}},
                     "t": {"type": "OS::Heat::TestResource",
                           "properties": {"value": {"get_attr": ["r", "value"]}}}},
       "outputs": {"o": {"value": {"get_attr": ["t", "output"]}}}}


def test_orchestration_answers_no_5xx(cloud: Cloud, client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    project = _admin_project(client, headers)
    base = f"/heat-api/v1/{project}"
    made = _ok(client.post(f"{base}/stacks", json={"stack_name": "fuzz", "template": HOT},
                           headers=headers), 201)
    stack_id = made["stack"]["id"]
    for _ in range(300):  # heat-engine builds it in the background
        shown = _ok(client.get(f"{base}/stacks/fuzz/{stack_id}", headers=headers), 200)
        if shown["stack"]["stack_status"] != "CREATE_IN_PROGRESS":
            break
        time.sleep(0.01)
    events = _ok(client.get(f"{base}/stacks/fuzz/{stack_id}/events", headers=headers), 200)
    campaign = Campaign(
        _api(cloud, "orchestration"), "/heat-api", client, headers,
        ids={"tenant_id": [project], "stack_name": ["fuzz"], "stack_id": [stack_id],
             "resource_name": ["r", "t"], "event_id": [e["id"] for e in events["events"]],
             "output_key": ["o"], "type_name": ["OS::Heat::RandomString"],
             "template_version": ["heat_template_version.2018-08-31"]},
        samples={
            "POST /v1/{tenant_id}/stacks": [{"stack_name": "fz", "template": HOT}],
            "POST /v1/{tenant_id}/stacks/preview": [{"stack_name": "fz", "template": HOT}],
            "POST /v1/{tenant_id}/validate": [{"template": HOT}],
            "PATCH /v1/{tenant_id}/stacks/{stack_name}/{stack_id}": [
                {"parameters": {"n": 9}}],
            "PUT /v1/{tenant_id}/stacks/{stack_name}/{stack_id}": [{"template": HOT}],
            "POST /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/actions": [
                {"check": None}, {"suspend": None}, {"resume": None}],
            "PUT /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/preview": [
                {"template": HOT}],
            "PATCH /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/preview": [
                {"parameters": {"n": 9}}],
            "POST /v1/{tenant_id}/stacks/{stack_name}/{stack_id}/snapshots": [
                {"name": "s"}],
        })
    run(campaign, EXAMPLES["orchestration"])
    assert_no_server_errors(campaign, cloud)


def _api(cloud: Cloud, name: str) -> Any:
    return next(api for _, api in cloud.service_apis() if api.name == name)


def _admin_project(client: TestClient, headers: dict[str, str]) -> str:
    projects = _ok(client.get("/identity/v3/projects?name=admin", headers=headers),
                   200)["projects"]
    return str(projects[0]["id"])
