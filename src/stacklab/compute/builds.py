"""Creating servers, as nova-api's ``compute.API.create`` does before the conductor takes over.

A create is checked in nova's order: the image (asked of the Image API with
the caller's token, so only what the caller may see resolves), the networks
and security groups (of the Networking API, likewise), the metadata quota,
the zone and host, the counts, the flavor and whether the image fits it, the
key pair, the quotas (which trim a multi-create to what is left), the server
group. The servers are then recorded (BUILD, scheduling) and the build is
cast to the conductor: the caller does not wait for them to be ACTIVE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Forbidden, NotFound, nova_internal_error
from stacklab.bus.interface import Target
from stacklab.compute import image_meta, quotas, states
from stacklab.compute import models as m
from stacklab.compute.casts import Cast
from stacklab.compute.glance import GlanceError, image_properties
from stacklab.compute.instances import bus_context
from stacklab.compute.interfaces import networking_failure
from stacklab.compute.neutron import NeutronError

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

_NO_VOLUMES = ("Block Device Mapping is Invalid: volumes need the Block Storage service, "
               "which this cloud does not run yet.")


# glanceclient's exception for each 5xx it reads (glanceclient/exc.py _code_map).
GLANCE_EXCEPTIONS = {500: "glanceclient.exc.HTTPInternalServerError",
                     501: "glanceclient.exc.HTTPNotImplemented",
                     502: "glanceclient.exc.HTTPBadGateway",
                     503: "glanceclient.exc.HTTPServiceUnavailable"}


@dataclass
class BuildRequest:
    """What a create asks for, as plain values (``POST /servers``' body, parsed)."""

    name: str
    flavor_ref: str
    image_ref: str = ""
    block_devices: list[dict[str, Any]] = field(default_factory=list)  # mapping v2
    legacy_block_devices: bool = False  # a block_device_mapping (v1) was given
    networks: Any = None  # None (auto), "auto", "none" or a list of requests
    security_groups: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    zone: str | None = None
    forced_host: str | None = None
    min_count: int = 1
    max_count: int = 1
    hostname: str | None = None
    description: str | None = None
    key_name: str | None = None
    user_data: str | None = None
    config_drive: bool = False
    access_ipv4: str = ""
    access_ipv6: str = ""
    disk_config: str = "MANUAL"
    tags: list[str] = field(default_factory=list)
    trusted_certs: Any = None
    admin_pass: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Built:
    uuids: list[str]
    reservation_id: str
    admin_pass: str


def reference(value: str) -> str:
    """nova accepts an id or a URL ending with it for imageRef and flavorRef."""
    return value.rstrip("/").rsplit("/", 1)[-1]


def sanitize_hostname(name: str) -> str:
    """nova's ``sanitize_hostname``: what a display name becomes as a guest hostname."""
    hostname = name.lower()
    hostname = re.sub(r"[ _.]", "-", hostname)
    hostname = re.sub(r"[^\w.-]+", "", hostname, flags=re.ASCII)
    hostname = hostname.strip(".-")[:63]
    return hostname or "server"


def server_names(name: str, hostname: str | None, count: int) -> list[tuple[str, str]]:
    """Each new server's display name and hostname: a multi-create numbers them from 1."""
    if count == 1:
        return [(name, hostname or sanitize_hostname(name))]
    numbered = [f"{name}-{index}" for index in range(1, count + 1)]
    return [(each, f"{hostname}-{index}" if hostname else sanitize_hostname(each))
            for index, each in enumerate(numbered, 1)]


def check_image_fits(flavor: dict[str, Any], image: dict[str, Any]) -> None:
    """nova's 400 when the image needs more memory or disk than the flavor gives."""
    if flavor["memory_mb"] < image["min_ram"]:
        raise BadRequest("Flavor's memory is too small for requested image.")
    disk = flavor["root_gb"] * 1024 ** 3
    if not disk:
        return
    if image["min_disk"] > flavor["root_gb"]:
        raise BadRequest("Flavor's disk is too small for requested image. Flavor disk is "
                         f"{disk} bytes, minimum requested disk is "
                         f"{image['min_disk'] * 1024 ** 3} bytes.")
    if image["size"] > disk:
        raise BadRequest("Flavor's disk is too small for requested image. Flavor disk is "
                         f"{disk} bytes, image is {image['size']} bytes.")


def local_block_devices(mappings: list[dict[str, Any]], legacy: bool) -> list[dict[str, Any]]:
    """The mappings kept: only local disks, until a Block Storage service runs."""
    for bdm in mappings:
        if bdm.get("destination_type", "volume") == "volume" or \
                bdm.get("source_type") in ("volume", "snapshot"):
            raise BadRequest(_NO_VOLUMES)
    if legacy:
        raise BadRequest(_NO_VOLUMES)
    return [dict(bdm) for bdm in mappings]


def _flavor_snapshot(flavor: m.Flavor) -> dict[str, Any]:
    return {"id": flavor.id, "flavorid": flavor.flavorid, "name": flavor.name,
            "vcpus": flavor.vcpus, "memory_mb": flavor.memory_mb, "root_gb": flavor.root_gb,
            "ephemeral_gb": flavor.ephemeral_gb, "swap": flavor.swap,
            "extra_specs": dict(flavor.extra_specs)}


def _unlisted_networks(requested: Any) -> Any:
    """Without Networking, ``auto``/``none`` pass and a listed network or port is unknown."""
    if requested is None:
        return "auto"
    if isinstance(requested, str):
        return requested
    for network in requested:
        if network.get("port"):
            raise BadRequest(f"Port {network['port']} could not be found.")
        if network.get("uuid"):
            raise BadRequest(f"Network {network['uuid']} could not be found.")
    return requested


class Builds:
    """What nova-api checks and records for new servers, then hands to the conductor."""

    def __init__(self, service: ComputeService) -> None:
        self.service = service

    async def image(self, ref: str, token: str, *,
                    missing: str = "Can not find requested image") -> dict[str, Any]:
        """The image to boot from: visible to ``token``'s user and active (else nova's 400)."""
        glance = self.service.glance
        if glance is None:
            raise BadRequest(missing)
        try:
            image = await glance.show(reference(ref), token=token)
        except GlanceError as exc:
            if exc.status < 500:  # not found, not visible, not an image id at all
                raise BadRequest(missing) from None
            # glance failing (its database out of reach behind a dying controller, no
            # server left): nova does not translate glanceclient's 5xx exceptions, so its
            # API answers its own unexpected-error 500 naming the exception's class.
            raise nova_internal_error(GLANCE_EXCEPTIONS.get(
                exc.status, "glanceclient.exc.HTTPException")) from None
        if image["status"] != "active":
            raise BadRequest(f"Image {image['id']} is not active.")
        return {"id": image["id"], "name": image["name"], "min_ram": image.get("min_ram") or 0,
                "min_disk": image.get("min_disk") or 0, "size": image.get("size") or 0,
                "properties": image_properties(image)}

    def flavor(self, session: Session, ref: str, context: RequestContext, *,
               message: str = "Invalid flavorRef provided.") -> dict[str, Any]:
        """The flavor a server records (a copy: later flavor changes do not touch it)."""
        try:
            flavor = self.service.flavors.get(session, reference(str(ref)), context.project_id,
                                              context.is_admin)
        except NotFound:
            raise BadRequest(message) from None
        return _flavor_snapshot(flavor)

    def key_pair(self, session: Session, user_id: str, name: str) -> m.KeyPair:
        try:
            return self.service.keypairs.get(session, user_id, name)
        except NotFound:
            raise BadRequest("Invalid key_name provided.") from None

    async def _networks(self, requested: Any, token: str, project_id: str) -> Any:
        neutron = self.service.neutron
        if neutron is None:
            return _unlisted_networks(requested)
        try:
            return await neutron.resolve_networks(requested, project_id, token)
        except NeutronError as exc:
            raise networking_failure(exc) from None

    async def _check_security_groups(self, names: list[str], token: str,
                                     project_id: str) -> None:
        neutron = self.service.neutron
        if neutron is None or not names:
            return
        try:
            await neutron.check_security_groups(names, project_id, token)
        except NeutronError as exc:
            raise networking_failure(exc) from None

    def _server_group(self, session: Session, hints: dict[str, Any], context: RequestContext,
                      count: int) -> m.ServerGroup | None:
        """The group the ``group`` hint names, if the caller may use it and it has room."""
        group_id = hints.get("group")
        if isinstance(group_id, list):
            group_id = group_id[0] if group_id else None
        if not group_id:
            return None
        group = session.scalar(select(m.ServerGroup).where(m.ServerGroup.uuid == group_id))
        if group is None or (group.project_id != context.project_id and not context.is_admin):
            raise BadRequest(f"Invalid server group {group_id}: Instance group {group_id} "
                             "could not be found.")
        limits = self.service.quotas.limits(group.project_id)
        quotas.check_group_members(limits["server_group_members"], len(group.members), count)
        return group

    async def create(self, context: RequestContext, request: BuildRequest, *,
                     zero_disk_allowed: bool) -> Built:
        """Check a create, record its servers and cast their build to the conductor."""
        service = self.service
        token = context.auth_token or ""
        project, user = context.project_id or "", context.user_id or ""
        block_devices = local_block_devices(request.block_devices,
                                            request.legacy_block_devices)
        image_ref = request.image_ref or next(
            (b.get("uuid", "") for b in block_devices
             if b.get("source_type") == "image" and str(b.get("boot_index")) == "0"), "")
        if not image_ref:
            raise BadRequest("Missing imageRef attribute")
        image = await self.image(image_ref, token)
        networks = await self._networks(request.networks, token, project)
        await self._check_security_groups(request.security_groups, token, project)
        quotas.check_metadata(service.quotas.limits(project)["metadata_items"],
                              len(request.metadata))
        zone, forced_host = request.zone, request.forced_host
        if zone and zone not in service.availability_zones():
            raise BadRequest("The requested availability zone is not available")
        if forced_host and forced_host not in service.placement.providers:
            raise BadRequest(f"Compute host {forced_host} could not be found.")
        if request.min_count > request.max_count:
            raise BadRequest("min_count must be <= max_count")
        ctxt = bus_context(context)
        with service.db.session() as session:
            flavor = self.flavor(session, request.flavor_ref, context)
            check_image_fits(flavor, image)
            if flavor["root_gb"] == 0 and not zero_disk_allowed:
                raise Forbidden("Only volume-backed servers are allowed for flavors with "
                                "zero disk.")
            key_data = self.key_pair(session, user, request.key_name).public_key \
                if request.key_name else None
            count = quotas.servers_allowed(service.quotas.limits(project),
                                           service.quotas.usage(project), flavor,
                                           request.min_count, request.max_count)
            group = self._server_group(session, request.hints, context, count)
            reservation_id = "r-" + service.ids.hex_id()[:8]
            now = service.clock.now()
            uuids: list[str] = []
            for index, (name, hostname) in enumerate(
                    server_names(request.name, request.hostname, count)):
                instance = m.Instance(
                    uuid=service.ids.uuid(), name=name, hostname=hostname,
                    description=request.description, project_id=project, user_id=user,
                    image_ref=image["id"], flavor=flavor, vcpus=flavor["vcpus"],
                    memory_mb=flavor["memory_mb"], vm_state=states.BUILDING,
                    task_state=states.SCHEDULING, power_state=states.NOSTATE,
                    key_name=request.key_name, key_data=key_data, user_data=request.user_data,
                    config_drive="True" if request.config_drive else "",
                    access_ipv4=request.access_ipv4, access_ipv6=request.access_ipv6,
                    disk_config=request.disk_config, metadata_=dict(request.metadata),
                    system_metadata=image_meta.system_metadata(image["properties"]),
                    tags=list(dict.fromkeys(request.tags)),
                    security_groups=request.security_groups or ["default"],
                    networks=networks, addresses={}, block_devices=block_devices,
                    scheduler_hints=request.hints,
                    server_group=group.uuid if group else None,
                    trusted_certs=request.trusted_certs, reservation_id=reservation_id,
                    launch_index=index, availability_zone=zone, requested_zone=zone,
                    created_at=now, updated_at=now)
                session.add(instance)
                session.flush()
                service.instances.start_action(session, instance, "create", ctxt)
                uuids.append(instance.uuid)
            if group is not None:
                group.members = [*group.members, *uuids]
            admin_pass = request.admin_pass or service.ids.urlsafe_token(9)
        spec: dict[str, Any] = {
            "flavor": flavor, "image_properties": image["properties"],
            "availability_zone": zone, "scheduler_hints": request.hints,
            "group": {"uuid": group.uuid, "policy": group.policy, "rules": dict(group.rules)}
            if group else None,
            "force_hosts": [forced_host] if forced_host else [],
            "boot_from_volume": False, "project_id": project,
        }
        await service.bus.cast(Target("conductor"), "build_instances", instance_uuids=uuids,
                               spec=spec, ctxt=ctxt)
        await service.settle(uuids)
        return Built(uuids, reservation_id, admin_pass)

    async def rebuild(self, session: Session, instance: m.Instance, fields: Mapping[str, Any],
                      context: RequestContext) -> Cast:
        """The server again from ``imageRef``, with the fields the rebuild names changed."""
        image = await self.image(fields["imageRef"], context.auth_token or "",
                                 missing="Cannot find image for rebuild")
        instance.image_ref = image["id"]
        self.service.instances.edit(instance, fields)
        if "metadata" in fields:
            instance.metadata_ = dict(fields["metadata"])
        if fields.get("key_name") is not None:
            key = self.key_pair(session, context.user_id or "", fields["key_name"])
            instance.key_name, instance.key_data = key.name, key.public_key
        elif "key_name" in fields:
            instance.key_name, instance.key_data = None, None
        if "trusted_image_certificates" in fields:
            instance.trusted_certs = fields["trusted_image_certificates"]
        instance.system_metadata = {**image_meta.with_image(instance.system_metadata,
                                                            image["properties"]),
                                    "old_vm_state": instance.vm_state}
        instance.task_state = states.REBUILDING
        return Cast.to_compute(instance.host, "rebuild_instance", instance_uuid=instance.uuid,
                               image_ref=image["id"], evacuate=False, migration_uuid=None,
                               target_state=None)
