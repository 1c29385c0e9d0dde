"""neutron's attribute maps: what each attribute of each resource accepts, and how it is read.

neutron's API layer does not validate a body with ad hoc code per handler: every
resource has a map of attributes, each saying whether it may be given on create
(``allow_post``) or update (``allow_put``), whether it is required, how its value is
converted (``convert_to``: ``"true"`` and ``1`` become ``True``, ``"42"`` becomes 42) and
which validators it must pass (``type:string``, ``type:uuid``, ``type:range``…). One
routine applies the map to every create and update, so a value of the wrong JSON type is
a 400 naming the attribute before anything reaches the store. This module is that map
and that routine; the generic controller (``network/api/resource.py``) calls ``prepare``
for every create and update, and reads each attribute's store column (``column``, where
the API's name is not the table's) to filter and sort in SQL.

The reasons are neutron-lib's own wording: a validator's reason ends up in
``Invalid input for <attr>. Reason: <reason>.`` (type ``HTTPBadRequest``), a converter's
failure in ``Invalid input for operation: <reason>.`` (type ``InvalidInput``).
"""

from __future__ import annotations

import ipaddress
import math
import re
import uuid as uuidlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stacklab.api.errors import ApiError, BadRequest

Validator = Callable[[Any], "str | None"]
Converter = Callable[[Any], Any]

NAME_SIZE = 255  # neutron-lib db constants: NAME_FIELD_SIZE, DESCRIPTION_FIELD_SIZE, ...
DESCRIPTION_SIZE = 255
LONG_DESCRIPTION_SIZE = 1024
DEVICE_SIZE = 255
PROJECT_ID_SIZE = 255
PHYSNET_SIZE = 64
TAG_SIZE = 255  # neutron's tagging extension: MAX_TAG_LEN
# Integer columns are 32-bit in neutron's schema; anything larger cannot be stored.
DB_INTEGER_MAX = 2**31 - 1
IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical",
              "virtio-forwarder", "smart-nic", "vdpa", "remote-managed", "accelerator-direct",
              "accelerator-direct-physical")


def http_bad_request(message: str) -> ApiError:
    """What neutron's controller raises itself (webob's HTTPBadRequest)."""
    return ApiError(message, status=400, kind="HTTPBadRequest")


def invalid_input(reason: str) -> BadRequest:
    """neutron's InvalidInput, which converters and plugins raise."""
    return BadRequest(f"Invalid input for operation: {reason}.")


# -- converters (raise; neutron-lib's converters raise InvalidInput) ---------------------------

_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def _as_bool(value: Any) -> bool | None:
    """oslo's strict bool_from_string: a bool, or a string (of anything) in its two lists."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def to_boolean(value: Any) -> bool:
    result = _as_bool(value)
    if result is None:
        raise invalid_input(f"'{value}' cannot be converted to boolean")
    return result


def to_boolean_if_not_none(value: Any) -> bool | None:
    return None if value is None else to_boolean(value)


def _as_int(value: Any) -> int | None:
    # Python's int() as neutron calls it: numbers truncate, numeric strings parse; what
    # cannot be an integer (None, lists, "", inf) is None here rather than an exception.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, dict)) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_int(value: Any) -> int:
    result = _as_int(value)
    if result is None:
        raise invalid_input(f"'{value}' is not an integer")
    return result


def to_int_if_not_none(value: Any) -> int | None:
    return None if value is None else to_int(value)


def none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def ethertype_case_insensitive(value: Any) -> Any:
    if isinstance(value, str):
        for known in ("IPv4", "IPv6"):
            if value.lower() == known.lower():
                return known
    return value


def port_value(value: Any) -> int | None:
    """A security group rule's port bound: 0 to 65535 (neutron's convert_validate_port_value)."""
    if value is None:
        return None
    number = None if isinstance(value, bool) else _as_int(value)
    if number is None or not 0 <= number <= 65535 or (
            isinstance(value, float) and number != value):
        raise ApiError(f"Invalid value for port {value}.", status=400,
                       kind="SecurityGroupInvalidPortValue")
    return number


# -- validators (return the reason, or None) --------------------------------------------------


def string(max_len: int | None = None) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"'{value}' is not a valid string"
        if max_len is not None and len(value) > max_len:
            return f"'{value}' exceeds maximum length of {max_len}"
        return None
    return check


def name_not_default(value: Any) -> str | None:
    """A security group's name: a string, and not ``default`` in any case (neutron's
    name_not_default, which answers the conflict itself, on create and on update)."""
    reason = string(NAME_SIZE)(value)
    if reason:
        return reason
    if value.lower() == "default":
        raise ApiError("Default security group already exists.", status=409,
                       kind="SecurityGroupDefaultAlreadyExists")
    return None


def or_none(validator: Validator) -> Validator:
    return lambda value: None if value is None else validator(value)


def not_empty_string(max_len: int | None = None) -> Validator:
    base = string(max_len)

    def check(value: Any) -> str | None:
        reason = base(value)
        if reason is None and not value.strip():
            return f"'{value}' Blank strings are not permitted"
        return reason
    return check


def values(*valid: Any) -> Validator:
    def check(value: Any) -> str | None:
        # Compared one by one so that a list or a dict is simply not among them.
        if any(type(value) is type(v) and value == v for v in valid):
            return None
        return f"{value} is not in valid_values"
    return check


def integer_range(low: int | None, high: int | None) -> Validator:
    def check(value: Any) -> str | None:
        number = None if isinstance(value, bool) else _as_int(value)
        if number is None:
            return f"'{value}' is not an integer"
        if low is not None and number < low:
            return f"'{number}' is too small - must be at least '{low}'"
        if high is not None and number > high:
            return f"'{number}' is too large - must be no larger than '{high}'"
        return None
    return check


def non_negative(value: Any) -> str | None:
    number = _as_int(value)
    if number is None:
        return f"'{value}' is not an integer"
    if number < 0:
        return f"'{number}' should be non-negative"
    return integer_range(0, DB_INTEGER_MAX)(number)


def uuid(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            parsed = uuidlib.UUID(value)
        except ValueError:
            pass
        else:
            if parsed.hex == value.replace("-", "").lower():
                return None
    return f"'{value}' is not a valid UUID"


def _list_of(item: Validator) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"'{value}' is not a list"
        seen: list[Any] = []
        duplicates = []
        for element in value:
            if element in seen and element not in duplicates:
                duplicates.append(element)
            seen.append(element)
        if duplicates:
            return "Duplicate items in the list: '" + ", ".join(str(d) for d in duplicates) \
                + "'"
        for element in value:
            reason = item(element)
            if reason:
                return reason
        return None
    return check


uuid_list = _list_of(uuid)


def unique_strings(max_len: int | None = None) -> Validator:
    return _list_of(string(max_len))


_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", re.IGNORECASE)


def mac_address(value: Any) -> str | None:
    # A unicast MAC that is not all zeros (neutron refuses the broadcast and null MACs).
    if isinstance(value, str) and _MAC.match(value) and int(value[:2], 16) % 2 == 0 \
            and value.lower() != "00:00:00:00:00:00":
        return None
    return f"'{value}' is not a valid MAC address"


def ip_address(value: Any) -> str | None:
    if not isinstance(value, str) or re.search(r"\s", value):
        return f"'{value}' is not a valid IP address"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"'{value}' is not a valid IP address"
    if address.version == 4 and str(address) != value:
        return f"'{value}' is not an accepted IP address, '{address}' is recommended"
    return None


def subnet(value: Any) -> str | None:
    """An address with its prefix length (host bits allowed, as netaddr reads it)."""
    if not isinstance(value, str) or re.search(r"\s", value):
        return f"'{value}' is not a valid IP subnet"
    try:
        interface = ipaddress.ip_interface(value)
    except ValueError:
        return f"'{value}' is not a valid IP subnet"
    if "/" not in value or (interface.version == 4 and str(interface) != value):
        return (f"'{value}' isn't a recognized IP subnet cidr, '{interface.network}' is "
                "recommended")
    return None


def cidr_type(value: Any) -> str | None:
    """A subnet's ``cidr``: its type here, its value with the subnet's IP version later."""
    return None if value is None or isinstance(value, str) else \
        f"'{value}' is not a valid IP subnet"


subnet_list = _list_of(subnet)


def dictionary(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"'{value}' is not a dictionary"


def _exact_keys(value: Any, expected: tuple[str, ...]) -> str | None:
    if not isinstance(value, dict):
        return (f"Invalid input. '{value}' must be a dictionary with keys: "
                f"{sorted(expected)}")
    if set(value) != set(expected):
        return (f"Validation of dictionary's keys failed. Expected keys: {sorted(expected)} "
                f"Provided keys: {sorted(value)}")
    return None


def fixed_ips(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for fixed IP: '{value}'"
    addresses: list[str] = []
    for item in value:
        if not isinstance(item, dict):
            return f"Invalid data format for fixed IP: '{item}'"
        unknown = sorted(set(item) - {"ip_address", "subnet_id"})
        if unknown:
            return f"Invalid data format for fixed IP: '{item}'"
        if not item:
            raise invalid_input("IP allocation requires subnet_id or ip_address")
        if "ip_address" in item:
            if item["ip_address"] in addresses:
                return f"Duplicate IP address '{item['ip_address']}'"
            reason = ip_address(item["ip_address"])
            if reason:
                return reason
            addresses.append(item["ip_address"])
        if "subnet_id" in item:
            reason = uuid(item["subnet_id"])
            if reason:
                return reason
    return None


def ip_pools(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for IP pool: '{value}'"
    for pool in value:
        reason = _exact_keys(pool, ("start", "end"))
        if reason:
            return reason
        for key in ("start", "end"):
            reason = ip_address(pool[key])
            if reason:
                return reason
    return None


def nameservers(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for nameserver: '{value}'"
    seen: list[Any] = []
    for host in value:
        reason = ip_address(host)
        if reason:
            return f"'{host}' is not a valid nameserver. {reason}"
        if host in seen:
            return f"Duplicate nameserver '{host}'"
        seen.append(host)
    return None


def hostroutes(value: Any) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for hostroute: '{value}'"
    seen: list[Any] = []
    for route in value:
        reason = _exact_keys(route, ("destination", "nexthop")) or \
            subnet(route["destination"]) or ip_address(route["nexthop"])
        if reason:
            return reason
        if route in seen:
            return f"Duplicate hostroute '{route}'"
        seen.append(route)
    return None


def address_pairs(value: Any) -> str | None:
    """Allowed address pairs; neutron raises some of these itself rather than wrapping them."""
    if not isinstance(value, list):
        raise http_bad_request("Allowed address pairs must be a list.")
    seen: set[tuple[str, str]] = set()
    for pair in value:
        if not isinstance(pair, dict):
            return f"'{pair}' is not a dictionary"
        if "mac_address" in pair:
            reason = mac_address(pair["mac_address"])
            if reason:
                raise http_bad_request(reason)
        if "ip_address" not in pair:
            raise ApiError("AllowedAddressPair must contain ip_address", status=400,
                           kind="AllowedAddressPairsMissingIP")
        unknown = sorted(set(pair) - {"mac_address", "ip_address"})
        if unknown:
            raise http_bad_request("Unrecognized attribute(s) '" + ", ".join(unknown) + "'")
        address = pair["ip_address"]
        reason = subnet(address) if isinstance(address, str) and "/" in address \
            else ip_address(address)
        if reason:
            raise http_bad_request(reason)
        key = (str(pair.get("mac_address")), address)
        if key in seen:
            raise ApiError(f"Request contains duplicate address pair: mac_address {key[0]} "
                           f"ip_address {address}.", status=400,
                           kind="DuplicateAddressPairInRequest")
        seen.add(key)
    return None


def extra_dhcp_opts(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    for option in value:
        if not isinstance(option, dict):
            return f"'{option}' is not a dictionary"
        unknown = sorted(set(option) - {"opt_name", "opt_value", "ip_version"})
        if unknown or "opt_name" not in option or "opt_value" not in option:
            return (f"Validation of dictionary's keys failed. Expected keys: "
                    f"['opt_name', 'opt_value'] Provided keys: {sorted(option)}")
        reason = not_empty_string(NAME_SIZE)(option["opt_name"]) or \
            or_none(not_empty_string(NAME_SIZE))(option["opt_value"])
        if reason:
            return reason
        if "ip_version" in option:
            version = _as_int(option["ip_version"])
            if version not in (4, 6) or isinstance(option["ip_version"], bool):
                return f"{option['ip_version']} is not in valid_values"
    return None


def gateway_info(value: Any) -> str | None:
    """A router's ``external_gateway_info``: null, {} or a dict naming the network."""
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        return f"'{value}' is not a dictionary"
    unknown = sorted(set(value) - {"network_id", "enable_snat", "external_fixed_ips"})
    if unknown:
        return f"Unexpected keys supplied: {', '.join(unknown)}"
    if "network_id" not in value:
        return (f"Validation of dictionary's keys failed. Expected keys: ['network_id'] "
                f"Provided keys: {sorted(value)}")
    reason = uuid(value["network_id"])
    if reason:
        return reason
    if "enable_snat" in value and _as_bool(value["enable_snat"]) is None:
        return f"'{value['enable_snat']}' is not a valid boolean value"
    if "external_fixed_ips" in value:
        return fixed_ips(value["external_fixed_ips"])
    return None


# -- the maps ----------------------------------------------------------------------------------


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Attribute:
    """One entry of a resource's map (neutron's allow_post, allow_put, convert_to, validate,
    default). ``default`` is what a create without the attribute gets; a value equal to it
    is not policy-checked (neutron's _is_attribute_explicitly_set)."""

    post: bool = True
    put: bool = False
    required: bool = False
    convert: Converter | None = None
    validate: tuple[Validator, ...] = ()
    default: Any = UNSET
    # The store column, where its name is not the attribute's (``binding:host_id``).
    column: str | None = None


def _attr(*validate: Validator, post: bool = True, put: bool = False, required: bool = False,
          convert: Converter | None = None, default: Any = UNSET,
          column: str | None = None) -> Attribute:
    return Attribute(post=post, put=put, required=required, convert=convert,
                     validate=tuple(validate), default=default, column=column)


def _boolean(default: bool, column: str | None = None) -> Attribute:
    return _attr(put=True, convert=to_boolean, default=default, column=column)


READ_ONLY = Attribute(post=False, put=False)
_NAME = _attr(string(NAME_SIZE), put=True)
_DESCRIPTION = _attr(string(DESCRIPTION_SIZE), put=True)
_PROJECT = _attr(string(PROJECT_ID_SIZE))
_STANDARD = {"id": READ_ONLY, "created_at": READ_ONLY, "updated_at": READ_ONLY,
             "revision_number": READ_ONLY, "name": _NAME, "description": _DESCRIPTION,
             "tenant_id": _PROJECT, "project_id": _PROJECT}

RESOURCES: dict[str, dict[str, Attribute]] = {
    "network": {
        **_STANDARD,
        "status": READ_ONLY, "subnets": READ_ONLY,
        "admin_state_up": _boolean(True),
        "shared": _boolean(False),
        "router:external": _boolean(False, column="external"),
        "mtu": _attr(non_negative, put=True, convert=to_int),
        "port_security_enabled": _boolean(True),
        # Writable in the API (neutron-lib's provider_net); what ML2 then takes is
        # NetworkService.update_network's.
        "provider:network_type": _attr(or_none(string(NAME_SIZE)), put=True,
                                       column="network_type"),
        "provider:physical_network": _attr(or_none(string(PHYSNET_SIZE)), put=True,
                                           column="physical_network"),
        "provider:segmentation_id": _attr(convert=to_int_if_not_none, put=True,
                                          column="segmentation_id"),
        "availability_zone_hints": _attr(unique_strings(NAME_SIZE)),
        # auto-allocated-topology's (only an admin may set it; false, its default, is not
        # checked).
        "is_default": _boolean(False),
    },
    "subnet": {
        **_STANDARD,
        "network_id": _attr(uuid, required=True),
        "ip_version": _attr(values(4, 6), convert=to_int),
        "cidr": _attr(cidr_type),
        "gateway_ip": _attr(or_none(ip_address), put=True),
        "enable_dhcp": _boolean(True),
        "allocation_pools": _attr(ip_pools, put=True),
        "dns_nameservers": _attr(nameservers, put=True, convert=none_to_empty_list),
        "host_routes": _attr(hostroutes, put=True, convert=none_to_empty_list),
        "ipv6_ra_mode": _attr(or_none(values(*IPV6_MODES))),
        "ipv6_address_mode": _attr(or_none(values(*IPV6_MODES))),
        "service_types": _attr(unique_strings(NAME_SIZE), put=True,
                               convert=none_to_empty_list),
        "subnetpool_id": _attr(or_none(uuid)),
        "prefixlen": _attr(non_negative, convert=to_int),
        "use_default_subnetpool": _attr(convert=to_boolean),
    },
    "port": {
        **_STANDARD,
        "status": READ_ONLY, "binding:vif_type": READ_ONLY, "binding:vif_details": READ_ONLY,
        "network_id": _attr(uuid, required=True),
        "admin_state_up": _boolean(True),
        "mac_address": _attr(mac_address, put=True),
        "fixed_ips": _attr(fixed_ips, put=True),
        "device_id": _attr(string(DEVICE_SIZE), put=True, default=""),
        "device_owner": _attr(string(DEVICE_SIZE), put=True, default=""),
        "security_groups": _attr(uuid_list, put=True, convert=none_to_empty_list),
        "allowed_address_pairs": _attr(address_pairs, put=True),
        "extra_dhcp_opts": _attr(extra_dhcp_opts, put=True),
        "port_security_enabled": _boolean(True),
        "binding:host_id": _attr(string(DEVICE_SIZE), put=True, default="",
                                 column="binding_host_id"),
        "binding:vnic_type": _attr(values(*VNIC_TYPES), put=True, default="normal",
                                   column="binding_vnic_type"),
        "binding:profile": _attr(or_none(dictionary), put=True, default={},
                                 column="binding_profile"),
        # tag-ports-during-bulk-creation: ports alone take their tags in a create body (every
        # other resource's tags go through /tags); changed later only through /tags.
        "tags": _attr(unique_strings(TAG_SIZE), default=[]),
    },
    "router": {
        **_STANDARD,
        "status": READ_ONLY,
        "admin_state_up": _boolean(True),
        "external_gateway_info": _attr(gateway_info, put=True),
        "distributed": _attr(put=True, convert=to_boolean_if_not_none),
        "ha": _attr(put=True, convert=to_boolean_if_not_none),
        "availability_zone_hints": _attr(unique_strings(NAME_SIZE)),
        "flavor_id": _attr(or_none(uuid)),
        "routes": _attr(hostroutes, post=False, put=True, convert=none_to_empty_list),
    },
    "floatingip": {
        **{k: v for k, v in _STANDARD.items() if k != "name"},
        "status": READ_ONLY, "router_id": READ_ONLY,
        "floating_network_id": _attr(uuid, required=True),
        "floating_ip_address": _attr(or_none(ip_address)),
        "subnet_id": _attr(or_none(uuid)),
        "port_id": _attr(or_none(uuid), put=True, column="fixed_port_id"),
        "fixed_ip_address": _attr(or_none(ip_address), put=True),
        "qos_policy_id": _attr(or_none(uuid), put=True),
        "dns_name": _attr(string(NAME_SIZE)),
        "dns_domain": _attr(string(NAME_SIZE)),
    },
    "security_group": {
        **_STANDARD,
        "name": _attr(name_not_default, put=True),
        "stateful": _boolean(True),
    },
    "security_group_rule": {
        **{k: v for k, v in _STANDARD.items() if k != "name"},
        "description": _attr(string(DESCRIPTION_SIZE)),
        # A string of a UUID's size, not a UUID: any other id is a group not found.
        "security_group_id": _attr(string(36), required=True),
        "direction": _attr(values("ingress", "egress"), required=True),
        "ethertype": _attr(values("IPv4", "IPv6"), convert=ethertype_case_insensitive),
        # Names and numbers both: the handler reads it with neutron-lib's protocol table.
        "protocol": _attr(),
        "port_range_min": _attr(convert=port_value),
        "port_range_max": _attr(convert=port_value),
        "remote_ip_prefix": _attr(or_none(string())),
        "remote_group_id": _attr(or_none(string())),
    },
    "subnetpool": {
        **_STANDARD,
        "ip_version": READ_ONLY,
        "prefixes": _attr(subnet_list, put=True),
        "default_prefixlen": _attr(non_negative, put=True, convert=to_int),
        "min_prefixlen": _attr(non_negative, put=True, convert=to_int),
        "max_prefixlen": _attr(non_negative, put=True, convert=to_int),
        "shared": _attr(convert=to_boolean, default=False),
        "is_default": _boolean(False),
        "default_quota": _attr(or_none(non_negative), put=True, convert=to_int_if_not_none),
        "address_scope_id": _attr(or_none(uuid)),
    },
    # neutron-lib's metering definition, with metering_source_and_destination_fields.
    "metering_label": {
        "id": READ_ONLY, "tenant_id": _PROJECT, "project_id": _PROJECT,
        "name": _attr(string(NAME_SIZE), default=""),
        "description": _attr(string(LONG_DESCRIPTION_SIZE), default=""),
        "shared": _attr(convert=to_boolean, default=False),
    },
    "metering_label_rule": {
        "id": READ_ONLY, "tenant_id": _PROJECT, "project_id": _PROJECT,
        "metering_label_id": _attr(uuid, required=True),
        "direction": _attr(values("ingress", "egress"), required=True),
        "excluded": _attr(convert=to_boolean, default=False),
        # Checked by the metering plugin (as addresses with a prefix), not by the map.
        "remote_ip_prefix": _attr(default=None),
        "source_ip_prefix": _attr(default=None),
        "destination_ip_prefix": _attr(default=None),
    },
    "agent": {
        "id": READ_ONLY,
        "admin_state_up": _attr(post=False, put=True, convert=to_boolean),
        "description": _attr(or_none(string(DESCRIPTION_SIZE)), post=False, put=True),
    },
}


def prepare(resource: str, fields: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """The body of a create or update, checked and converted as neutron's controller does:
    unknown attributes, attributes the operation may not set, missing required ones, then
    each attribute's converter and validators, in the map's order."""
    attributes = RESOURCES[resource]
    unknown = sorted(set(fields) - set(attributes))
    if unknown:
        raise BadRequest("Unrecognized attribute(s) '" + ", ".join(unknown) + "'")
    for name, spec in attributes.items():
        if create:
            if name in fields and not spec.post:
                raise http_bad_request(f"Attribute '{name}' not allowed in POST")
            if spec.required and name not in fields:
                raise BadRequest(f"Failed to parse request. Required attribute '{name}' not "
                                 "specified")
        elif name in fields and not spec.put:
            raise http_bad_request(f"Cannot update read-only attribute {name}")
    result = dict(fields)
    for name, spec in attributes.items():
        if name not in result:
            continue
        if spec.convert is not None:
            result[name] = spec.convert(result[name])
        for validator in spec.validate:
            reason = validator(result[name])
            if reason:
                raise BadRequest(f"Invalid input for {name}. Reason: {reason}.")
    return result


def default_of(resource: str, name: str) -> Any:
    """The attribute's default (``UNSET`` when it has none or is unknown)."""
    spec = RESOURCES.get(resource, {}).get(name)
    return UNSET if spec is None else spec.default


def column_of(resource: str, name: str) -> str:
    """The store column an attribute is kept in (its own name unless the map renames it)."""
    spec = RESOURCES.get(resource, {}).get(name)
    return spec.column if spec is not None and spec.column else name


def check_value(name: str, value: Any, *validators: Validator) -> None:
    """One value outside a resource body (a quota, an interface's port_id) through the same
    validators, with the same message."""
    for validator in validators:
        reason = validator(value)
        if reason:
            raise BadRequest(f"Invalid input for {name}. Reason: {reason}.")
