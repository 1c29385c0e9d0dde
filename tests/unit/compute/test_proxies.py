"""nova's deprecated proxies to glance and neutron, in-process over HTTP: each served until its
last microversion (2.35, image metadata 2.38, the floating IP actions 2.43) and 404 after it,
each body checked against nova's own response schema."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from support.apiref import assert_nova_response
from unit.compute.nova_calls import BASE, NOT_FOUND

PROXY = "2.35"


def at(token: str, version: str = PROXY) -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {version}"}


def member_token(client: TestClient, cloud: Cloud, admin: str) -> str:
    """A token of a plain member of a project of its own."""
    headers = {"X-Auth-Token": admin}
    project = client.post("/identity/v3/projects", headers=headers, json={"project": {
        "name": "other", "domain_id": "default"}}).json()["project"]["id"]
    user = client.post("/identity/v3/users", headers=headers, json={"user": {
        "name": "someone", "domain_id": "default", "password": "pw"}}).json()["user"]["id"]
    role = next(r["id"] for r in client.get("/identity/v3/roles", headers=headers).json()["roles"]
                if r["name"] == "member")
    assert client.put(f"/identity/v3/projects/{project}/users/{user}/roles/{role}",
                      headers=headers).status_code == 204
    answer = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "someone", "domain": {"id": "default"}, "password": "pw"}}},
        "scope": {"project": {"name": "other", "domain": {"id": "default"}}}}})
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]


# -- images --------------------------------------------------------------------------------------


def test_images_are_glance_s_in_nova_s_view_until_2_35(client: TestClient, token: str) -> None:
    glance = client.get("/image/v2/images", headers=at(token)).json()["images"]
    listed = client.get(f"{BASE}/images", headers=at(token))
    assert listed.status_code == 200, listed.text
    assert_nova_response(listed.json(), "/images", "GET", PROXY)
    assert {i["id"] for i in listed.json()["images"]} == {i["id"] for i in glance}

    detail = client.get(f"{BASE}/images/detail", headers=at(token))
    assert_nova_response(detail.json(), "/images/detail", "GET", PROXY)
    image = glance[0]
    shown = client.get(f"{BASE}/images/{image['id']}", headers=at(token))
    assert shown.status_code == 200, shown.text
    assert_nova_response(shown.json(), "/images/{id}", "GET", PROXY)
    body = shown.json()["image"]
    assert (body["name"], body["status"], body["progress"]) == (image["name"], "ACTIVE", 100)
    assert body["OS-EXT-IMG-SIZE:size"] == image["size"]
    assert body["links"][2]["href"].endswith(f"/image/images/{image['id']}")

    by_name = client.get(f"{BASE}/images", headers=at(token), params={"name": image["name"]})
    assert [i["id"] for i in by_name.json()["images"]] == [image["id"]]
    nothing = client.get(f"{BASE}/images", headers=at(token), params={"name": "no such"})
    assert nothing.json() == {"images": []}
    # changes-since is glance's updated_at=gte:<time>.
    later = client.get(f"{BASE}/images", headers=at(token),
                       params={"changes-since": "2999-01-01T00:00:00Z"})
    assert later.json() == {"images": []}
    since = client.get(f"{BASE}/images/detail", headers=at(token),
                       params={"changes-since": body["created"]})
    assert image["id"] in {i["id"] for i in since.json()["images"]}
    limited = client.get(f"{BASE}/images", headers=at(token), params={"limit": "1"})
    assert len(limited.json()["images"]) == 1
    assert "marker=" in limited.json()["images_links"][0]["href"]
    bad = client.get(f"{BASE}/images", headers=at(token), params={"limit": "-1"})
    assert bad.status_code == 400

    missing = client.get(f"{BASE}/images/no-such-image", headers=at(token))
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Image not found."
    for path in ("/images", "/images/detail", f"/images/{image['id']}"):
        gone = client.get(f"{BASE}{path}", headers=at(token, "2.36"))
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND)


def _image(client: TestClient, token: str, name: str = "proxied") -> str:
    made = client.post("/image/v2/images", headers=at(token), json={
        "name": name, "disk_format": "raw", "container_format": "bare", "color": "red"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_image_metadata_is_the_image_s_properties_until_2_38(client: TestClient,
                                                             token: str) -> None:
    image = _image(client, token)
    url = f"{BASE}/images/{image}/metadata"
    listed = client.get(url, headers=at(token, "2.38"))
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"metadata": {"color": "red"}}
    assert_nova_response(listed.json(), "/images/{image_id}/metadata", "GET", "2.38")

    added = client.post(url, headers=at(token), json={"metadata": {"size_hint": "big"}})
    assert added.status_code == 200, added.text
    assert added.json() == {"metadata": {"color": "red", "size_hint": "big"}}
    assert_nova_response(added.json(), "/images/{image_id}/metadata", "POST", PROXY)
    one = client.put(f"{url}/color", headers=at(token), json={"meta": {"color": "blue"}})
    assert one.json() == {"meta": {"color": "blue"}}
    assert_nova_response(one.json(), "/images/{image_id}/metadata/{id}", "PUT", PROXY)
    shown = client.get(f"{url}/color", headers=at(token))
    assert shown.json() == {"meta": {"color": "blue"}}
    mismatch = client.put(f"{url}/color", headers=at(token), json={"meta": {"other": "x"}})
    assert mismatch.status_code == 400
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"

    assert client.delete(f"{url}/size_hint", headers=at(token)).status_code == 204
    assert client.get(f"{url}/size_hint", headers=at(token)).status_code == 404
    assert client.delete(f"{url}/size_hint", headers=at(token)).status_code == 404
    replaced = client.put(url, headers=at(token), json={"metadata": {"shape": "round"}})
    assert replaced.json() == {"metadata": {"shape": "round"}}
    glance = client.get(f"/image/v2/images/{image}", headers=at(token)).json()
    assert glance["shape"] == "round" and "color" not in glance

    bad_key = client.post(url, headers=at(token), json={"metadata": {"a/b": "x"}})
    assert bad_key.status_code == 400
    assert client.get(url, headers=at(token, "2.39")).json() == NOT_FOUND
    assert client.get(f"{BASE}/images/nope/metadata", headers=at(token)).status_code == 404


def test_an_image_is_deleted_through_nova_as_the_caller(client: TestClient, cloud: Cloud,
                                                         token: str) -> None:
    image = _image(client, token, "to-delete")
    other = member_token(client, cloud, token)
    # Another project does not see the admin's private image: glance's 404 is nova's.
    assert client.delete(f"{BASE}/images/{image}", headers=at(other)).status_code == 404
    assert client.get(f"{BASE}/images/{image}", headers=at(other)).status_code == 404
    deleted = client.delete(f"{BASE}/images/{image}", headers=at(token))
    assert deleted.status_code == 204, deleted.text
    assert client.get(f"/image/v2/images/{image}", headers=at(token)).status_code == 404
    assert client.delete(f"{BASE}/images/{image}", headers=at(token, "2.36")).json() == NOT_FOUND
    assert client.delete(f"{BASE}/images/", headers=at(token)).json() == NOT_FOUND


# -- security groups ------------------------------------------------------------------------


def test_security_groups_through_nova(client: TestClient, token: str) -> None:
    url = f"{BASE}/os-security-groups"
    made = client.post(url, headers=at(token), json={"security_group": {
        "name": "web", "description": "web servers"}})
    assert made.status_code == 200, made.text
    assert_nova_response(made.json(), "/os-security-groups", "POST", PROXY)
    group = made.json()["security_group"]
    # neutron's default egress rules are not nova's: a new group shows no rules.
    assert (group["name"], group["description"], group["rules"]) == ("web", "web servers", [])

    listed = client.get(url, headers=at(token))
    assert_nova_response(listed.json(), "/os-security-groups", "GET", PROXY)
    names = [g["name"] for g in listed.json()["security_groups"]]
    assert "web" in names and "default" in names and names == sorted(names)

    rules = f"{BASE}/os-security-group-rules"
    tcp = client.post(rules, headers=at(token), json={"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}})
    assert tcp.status_code == 200, tcp.text
    assert_nova_response(tcp.json(), "/os-security-group-rules", "POST", PROXY)
    rule = tcp.json()["security_group_rule"]
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"], rule["ip_range"],
            rule["group"]) == ("tcp", 22, 22, {"cidr": "10.0.0.0/8"}, {})
    again = client.post(rules, headers=at(token), json={"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.0.0.0/8"}})
    assert again.status_code == 400
    assert "already exists" in again.json()["badRequest"]["message"]
    from_group = client.post(rules, headers=at(token), json={"security_group_rule": {
        "parent_group_id": group["id"], "ip_protocol": "icmp", "group_id": group["id"]}})
    assert from_group.status_code == 200, from_group.text
    assert from_group.json()["security_group_rule"]["group"] == {
        "name": "web", "tenant_id": group["tenant_id"]}
    assert (from_group.json()["security_group_rule"]["from_port"],
            from_group.json()["security_group_rule"]["to_port"]) == (-1, -1)
    for wrong in ({"ip_protocol": "tcp", "from_port": 30, "to_port": 20},
                  {"ip_protocol": "gre", "from_port": 1, "to_port": 2},
                  {"ip_protocol": "tcp", "from_port": "a", "to_port": 2},
                  {"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.1/0"},
                  {"cidr": "not-a-network"}, {}):
        refused = client.post(rules, headers=at(token), json={"security_group_rule": {
            "parent_group_id": group["id"], **wrong}})
        assert refused.status_code == 400, (wrong, refused.text)
    unknown_parent = client.post(rules, headers=at(token), json={"security_group_rule": {
        "parent_group_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12, "ip_protocol": "tcp",
        "from_port": 1, "to_port": 2}})
    assert unknown_parent.status_code == 404

    shown = client.get(f"{url}/{group['id']}", headers=at(token))
    assert_nova_response(shown.json(), "/os-security-groups/{id}", "GET", PROXY)
    assert len(shown.json()["security_group"]["rules"]) == 2

    changed = client.put(f"{url}/{group['id']}", headers=at(token), json={"security_group": {
        "name": "web2", "description": "renamed"}})
    assert changed.status_code == 200, changed.text
    assert_nova_response(changed.json(), "/os-security-groups/{id}", "PUT", PROXY)
    assert changed.json()["security_group"]["name"] == "web2"

    assert client.delete(f"{rules}/{rule['id']}", headers=at(token)).status_code == 202
    assert client.delete(f"{rules}/{rule['id']}", headers=at(token)).status_code == 404
    assert client.delete(f"{rules}/not-a-uuid", headers=at(token)).status_code == 400
    assert client.get(f"{url}/not-a-uuid", headers=at(token)).status_code == 400
    assert client.delete(f"{url}/{group['id']}", headers=at(token)).status_code == 202
    assert client.get(f"{url}/{group['id']}", headers=at(token)).status_code == 404
    assert client.get(url, headers=at(token, "2.36")).json() == NOT_FOUND
    assert client.post(rules, headers=at(token, "2.36"), json={}).json() == NOT_FOUND
    assert client.delete(f"{url}/", headers=at(token)).json() == NOT_FOUND


def test_another_project_s_group_is_not_found(client: TestClient, cloud: Cloud,
                                              token: str) -> None:
    group = client.post(f"{BASE}/os-security-groups", headers=at(token), json={
        "security_group": {"name": "mine", "description": ""}}).json()["security_group"]
    other = member_token(client, cloud, token)
    assert client.get(f"{BASE}/os-security-groups/{group['id']}",
                      headers=at(other)).status_code == 404
    assert client.delete(f"{BASE}/os-security-groups/{group['id']}",
                         headers=at(other)).status_code == 404
    names = [g["name"] for g in client.get(f"{BASE}/os-security-groups",
                                           headers=at(other)).json()["security_groups"]]
    assert "mine" not in names


# -- networks, floating IPs, addresses ------------------------------------------------------------


def _network(client: TestClient, token: str, name: str = "private") -> tuple[str, str]:
    net = client.post("/networking/v2.0/networks", headers=at(token),
                      json={"network": {"name": name}}).json()["network"]["id"]
    subnet = client.post("/networking/v2.0/subnets", headers=at(token), json={"subnet": {
        "network_id": net, "cidr": "10.9.0.0/24", "ip_version": 4}})
    assert subnet.status_code == 201, subnet.text
    return net, subnet.json()["subnet"]["id"]


def test_networks_show_only_an_id_and_a_label(client: TestClient, token: str) -> None:
    net, _ = _network(client, token)
    listed = client.get(f"{BASE}/os-networks", headers=at(token))
    assert listed.status_code == 200, listed.text
    assert_nova_response(listed.json(), "/os-networks", "GET", PROXY)
    mine = next(n for n in listed.json()["networks"] if n["id"] == net)
    assert mine["label"] == "private" and mine["cidr"] is None and "bridge" in mine
    shown = client.get(f"{BASE}/os-networks/{net}", headers=at(token))
    assert_nova_response(shown.json(), "/os-networks/{id}", "GET", PROXY)
    tenant = client.get(f"{BASE}/os-tenant-networks", headers=at(token))
    assert_nova_response(tenant.json(), "/os-tenant-networks", "GET", PROXY)
    assert {"id": net, "cidr": "None", "label": "private"} in tenant.json()["networks"]
    one = client.get(f"{BASE}/os-tenant-networks/{net}", headers=at(token))
    assert one.json() == {"network": {"id": net, "cidr": "None", "label": "private"}}
    missing = client.get(f"{BASE}/os-networks/nope", headers=at(token))
    assert missing.json() == {"itemNotFound": {"code": 404, "message": "Network not found"}}
    assert client.get(f"{BASE}/os-networks", headers=at(token, "2.36")).json() == NOT_FOUND
    created = client.post(f"{BASE}/os-networks", headers=at(token), json={"network": {}})
    assert created.status_code == 410


def _server(client: TestClient, token: str, net: str) -> dict[str, Any]:
    image = client.get("/image/v2/images", headers=at(token)).json()["images"][0]["id"]
    made = client.post(f"{BASE}/servers", headers=at(token, "2.96"), json={"server": {
        "name": "addressed", "imageRef": image, "flavorRef": "1",
        "networks": [{"uuid": net}]}})
    assert made.status_code == 202, made.text
    server_id = made.json()["server"]["id"]
    for _ in range(500):
        server = client.get(f"{BASE}/servers/{server_id}", headers=at(token)).json()["server"]
        if server["status"] == "ACTIVE":
            return dict(server)
        time.sleep(0.005)
    raise AssertionError("the server never became ACTIVE")


def test_floating_ips_pools_and_a_server_s_addresses(client: TestClient, token: str) -> None:
    net, subnet = _network(client, token)
    public = next(n for n in client.get("/networking/v2.0/networks", headers=at(token),
                                        params={"router:external": "True"}).json()["networks"])
    router = client.post("/networking/v2.0/routers", headers=at(token), json={"router": {
        "name": "r", "external_gateway_info": {"network_id": public["id"]}}}).json()["router"]
    assert client.put(f"/networking/v2.0/routers/{router['id']}/add_router_interface",
                      headers=at(token), json={"subnet_id": subnet}).status_code == 200
    server = _server(client, token, net)

    ips = client.get(f"{BASE}/servers/{server['id']}/ips", headers=at(token, "2.96"))
    assert ips.status_code == 200, ips.text
    assert_nova_response(ips.json(), "/servers/{server_id}/ips", "GET", "2.96")
    fixed = server["addresses"]["private"][0]["addr"]
    assert ips.json() == {"addresses": {"private": [{"version": 4, "addr": fixed}]}}
    one = client.get(f"{BASE}/servers/{server['id']}/ips/private", headers=at(token))
    assert_nova_response(one.json(), "/servers/{server_id}/ips/{id}", "GET", PROXY)
    assert one.json() == {"private": [{"version": 4, "addr": fixed}]}
    elsewhere = client.get(f"{BASE}/servers/{server['id']}/ips/other", headers=at(token))
    assert elsewhere.status_code == 404
    assert client.get(f"{BASE}/servers/nope/ips", headers=at(token)).status_code == 404

    pools = client.get(f"{BASE}/os-floating-ip-pools", headers=at(token))
    assert_nova_response(pools.json(), "/os-floating-ip-pools", "GET", PROXY)
    assert {"name": public["name"]} in pools.json()["floating_ip_pools"]

    url = f"{BASE}/os-floating-ips"
    made = client.post(url, headers=at(token), json={"pool": public["name"]})
    assert made.status_code == 200, made.text
    assert_nova_response(made.json(), "/os-floating-ips", "POST", PROXY)
    fip = made.json()["floating_ip"]
    assert (fip["pool"], fip["instance_id"], fip["fixed_ip"]) == (public["name"], None, None)
    no_pool = client.post(url, headers=at(token), json={"pool": "no-such-pool"})
    assert no_pool.json() == {"itemNotFound": {"code": 404,
                                               "message": "Floating IP pool not found."}}

    def act(body: dict[str, Any], version: str = PROXY) -> Any:
        return client.post(f"{BASE}/servers/{server['id']}/action", headers=at(token, version),
                           json=body)

    added = act({"addFloatingIp": {"address": fip["ip"]}})
    assert added.status_code == 202, added.text
    shown = client.get(f"{url}/{fip['id']}", headers=at(token))
    assert_nova_response(shown.json(), "/os-floating-ips/{id}", "GET", PROXY)
    assert (shown.json()["floating_ip"]["instance_id"],
            shown.json()["floating_ip"]["fixed_ip"]) == (server["id"], fixed)
    addresses = client.get(f"{BASE}/servers/{server['id']}/ips/private", headers=at(token))
    assert {"version": 4, "addr": fip["ip"]} in addresses.json()["private"]
    listed = client.get(url, headers=at(token))
    assert_nova_response(listed.json(), "/os-floating-ips", "GET", PROXY)
    assert fip["id"] in {f["id"] for f in listed.json()["floating_ips"]}

    assert act({"addFloatingIp": {"address": "192.0.2.250"}}).status_code == 404
    assert act({"addFloatingIp": {"address": fip["ip"], "fixed_address": "10.9.9.9"}}
               ).status_code == 400
    assert act({"addFloatingIp": {"address": fip["ip"]}}, "2.44").status_code == 404
    removed = act({"removeFloatingIp": {"address": fip["ip"]}})
    assert removed.status_code == 202, removed.text
    again = act({"removeFloatingIp": {"address": fip["ip"]}})
    assert again.status_code == 409
    assert client.get(f"{url}/{fip['id']}", headers=at(token)).json()[
        "floating_ip"]["instance_id"] is None

    assert client.delete(f"{url}/{fip['id']}", headers=at(token)).status_code == 202
    gone = client.get(f"{url}/{fip['id']}", headers=at(token))
    assert gone.json() == {"itemNotFound": {
        "code": 404, "message": f"Floating IP not found for ID {fip['id']}"}}
    assert client.get(url, headers=at(token, "2.36")).json() == NOT_FOUND
    assert client.get(f"{BASE}/os-floating-ip-pools",
                      headers=at(token, "2.36")).json() == NOT_FOUND


# -- extensions -------------------------------------------------------------------------------


def test_extensions_are_nova_s_frozen_list(client: TestClient, token: str) -> None:
    listed = client.get(f"{BASE}/extensions", headers=at(token, "2.96"))
    assert listed.status_code == 200, listed.text
    assert_nova_response(listed.json(), "/extensions", "GET", "2.96")
    aliases = [e["alias"] for e in listed.json()["extensions"]]
    assert aliases == sorted(aliases) and len(aliases) == 99
    assert "Hosts" in [e["name"] for e in listed.json()["extensions"]]
    shown = client.get(f"{BASE}/extensions/os-consoles", headers=at(token))
    assert_nova_response(shown.json(), "/extensions/{id}", "GET", PROXY)
    assert shown.json()["extension"]["alias"] == "os-consoles"
    assert client.get(f"{BASE}/extensions/nope", headers=at(token)).json() == NOT_FOUND


def test_a_server_s_security_groups_show_their_rules(client: TestClient, token: str) -> None:
    net, _ = _network(client, token)
    server = _server(client, token, net)
    group = client.post(f"{BASE}/os-security-groups", headers=at(token), json={
        "security_group": {"name": "web", "description": ""}}).json()["security_group"]
    rule = client.post(f"{BASE}/os-security-group-rules", headers=at(token), json={
        "security_group_rule": {"parent_group_id": group["id"], "ip_protocol": "tcp",
                                "from_port": 80, "to_port": 80}})
    assert rule.status_code == 200, rule.text
    added = client.post(f"{BASE}/servers/{server['id']}/action", headers=at(token),
                        json={"addSecurityGroup": {"name": "web"}})
    assert added.status_code == 202, added.text
    listed = client.get(f"{BASE}/servers/{server['id']}/os-security-groups",
                        headers=at(token, "2.96"))
    assert listed.status_code == 200, listed.text
    assert_nova_response(listed.json(), "/servers/{server_id}/os-security-groups", "GET", "2.96")
    groups = {g["name"]: g for g in listed.json()["security_groups"]}
    assert set(groups) == {"default", "web"}
    assert [(r["ip_protocol"], r["from_port"], r["to_port"], r["ip_range"])
            for r in groups["web"]["rules"]] == [("tcp", 80, 80, {"cidr": "0.0.0.0/0"})]
    # The default group's rules admit its own members: shown with the group's name.
    assert {"name": "default", "tenant_id": groups["default"]["tenant_id"]} in [
        r["group"] for r in groups["default"]["rules"]]
    in_use = client.delete(f"{BASE}/os-security-groups/{group['id']}", headers=at(token))
    assert in_use.status_code == 400


def test_security_groups_change_on_a_rescued_locked_server(client: TestClient,
                                                            token: str) -> None:
    """nova checks neither state nor lock for these actions (Tempest adds and removes a
    group on a rescued server)."""
    net, _ = _network(client, token)
    server = _server(client, token, net)
    client.post(f"{BASE}/os-security-groups", headers=at(token), json={
        "security_group": {"name": "web", "description": ""}})
    act = f"{BASE}/servers/{server['id']}/action"
    rescued = client.post(act, headers=at(token), json={"rescue": {}})
    assert rescued.status_code == 200, rescued.text
    assert client.post(act, headers=at(token), json={"lock": None}).status_code == 202
    shown = client.get(f"{BASE}/servers/{server['id']}", headers=at(token)).json()["server"]
    assert shown["status"] == "RESCUE"
    for name in ("addSecurityGroup", "removeSecurityGroup"):
        done = client.post(act, headers=at(token), json={name: {"name": "web"}})
        assert done.status_code == 202, (name, done.text)
    listed = client.get(f"{BASE}/servers/{server['id']}/os-security-groups",
                        headers=at(token)).json()["security_groups"]
    assert [g["name"] for g in listed] == ["default"]
