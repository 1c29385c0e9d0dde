"""nova's deprecated proxy APIs: glance's images and neutron's groups, addresses and networks.

Until microversion 2.36 (2.39 for image metadata) nova answered for the Image
and Networking APIs in its own shapes: ``/images``, ``/os-security-groups``,
``/os-floating-ips`` and the like. It never kept any of that itself; each call
went to glance or neutron with the caller's own token, so a user sees and
changes only what glance and neutron let them. Here too: every call goes over
HTTP through nova's clients, with the user's token, and what comes back is
translated to nova's old views (``nova/network/security_group_api.py``,
``nova/network/neutron.py``, ``nova/api/openstack/compute/views/images.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from stacklab.compute.glance import GlanceClient, GlanceError, image_properties
from stacklab.compute.neutron import NeutronClient, NeutronError

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

_HEX32 = re.compile(r"[0-9a-f]{32}")


def uuid_like(value: str) -> bool:
    """oslo's ``is_uuid_like``: 32 hex digits once hyphens, braces and ``urn:uuid:`` go."""
    text = value.lower()
    if text.startswith("urn:uuid:"):
        text = text[9:]
    return bool(_HEX32.fullmatch(text.strip("{}").replace("-", "")))


def passed_through(exc: NeutronError | GlanceError) -> ApiError:
    """A client error of neutron or glance as nova lets it through; their own failures are 500."""
    return ApiError(exc.message, status=exc.status if exc.status < 500 else 500)


# -- images ------------------------------------------------------------------------------------

# nova's image list filters and the name glance knows each by (``property-*`` too).
_IMAGE_FILTERS = {"name": "name", "status": "status", "changes-since": "changes-since",
                  "server": "property-instance_uuid", "type": "property-image_type",
                  "minRam": "min_ram", "minDisk": "min_disk"}
# What glance's v2 list takes itself; the rest of nova's filters are image properties.
_GLANCE_LIST_KEYS = frozenset({"name", "status", "limit", "marker", "sort_key", "sort_dir"})


def image_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The glance v2 list query for a nova image list query (nova's ``_get_filters``)."""
    wanted: dict[str, str] = {}
    for key, value in query.items():
        if key in _IMAGE_FILTERS or key.startswith("property-"):
            wanted[_IMAGE_FILTERS.get(key, key)] = value
    server = wanted.get("property-instance_uuid")
    if server is not None and "/" in server:
        # A server's link names it as well as its id does.
        wanted["property-instance_uuid"] = server.rsplit("/", 1)[1]
    if "status" in wanted:
        wanted["status"] = wanted["status"].lower()
    glance: dict[str, str] = {}
    for key, value in wanted.items():
        if key.startswith("property-"):
            glance[key[len("property-"):]] = value
        elif key == "changes-since":
            glance["updated_at"] = f"gte:{value}"
        else:
            glance[key] = value
    return glance


def image_status(image: Mapping[str, Any]) -> tuple[str, int]:
    """nova's image status and progress for glance's status."""
    status = image.get("status")
    shown = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
             "pending_delete": "DELETED", "killed": "ERROR"}.get(str(status), "UNKNOWN")
    progress = {"queued": 25, "saving": 50, "active": 100}.get(str(status), 0)
    return shown, progress


class Images:
    """``/images`` and ``/images/{id}/metadata``: glance's images, with the caller's token."""

    def __init__(self, service: ComputeService) -> None:
        self.service = service

    def _glance(self) -> GlanceClient:
        if self.service.glance is None:
            raise ApiError("The Image service is not available.", status=501)
        return self.service.glance

    async def list(self, query: Mapping[str, str], context: RequestContext) -> list[dict[str, Any]]:
        params = image_filters(query)
        for key in ("limit", "marker"):
            if key in query:
                params[key] = query[key]
        try:
            return await self._glance().list_images(params, token=context.auth_token or "")
        except GlanceError as exc:
            if exc.status == 400:
                raise BadRequest(exc.message) from None
            if exc.status == 404:  # an unknown marker
                raise BadRequest(f"marker [{query.get('marker')}] not found") from None
            raise passed_through(exc) from None

    async def get(self, image_id: str, context: RequestContext,
                  message: str = "Image not found.") -> dict[str, Any]:
        try:
            return await self._glance().show(image_id, token=context.auth_token or "")
        except GlanceError as exc:
            if exc.status == 404:
                raise NotFound(message) from None
            if exc.status == 403:
                raise Forbidden(exc.message) from None
            raise passed_through(exc) from None

    async def delete(self, image_id: str, context: RequestContext) -> None:
        try:
            await self._glance().delete_as_user(image_id, token=context.auth_token or "")
        except GlanceError as exc:
            if exc.status == 404:
                raise NotFound("Image not found.") from None
            if exc.status == 403:
                raise Forbidden("You are not allowed to delete the image.") from None
            raise passed_through(exc) from None

    async def set_properties(self, image: Mapping[str, Any], properties: Mapping[str, Any],
                             context: RequestContext) -> dict[str, Any]:
        """Make the image's properties exactly ``properties`` (nova's ``purge_props``)."""
        self.check_quota(properties, context.project_id or "")
        old = image_properties(image)
        changes: list[dict[str, Any]] = []
        for key in old:
            if key not in properties:
                changes.append({"op": "remove", "path": f"/{_pointer(key)}"})
        for key, value in properties.items():
            if old.get(key) != value:
                changes.append({"op": "replace" if key in old else "add",
                                "path": f"/{_pointer(key)}", "value": value})
        if not changes:
            return dict(image)
        try:
            return await self._glance().patch(str(image["id"]), changes,
                                              token=context.auth_token or "")
        except GlanceError as exc:
            if exc.status == 403:
                raise Forbidden(exc.message) from None
            if exc.status == 404:
                raise NotFound("Image not found.") from None
            if exc.status in (400, 409, 413):
                raise BadRequest(exc.message) from None
            raise passed_through(exc) from None

    def check_quota(self, properties: Mapping[str, Any], project_id: str) -> None:
        """nova's ``metadata_items`` quota bounds an image's properties too (403)."""
        limit = self.service.quotas.limits(project_id)["metadata_items"]
        if 0 <= limit < len(properties):
            raise Forbidden("Image metadata limit exceeded")


def _pointer(key: str) -> str:
    """A property name as one JSON pointer step."""
    return key.replace("~", "~0").replace("/", "~1")


# -- security groups ------------------------------------------------------------------------


def nova_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A neutron security group rule as nova's model of one (an ingress rule)."""
    protocol = rule.get("protocol")
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        # neutron's "every port" has no range; nova shows the whole range of the protocol.
        low, high = (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    return {"id": rule["id"], "parent_group_id": rule["security_group_id"],
            "protocol": protocol, "from_port": low, "to_port": high,
            "group_id": rule.get("remote_group_id"),
            "cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}


def nova_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A neutron security group as nova's model: only its ingress rules count."""
    return {"id": group["id"], "name": group["name"], "description": group["description"],
            "project_id": group.get("tenant_id", group.get("project_id")),
            "rules": [nova_rule(r) for r in group.get("security_group_rules", [])
                      if r.get("direction") == "ingress"]}


def _valid_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def parse_cidr(cidr: Any) -> str:
    """A rule's CIDR as nova takes it: none is everything, else a valid network (400)."""
    if not cidr:
        return "0.0.0.0/0"
    text = unquote(str(cidr))
    if not _valid_cidr(text):
        raise BadRequest(f"{text} is not a valid IP network.")
    return text


def new_ingress_rule(protocol: Any, from_port: Any, to_port: Any, *, group_id: str | None = None,
                     cidr: str | None = None) -> dict[str, Any] | None:
    """nova's check of a new rule's protocol and ports; None when a CIDR rule lacks them."""
    values: dict[str, Any] = {}
    if group_id:
        values["group_id"] = group_id
        upper = str(protocol).upper() if protocol else ""
        if from_port is None and to_port is None:
            if upper == "ICMP":
                from_port = to_port = -1
            elif upper in ("TCP", "UDP"):
                from_port, to_port = 1, 65535
    elif cidr:
        values["cidr"] = cidr
    if not (protocol and from_port is not None and to_port is not None):
        return None if cidr else values
    upper = str(protocol).upper()
    try:
        low, high = int(from_port), int(to_port)
    except (TypeError, ValueError):
        reason = ("Type and Code must be integers for ICMP protocol type" if upper == "ICMP"
                  else "To and From ports must be integers")
        raise BadRequest(f"Invalid input received: {reason}") from None
    if upper not in ("TCP", "UDP", "ICMP"):
        raise BadRequest(f"Invalid IP protocol {protocol}.")
    problem = None
    if upper in ("TCP", "UDP") and low > high:
        problem = "Former value cannot be greater than the later"
    elif upper in ("TCP", "UDP") and (low < 1 or high > 65535):
        problem = f"Valid {upper} ports should be between 1-65535"
    elif upper == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
        problem = "For ICMP, the type:code must be valid"
    if problem:
        raise BadRequest(f"Invalid port range {low}:{high}. {problem}")
    values.update(protocol=str(protocol), from_port=low, to_port=high)
    return values


def _rule_matches(rule: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return all(rule.get(k) == new.get(k)
               for k in ("group_id", "cidr", "from_port", "to_port", "protocol"))


def neutron_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """nova's rule as the ingress rule neutron is asked to create."""
    cidr = rule.get("cidr")
    version = ipaddress.ip_network(cidr, strict=False).version if cidr else 4
    body: dict[str, Any] = {
        "direction": "ingress", "protocol": rule.get("protocol"),
        "ethertype": "IPv6" if version == 6 else "IPv4", "remote_ip_prefix": cidr,
        "security_group_id": rule["parent_group_id"], "remote_group_id": rule.get("group_id")}
    if rule.get("from_port") not in (None, -1):
        body["port_range_min"] = rule["from_port"]
    if rule.get("to_port") not in (None, -1):
        body["port_range_max"] = rule["to_port"]
    return body


class Networking:
    """Security groups, floating IPs and networks from neutron, with the caller's token."""

    def __init__(self, service: ComputeService) -> None:
        self.service = service

    def _neutron(self) -> NeutronClient:
        if self.service.neutron is None:
            raise ApiError("Networking is not available.", status=501)
        return self.service.neutron

    async def call(self, context: RequestContext, method: str, path: str, *,
                   json: Any = None, params: Any = None) -> Any:
        """One call to neutron as the caller (``NeutronError`` for its errors)."""
        return await self._neutron().request(method, path, token=context.auth_token or "",
                                             json=json, params=params)

    async def _passing(self, context: RequestContext, method: str, path: str,
                       **kwargs: Any) -> Any:
        try:
            return await self.call(context, method, path, **kwargs)
        except NeutronError as exc:
            raise passed_through(exc) from None

    # -- security groups --------------------------------------------------------------------

    async def group(self, context: RequestContext, group_id: str) -> dict[str, Any]:
        try:
            found = await self.call(context, "GET", f"/v2.0/security-groups/{quote(group_id)}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            raise passed_through(exc) from None
        return nova_group(found["security_group"])

    async def groups(self, context: RequestContext, all_projects: bool) -> list[dict[str, Any]]:
        params = {} if all_projects else {"project_id": context.project_id or ""}
        listed = await self._passing(context, "GET", "/v2.0/security-groups", params=params)
        return [nova_group(g) for g in listed["security_groups"]]

    async def create_group(self, context: RequestContext, name: str,
                           description: str) -> dict[str, Any]:
        try:
            made = await self.call(context, "POST", "/v2.0/security-groups", json={
                "security_group": {"name": name, "description": description}})
        except NeutronError as exc:
            if exc.status == 409:  # neutron's quota: nova's SecurityGroupLimitExceeded
                raise Forbidden(exc.message) from None
            raise passed_through(exc) from None
        return nova_group(made["security_group"])

    async def update_group(self, context: RequestContext, group_id: str, name: str,
                           description: str) -> dict[str, Any]:
        try:
            changed = await self.call(context, "PUT", f"/v2.0/security-groups/{group_id}", json={
                "security_group": {"name": name, "description": description}})
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            raise passed_through(exc) from None
        return nova_group(changed["security_group"])

    async def delete_group(self, context: RequestContext, group_id: str) -> None:
        try:
            await self.call(context, "DELETE", f"/v2.0/security-groups/{group_id}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            if exc.status == 409:  # in use: nova's Invalid
                raise BadRequest(exc.message) from None
            raise passed_through(exc) from None

    async def rule_group_data(self, context: RequestContext,
                              groups: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """Name and project of every group the rules refer to (None: no longer there)."""
        data: dict[str, dict[str, Any] | None] = {
            g["id"]: {"name": g["name"], "tenant_id": g["project_id"]} for g in groups}
        for group in groups:
            for rule in group["rules"]:
                other = rule["group_id"]
                if other and other not in data:
                    try:
                        found = await self.group(context, other)
                    except NotFound:
                        data[other] = None
                    else:
                        data[other] = {"name": found["name"], "tenant_id": found["project_id"]}
        return data

    async def add_rule(self, context: RequestContext, group: Mapping[str, Any],
                       new: dict[str, Any]) -> dict[str, Any]:
        if any(_rule_matches(rule, new) for rule in group["rules"]):
            raise BadRequest(f"This rule already exists in group {new['parent_group_id']}")
        try:
            made = await self.call(context, "POST", "/v2.0/security-group-rules",
                                   json={"security_group_rule": neutron_rule(new)})
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            if exc.status == 409:  # a duplicate, or the quota: nova's limit exceeded
                raise Forbidden(exc.message) from None
            raise passed_through(exc) from None
        return nova_rule(made["security_group_rule"])

    async def rule(self, context: RequestContext, rule_id: str) -> dict[str, Any]:
        try:
            found = await self.call(context, "GET",
                                    f"/v2.0/security-group-rules/{quote(rule_id)}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            raise passed_through(exc) from None
        return nova_rule(found["security_group_rule"])

    async def delete_rule(self, context: RequestContext, rule_id: str) -> None:
        try:
            await self.call(context, "DELETE", f"/v2.0/security-group-rules/{rule_id}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(exc.message) from None
            raise passed_through(exc) from None

    # -- floating IPs -------------------------------------------------------------------------

    async def _with_details(self, context: RequestContext,
                            fips: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each floating IP with its network's details (nova's pool is the network's name)."""
        networks: dict[str, dict[str, Any]] = {}
        for fip in fips:
            network_id = fip["floating_network_id"]
            if network_id not in networks:
                try:
                    found = await self.call(context, "GET", f"/v2.0/networks/{network_id}")
                    networks[network_id] = found["network"]
                except NeutronError as exc:
                    if exc.status != 404:
                        raise passed_through(exc) from None
                    raise NotFound(f"Network {network_id} could not be found.") from None
            fip["network_details"] = networks[network_id]
        return fips

    async def floating_ip(self, context: RequestContext, fip_id: str) -> dict[str, Any]:
        try:
            found = await self.call(context, "GET", f"/v2.0/floatingips/{quote(fip_id)}")
        except NeutronError as exc:
            if exc.status in (400, 404):
                raise NotFound(f"Floating IP not found for ID {fip_id}") from None
            raise passed_through(exc) from None
        return (await self._with_details(context, [found["floatingip"]]))[0]

    async def floating_ip_by_address(self, context: RequestContext,
                                     address: str) -> dict[str, Any] | None:
        listed = (await self._passing(context, "GET", "/v2.0/floatingips",
                                      params={"floating_ip_address": address}))["floatingips"]
        if len(listed) > 1:
            raise Conflict(f"Multiple floating IPs are found for address {address}.")
        if not listed:
            return None
        return (await self._with_details(context, listed))[0]

    async def floating_ips(self, context: RequestContext) -> list[dict[str, Any]]:
        listed = await self._passing(context, "GET", "/v2.0/floatingips",
                                     params={"project_id": context.project_id or ""})
        return await self._with_details(context, list(listed["floatingips"]))

    async def pools(self, context: RequestContext) -> list[dict[str, Any]]:
        listed = await self._passing(context, "GET", "/v2.0/networks",
                                     params={"router:external": "True"})
        return list(listed["networks"])

    async def _pool_id(self, context: RequestContext, name_or_id: str) -> str:
        key = "id" if uuid_like(name_or_id) else "name"
        listed = (await self._passing(context, "GET", "/v2.0/networks", params={
            "router:external": "True", key: name_or_id}))["networks"]
        if not listed:
            raise NotFound("Floating IP pool not found.")
        if len(listed) > 1:
            raise ApiError(f"Multiple floating IP pools matches found for name '{name_or_id}'",
                           status=500)
        return str(listed[0]["id"])

    async def allocate(self, context: RequestContext, pool: str | None) -> dict[str, Any]:
        """A new floating IP from ``pool`` (nova's ``[neutron] default_floating_pool``)."""
        named = pool or self.service.default_floating_pool
        pool_id = await self._pool_id(context, named)
        try:
            made = await self.call(context, "POST", "/v2.0/floatingips",
                                   json={"floatingip": {"floating_network_id": pool_id}})
        except NeutronError as exc:
            if exc.status == 409 and "Quota" in exc.message:
                where = f" in pool {pool}" if pool else ""
                raise Forbidden(f"IP allocation over quota{where}.") from None
            if exc.kind in ("IpAddressGenerationFailure", "ExternalIpAddressExhausted"):
                where = f" in pool {pool}." if pool else " available."
                raise NotFound(f"No more floating IPs{where}") from None
            if exc.status == 400:
                raise BadRequest(exc.message) from None
            raise passed_through(exc) from None
        found = await self.floating_ip_by_address(context,
                                                  made["floatingip"]["floating_ip_address"])
        return found or made["floatingip"]

    async def release(self, context: RequestContext, fip_id: str) -> None:
        try:
            await self.call(context, "DELETE", f"/v2.0/floatingips/{fip_id}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound(f"Floating IP not found for ID {fip_id}") from None
            if exc.status == 403:
                raise Forbidden(exc.message) from None
            raise passed_through(exc) from None

    async def addresses(self, instance_uuid: str) -> dict[str, list[dict[str, Any]]]:
        """The server's addresses as neutron has them now (nova's network info)."""
        try:
            return await self._neutron().addresses(instance_uuid)
        except NeutronError as exc:
            raise passed_through(exc) from None

    async def refresh_addresses(self, instance_uuid: str) -> None:
        """Read a server's addresses again, as nova refreshes its network info cache."""
        addresses = await self.addresses(instance_uuid)
        with self.service.db.session() as session:
            row = self.service.instances.find(session, instance_uuid)
            if row is not None and not row.deleted:
                row.addresses = addresses

    # -- networks ---------------------------------------------------------------------------

    async def networks(self, context: RequestContext) -> list[dict[str, Any]]:
        return list((await self._passing(context, "GET", "/v2.0/networks"))["networks"])

    async def network(self, context: RequestContext, network_id: str) -> dict[str, Any]:
        try:
            found = await self.call(context, "GET", f"/v2.0/networks/{quote(network_id)}")
        except NeutronError as exc:
            if exc.status == 404:
                raise NotFound("Network not found") from None
            raise passed_through(exc) from None
        return dict(found["network"])
