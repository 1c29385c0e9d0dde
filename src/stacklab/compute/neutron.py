"""nova's Networking client: ports for servers, over the Networking API's internal endpoint.

As nova does, it talks HTTP to neutron (here, to the cloud's own ASGI app, in
process: the same request path, tokens and policy as any client). Every
reference a user's request names (network, port, security group) is looked up
with that user's own token, so it resolves only within what the caller may see,
as nova's look-ups with the user's context do; the privileged ``nova`` service
user does what nova does with its admin client: creating ports in the server's
project once the references are validated, binding them to the chosen host, and
reading them back for the server's addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stacklab.api.client import ServiceCallError, ServiceClient
from stacklab.api.errors import ApiError, BadRequest, Conflict
from stacklab.compute.agents.events import VifPlugging


class NeutronError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        error = body.get("NeutronError", {}) if isinstance(body, dict) else {}
        self.status = status
        self.kind = error.get("type", "")
        self.message = error.get("message", str(body))
        super().__init__(f"{status} {self.kind}: {self.message}")

    @classmethod
    def of(cls, status: int, kind: str, message: str) -> NeutronError:
        """A failure nova itself finds while using neutron's answers (a build then aborts)."""
        return cls(status, {"NeutronError": {"type": kind, "message": message}})


class NeutronClient:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, username: str,
                 password: str, project: str = "service",
                 vif_plugging: VifPlugging | None = None) -> None:
        self._http = ServiceClient(app, base_url, mount="/networking", username=username,
                                   password=password, project=project)
        # How long a build waits for neutron to say a server's port is wired, and whether
        # it fails when neutron does not (nova's [DEFAULT] vif_plugging_* options).
        self.vif_plugging = vif_plugging or VifPlugging()

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, params: Any = None) -> Any:
        try:
            return await self._http.json(method, path, token=token, json=json, params=params)
        except ServiceCallError as exc:
            raise NeutronError(exc.status, exc.body) from None

    # -- what nova-api checks before accepting a create ---------------------------------

    async def find_security_group(self, name_or_id: str, project_id: str,
                                  user_token: str) -> str | None:
        """A security group's id as nova resolves a name or id, or None when not found.

        By id among every group the user may see, else by name among the
        caller's project's own groups (an admin's name look-up too, so a name
        never picks another project's group); two groups of that name are
        nova's 409.
        """
        for params in ({"id": name_or_id}, {"name": name_or_id, "project_id": project_id}):
            found = (await self.request("GET", "/v2.0/security-groups", token=user_token,
                                        params=params))["security_groups"]
            if len(found) > 1:
                raise Conflict(f"Multiple security_group matches found for name "
                               f"'{name_or_id}', use an ID to be more specific.")
            if found:
                return str(found[0]["id"])
        return None

    async def check_security_groups(self, names: list[str], project_id: str,
                                    user_token: str) -> None:
        """nova-api's check of the requested groups, with the user's token (400 if unknown).

        ``default`` is left to neutron, which gives every project its own.
        """
        for name in names:
            if name == "default":
                continue
            if await self.find_security_group(name, project_id, user_token) is None:
                raise BadRequest(f"Unable to find security_group with name or id '{name}'")

    async def auto_allocate(self, project_id: str, user_token: str) -> str:
        """The project's auto-allocated network (neutron makes it on first ask), for a
        server asking for ``auto`` networking with none to use; neutron's refusal is
        nova's UnableToAutoAllocateNetwork."""
        try:
            topology = await self.request(
                "GET", f"/v2.0/auto-allocated-topology/{project_id}", token=user_token)
        except NeutronError as exc:
            if exc.status >= 500:
                raise
            raise BadRequest("Unable to automatically allocate a network for project "
                             f"{project_id}") from None
        return str(topology["auto_allocated_topology"]["id"])

    async def resolve_networks(self, requested: Any, project_id: str,
                               user_token: str, *,
                               missing_status: int = 400) -> list[dict[str, Any]]:
        """The networks a server is to get a port on, as nova-api validates them.

        ``auto``/unspecified: the project's only network (of its own, external
        ones included, or shared: nova's ``_get_available_networks``); none
        boots without ports (``auto``, from 2.37: neutron's auto-allocated
        network instead); several is nova's 409. ``none``: no ports. A list:
        each network must exist and be visible to the user; each port must exist
        and be free. A network or port the user cannot see is unknown: 400 at
        boot, ``missing_status`` (404 for an interface attach) elsewhere.
        """
        if requested == "none":
            return []
        if requested in (None, "auto"):
            listed = await self.request("GET", "/v2.0/networks", token=user_token)
            usable = [n for n in listed["networks"]
                      if n["tenant_id"] == project_id or n["shared"]]
            if len(usable) > 1:
                raise Conflict("Multiple possible networks found, use a Network ID to be more "
                               "specific.")
            if usable and not usable[0]["subnets"]:
                raise BadRequest(f"Network {usable[0]['id']} requires a subnet in order to "
                                 "boot instances on.")
            if not usable and requested == "auto":
                return [{"network_id": await self.auto_allocate(project_id, user_token)}]
            return [{"network_id": usable[0]["id"]}] if usable else []
        result: list[dict[str, Any]] = []
        for item in requested:
            if item.get("port"):
                try:
                    port = (await self.request("GET", f"/v2.0/ports/{item['port']}",
                                               token=user_token))["port"]
                except NeutronError as exc:
                    if exc.status == 404:
                        raise ApiError(f"Port id {item['port']} could not be found.",
                                       status=missing_status) from None
                    raise
                if port["device_id"]:
                    raise Conflict(f"Port {port['id']} is still in use.")
                result.append({"port_id": port["id"], "network_id": port["network_id"]})
                continue
            try:
                network = (await self.request("GET", f"/v2.0/networks/{item['uuid']}",
                                              token=user_token))["network"]
            except NeutronError as exc:
                if exc.status == 404:
                    raise ApiError(f"Network {item['uuid']} could not be found.",
                                   status=missing_status) from None
                raise
            if not network["subnets"]:
                raise BadRequest(f"Network {network['id']} requires a subnet in order to boot "
                                 "instances on.")
            wanted: dict[str, Any] = {"network_id": network["id"]}
            if item.get("fixed_ip"):
                wanted["fixed_ip"] = item["fixed_ip"]
            result.append(wanted)
        return result

    # -- what nova-compute does while the server is in task state networking -----------

    async def allocate_for_instance(self, instance_uuid: str, project_id: str, host: str,
                                    zone: str, requests: list[dict[str, Any]],
                                    security_groups: list[str]) -> list[dict[str, Any]]:
        """Create (or take) and bind one port per request; returns the bound ports."""
        ports = []
        group_ids = await self._security_group_ids(project_id, security_groups)
        for request in requests:
            binding = {"device_id": instance_uuid, "device_owner": f"compute:{zone}",
                       "binding:host_id": host}
            if request.get("port_id"):
                await self._check_port_usable(request["port_id"], project_id, instance_uuid)
                port = (await self.request("PUT", f"/v2.0/ports/{request['port_id']}",
                                           json={"port": binding}))["port"]
            else:
                body: dict[str, Any] = {"network_id": request["network_id"],
                                        "project_id": project_id, **binding}
                if request.get("fixed_ip"):
                    body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
                if group_ids is not None:
                    body["security_groups"] = group_ids
                port = (await self.request("POST", "/v2.0/ports", json={"port": body}))["port"]
                port["_nova_created"] = True
            ports.append(port)
        return ports

    async def _check_port_usable(self, port_id: str, project_id: str,
                                 instance_uuid: str) -> None:
        """A port given by the user must be the server's project's own (nova's PortNotUsable).

        The user's own look-up already hid other projects' ports; an admin sees
        them all, and may still not plug one into a server of another project.
        """
        port = (await self.request("GET", f"/v2.0/ports/{port_id}"))["port"]
        if port["project_id"] != project_id:
            raise NeutronError.of(400, "PortNotUsable",
                                  f"Port {port_id} not usable for instance {instance_uuid}.")

    async def _security_group_ids(self, project_id: str, names: list[str]) -> list[str] | None:
        if not names or names == ["default"]:
            return None  # neutron puts the project's default group on new ports itself
        listed = (await self.request("GET", "/v2.0/security-groups",
                                     params={"project_id": project_id}))["security_groups"]
        by_name = {g["name"]: g["id"] for g in listed}
        by_id = {g["id"] for g in listed}
        ids = []
        for name in names:
            if name in by_id:
                ids.append(name)
            elif name in by_name:
                ids.append(by_name[name])
            else:
                # nova-api checked the name with the user's token; only an admin's id of
                # another project's group gets here, and the build aborts, as upstream.
                raise NeutronError.of(400, "SecurityGroupNotFound",
                                      f"Security group {name} not found.")
        return ids

    async def addresses(self, instance_uuid: str) -> dict[str, list[dict[str, Any]]]:
        """nova's ``addresses`` of a server from its ports: network name -> addresses."""
        ports = (await self.request("GET", "/v2.0/ports",
                                    params={"device_id": instance_uuid}))["ports"]
        names: dict[str, str] = {}
        result: dict[str, list[dict[str, Any]]] = {}
        for port in ports:
            network_id = port["network_id"]
            if network_id not in names:
                names[network_id] = (await self.request(
                    "GET", f"/v2.0/networks/{network_id}"))["network"]["name"] or network_id
            floating = (await self.request("GET", "/v2.0/floatingips",
                                           params={"port_id": port["id"]}))["floatingips"]
            for fixed in port["fixed_ips"]:
                address = fixed["ip_address"]
                entries = result.setdefault(names[network_id], [])
                entries.append({
                    "version": 6 if ":" in address else 4, "addr": address,
                    "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]})
                # nova lists a fixed address's floating IPs right after it.
                entries.extend({"version": 4, "addr": f["floating_ip_address"],
                                "OS-EXT-IPS:type": "floating",
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
                               for f in floating if f["fixed_ip_address"] == address)
        return result

    async def deallocate_for_instance(self, instance_uuid: str,
                                      preserve: set[str] | None = None) -> None:
        """Delete the ports nova made; unbind the ones the user gave (nova's preserve)."""
        ports = (await self.request("GET", "/v2.0/ports",
                                    params={"device_id": instance_uuid}))["ports"]
        for port in ports:
            if preserve and port["id"] in preserve:
                await self.request("PUT", f"/v2.0/ports/{port['id']}", json={"port": {
                    "device_id": "", "device_owner": "", "binding:host_id": ""}})
            else:
                try:
                    await self.request("DELETE", f"/v2.0/ports/{port['id']}")
                except NeutronError as exc:
                    if exc.status != 404:
                        raise
