"""A server's ports and security groups, through the Networking API, as nova-api changes them.

References the user names (a network, a port, a security group) are looked
up with the user's own token; the ports are created, bound and changed as
nova. After a change the server's addresses are read again, as nova's
network info cache is refreshed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Conflict, NotFound
from stacklab.compute import models as m
from stacklab.compute.instances import bus_context
from stacklab.compute.neutron import NeutronClient, NeutronError

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService


def networking_failure(exc: NeutronError) -> ApiError:
    """neutron's client errors pass to the caller as they are; its own failures are 500."""
    return ApiError(exc.message, status=exc.status if exc.status < 500 else 500)


class Interfaces:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    def _neutron(self) -> NeutronClient:
        if self.service.neutron is None:
            raise ApiError("Networking is not available.", status=501)
        return self.service.neutron

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await self._neutron().request(method, path, **kwargs)
        except NeutronError as exc:
            raise networking_failure(exc) from None

    async def ports(self, uuid: str) -> list[dict[str, Any]]:
        """The server's ports, as neutron has them now."""
        listed = await self._call("GET", "/v2.0/ports", params={"device_id": uuid})
        return list(listed["ports"])

    def _refresh(self, uuid: str, addresses: dict[str, Any],
                 networks: Callable[[Any], Any], action: str, context: RequestContext) -> None:
        """Record the server's new addresses and requested networks, and the action."""
        with self.service.db.session() as session:
            row = self.service.instances.find(session, uuid)
            if row is not None:
                row.addresses = addresses
                row.networks = networks(row.networks)
                self.service.instances.start_action(session, row, action, bus_context(context))

    async def attach(self, instance: m.Instance, wanted: Mapping[str, Any],
                     context: RequestContext) -> dict[str, Any]:
        """A port for the server: the one named, one on the network named, or nova's choice."""
        client = self._neutron()
        if wanted.get("port_id"):
            request: dict[str, Any] = {"port": wanted["port_id"]}
        elif wanted.get("net_id"):
            request = {"uuid": wanted["net_id"]}
            fixed = wanted.get("fixed_ips") or []
            if fixed:
                request["fixed_ip"] = fixed[0].get("ip_address")
        else:
            request = {}
        # os-interface answers an unknown (or invisible) port or network with 404, not boot's.
        # No network named: the only one usable, never an auto-allocated one (nova attaches
        # to what exists).
        resolved = await client.resolve_networks(
            [request] if request else None, instance.project_id, context.auth_token or "",
            missing_status=404)
        if not resolved:
            raise BadRequest("No network is available to attach an interface to.")
        try:
            ports = await client.allocate_for_instance(
                instance.uuid, instance.project_id, instance.host or "",
                instance.availability_zone or self.service.default_zone, resolved,
                list(instance.security_groups))
            addresses = await client.addresses(instance.uuid)
        except NeutronError as exc:
            raise networking_failure(exc) from None
        self._refresh(instance.uuid, addresses,
                      lambda old: [*old, *resolved] if isinstance(old, list) else old,
                      "attach_interface", context)
        return dict(ports[0])

    async def detach(self, instance: m.Instance, port_id: str,
                     context: RequestContext) -> None:
        """Take a port off the server: a port the user brought is kept, nova's is deleted."""
        requests = instance.networks if isinstance(instance.networks, list) else []
        given = any(isinstance(r, dict) and r.get("port_id") == port_id for r in requests)
        if not any(p["id"] == port_id for p in await self.ports(instance.uuid)):
            raise NotFound(f"Port {port_id} is not attached")
        if given:
            await self._call("PUT", f"/v2.0/ports/{port_id}", json={"port": {
                "device_id": "", "device_owner": "", "binding:host_id": ""}})
        else:
            await self._call("DELETE", f"/v2.0/ports/{port_id}")
        try:
            addresses = await self._neutron().addresses(instance.uuid)
        except NeutronError as exc:
            raise networking_failure(exc) from None
        kept = [r for r in requests if not (isinstance(r, dict) and r.get("port_id") == port_id)]
        self._refresh(instance.uuid, addresses, lambda old: kept, "detach_interface", context)

    async def _group_id(self, name: str, context: RequestContext) -> str:
        """The group named, as the caller sees it: nova looks it up with the user's context."""
        project_id = context.project_id or ""
        try:
            found = await self._neutron().find_security_group(name, project_id,
                                                              context.auth_token or "")
        except NeutronError as exc:
            raise networking_failure(exc) from None
        if found is None:
            raise NotFound(f"Security group {name} is not found for project {project_id}")
        return found

    async def change_security_group(self, instance: m.Instance, name: str, adding: bool,
                                    context: RequestContext) -> None:
        """addSecurityGroup / removeSecurityGroup: the group on (or off) every port."""
        uuid = instance.uuid
        group_id = await self._group_id(name, context)
        ports = await self.ports(uuid)
        if not ports:
            raise BadRequest(f"Server {uuid} has no ports to apply security groups to.")
        has = [group_id in p["security_groups"] for p in ports]
        if adding and all(has):
            raise BadRequest(f"Security group {name} is already associated with the instance "
                             f"{uuid}")
        if not adding and not any(has):
            raise BadRequest(f"Security group {name} not associated with the instance {uuid}")
        for port in ports:
            groups = [g for g in port["security_groups"] if g != group_id]
            if adding:
                groups.append(group_id)
            await self._call("PUT", f"/v2.0/ports/{port['id']}",
                             json={"port": {"security_groups": groups}})
        names = [g for g in instance.security_groups if g != name]
        instance.security_groups = [*names, name] if adding else names

    async def security_groups(self, uuid: str) -> list[dict[str, Any]]:
        """The security groups on the server's ports."""
        ids = {g for p in await self.ports(uuid) for g in p["security_groups"]}
        groups = (await self._call("GET", "/v2.0/security-groups"))["security_groups"]
        return [g for g in groups if g["id"] in ids]

    # -- floating IPs (addFloatingIp/removeFloatingIp: deprecated, to 2.43) -------------------

    async def _floating_ip(self, address: str, context: RequestContext) -> dict[str, Any]:
        """The floating IP of that address the caller may see, or nova's 404."""
        found = (await self._call("GET", "/v2.0/floatingips", token=context.auth_token or "",
                                  params={"floating_ip_address": address}))["floatingips"]
        if not found:
            raise NotFound("floating IP not found")
        if len(found) > 1:
            raise BadRequest(f"Multiple floating IPs are found for address {address}")
        return dict(found[0])

    async def add_floating_ip(self, instance: m.Instance, address: str,
                              fixed_address: str | None, context: RequestContext) -> None:
        """addFloatingIp: the floating IP onto the port of one of the server's fixed IPs.

        Without ``fixed_address``, the server's first fixed IPv4 address, as nova.
        The server's addresses are read again from neutron afterwards.
        """
        uuid = instance.uuid
        cached = instance.addresses or {}
        if not cached:
            raise BadRequest("Instance network is not ready yet")
        fixed = [a["addr"] for addrs in cached.values() for a in addrs
                 if a.get("OS-EXT-IPS:type", "fixed") == "fixed"]
        if not fixed:
            raise BadRequest("No fixed IPs associated to instance")
        if fixed_address is not None and fixed_address not in fixed:
            raise BadRequest("Specified fixed address not assigned to instance")
        if fixed_address is None:
            fixed_address = next((ip for ip in fixed if ":" not in ip), None)
            if fixed_address is None:
                raise BadRequest(f"Unable to associate floating IP {address} to any fixed IPs "
                                 f"for instance {uuid}. Instance has no fixed IPv4 addresses "
                                 "to associate.")
        floating = await self._floating_ip(address, context)
        port = next((p for p in await self.ports(uuid)
                     if any(ip["ip_address"] == fixed_address for ip in p["fixed_ips"])), None)
        if port is None:
            raise BadRequest(f"Unable to associate floating IP {address} to fixed IP "
                             f"{fixed_address} for instance {uuid}. Error: no port has it")
        try:
            await self._neutron().request(
                "PUT", f"/v2.0/floatingips/{floating['id']}", token=context.auth_token or "",
                json={"floatingip": {"port_id": port["id"], "fixed_ip_address": fixed_address}})
        except NeutronError as exc:
            if exc.status == 403:
                raise networking_failure(exc) from None
            # nova words any other failure of the association as its own 400.
            raise BadRequest(f"Unable to associate floating IP {address} to fixed IP "
                             f"{fixed_address} for instance {uuid}. Error: {exc.message}") \
                from None
        instance.addresses = await self._addresses(uuid)

    async def remove_floating_ip(self, instance: m.Instance, address: str,
                                 context: RequestContext) -> None:
        """removeFloatingIp: only a floating IP on one of this server's ports (409 else)."""
        floating = await self._floating_ip(address, context)
        ports = {p["id"] for p in await self.ports(instance.uuid)}
        if not floating.get("port_id") or floating["port_id"] not in ports:
            raise Conflict(f"Floating IP {address} is not associated with instance "
                           f"{instance.uuid}.")
        await self._call("PUT", f"/v2.0/floatingips/{floating['id']}",
                         token=context.auth_token or "", json={"floatingip": {"port_id": None}})
        instance.addresses = await self._addresses(instance.uuid)

    async def _addresses(self, uuid: str) -> dict[str, Any]:
        try:
            return await self._neutron().addresses(uuid)
        except NeutronError as exc:
            raise networking_failure(exc) from None
