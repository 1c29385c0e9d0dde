"""The lab's own addresses on br_external (its nodes', the public API VIP) are out of
neutron's hands: outside the public subnet's pool, and refused to any port that asks."""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.testclient import TestClient

from support.inprocess import admin_token

VIP = "192.168.100.100"
CONTROLLER1_EXTERNAL = "192.168.100.51"


def public(client: TestClient, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    network = client.get("/networking/v2.0/networks?name=public", headers=headers)
    found = network.json()["networks"][0]
    subnet = client.get(f"/networking/v2.0/subnets/{found['subnets'][0]}", headers=headers)
    return found["id"], subnet.json()["subnet"]


def test_the_public_pool_leaves_out_the_vip_and_the_nodes(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    _, subnet = public(client, headers)
    pools = subnet["allocation_pools"]
    assert pools == [{"start": "192.168.100.101", "end": "192.168.100.250"}]
    for address in (VIP, CONTROLLER1_EXTERNAL):
        assert not any(ipaddress.ip_address(pool["start"]) <= ipaddress.ip_address(address)
                       <= ipaddress.ip_address(pool["end"]) for pool in pools)
    fip = client.post("/networking/v2.0/floatingips", headers=headers, json={
        "floatingip": {"floating_network_id": subnet["network_id"]}})
    assert fip.status_code == 201, fip.text
    assert fip.json()["floatingip"]["floating_ip_address"] == "192.168.100.101"


def test_a_floating_ip_or_a_gateway_asking_for_a_lab_address_is_refused(
        client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    network_id, subnet = public(client, headers)
    for address in (VIP, CONTROLLER1_EXTERNAL):
        fip = client.post("/networking/v2.0/floatingips", headers=headers, json={
            "floatingip": {"floating_network_id": network_id,
                           "floating_ip_address": address}})
        assert fip.status_code == 409, fip.text
        assert fip.json()["NeutronError"] == {
            "type": "IpAddressAlreadyAllocated", "detail": "",
            "message": f"IP address {address} already allocated in subnet {subnet['id']}"}
    router = client.post("/networking/v2.0/routers", headers=headers, json={"router": {
        "name": "r-vip", "external_gateway_info": {
            "network_id": network_id,
            "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": VIP}]}}})
    assert router.status_code == 409, router.text
    assert router.json()["NeutronError"]["type"] == "IpAddressAlreadyAllocated"


def test_a_pool_widened_by_hand_still_skips_the_vip(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    network_id, subnet = public(client, headers)
    widened = client.put(f"/networking/v2.0/subnets/{subnet['id']}", headers=headers, json={
        "subnet": {"allocation_pools": [{"start": "192.168.100.99",
                                         "end": "192.168.100.250"}]}})
    assert widened.status_code == 200, widened.text
    taken = []
    for _ in range(3):
        fip = client.post("/networking/v2.0/floatingips", headers=headers, json={
            "floatingip": {"floating_network_id": network_id}})
        assert fip.status_code == 201, fip.text
        taken.append(fip.json()["floatingip"]["floating_ip_address"])
    assert taken == ["192.168.100.99", "192.168.100.101", "192.168.100.102"]
