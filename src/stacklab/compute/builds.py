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
from stacklab.compute.block_device import (
    check_boot_sequence,
    from_api,
    from_legacy,
    image_defined_mappings,
    invalid_bdm,
    merge,
    strip_dev,
    without_image_root,
)
from stacklab.compute.casts import Cast
from stacklab.compute.cinder import CinderError
from stacklab.compute.glance import GlanceError, image_properties
from stacklab.compute.instances import bus_context
from stacklab.compute.interfaces import networking_failure
from stacklab.compute.neutron import NeutronError
from stacklab.store.locks import serialize

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
    block_devices: list[dict[str, Any]] = field(default_factory=list)  # mapping v2 (or v1)
    legacy_block_devices: bool = False  # block_devices is a block_device_mapping (v1)
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


@dataclass
class BootDisks:
    """What a create's block device mappings come to."""

    mappings: list[dict[str, Any]]
    image: dict[str, Any] | None  # the image the server records (None: booted from a volume)
    properties: dict[str, Any]  # the image properties the server boots with
    min_ram: int = 0
    volume_backed: bool = False
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)  # existing, by id


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

    async def _volume(self, volume_id: str, token: str, *, root: bool) -> dict[str, Any]:
        cinder = self.service.cinder
        assert cinder is not None
        try:
            return await cinder.get(volume_id, token=token)
        except CinderError as exc:
            if exc.status >= 500:
                raise
            if exc.status == 404 and not root:
                # nova gets every mapped volume before it checks the mappings
                # (_get_volumes_for_bdms): cinder's 404 is its VolumeNotFound, a 400. Only
                # the root of a boot without an image is looked up earlier, for its image
                # metadata, where any failure is InvalidBDMVolume.
                raise BadRequest(f"Volume {volume_id} could not be found.") from None
            raise invalid_bdm(f"failed to get volume {volume_id}.") from None

    async def boot_disks(self, request: BuildRequest, token: str) -> BootDisks:
        """The create's block device mappings, checked as nova-api checks them: the boot
        sequence, each image, volume and snapshot (as cinder and glance show them to the
        user), the sizes; and the image the server boots with."""
        given = request.block_devices
        image_ref = request.image_ref
        if not given and not request.legacy_block_devices and not image_ref:
            raise BadRequest("Missing imageRef attribute")
        # The image named is read first: it may define mappings of its own (an image of a
        # volume-backed server names the snapshot to make its root volume from).
        boot_image = await self.image(image_ref, token) if image_ref else None
        image_defined = image_defined_mappings(boot_image["properties"]) if boot_image \
            else []
        if boot_image is not None and not given and not image_defined:
            return BootDisks([], boot_image, boot_image["properties"], boot_image["min_ram"])
        if request.legacy_block_devices:
            mappings = [from_legacy(b, image_ref) for b in given]
        else:
            mappings = [from_api(b) for b in given]
        if image_ref:
            for bdm in mappings:
                if bdm["destination_type"] == "volume" and \
                        strip_dev(bdm["device_name"]) == "vda":
                    raise BadRequest("The volume cannot be assigned the same device name as "
                                     "the root device vda")
        if any(b["boot_index"] == 0 for b in image_defined):
            mappings = without_image_root(mappings)
        mappings = merge(image_defined, mappings)
        wants_cinder = any(b["destination_type"] == "volume" for b in mappings)
        if wants_cinder and self.service.cinder is None:
            raise BadRequest(_NO_VOLUMES)
        if image_ref and not any(b["boot_index"] == 0 for b in mappings):
            # The image named is the root disk, local (nova's image mapping).
            mappings.insert(0, {**from_api({"source_type": "image", "uuid": image_ref,
                                            "destination_type": "local"}),
                                "boot_index": 0, "delete_on_termination": True})
        check_boot_sequence(mappings)
        if request.max_count > 1 and any(b["source_type"] == "volume" for b in mappings):
            raise BadRequest("Cannot attach one or more volumes to multiple instances")
        images: dict[str, dict[str, Any]] = {image_ref: boot_image} if boot_image else {}
        volumes: dict[str, dict[str, Any]] = {}
        cinder = self.service.cinder
        for bdm in mappings:
            if bdm["image_id"]:
                if bdm["image_id"] not in images:
                    images[bdm["image_id"]] = await self.image(
                        bdm["image_id"], token,
                        missing=f"Block Device Mapping is Invalid: failed to get image "
                                f"{bdm['image_id']}.")
                if bdm["destination_type"] == "volume" and not bdm["volume_size"]:
                    raise invalid_bdm("Images with destination_type 'volume' need to have a "
                                      "non-zero size specified")
            elif bdm["volume_id"]:
                root = bdm["boot_index"] == 0 and not image_ref
                volume = volumes[bdm["volume_id"]] = await self._volume(bdm["volume_id"],
                                                                        token, root=root)
                bdm["volume_size"] = volume.get("size")
            elif bdm["snapshot_id"]:
                assert cinder is not None
                try:
                    snapshot = await cinder.get_snapshot(bdm["snapshot_id"], token=token)
                except CinderError as exc:
                    if exc.status >= 500:
                        raise
                    if exc.status == 404 and bdm["boot_index"] == 0 and not image_ref:
                        # The root's snapshot is read for its volume's image metadata
                        # first, and nova lets that SnapshotNotFound through (a 400).
                        raise BadRequest(f"Snapshot {bdm['snapshot_id']} could not be "
                                         "found.") from None
                    raise invalid_bdm(f"failed to get snapshot {bdm['snapshot_id']}.") \
                        from None
                bdm["volume_size"] = bdm["volume_size"] or snapshot.get("size")
            elif bdm["source_type"] == "blank" and bdm["destination_type"] == "volume" and \
                    not bdm["volume_size"]:
                raise invalid_bdm("Blank volumes (source: 'blank', dest: 'volume') need to "
                                  "have non-zero size")
        root = next(b for b in mappings if b["boot_index"] == 0)
        if boot_image is not None and root in image_defined:
            # Booted from the image, whose root is a volume: the server records the image
            # and boots with its properties.
            return self._image_volume_root(mappings, root, boot_image, volumes)
        if root["destination_type"] == "local":
            if root["source_type"] != "image":
                raise invalid_bdm("Boot sequence for the instance and image/block device "
                                  "mapping combination is not valid.")
            image = images[root["image_id"]]
            return BootDisks(mappings, image, image["properties"], image["min_ram"],
                             volumes=volumes)
        return self._volume_root(mappings, root, images, volumes)

    @staticmethod
    def _volume_root(mappings: list[dict[str, Any]], root: dict[str, Any],
                     images: dict[str, dict[str, Any]],
                     volumes: dict[str, dict[str, Any]]) -> BootDisks:
        """A server booted from a volume: its image is the one the volume was made from."""
        properties: dict[str, Any] = {}
        min_ram = min_disk = 0
        if root["source_type"] == "image":
            image = images[root["image_id"]]
            properties, min_ram, min_disk = image["properties"], image["min_ram"], \
                image["min_disk"]
        elif root["source_type"] == "volume":
            volume = volumes[root["volume_id"]]
            if str(volume.get("bootable", "false")).lower() != "true":
                raise BadRequest(f"Block Device {root['volume_id']} is not bootable.")
            metadata = dict(volume.get("volume_image_metadata") or {})
            min_ram = int(metadata.pop("min_ram", 0) or 0)
            min_disk = int(metadata.pop("min_disk", 0) or 0)
            properties = {k: v for k, v in metadata.items()
                          if k not in ("image_id", "image_name", "checksum", "size",
                                       "container_format", "disk_format")}
        size = root["volume_size"] or 0
        if min_disk and size < min_disk:
            raise BadRequest("Volume is smaller than the minimum size specified in image "
                             f"metadata. Volume size is {size * 1024 ** 3} bytes, minimum "
                             f"size is {min_disk * 1024 ** 3} bytes.")
        return BootDisks(mappings, None, properties, min_ram, volume_backed=True,
                         volumes=volumes)

    @staticmethod
    def _image_volume_root(mappings: list[dict[str, Any]], root: dict[str, Any],
                           image: dict[str, Any],
                           volumes: dict[str, dict[str, Any]]) -> BootDisks:
        size = root["volume_size"] or 0
        if image["min_disk"] and size < image["min_disk"]:
            raise BadRequest("Volume is smaller than the minimum size specified in image "
                             f"metadata. Volume size is {size * 1024 ** 3} bytes, minimum "
                             f"size is {image['min_disk'] * 1024 ** 3} bytes.")
        return BootDisks(mappings, image, image["properties"], image["min_ram"],
                         volume_backed=True, volumes=volumes)

    async def _reserve(self, disks: BootDisks, uuid: str, token: str,
                       multiattach_ok: bool) -> None:
        """Each existing volume reserved for the server (a cinder attachment, no host yet):
        cinder refuses one that is in use (nova's InvalidVolume, 400)."""
        cinder = self.service.cinder
        for bdm in disks.mappings:
            if not bdm["volume_id"]:
                continue
            assert cinder is not None
            volume = disks.volumes[bdm["volume_id"]]
            if volume.get("multiattach") and not multiattach_ok:
                raise BadRequest("Multiattach volumes are only supported starting with compute "
                                 "API version 2.60.")
            try:
                bdm["attachment_id"] = (await cinder.attachment_create(
                    bdm["volume_id"], uuid, token=token))["id"]
            except CinderError as exc:
                await self._unreserve(disks, token)
                if exc.status >= 500:
                    raise nova_internal_error("cinderclient.exceptions.ClientException") \
                        from None
                raise BadRequest(f"Invalid volume: Invalid input received: {exc.message} "
                                 "(HTTP 400)") from None

    async def _unreserve(self, disks: BootDisks, token: str) -> None:
        cinder = self.service.cinder
        for bdm in disks.mappings:
            if bdm.get("attachment_id") and cinder is not None:
                try:
                    await cinder.attachment_delete(bdm.pop("attachment_id"), token=token)
                except CinderError:
                    continue

    async def create(self, context: RequestContext, request: BuildRequest, *,
                     zero_disk_allowed: bool, multiattach_ok: bool = True) -> Built:
        """Check a create, record its servers and cast their build to the conductor."""
        service = self.service
        token = context.auth_token or ""
        project = context.project_id or ""
        disks = await self.boot_disks(request, token)
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
        if any(b["destination_type"] == "volume" for b in disks.mappings):
            # The compute host creates and attaches the volumes with the user's token.
            ctxt["auth_token"] = context.auth_token
        # A server using an existing volume is one server (checked above): its id is known
        # before its record, so that cinder reserves the volume for it first.
        first_uuid = service.ids.uuid() if disks.volumes else None
        if first_uuid is not None:
            await self._reserve(disks, first_uuid, token, multiattach_ok)
        try:
            uuids, reservation_id, flavor, group = self._record(
                context, request, disks, networks, first_uuid, zero_disk_allowed, ctxt)
        except Exception:
            await self._unreserve(disks, token)
            raise
        admin_pass = request.admin_pass or service.ids.urlsafe_token(9)
        spec: dict[str, Any] = {
            "flavor": flavor, "image_properties": disks.properties,
            "availability_zone": zone, "scheduler_hints": request.hints,
            "group": {"uuid": group.uuid, "policy": group.policy, "rules": dict(group.rules)}
            if group else None,
            "force_hosts": [forced_host] if forced_host else [],
            "boot_from_volume": disks.volume_backed, "project_id": project,
        }
        await service.bus.cast(Target("conductor"), "build_instances", instance_uuids=uuids,
                               spec=spec, ctxt=ctxt)
        await service.settle(uuids)
        return Built(uuids, reservation_id, admin_pass)

    def _record(self, context: RequestContext, request: BuildRequest, disks: BootDisks,
                networks: Any, first_uuid: str | None, zero_disk_allowed: bool,
                ctxt: dict[str, Any]) -> tuple[list[str], str, dict[str, Any],
                                               m.ServerGroup | None]:
        """The new servers' records (and their block device mappings), in one transaction."""
        service = self.service
        project, user = context.project_id or "", context.user_id or ""
        zone = request.zone
        with service.db.session() as session:
            flavor = self.flavor(session, request.flavor_ref, context)
            if disks.volume_backed:
                if flavor["memory_mb"] < disks.min_ram:
                    raise BadRequest("Flavor's memory is too small for requested image.")
            else:
                assert disks.image is not None
                check_image_fits(flavor, disks.image)
                if flavor["root_gb"] == 0 and not zero_disk_allowed:
                    raise Forbidden("Only volume-backed servers are allowed for flavors with "
                                    "zero disk.")
            key_data = self.key_pair(session, user, request.key_name).public_key \
                if request.key_name else None
            # Counted and created as one step across processes sharing the database (the
            # count reads what the lock's previous holder committed): nova rechecks after
            # creating instead ([quota] recheck_quota), which can refuse both racers.
            serialize(session, f"compute:quota:{project}")
            count = quotas.servers_allowed(service.quotas.limits(project),
                                           service.quotas.usage(project), flavor,
                                           request.min_count, request.max_count)
            group = self._server_group(session, request.hints, context, count)
            reservation_id = "r-" + service.ids.hex_id()[:8]
            now = service.clock.now()
            uuids: list[str] = []
            local = [{k: v for k, v in b.items() if v is not None}
                     for b in disks.mappings if b["destination_type"] == "local"]
            for index, (name, hostname) in enumerate(
                    server_names(request.name, request.hostname, count)):
                uuid = first_uuid if index == 0 and first_uuid else service.ids.uuid()
                instance = m.Instance(
                    uuid=uuid, name=name, hostname=hostname,
                    description=request.description, project_id=project, user_id=user,
                    image_ref=disks.image["id"] if disks.image else "", flavor=flavor,
                    vcpus=flavor["vcpus"],
                    memory_mb=flavor["memory_mb"], vm_state=states.BUILDING,
                    task_state=states.SCHEDULING, power_state=states.NOSTATE,
                    key_name=request.key_name, key_data=key_data, user_data=request.user_data,
                    config_drive="True" if request.config_drive else "",
                    access_ipv4=request.access_ipv4, access_ipv6=request.access_ipv6,
                    disk_config=request.disk_config, metadata_=dict(request.metadata),
                    system_metadata=image_meta.system_metadata(disks.properties),
                    tags=list(dict.fromkeys(request.tags)),
                    security_groups=request.security_groups or ["default"],
                    networks=networks, addresses={}, block_devices=local,
                    scheduler_hints=request.hints,
                    server_group=group.uuid if group else None,
                    trusted_certs=request.trusted_certs, reservation_id=reservation_id,
                    launch_index=index, availability_zone=zone, requested_zone=zone,
                    created_at=now, updated_at=now)
                session.add(instance)
                session.flush()
                for bdm in disks.mappings:
                    service.volumes.add(session, instance.uuid, bdm)
                service.instances.start_action(session, instance, "create", ctxt)
                uuids.append(instance.uuid)
            if group is not None:
                group.members = [*group.members, *uuids]
        return uuids, reservation_id, flavor, group

    async def rebuild(self, session: Session, instance: m.Instance, fields: Mapping[str, Any],
                      context: RequestContext, *, reimage: bool = False) -> Cast:
        """The server again from ``imageRef``, with the fields the rebuild names changed."""
        image = await self.image(fields["imageRef"], context.auth_token or "",
                                 missing="Cannot find image for rebuild")
        root = session.scalar(select(m.BlockDeviceMapping).where(
            m.BlockDeviceMapping.instance_uuid == instance.uuid,
            m.BlockDeviceMapping.boot_index == 0,
            m.BlockDeviceMapping.destination_type == "volume"))
        volume_backed = root is not None and bool(root.volume_id)
        if root is not None and root.volume_id:
            # Volume-backed: the image is the one its root volume was made from.
            volume = await self.service.volumes.volume(root.volume_id, context.auth_token)
            original = (volume.get("volume_image_metadata") or {}).get("image_id")
            if original != fields["imageRef"] and not reimage:
                raise BadRequest(f"Image {fields['imageRef']} is unacceptable: Unable to "
                                 "rebuild with a different image for a volume-backed "
                                 "server.")
        else:
            # An empty image_ref marks a volume-backed server: it stays so (as nova).
            instance.image_ref = image["id"]
        await self._check_volumes_in_use(session, instance.uuid, context.auth_token)
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
        # 2.93 re-images the root volume of a volume-backed server (with the same image
        # too): cinder writes it anew.
        return Cast.to_compute(instance.host, "rebuild_instance", instance_uuid=instance.uuid,
                               image_ref=image["id"], evacuate=False, migration_uuid=None,
                               target_state=None,
                               reimage_boot_volume=reimage and volume_backed)

    async def _check_volumes_in_use(self, session: Session, instance_uuid: str,
                                    token: str | None) -> None:
        """nova's _check_volume_status: every attached volume in-use, or the rebuild would
        fail to attach it again."""
        for volume_id, _ in self.service.volumes.attached(session, instance_uuid):
            volume = await self.service.volumes.volume(volume_id, token)
            if volume.get("status") != "in-use":
                raise BadRequest(f"Invalid volume: volume '{volume_id}' status must be "
                                 f"'in-use'. Currently in '{volume.get('status')}' status")
