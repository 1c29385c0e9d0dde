"""A server's ports and security groups without HTTP: what nova asks of the Networking API.

The Networking API is a stand-in keeping ports in memory; it records each
request, so the tests see which ports nova unbinds, deletes or changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from stacklab.api.errors import ApiError
from stacklab.compute import models as m
from stacklab.compute.service import ComputeService
from support.compute_domain import add_server, compute_hosts, compute_service, context, server

GROUPS = {"sg-default": "default", "sg-web": "web"}


class NetworkingApi:
    def __init__(self) -> None:
        self.ports: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.networks = ["net-1"]

    def add_port(self, port_id: str, device_id: str = "") -> None:
        self.ports[port_id] = {
            "id": port_id, "network_id": "net-1", "device_id": device_id, "status": "ACTIVE",
            "mac_address": "fa:16:3e:00:00:01", "security_groups": ["sg-default"],
            "fixed_ips": [{"subnet_id": "sub-1", "ip_address": f"10.0.0.{len(self.ports) + 5}"}]}

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, params: Any = None) -> Any:
        self.requests.append((method, path, json))
        if path == "/v2.0/ports":
            return {"ports": [p for p in self.ports.values()
                              if p["device_id"] == params["device_id"]]}
        if path == "/v2.0/security-groups":
            return {"security_groups": [{"id": i, "name": n, "description": "",
                                         "tenant_id": "project-a"} for i, n in GROUPS.items()]}
        port_id = path.rsplit("/", 1)[-1]
        if method == "DELETE":
            del self.ports[port_id]
            return None
        self.ports[port_id].update(json["port"])
        return {"port": self.ports[port_id]}

    async def resolve_networks(self, requested: Any, project_id: str, token: str, *,
                               missing_status: int = 400) -> list[dict[str, Any]]:
        if requested in (None, "auto"):
            return [{"network_id": n} for n in self.networks]
        return [{"port_id": r["port"], "network_id": "net-1"} if "port" in r
                else {"network_id": r["uuid"]} for r in requested]

    async def allocate_for_instance(self, uuid: str, project_id: str, host: str, zone: str,
                                    requests: list[dict[str, Any]],
                                    groups: list[str]) -> list[dict[str, Any]]:
        made = []
        for request in requests:
            port_id = request.get("port_id") or f"port-{len(self.ports) + 1}"
            if port_id not in self.ports:
                self.add_port(port_id)
            self.ports[port_id]["device_id"] = uuid
            made.append(self.ports[port_id])
        return made

    async def addresses(self, uuid: str) -> dict[str, list[dict[str, Any]]]:
        return {"net-1": [{"addr": p["fixed_ips"][0]["ip_address"]}
                          for p in self.ports.values() if p["device_id"] == uuid]}

    async def find_security_group(self, name: str, project_id: str, token: str) -> str | None:
        return next((i for i, n in GROUPS.items() if name in (i, n)), None)


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    compute.neutron = NetworkingApi()  # type: ignore[assignment]
    yield compute
    compute.db.dispose()


def neutron(service: ComputeService) -> NetworkingApi:
    return service.neutron  # type: ignore[return-value]


def a_server(service: ComputeService, networks: Any = "auto") -> m.Instance:
    uuid = add_server(service, host=compute_hosts(service)[0])
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        instance.networks = networks
        instance.security_groups = ["default"]
    return server(service, uuid)


def actions(service: ComputeService) -> list[str]:
    with service.db.session() as session:
        return list(session.scalars(select(m.InstanceAction.action)))


def test_an_attached_port_is_the_servers_and_its_address_is_recorded(
        service: ComputeService) -> None:
    instance = a_server(service, networks=[])
    neutron(service).add_port("mine")
    port = asyncio.run(service.interfaces.attach(instance, {"port_id": "mine"}, context()))
    assert port["id"] == "mine" and port["device_id"] == instance.uuid
    after = server(service, instance.uuid)
    assert after.addresses == {"net-1": [{"addr": port["fixed_ips"][0]["ip_address"]}]}
    assert after.networks == [{"port_id": "mine", "network_id": "net-1"}]
    assert actions(service) == ["attach_interface"]


def test_an_attach_with_no_network_to_use_is_a_bad_request(service: ComputeService) -> None:
    instance = a_server(service)
    neutron(service).networks = []
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.attach(instance, {}, context()))
    assert (caught.value.status, caught.value.message) == (
        400, "No network is available to attach an interface to.")
    assert server(service, instance.uuid).networks == "auto" and actions(service) == []


def test_a_detached_user_port_is_unbound_and_novas_own_is_deleted(
        service: ComputeService) -> None:
    instance = a_server(service, networks=[{"port_id": "mine", "network_id": "net-1"}])
    api = neutron(service)
    api.add_port("mine", instance.uuid)
    api.add_port("novas", instance.uuid)
    asyncio.run(service.interfaces.detach(instance, "mine", context()))
    assert api.ports["mine"]["device_id"] == "" and api.ports["mine"]["binding:host_id"] == ""
    asyncio.run(service.interfaces.detach(server(service, instance.uuid), "novas", context()))
    assert "novas" not in api.ports
    after = server(service, instance.uuid)
    assert after.networks == [] and after.addresses == {"net-1": []}
    assert actions(service) == ["detach_interface", "detach_interface"]


def test_detaching_a_port_the_server_does_not_have_is_not_found(
        service: ComputeService) -> None:
    instance = a_server(service)
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.detach(instance, "other", context()))
    assert (caught.value.status, caught.value.message) == (404, "Port other is not attached")


def test_a_security_group_goes_on_every_port_and_into_the_servers_list(
        service: ComputeService) -> None:
    instance = a_server(service)
    api = neutron(service)
    api.add_port("p1", instance.uuid)
    api.add_port("p2", instance.uuid)
    asyncio.run(service.interfaces.change_security_group(instance, "web", True, context()))
    assert [p["security_groups"] for p in api.ports.values()] == [
        ["sg-default", "sg-web"], ["sg-default", "sg-web"]]
    assert instance.security_groups == ["default", "web"]
    groups = asyncio.run(service.interfaces.security_groups(instance.uuid))
    assert [g["name"] for g in groups] == ["default", "web"]
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.change_security_group(instance, "web", True, context()))
    assert caught.value.message == (f"Security group web is already associated with the "
                                    f"instance {instance.uuid}")
    asyncio.run(service.interfaces.change_security_group(instance, "web", False, context()))
    assert instance.security_groups == ["default"]
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.change_security_group(instance, "web", False, context()))
    assert caught.value.message == (f"Security group web not associated with the instance "
                                    f"{instance.uuid}")


def test_an_unknown_group_or_a_server_without_ports_is_refused(
        service: ComputeService) -> None:
    instance = a_server(service)
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.change_security_group(instance, "nope", True, context()))
    assert (caught.value.status, caught.value.message) == (
        404, "Security group nope is not found for project project-a")
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.change_security_group(instance, "web", True, context()))
    assert (caught.value.status, caught.value.message) == (
        400, f"Server {instance.uuid} has no ports to apply security groups to.")


def test_without_networking_interfaces_are_not_implemented(service: ComputeService) -> None:
    service.neutron = None
    with pytest.raises(ApiError) as caught:
        asyncio.run(service.interfaces.ports("any"))
    assert (caught.value.status, caught.value.message) == (501, "Networking is not available.")
