"""Heat's OS::Nova::* resource types through nova's public API.

Paths are relative to nova's catalog endpoint (``.../compute/v2.1``), as keystoneauth's
adapter takes them: ``/servers``, ``/flavors``; neutron's to its own (``/v2.0/ports``).

A server's update keeps a queue of steps in the resource's data (``update_steps``: resize
then confirm, rebuild...), each started once and then polled, as heat's
``ServerUpdateProgress`` list is: the engine only calls ``update_complete`` again, and a
second engine taking the stack over reads the same queue.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.resources.base import (
    COMPUTE,
    IMAGE,
    NETWORK,
    Context,
    ResourceFailure,
    ResourcePlugin,
    UpdateReplace,
    delete_if_there,
    find_by_name_or_id,
    gone,
    run_steps,
)
from stacklab.orchestration.resources.plugins.glance import find_image
from stacklab.orchestration.resources.plugins.neutron import (
    NotFound,
    ServiceConstraint,
    find_id,
    security_group_ids,
)
from stacklab.orchestration.resources.plugins.software_config import user_data_of
from stacklab.orchestration.resources.plugins.software_transport import (
    delete_transport_credentials,
    os_collect_config,
    populate_deployments_metadata,
    software_config,
    transport_refusal,
    update_transport,
)
from stacklab.orchestration.resources.properties import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Attribute,
)
from stacklab.orchestration.resources.properties import Property as P
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.resources.type_access import TypeApi
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import (
    AllowedValues,
    CustomConstraint,
    Length,
    Range,
)

# OS::Nova::Flavor's extra specs and tenants.
_FLAVORS = TypeApi(COMPUTE, "/flavors", "os-extra_specs", "os-flavor-access", "flavor_access",
                   "tenant_id", "tenant", "addTenantAccess", "removeTenantAccess")

# heat's server statuses that mean "not there yet" (nova client plugin's deferred ones).
_DEFERRED = {"BUILD", "HARD_REBOOT", "PASSWORD", "REBOOT", "RESCUE", "RESIZE",
             "REVERT_RESIZE", "SHUTOFF", "SUSPENDED", "VERIFY_RESIZE"}
_CONSOLES = {"novnc": ("vnc", "novnc"), "xvpvnc": ("vnc", "xvpvnc"),
             "spice-html5": ("spice", "spice-html5"), "rdp-html5": ("rdp", "rdp-html5"),
             "serial": ("serial", "serial"), "webmks": ("mks", "webmks")}


def _custom(name: str) -> tuple[CustomConstraint, ...]:
    return (ServiceConstraint(name),)


def _server_path(server_id: str, *rest: str) -> str:
    return "/".join(["/servers", quote(server_id, safe=""), *rest])


async def find_flavor(ctx: Context, value: str) -> str:
    """The id of the flavor numbered or named ``value`` (heat's ``nova.flavor``)."""
    return await find_by_name_or_id(
        ctx, COMPUTE, value, show=f"/flavors/{quote(value, safe='')}",
        found=lambda body: body["flavor"]["id"], listing="/flavors",
        params={"is_public": "None"},
        matches=lambda body: [flavor for flavor in body["flavors"] if flavor["name"] == value],
        missing=NotFound(f"The Flavor ({value}) could not be found.", "EntityNotFound"),
        ambiguous=NotFound(f"Multiple physical resources were found with name ({value}).",
                           "PhysicalResourceNameAmbiguity"))


def _fault(server: Mapping[str, Any]) -> str:
    fault = server.get("fault") or {}
    return (f"Message: {fault.get('message', 'Unknown')}, "
            f"Code: {fault.get('code', 'Unknown')}")


def active(server: Mapping[str, Any]) -> bool:
    """heat's ``_check_active``: ACTIVE is done, a deferred status waits, ERROR fails."""
    status = str(server["status"]).split("(")[0]
    if status == "ACTIVE":
        return True
    if status in _DEFERRED:
        return False
    if status == "ERROR":
        raise ResourceFailure(f'Went to status ERROR due to "{_fault(server)}"')
    raise ResourceFailure(f'Resource is not active - Unknown status {status} due to '
                          f'"{_fault(server)}"')


def _meta(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """Metadata as nova takes it: heat serialises a value that is not a string to JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}


# -- servers --------------------------------------------------------------------------------

_NETWORK = P(MAP, schema={
    "network": P(STRING, "Name or ID of network to create a port on.",
                 constraints=_custom("neutron.network"), replaces=("uuid",)),
    "allocate_network": P(STRING, "The special string values of network, auto: means "
                          "either a network that is already available to the project will "
                          "be used, or if one does not exist, will be automatically "
                          "created for the project; none: means no networking will be "
                          "allocated for the created server.", update_allowed=True,
                          constraints=(AllowedValues(["none", "auto"]),)),
    "fixed_ip": P(STRING, "Fixed IP address to specify for the port created on the "
                  "requested network.", constraints=_custom("ip_addr")),
    "port": P(STRING, "ID of an existing port to associate with this server.",
              constraints=_custom("neutron.port")),
    "port_extra_properties": P(MAP, "Dict, which has expand properties for port. Used only "
                               "if port property is not specified for creating port.",
                               update_allowed=True),
    "subnet": P(STRING, "Subnet in which to allocate the IP address for port. Used for "
                "creating port, based on derived properties. If subnet is specified, "
                "network property becomes optional."),
    "floating_ip": P(STRING, "ID of the floating IP to associate."),
    "tag": P(STRING, "Port tag. Heat ignores any update on this property as nova does not "
             "support it."),
})
_BDM_V2 = P(MAP, schema={
    "device_name": P(STRING, "A device name where the volume will be attached in the "
                     "system at /dev/device_name."),
    "volume_id": P(STRING, "The volume_id can be boot or non-boot device to the server.",
                   constraints=_custom("cinder.volume")),
    "image": P(STRING, "The ID or name of the image to create a volume from.",
               constraints=_custom("glance.image")),
    "snapshot_id": P(STRING, "The ID of the snapshot to create a volume from.",
                     constraints=_custom("cinder.snapshot")),
    "swap_size": P(INTEGER, "The size of the swap, in MB."),
    "ephemeral_size": P(INTEGER, "The size of the local ephemeral block device, in GB.",
                        constraints=(Range(min=1),)),
    "ephemeral_format": P(STRING, "The format of the local ephemeral block device.",
                          constraints=(AllowedValues(["ext2", "ext3", "ext4", "xfs",
                                                      "ntfs"]),)),
    "device_type": P(STRING, "Device type: at the moment we can make distinction only "
                     "between disk and cdrom.", constraints=(AllowedValues(
                         ["cdrom", "disk"]),)),
    "disk_bus": P(STRING, "Bus of the device: hypervisor driver chooses a suitable default "
                  "if omitted.", constraints=(AllowedValues(
                      ["ide", "lame_bus", "sata", "scsi", "usb", "virtio"]),)),
    "boot_index": P(INTEGER, "Integer used for ordering the boot disks. If it is not "
                    "specified, value \"0\" will be set for bootable sources (volume, "
                    "snapshot, image); value \"-1\" will be set for non-bootable sources."),
    "volume_size": P(INTEGER, "Size of the block device in GB. If it is omitted, "
                     "hypervisor driver calculates size."),
    "delete_on_termination": P(BOOLEAN, "Indicate whether the volume should be deleted "
                               "when the server is terminated."),
    "volume_type": P(STRING, "The volume type. If it is omitted, the default volume type "
                     "will be used.", constraints=_custom("cinder.vtype")),
})
_BDM = P(MAP, schema={
    "device_name": P(STRING, "A device name where the volume will be attached in the "
                     "system at /dev/device_name.", required=True),
    "volume_id": P(STRING, "The ID of the volume to boot from. Only one of volume_id or "
                   "snapshot_id should be provided.", constraints=_custom("cinder.volume")),
    "snapshot_id": P(STRING, "The ID of the snapshot to create a volume from.",
                     constraints=_custom("cinder.snapshot")),
    "volume_size": P(INTEGER, "The size of the volume, in GB. It is safe to leave this "
                     "blank and have the Compute service infer the size."),
    "delete_on_termination": P(BOOLEAN, "Indicate whether the volume should be deleted "
                               "when the server is terminated."),
})


def _block_devices_v2(mappings: list[Mapping[str, Any]], images: dict[str, str]
                      ) -> list[dict[str, Any]]:
    """heat's ``_build_block_device_mapping_v2``: each mapping as nova's v2 BDM."""
    out = []
    for mapping in mappings:
        entry: dict[str, Any]
        if mapping.get("volume_id"):
            entry = {"uuid": mapping["volume_id"], "source_type": "volume",
                     "destination_type": "volume", "boot_index": 0,
                     "delete_on_termination": False}
        elif mapping.get("snapshot_id"):
            entry = {"uuid": mapping["snapshot_id"], "source_type": "snapshot",
                     "destination_type": "volume", "boot_index": 0,
                     "delete_on_termination": False}
        elif mapping.get("image"):
            entry = {"uuid": images[mapping["image"]], "source_type": "image",
                     "destination_type": "volume", "boot_index": 0,
                     "delete_on_termination": False}
        elif mapping.get("swap_size"):
            entry = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
                     "delete_on_termination": True, "guest_format": "swap",
                     "volume_size": mapping["swap_size"]}
        elif mapping.get("ephemeral_size") or mapping.get("ephemeral_format"):
            entry = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
                     "delete_on_termination": True}
            if mapping.get("ephemeral_size"):
                entry["volume_size"] = mapping["ephemeral_size"]
            if mapping.get("ephemeral_format"):
                entry["guest_format"] = mapping["ephemeral_format"]
        else:
            continue
        if mapping.get("device_name"):
            entry["device_name"] = mapping["device_name"]
        for key in ("device_type", "disk_bus", "boot_index", "volume_size",
                    "delete_on_termination", "volume_type"):
            if mapping.get(key) is not None:
                entry[key] = mapping[key]
        out.append(entry)
    return out


def _block_devices_v1(mappings: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The legacy mapping as nova's v1 BDM (``<id>:<snap|>:<size>:<delete>``)."""
    out = []
    for mapping in mappings:
        entry: dict[str, Any] = {"device_name": mapping["device_name"]}
        if mapping.get("snapshot_id"):
            entry["snapshot_id"] = mapping["snapshot_id"]
        else:
            entry["volume_id"] = mapping.get("volume_id")
        if mapping.get("volume_size") is not None:
            entry["volume_size"] = mapping["volume_size"]
        if mapping.get("delete_on_termination") is not None:
            entry["delete_on_termination"] = mapping["delete_on_termination"]
        out.append(entry)
    return out


# glance statuses that end a snapshot's wait (heat's IMAGE_ERROR and IMAGE_DELETED, and
# glance v2's own word for a failed upload, killed), and the server task states of a
# snapshot still running (heat's check_snapshot_complete).
_IMAGE_FAILED = ("error", "killed", "deleted")
_SNAPSHOT_TASKS = ("image_uploading", "image_snapshot_pending", "image_snapshot",
                   "image_pending_upload")


@register
class Server(ResourcePlugin):
    TYPE = "OS::Nova::Server"
    DESCRIPTION = ("A Nova server (a VM): booted from an image or a volume, on the networks "
                   "or ports given, resized, rebuilt or renamed in place where nova can.")
    PROPERTIES = {
        "name": P(STRING, "Server name.", update_allowed=True),
        "image": P(STRING, "The ID or name of the image to boot with.", update_allowed=True,
                   constraints=_custom("glance.image")),
        "block_device_mapping": P(LIST, "Block device mappings for this server.",
                                  schema=_BDM),
        "block_device_mapping_v2": P(LIST, "Block device mappings v2 for this server.",
                                     schema=_BDM_V2),
        "flavor": P(STRING, "The ID or name of the flavor to boot onto.", required=True,
                    update_allowed=True, constraints=_custom("nova.flavor")),
        "flavor_update_policy": P(STRING, 'Policy on how to apply a flavor update; either '
                                  'by requesting a server resize or by replacing the entire '
                                  'server.', default="RESIZE", update_allowed=True,
                                  constraints=(AllowedValues(["RESIZE", "REPLACE"]),)),
        "image_update_policy": P(STRING, "Policy on how to apply an image-id update; either "
                                 "by requesting a server rebuild or by replacing the entire "
                                 "server.", default="REBUILD", update_allowed=True,
                                 constraints=(AllowedValues(
                                     ["REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"]),)),
        "key_name": P(STRING, "Name of keypair to inject into the server.",
                      constraints=_custom("nova.keypair")),
        "availability_zone": P(STRING, "Name of the availability zone for server "
                               "placement."),
        "security_groups": P(LIST, "List of security group names or IDs. Cannot be used if "
                             "neutron ports are associated with this server; assign "
                             "security groups to the ports instead.", default=[]),
        "networks": P(LIST, "An ordered list of nics to be added to this server, with "
                      "information about connected networks, fixed ips, port etc.",
                      update_allowed=True, schema=_NETWORK),
        "scheduler_hints": P(MAP, "Arbitrary key-value pairs specified by the client to "
                             "help boot a server."),
        "metadata": P(MAP, "Arbitrary key/value metadata to store for this server. Both "
                      "keys and values must be 255 characters or less. Non-string values "
                      "will be serialized to JSON (and the serialized string must be 255 "
                      "characters or less).", default={}, update_allowed=True),
        "user_data_format": P(STRING, "How the user_data should be formatted for the "
                              "server. For HEAT_CFNTOOLS, the user_data is bundled as part "
                              "of the heat-cfntools cloud-init boot configuration data. "
                              "For RAW the user_data is passed to Nova unmodified. For "
                              "SOFTWARE_CONFIG user_data is bundled as part of the "
                              "software config data, and metadata is derived from any "
                              "associated SoftwareDeployment resources.",
                              default="HEAT_CFNTOOLS", constraints=(AllowedValues(
                                  ["HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG"]),)),
        "software_config_transport": P(
            STRING, "How the server should receive the metadata required for software "
            "configuration.", default="POLL_SERVER_CFN", update_allowed=True,
            constraints=(AllowedValues(["POLL_SERVER_CFN", "POLL_SERVER_HEAT",
                                        "POLL_TEMP_URL", "ZAQAR_MESSAGE"]),)),
        "user_data_update_policy": P(STRING, "Policy on how to apply a user_data update; "
                                     "either by ignoring it or by replacing the entire "
                                     "server.", default="REPLACE", update_allowed=True,
                                     constraints=(AllowedValues(
                                         ["REPLACE", "IGNORE", "REBUILD"]),)),
        "user_data": P(STRING, "User data script to be executed by cloud-init or CoreOS "
                       "ignition.", default="", update_allowed=True),
        "reservation_id": P(STRING, "A UUID for the set of servers being requested."),
        "config_drive": P(BOOLEAN, "If True, enable config drive on the server."),
        "diskConfig": P(STRING, "Control how the disk is partitioned when the server is "
                        "created.", constraints=(AllowedValues(["AUTO", "MANUAL"]),)),
        "personality": P(MAP, "A map of files to create/overwrite on the server upon boot. "
                         "Keys are file names and values are the file contents.",
                         default={}),
        "admin_pass": P(STRING, "The administrator password for the server.",
                        update_allowed=True),
        "tags": P(LIST, "Server tags. Supported since client version 2.26.",
                  update_allowed=True, schema=P(STRING, "Tag item.")),
        "deployment_swift_data": P(MAP, "Swift container and object to use for storing "
                                   "deployment data for the server resource.", default={},
                                   update_allowed=True, schema={
                                       "container": P(STRING, "Name of the container.",
                                                      constraints=(Length(min=1),)),
                                       "object": P(STRING, "Name of the object.",
                                                   constraints=(Length(min=1),))}),
    }
    ATTRIBUTES = {
        "name": Attribute("Name of the server."),
        "addresses": Attribute("A dict of all network addresses with corresponding port_id "
                               "and subnets. Each network will have two keys in dict, they "
                               "are network name and network id.", MAP),
        "networks": Attribute("A dict of assigned network addresses of the form: "
                              '{"public": [ip1, ip2...], "private": [ip3, ip4], '
                              '"public_uuid": [ip1, ip2...], "private_uuid": [ip3, ip4]}. '
                              "Each network will have two keys in dict, they are network "
                              "name and network id.", MAP),
        "first_address": Attribute("Convenience attribute to fetch the first assigned "
                                   "network address, or an empty string if nothing has "
                                   "been assigned at this time. Result may not be "
                                   "predictable if the server has addresses from more than "
                                   "one network."),
        "instance_name": Attribute("AWS compatible instance name."),
        "accessIPv4": Attribute("The manually assigned alternative public IPv4 address of "
                                "the server."),
        "accessIPv6": Attribute("The manually assigned alternative public IPv6 address of "
                                "the server."),
        "console_urls": Attribute("URLs of server's consoles. To get a specific console "
                                  "type, the requested type can be specified as parameter "
                                  "to the get_attr function, e.g. get_attr: [ <server>, "
                                  "console_urls, novnc ]. Currently supported types are "
                                  "novnc, xvpvnc, spice-html5, rdp-html5, serial and "
                                  "webmks.", MAP),
        "tags": Attribute("Tags from the server. Supported since client version 2.26.",
                          LIST),
        "os_collect_config": Attribute("The os-collect-config configuration for the "
                                       "server's local agent to be configured to connect "
                                       "to Heat to retrieve deployment data.", MAP),
    }
    POLL_INTERVAL = 1.0

    def validate(self, properties: Mapping[str, Any]) -> None:
        if properties.get("block_device_mapping") and properties.get(
                "block_device_mapping_v2"):
            raise StackValidationFailed("Cannot define the following properties at the same "
                                        "time: block_device_mapping, "
                                        "block_device_mapping_v2.")
        if (refusal := transport_refusal(properties)) is not None:
            raise StackValidationFailed(refusal)
        for net in properties.get("networks") or []:
            given = {k for k, v in net.items() if v is not None}
            if "allocate_network" in given and given & {"network", "port", "subnet",
                                                        "fixed_ip"}:
                raise StackValidationFailed(
                    'Can not specify "allocate_network" with other keys of networks at the '
                    'same time.')
            if "port" in given and "network" in given:
                raise StackValidationFailed('Cannot define the following properties at the '
                                            'same time: networks.network, networks.port.')

    @staticmethod
    def _check(name: str, properties: Mapping[str, Any]) -> None:
        """heat's checks that name the resource (made at create here: ``validate`` is not
        told the resource's name)."""
        bootable = any(m.get("volume_id") or m.get("snapshot_id") or m.get("image")
                       for m in properties.get("block_device_mapping_v2") or [])
        bootable = bootable or any(m.get("device_name") == "vda"
                                   for m in properties.get("block_device_mapping") or [])
        if not properties.get("image") and not bootable:
            raise StackValidationFailed("Neither image nor bootable volume is specified for "
                                        f"instance {name}")
        for net in properties.get("networks") or []:
            if not any(net.get(k) for k in ("network", "port", "subnet", "allocate_network")):
                raise StackValidationFailed(
                    'One of the properties "network", "port", "allocate_network" or '
                    f'"subnet" should be set for the specified network of server "{name}".')

    # -- create ----------------------------------------------------------------------------

    def _name(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        return str(properties.get("name") or ctx.physical_name())

    async def _nics(self, ctx: Context, properties: Mapping[str, Any]) -> Any:
        """nova's ``networks`` from heat's: a port made by heat (an internal port, kept in
        the data) when a subnet or port_extra_properties is given, as upstream does."""
        networks = properties.get("networks")
        if not networks:
            return None
        if len(networks) == 1 and networks[0].get("allocate_network"):
            return networks[0]["allocate_network"]
        nics: list[dict[str, Any]] = []
        internal = _ports(ctx)
        for index, net in enumerate(networks):
            nic: dict[str, Any] = {}
            network_id = None
            if net.get("network"):
                network_id = await find_id(ctx, "networks", net["network"])
            if net.get("port"):
                nic["port"] = await find_id(ctx, "ports", net["port"])
            elif net.get("subnet") or net.get("port_extra_properties"):
                nic["port"] = await self._internal_port(ctx, properties, net, network_id,
                                                        index)
                internal.append(nic["port"])
                ctx.data["internal_ports"] = json.dumps(internal)
            else:
                nic["uuid"] = network_id
                if net.get("fixed_ip"):
                    nic["fixed_ip"] = net["fixed_ip"]
            if net.get("floating_ip") and nic.get("port"):
                body: dict[str, Any] = {"port_id": nic["port"]}
                if net.get("fixed_ip"):
                    body["fixed_ip_address"] = net["fixed_ip"]
                await ctx.call(NETWORK, "PUT", f"/v2.0/floatingips/{net['floating_ip']}",
                               json={"floatingip": body})
            if net.get("tag"):
                nic["tag"] = net["tag"]
            nics.append(nic)
        return nics

    async def _internal_port(self, ctx: Context, properties: Mapping[str, Any],
                             net: Mapping[str, Any], network_id: str | None,
                             index: int) -> str:
        subnet_id = await find_id(ctx, "subnets", net["subnet"]) if net.get("subnet") else None
        if network_id is None and subnet_id is not None:
            subnet = await ctx.call(NETWORK, "GET", f"/v2.0/subnets/{subnet_id}")
            network_id = subnet["subnet"]["network_id"]
        elif subnet_id is not None:
            subnet = await ctx.call(NETWORK, "GET", f"/v2.0/subnets/{subnet_id}")
            if subnet["subnet"]["network_id"] != network_id:
                raise ResourceFailure(f"Specified subnet {net['subnet']} does not belongs to "
                                      f"network {net['network']}.")
        port: dict[str, Any] = {"network_id": network_id,
                                "name": f"{ctx.resource_name}-port-{index}"}
        fixed: dict[str, Any] = {}
        if net.get("fixed_ip"):
            fixed["ip_address"] = net["fixed_ip"]
        if subnet_id:
            fixed["subnet_id"] = subnet_id
        if fixed:
            port["fixed_ips"] = [fixed]
        extra = dict(net.get("port_extra_properties") or {})
        port.update(extra.pop("value_specs", None) or {})
        port.update({k: v for k, v in extra.items() if v is not None})
        if properties.get("security_groups"):
            port["security_groups"] = await security_group_ids(
                ctx, properties["security_groups"])
        made = await ctx.call(NETWORK, "POST", "/v2.0/ports", json={"port": port})
        return str(made["port"]["id"])

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        self._check(ctx.resource_name, properties)
        body: dict[str, Any] = {"name": self._name(ctx, properties),
                                "flavorRef": await find_flavor(ctx, properties["flavor"])}
        images = {}
        if properties.get("image"):
            body["imageRef"] = await find_image(ctx, properties["image"])
        else:
            body["imageRef"] = ""
        for mapping in properties.get("block_device_mapping_v2") or []:
            if mapping.get("image"):
                images[mapping["image"]] = await find_image(ctx, mapping["image"])
        if properties.get("block_device_mapping_v2"):
            body["block_device_mapping_v2"] = _block_devices_v2(
                properties["block_device_mapping_v2"], images)
        elif properties.get("block_device_mapping"):
            body["block_device_mapping"] = _block_devices_v1(properties["block_device_mapping"])
        nics = await self._nics(ctx, properties)
        if nics is not None:
            body["networks"] = nics
        if properties.get("key_name"):
            body["key_name"] = properties["key_name"]
        if properties.get("availability_zone"):
            body["availability_zone"] = properties["availability_zone"]
        # heat passes security groups to nova only for servers without ports of their own
        # (a port carries its groups).
        if properties.get("security_groups") and not (
                isinstance(nics, list) and any(n.get("port") for n in nics)):
            body["security_groups"] = [{"name": g} for g in properties["security_groups"]]
        if properties.get("metadata"):
            body["metadata"] = _meta(properties["metadata"])
        # heat's handle_create: the transport's credentials and os-collect-config's
        # section in the resource's metadata before the server boots (heat's validate
        # refuses template metadata holding deployments: checked here, where the
        # resource's metadata is known).
        if software_config(properties) and "deployments" in ctx.metadata:
            raise StackValidationFailed("deployments key not allowed in resource metadata "
                                        "with user_data_format of SOFTWARE_CONFIG")
        await populate_deployments_metadata(ctx, properties)
        if properties.get("user_data"):
            # RAW passes the script unmodified; for HEAT_CFNTOOLS and SOFTWARE_CONFIG heat
            # would wrap it in its cloud-init multipart: the lab keeps the data as given.
            # For RAW and SOFTWARE_CONFIG a software config's id stands for its content.
            user_data = str(properties["user_data"])
            if properties.get("user_data_format") in ("RAW", "SOFTWARE_CONFIG"):
                user_data = await user_data_of(ctx, user_data)
            body["user_data"] = base64.b64encode(user_data.encode()).decode()
        if properties.get("admin_pass"):
            body["adminPass"] = properties["admin_pass"]
        if properties.get("config_drive") is not None:
            body["config_drive"] = properties["config_drive"]
        if properties.get("diskConfig"):
            body["OS-DCF:diskConfig"] = properties["diskConfig"]
        if properties.get("personality"):
            body["personality"] = [
                {"path": path, "contents": base64.b64encode(str(text).encode()).decode()}
                for path, text in properties["personality"].items()]
        if properties.get("reservation_id"):
            body["reservation_id"] = properties["reservation_id"]
        request: dict[str, Any] = {"server": body}
        if properties.get("scheduler_hints"):
            request["os:scheduler_hints"] = properties["scheduler_hints"]
        # "none"/"auto" need 2.37 and a nic's tag 2.42 (heat asks for them only then).
        version = None
        if isinstance(nics, str):
            version = "2.37"
        elif any(n.get("tag") for n in nics or []):
            version = "2.42"
        made = await ctx.call(COMPUTE, "POST", "/servers", json=request,
                              microversion=version)
        return str(made["server"]["id"])

    async def _server(self, ctx: Context, server_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (await ctx.call(COMPUTE, "GET", _server_path(server_id)))[
            "server"]
        return found

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        assert physical_id is not None
        if not active(await self._server(ctx, physical_id)):
            return False
        if properties.get("tags"):
            await self._tags(ctx, physical_id, properties["tags"])
        return True

    async def _tags(self, ctx: Context, server_id: str, tags: list[str]) -> None:
        await ctx.call(COMPUTE, "PUT", _server_path(server_id, "tags"), json={"tags": tags},
                       microversion="2.26")

    # -- update ----------------------------------------------------------------------------

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        policy = new.get("flavor_update_policy") or old.get("flavor_update_policy")
        if "flavor" in changed and policy == "REPLACE":
            raise UpdateReplace()
        policy = new.get("image_update_policy") or old.get("image_update_policy")
        if "image" in changed and policy == "REPLACE":
            raise UpdateReplace()
        policy = new.get("user_data_update_policy") or old.get("user_data_update_policy")
        if "user_data" in changed and policy == "REPLACE":
            raise UpdateReplace()
        if "metadata" in changed:
            await ctx.call(COMPUTE, "PUT", _server_path(physical_id, "metadata"),
                           json={"metadata": _meta(new.get("metadata"))})
        if "software_config_transport" in changed:
            await update_transport(ctx, new)
        if "tags" in changed:
            await self._tags(ctx, physical_id, new.get("tags") or [])
        if "name" in changed:
            await ctx.call(COMPUTE, "PUT", _server_path(physical_id),
                           json={"server": {"name": self._name(ctx, new)}})
        steps: list[dict[str, Any]] = []
        if "networks" in changed:
            steps.extend(await self._network_steps(ctx, physical_id, old, new))
        if "flavor" in changed:
            flavor = await find_flavor(ctx, new["flavor"])
            steps += [{"op": "resize", "arg": flavor, "label": new["flavor"]},
                      {"op": "confirm"}]
        if "user_data" in changed and new.get("user_data_update_policy") == "REBUILD":
            steps.append({"op": "rebuild", "arg": None,
                          "user_data": new.get("user_data") or ""})
        if "image" in changed:
            steps.append({"op": "rebuild", "arg": await find_image(ctx, new["image"]),
                          "preserve": new.get("image_update_policy") ==
                          "REBUILD_PRESERVE_EPHEMERAL", "password": new.get("admin_pass"),
                          "metadata": _meta(new.get("metadata"))})
        elif "admin_pass" in changed and new.get("admin_pass"):
            await ctx.call(COMPUTE, "POST", _server_path(physical_id, "action"),
                           json={"changePassword": {"adminPass": new["admin_pass"]}})
        ctx.data["update_steps"] = json.dumps(steps)

    async def _network_steps(self, ctx: Context, server_id: str, old: Mapping[str, Any],
                             new: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Interfaces to detach (the old entries gone) and to attach (the new ones), the
        entries kept as they were left alone, as heat's ``calculate_networks``."""
        before = [dict(n) for n in old.get("networks") or []]
        after = [dict(n) for n in new.get("networks") or []]
        removed = [n for n in before if n not in after]
        added = [n for n in after if n not in before]
        interfaces = (await ctx.call(COMPUTE, "GET", _server_path(
            server_id, "os-interface")))["interfaceAttachments"]
        internal = _ports(ctx)
        steps: list[dict[str, Any]] = []
        for net in removed:
            port = None
            if net.get("port"):
                port = await find_id(ctx, "ports", net["port"])
            else:
                network_id = (await find_id(ctx, "networks", net["network"])
                              if net.get("network") else None)
                for iface in interfaces:
                    fixed = [ip["ip_address"] for ip in iface.get("fixed_ips", [])]
                    if (network_id in (None, iface["net_id"]) and (
                            not net.get("fixed_ip") or net["fixed_ip"] in fixed)):
                        port = iface["port_id"]
                        break
            if port is not None:
                interfaces = [i for i in interfaces if i["port_id"] != port]
                steps.append({"op": "detach", "arg": port, "internal": port in internal})
        for net in added:
            attach: dict[str, Any] = {}
            if net.get("port"):
                attach["port_id"] = await find_id(ctx, "ports", net["port"])
            elif net.get("network") or net.get("subnet"):
                if net.get("subnet") or net.get("port_extra_properties"):
                    network_id = (await find_id(ctx, "networks", net["network"])
                                  if net.get("network") else None)
                    port = await self._internal_port(ctx, new, net, network_id, len(internal))
                    internal.append(port)
                    ctx.data["internal_ports"] = json.dumps(internal)
                    attach["port_id"] = port
                else:
                    attach["net_id"] = await find_id(ctx, "networks", net["network"])
                    if net.get("fixed_ip"):
                        attach["fixed_ips"] = [{"ip_address": net["fixed_ip"]}]
            if attach:
                steps.append({"op": "attach", "arg": attach})
        return steps

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        """The next step of the queue started, or the one started polled (heat's
        ``check_update_complete`` over its ServerUpdateProgress list)."""
        assert physical_id is not None
        server_id = physical_id

        async def start(step: dict[str, Any]) -> bool:
            await self._start(ctx, server_id, step)
            return True

        return await run_steps(ctx, start, lambda step: self._done(ctx, server_id, step))

    async def _start(self, ctx: Context, server_id: str, step: dict[str, Any]) -> None:
        op = step["op"]
        action = _server_path(server_id, "action")
        if op == "resize":
            await ctx.call(COMPUTE, "POST", action, json={"resize": {"flavorRef": step["arg"]}})
        elif op == "confirm":
            server = await self._server(ctx, server_id)
            if server["status"] != "VERIFY_RESIZE":
                raise ResourceFailure(f"Could not confirm resize of server {server_id} - "
                                      f'Unknown status {server["status"]} due to "Unknown"')
            await ctx.call(COMPUTE, "POST", action, json={"confirmResize": None})
        elif op == "rebuild":
            body: dict[str, Any] = {}
            if step.get("arg"):
                body["imageRef"] = step["arg"]
                body["preserve_ephemeral"] = bool(step.get("preserve"))
                if step.get("password"):
                    body["adminPass"] = step["password"]
                if step.get("metadata"):
                    body["metadata"] = step["metadata"]
            else:
                # A rebuild for new user data keeps the image (microversion 2.57).
                server = await self._server(ctx, server_id)
                body["imageRef"] = (server.get("image") or {}).get("id", "")
                body["user_data"] = base64.b64encode(
                    str(step.get("user_data") or "").encode()).decode()
            await ctx.call(COMPUTE, "POST", action, json={"rebuild": body},
                           microversion=None if step.get("arg") else "2.57")
        elif op == "detach":
            await delete_if_there(ctx, COMPUTE, _server_path(server_id, "os-interface",
                                                               step["arg"]))
        elif op == "attach":
            await ctx.call(COMPUTE, "POST", _server_path(server_id, "os-interface"),
                           json={"interfaceAttachment": step["arg"]})

    async def _done(self, ctx: Context, server_id: str, step: dict[str, Any]) -> bool:
        op = step["op"]
        if op in ("detach", "attach"):
            interfaces = (await ctx.call(COMPUTE, "GET", _server_path(
                server_id, "os-interface")))["interfaceAttachments"]
            ports = {i["port_id"] for i in interfaces}
            if op == "detach":
                if step["arg"] in ports:
                    return False
                if step.get("internal"):
                    await _delete_port(ctx, step["arg"])
                    _forget_port(ctx, step["arg"])
                return True
            wanted = step["arg"].get("port_id")
            return wanted in ports if wanted else True
        server = await self._server(ctx, server_id)
        status = server["status"]
        if op == "resize":
            # nova may not have started yet: ACTIVE (still) or RESIZE wait.
            if status in ("RESIZE", "ACTIVE"):
                return False
            if status == "VERIFY_RESIZE":
                return True
            raise ResourceFailure(f"Resizing to '{step['label']}' failed, status "
                                  f"'{status}'")
        if op == "confirm":
            if status == "ACTIVE":
                return True
            if status == "VERIFY_RESIZE" or "resize" in str(
                    server.get("OS-EXT-STS:task_state") or ""):
                return False
            raise ResourceFailure(f"Confirm resize for server {server_id} failed - Unknown "
                                  f'status {status} due to "Unknown"')
        if op == "rebuild":
            if status == "REBUILD":
                return False
            if status == "ERROR":
                raise ResourceFailure(f"Rebuilding server failed, status '{status}'")
            return True
        raise AssertionError(op)

    # -- delete ----------------------------------------------------------------------------

    # -- snapshots: an image of the server (heat's handle_snapshot and friends) -----------

    SNAPSHOT_DELETE = True

    async def _create_image(self, ctx: Context, server_id: str) -> str:
        # 2.45: the image's id in the body (not only in Location).
        made = await ctx.call(COMPUTE, "POST", _server_path(server_id, "action"),
                              json={"createImage": {"name": ctx.physical_name()}},
                              microversion="2.45")
        return str(made["image_id"])

    @staticmethod
    async def _image_status(ctx: Context, image_id: str) -> str:
        image = await ctx.call(IMAGE, "GET", f"/v2/images/{quote(image_id, safe='')}")
        status = str(image["status"]).lower()
        if status in _IMAGE_FAILED:
            raise ResourceFailure(status)
        return status

    async def snapshot(self, ctx: Context, physical_id: str | None,
                       properties: Mapping[str, Any]) -> None:
        assert physical_id is not None
        ctx.data["snapshot_image_id"] = await self._create_image(ctx, physical_id)

    async def snapshot_complete(self, ctx: Context, physical_id: str | None,
                                properties: Mapping[str, Any]) -> bool:
        assert physical_id is not None
        if await self._image_status(ctx, ctx.data["snapshot_image_id"]) != "active":
            return False
        # heat waits for the server's snapshot task to end too.
        server = await self._server(ctx, physical_id)
        return server.get("OS-EXT-STS:task_state") not in _SNAPSHOT_TASKS

    async def delete_snapshot(self, ctx: Context, data: Mapping[str, str]) -> None:
        if data.get("snapshot_image_id"):
            await delete_if_there(ctx, IMAGE, "/v2/images/"
                                  f"{quote(data['snapshot_image_id'], safe='')}")

    def restore_properties(self, properties: Mapping[str, Any], data: Mapping[str, str]
                           ) -> dict[str, Any] | None:
        # heat's handle_restore: the server rebuilt from the snapshot's image.
        kept = {k: v for k, v in properties.items() if v is not None}
        for key in ("block_device_mapping", "block_device_mapping_v2", "networks"):
            if kept.get(key) is not None:
                kept[key] = [{k: v for k, v in item.items() if v is not None}
                             for item in kept[key]]
        return {**kept, "image": data["snapshot_image_id"]}

    async def delete_with_snapshot(self, ctx: Context, physical_id: str | None,
                                   properties: Mapping[str, Any], failed: bool) -> None:
        if physical_id is None or failed:
            await self.delete(ctx, physical_id, properties)
            return
        ctx.data["deletion_image_id"] = await self._create_image(ctx, physical_id)

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        await delete_transport_credentials(ctx)  # heat's _delete: the stack user first
        if physical_id is None:
            await _delete_internal_ports(ctx)
            return
        await delete_if_there(ctx, COMPUTE, _server_path(physical_id))

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        image = ctx.data.get("deletion_image_id")
        if image and physical_id is not None:
            # deletion_policy Snapshot: the server goes once its image is active (the
            # image is kept: it is what the policy leaves behind).
            if await self._image_status(ctx, image) != "active":
                return False
            del ctx.data["deletion_image_id"]
            await self.delete(ctx, physical_id, properties)
            return False
        if physical_id is not None:
            try:
                server = await self._server(ctx, physical_id)
            except ServiceCallError as error:
                if not gone(error):
                    raise
            else:
                if server.get("OS-EXT-STS:task_state") == "deleting":
                    return False
                status = server["status"]
                if status == "SOFT_DELETED":
                    await ctx.call(COMPUTE, "POST", _server_path(physical_id, "action"),
                                   json={"forceDelete": None})
                elif status == "ERROR":
                    fault = server.get("fault") or {}
                    raise ResourceFailure(
                        f'Went to status ERROR due to "Server {server.get("name")} delete '
                        f'failed: ({fault.get("code")}) {fault.get("message", "Unknown")}"')
                if status != "DELETED":
                    return False
        # The ports heat made for the server go once the server is gone.
        await _delete_internal_ports(ctx)
        return True

    # -- attributes ------------------------------------------------------------------------

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        try:
            server = await self._server(ctx, physical_id)
        except ServiceCallError as error:
            if not gone(error):
                raise
            return {"name": self._name(ctx, properties), "first_address": "", "show": {}}
        ids = await self._network_ids(ctx, server.get("addresses") or {})
        networks = {label: [a["addr"] for a in addresses]
                    for label, addresses in (server.get("addresses") or {}).items()}
        return {
            "name": self._name(ctx, properties),
            "addresses": await self._addresses(ctx, physical_id, ids),
            "networks": _by_name_and_id(networks, ids),
            "first_address": _first_address(networks),
            "instance_name": server.get("OS-EXT-SRV-ATTR:instance_name"),
            "accessIPv4": server.get("accessIPv4", ""),
            "accessIPv6": server.get("accessIPv6", ""),
            "console_urls": await self._consoles(ctx, physical_id),
            "tags": (await ctx.call(COMPUTE, "GET", _server_path(physical_id, "tags"),
                                    microversion="2.26"))["tags"],
            "os_collect_config": os_collect_config(ctx),
            "show": server,
        }

    async def _network_ids(self, ctx: Context, addresses: Mapping[str, Any]
                           ) -> dict[str, str]:
        """Each network label of the server's addresses with its id, where one network
        (of those the user sees) carries that name."""
        out = {}
        for label in addresses:
            try:
                out[label] = await find_id(ctx, "networks", label)
            except ResourceFailure:
                continue
        return out

    async def _addresses(self, ctx: Context, server_id: str, ids: Mapping[str, str]
                         ) -> dict[str, Any]:
        """heat's ``addresses``: per network, each port's fixed IPs (with the port, its
        subnets and network) and the floating IPs mapped onto them."""
        ports = (await ctx.call(NETWORK, "GET", "/v2.0/ports",
                                params={"device_id": server_id}))["ports"]
        nets: dict[str, list[dict[str, Any]]] = {}
        known = dict(ids)
        for port in ports:
            network = (await ctx.call(NETWORK, "GET",
                                      f"/v2.0/networks/{port['network_id']}"))["network"]
            known.setdefault(network["name"], network["id"])
            entries = nets.setdefault(network["name"], [])
            subnets = [(await ctx.call(NETWORK, "GET", f"/v2.0/subnets/{ip['subnet_id']}"))[
                "subnet"] for ip in port["fixed_ips"] if ip.get("subnet_id")]
            for fixed in port["fixed_ips"]:
                address = fixed.get("ip_address")
                version = ipaddress.ip_address(address).version if address else None
                floating = (await ctx.call(NETWORK, "GET", "/v2.0/floatingips", params={
                    "fixed_ip_address": address, "port_id": port["id"]}))["floatingips"]
                for fip in floating:
                    entries.append({"addr": fip["floating_ip_address"], "version": version,
                                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                                    "OS-EXT-IPS:type": "floating", "port": None})
                entries.append({"addr": address, "version": version,
                                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                                "OS-EXT-IPS:type": "fixed", "port": port["id"],
                                "subnets": subnets, "network": network})
        return _by_name_and_id(nets, known)

    async def _consoles(self, ctx: Context, server_id: str) -> dict[str, str]:
        """Every console type's URL, or heat's text saying why there is none."""
        out = {}
        for kind, (protocol, console_type) in _CONSOLES.items():
            try:
                answer = await ctx.call(
                    COMPUTE, "POST", _server_path(server_id, "remote-consoles"),
                    json={"remote_console": {"protocol": protocol, "type": console_type}},
                    microversion="2.8")
                out[kind] = answer["remote_console"]["url"]
            except ServiceCallError as error:
                out[kind] = f"Cannot get console url: {_message(error)}"
        return out


def _message(error: ServiceCallError) -> str:
    body = error.body
    if isinstance(body, Mapping):
        for value in body.values():
            if isinstance(value, Mapping) and "message" in value:
                return str(value["message"])
        if "message" in body:
            return str(body["message"])
    return str(body)


def _by_name_and_id(nets: Mapping[str, Any], ids: Mapping[str, str]) -> dict[str, Any]:
    """heat's ``_extend_networks``: each network under its name and, where known, its id."""
    out = dict(nets)
    for label, value in nets.items():
        if ids.get(label):
            out[ids[label]] = value
    return out


def _first_address(networks: Mapping[str, list[str]]) -> str:
    for label in sorted(networks, reverse=True):
        if networks[label]:
            return networks[label][0]
    return ""


def _ports(ctx: Context) -> list[str]:
    ports: list[str] = json.loads(ctx.data.get("internal_ports") or "[]")
    return ports


def _forget_port(ctx: Context, port_id: str) -> None:
    ctx.data["internal_ports"] = json.dumps([p for p in _ports(ctx) if p != port_id])


async def _delete_port(ctx: Context, port_id: str) -> None:
    await delete_if_there(ctx, NETWORK, f"/v2.0/ports/{port_id}")


async def _delete_internal_ports(ctx: Context) -> None:
    for port in _ports(ctx):
        await _delete_port(ctx, port)
    ctx.data["internal_ports"] = "[]"


# -- key pairs, flavors, server groups ------------------------------------------------------

@register
class KeyPair(ResourcePlugin):
    TYPE = "OS::Nova::KeyPair"
    DESCRIPTION = ("A Nova key pair: a public key injected into servers, generated by nova "
                   "when none is given (its private key then kept only if asked).")
    PROPERTIES = {
        "name": P(STRING, "The name of the key pair.", required=True,
                  constraints=(Length(min=1, max=255),)),
        "save_private_key": P(BOOLEAN, "True if the system should remember a generated "
                              "private key; False otherwise.", default=False),
        "public_key": P(STRING, "The optional public key. This allows users to supply the "
                        "public key from a pre-existing key pair. If not supplied, a new "
                        "key pair will be generated."),
        "type": P(STRING, "Keypair type. Supported since Nova api version 2.2.",
                  constraints=(AllowedValues(["ssh", "x509"]),)),
        "user": P(STRING, "ID or name of user to whom to add key-pair. The usage of this "
                  "property is limited to being used by administrators only. Supported "
                  "since Nova api version 2.10.", constraints=_custom("keystone.user")),
    }
    ATTRIBUTES = {
        "public_key": Attribute("The public key."),
        "private_key": Attribute("The private key if it has been saved."),
    }

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body: dict[str, Any] = {"name": properties["name"]}
        if properties.get("public_key"):
            body["public_key"] = properties["public_key"]
        if properties.get("type"):
            body["type"] = properties["type"]
        if properties.get("user"):
            body["user_id"] = properties["user"]
        # 2.10 takes a type and a user and still lets nova generate the key (2.92 no longer).
        made = (await ctx.call(COMPUTE, "POST", "/os-keypairs", json={"keypair": body},
                               microversion="2.10"))["keypair"]
        if properties.get("save_private_key") and made.get("private_key"):
            ctx.data["private_key"] = made["private_key"]
        return str(made["name"])

    def _path(self, physical_id: str, properties: Mapping[str, Any]) -> str:
        path = f"/os-keypairs/{quote(physical_id, safe='')}"
        return path + (f"?user_id={quote(properties['user'])}" if properties.get("user")
                       else "")

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        await delete_if_there(ctx, COMPUTE, self._path(physical_id, properties),
                           microversion="2.10")

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        shown = (await ctx.call(COMPUTE, "GET", self._path(physical_id, properties),
                                microversion="2.10"))["keypair"]
        return {"public_key": shown.get("public_key", ""),
                "private_key": ctx.data.get("private_key", ""), "show": shown}


@register
class Flavor(ResourcePlugin):
    TYPE = "OS::Nova::Flavor"
    DESCRIPTION = ("A Nova flavor (admin only): the RAM, vCPUs and disks a server gets, "
                   "public or shared with chosen projects.")
    PROPERTIES = {
        "tenants": P(LIST, "List of tenants.", default=[], update_allowed=True,
                     schema=P(STRING, "A tenant ID.")),
        "flavorid": P(STRING, "Unique ID of the flavor. If not specified, an UUID will be "
                      "auto generated and used."),
        "name": P(STRING, "Name of the flavor."),
        "ram": P(INTEGER, "Memory in MB for the flavor.", required=True),
        "vcpus": P(INTEGER, "Number of VCPUs for the flavor.", required=True),
        "disk": P(INTEGER, "Size of local disk in GB. The \"0\" size is a special case that "
                  "uses the native base image size as the size of the ephemeral root "
                  "volume.", default=0),
        "swap": P(INTEGER, "Swap space in MB.", default=0),
        "ephemeral": P(INTEGER, "Size of a secondary ephemeral data disk in GB.", default=0),
        "rxtx_factor": P(NUMBER, "RX/TX factor.", default=1.0),
        "extra_specs": P(MAP, "Key/Value pairs to extend the capabilities of the flavor.",
                         update_allowed=True),
        "is_public": P(BOOLEAN, "Scope of flavor accessibility. Public or private. Default "
                       "value is True, means public, shared across all projects.",
                       default=True),
    }
    ATTRIBUTES = {
        "is_public": Attribute("Whether the flavor is shared across all projects.",
                               BOOLEAN),
        "extra_specs": Attribute("Extra specs of the flavor in key-value pairs.", MAP),
    }

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body = {"name": properties.get("name") or ctx.physical_name(),
                "ram": properties["ram"], "vcpus": properties["vcpus"],
                "disk": properties["disk"], "swap": properties["swap"],
                "OS-FLV-EXT-DATA:ephemeral": properties["ephemeral"],
                "rxtx_factor": properties["rxtx_factor"],
                "os-flavor-access:is_public": properties["is_public"]}
        if properties.get("flavorid") and properties["flavorid"] != "auto":
            body["id"] = properties["flavorid"]
        made = (await ctx.call(COMPUTE, "POST", "/flavors", json={"flavor": body}))[
            "flavor"]
        ident = str(made["id"])
        if properties.get("extra_specs"):
            await _FLAVORS.set_specs(ctx, ident, properties["extra_specs"])
        if not properties["is_public"]:
            for tenant in properties.get("tenants") or [ctx.project_id]:
                await _FLAVORS.share(ctx, ident, tenant)
        return ident

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        if "extra_specs" in changed:
            await _FLAVORS.replace_specs(ctx, physical_id, new.get("extra_specs"))
        if "tenants" in changed and not old.get("is_public"):
            await _FLAVORS.sync_access(ctx, physical_id, new.get("tenants") or [])

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        await delete_if_there(ctx, COMPUTE, f"/flavors/{quote(physical_id, safe='')}")

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        flavor = (await ctx.call(COMPUTE, "GET", f"/flavors/{physical_id}"))["flavor"]
        specs = await _FLAVORS.extra_specs(ctx, physical_id)
        return {"is_public": flavor.get("os-flavor-access:is_public"), "extra_specs": specs,
                "show": flavor}


@register
class ServerGroup(ResourcePlugin):
    TYPE = "OS::Nova::ServerGroup"
    DESCRIPTION = ("A Nova server group: servers placed together (affinity) or apart "
                   "(anti-affinity) by the scheduler.")
    PROPERTIES = {
        "name": P(STRING, "Server Group name."),
        "policies": P(LIST, "A list of exactly one policy to apply. Defaults to "
                      "anti-affinity.", default=["anti-affinity"],
                      constraints=(AllowedValues(["anti-affinity", "affinity",
                                                  "soft-anti-affinity", "soft-affinity"]),),
                      schema=P(STRING)),
        "rules": P(MAP, "Rules for a policy.", schema={
            "max_server_per_host": P(NUMBER, "Maximum number of servers in the server group "
                                     "per host, used with the anti-affinity policy.")}),
    }
    ATTRIBUTES = {}

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body: dict[str, Any] = {"name": properties.get("name") or ctx.physical_name(),
                                "policy": properties["policies"][0]}
        rules = {k: int(v) for k, v in (properties.get("rules") or {}).items()
                 if v is not None}
        if rules:
            body["rules"] = rules
        made = await ctx.call(COMPUTE, "POST", "/os-server-groups",
                              json={"server_group": body}, microversion="2.64")
        return str(made["server_group"]["id"])

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is None:
            return
        await delete_if_there(ctx, COMPUTE, f"/os-server-groups/{physical_id}")

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        return {"show": (await ctx.call(COMPUTE, "GET", f"/os-server-groups/"
                                        f"{physical_id}", microversion="2.64"))[
            "server_group"]}
