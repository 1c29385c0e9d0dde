"""A distributed router's SNAT interface ports, through the API: neutron makes one on each
interface subnet while the router has a gateway, and they go with the interface or the
gateway, never by themselves."""

from __future__ import annotations

from unit.network.neutron_client import Neutron, expect_error

SNAT = "network:router_centralized_snat"


def snat_ports(admin: Neutron, router_id: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = admin.ok(
        "GET", f"/v2.0/ports?device_id={router_id}&device_owner={SNAT}")["ports"]
    return found


def subnet(admin: Neutron, cidr: str) -> dict[str, str]:
    network = admin.create("networks", "network", name=f"n-{cidr}")
    made: dict[str, str] = admin.create("subnets", "subnet", network_id=network["id"],
                                        cidr=cidr, ip_version=4)
    return made


def test_a_distributed_routers_snat_ports_follow_its_gateway_and_interfaces(
        admin: Neutron) -> None:
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    first, second = subnet(admin, "10.61.0.0/24"), subnet(admin, "10.62.0.0/24")
    router = admin.create("routers", "router", name="dvr", distributed=True, ha=False)
    path = f"/v2.0/routers/{router['id']}"
    admin.ok("PUT", f"{path}/add_router_interface", {"subnet_id": first["id"]})
    assert snat_ports(admin, router["id"]) == []  # no gateway, no SNAT
    admin.ok("PUT", path, {"router": {"external_gateway_info": {"network_id": public["id"]}}})
    [port] = snat_ports(admin, router["id"])
    assert (port["project_id"], port["name"]) == ("", "")
    assert port["fixed_ips"][0]["subnet_id"] == first["id"]
    assert port["fixed_ips"][0]["ip_address"] != "10.61.0.1"  # the interface has that one
    expect_error(admin.call("DELETE", f"/v2.0/ports/{port['id']}"), 409, "L3PortInUse")

    admin.ok("PUT", f"{path}/add_router_interface", {"subnet_id": second["id"]})
    assert sorted(p["fixed_ips"][0]["subnet_id"] for p in snat_ports(admin, router["id"])) \
        == sorted([first["id"], second["id"]])
    admin.ok("PUT", f"{path}/remove_router_interface", {"subnet_id": first["id"]})
    assert [p["fixed_ips"][0]["subnet_id"] for p in snat_ports(admin, router["id"])] == [
        second["id"]]
    admin.ok("PUT", path, {"router": {"external_gateway_info": {}}})
    assert snat_ports(admin, router["id"]) == []
    # A legacy router has none.
    legacy = admin.create("routers", "router", name="legacy", distributed=False,
                          external_gateway_info={"network_id": public["id"]})
    admin.ok("PUT", f"/v2.0/routers/{legacy['id']}/add_router_interface",
             {"subnet_id": first["id"]})
    assert snat_ports(admin, legacy["id"]) == []
