"""Managing what a backend holds outside cinder (cinder/volume/api.py ``manage_existing``,
``manage_existing_snapshot``, ``get_manageable_volumes``/``_snapshots`` and the flows of
cinder/volume/flows/*/manage_existing*.py, with the LVM driver's view of its volume group).

A backend's logical volumes are the lab store's entries: ``volume-<id>`` for a volume's,
``_snapshot-<id>`` for a snapshot's. What os-unmanage leaves there stays, with the size the
volume had (an LV keeps its size); an entry no row names is manageable. Managing one makes a
row (``managing``, size 0) at once; the owning cinder-volume then sizes it, checks the
project's quota and renames the LV after the new row (``available``), or the row ends in
``error_managing`` (a snapshot in ``error``), as upstream's asynchronous errors.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest, ServiceUnavailable
from stacklab.block_storage import models as m
from stacklab.block_storage.servicegroup import VOLUME
from stacklab.block_storage.volumes import Caller, Cast, backend_of, invalid_input

if TYPE_CHECKING:
    from stacklab.block_storage.backends import Backend
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")
GIB = 1024 ** 3
VOLUME_PREFIX = "volume-"
SNAPSHOT_PREFIX = "_snapshot-"
SORT_KEYS = ("reference", "size")


@dataclass
class Leftover:
    """What an unmanaged volume or snapshot left on its backend."""

    kind: str  # "volume" or "snapshot"
    size: int
    origin: str | None = None  # a snapshot's volume


def lv_name(kind: str, ident: str) -> str:
    return (SNAPSHOT_PREFIX if kind == "snapshot" else VOLUME_PREFIX) + ident


def _ident(ref: Any, kind: str) -> str | None:
    """The store entry an LVM reference names (``{"source-name": <LV>}``), or None."""
    if not isinstance(ref, Mapping) or not isinstance(ref.get("source-name"), str):
        return None
    prefix = SNAPSHOT_PREFIX if kind == "snapshot" else VOLUME_PREFIX
    name = str(ref["source-name"])
    return name[len(prefix):] if name.startswith(prefix) else None


class Manageable:
    def __init__(self, service: BlockStorageService) -> None:
        self.service = service
        # (host@backend, entry): what os-unmanage left there.
        self.leftovers: dict[tuple[str, str], Leftover] = {}

    # -- what the backend holds -------------------------------------------------------------

    def left(self, backend: str, ident: str, leftover: Leftover) -> None:
        self.leftovers[(backend, ident)] = leftover

    def _entries(self, backend: str) -> list[str]:
        store = self.service.store
        if store.rbd.serves(backend):
            # The rbd driver lists its pool's images; the lab knows what it left there.
            return [ident for (host, ident) in self.leftovers if host == backend]
        return store.names(backend)

    def _size(self, backend: str, ident: str) -> int:
        leftover = self.leftovers.get((backend, ident))
        if leftover is not None:
            return leftover.size
        return max(1, math.ceil(len(self.service.store.read(backend, ident)) / GIB))

    def listing(self, session: Session, host: str, kind: str) -> list[dict[str, Any]]:
        """The LVM driver's ``get_manageable_volumes`` (or ``_snapshots``) of a backend."""
        backend = backend_of(host)
        snapshots = {s.id: s for s in session.scalars(select(m.Snapshot))}
        volumes = set(session.scalars(select(m.Volume.id)))
        entries = []
        for ident in self._entries(backend):
            leftover = self.leftovers.get((backend, ident))
            is_snapshot = ident in snapshots or (leftover is not None
                                                 and leftover.kind == "snapshot")
            if is_snapshot != (kind == "snapshot"):
                continue
            managed = ident in (snapshots if kind == "snapshot" else volumes)
            entry: dict[str, Any] = {
                "reference": {"source-name": lv_name(kind, ident)},
                "size": self._size(backend, ident),
                "safe_to_manage": not managed,
                "reason_not_safe": "already managed" if managed else None,
                "cinder_id": ident if managed else None, "extra_info": None}
            if kind == "snapshot":
                origin = (snapshots[ident].volume_id if ident in snapshots
                          else leftover.origin if leftover is not None else None)
                entry["source_reference"] = {"source-name": lv_name("volume", origin or "")}
            entries.append(entry)
        return entries

    # -- cinder-api --------------------------------------------------------------------------

    def service_for(self, session: Session, host: str | None,
                    cluster: str | None) -> m.VolumeService:
        """cinder's ``_get_service_by_host_cluster``: a cinder-volume that is up and
        enabled, else 503."""
        record = None
        if host:
            record = session.scalars(select(m.VolumeService).where(
                m.VolumeService.host == backend_of(host),
                m.VolumeService.binary == VOLUME)).first()
        if record is None:
            name, value = ("Host", host) if host else ("Cluster", cluster)
            raise ServiceUnavailable(f"{name} '{value}' not found")
        if record.disabled or not self.service.services.is_up(record):
            raise ServiceUnavailable("Service is unavailable at this time.")
        return record

    def manage_volume(self, session: Session, caller: Caller, fields: Mapping[str, Any],
                      host: str | None, cluster: str | None) -> tuple[m.Volume, Cast]:
        ref = fields["ref"]
        named = _ident(ref, "volume")
        if named is not None and session.get(m.Volume, named) is not None:
            raise BadRequest("Invalid volume: Unable to manage existing volume. The volume "
                             "is already managed")
        types = self.service.types
        asked = fields.get("volume_type")
        if asked:
            try:
                volume_type = types.find(session, asked, caller.project_id, caller.admin)
            except ApiError:
                raise BadRequest(f"Invalid volume type: Cannot find requested '{asked}' "
                                 "volume type") from None
        else:
            default = types.default(session)
            if default is None:
                raise BadRequest("Invalid volume type: the default volume type is missing.")
            volume_type = default
        if session.get(m.Encryption, volume_type.id) is not None:
            raise BadRequest("Invalid volume type: Managing to an encrypted volume type is "
                             "not supported.")
        record = self.service_for(session, host, cluster)
        # The row counts as a volume from now on (its gigabytes once it is sized).
        self.service.quotas.check_volume(session, caller.project_id, 0, volume_type.name)
        manage_host = self.service.migrations.pool_host(
            host if host and "#" in host else record.host)
        now = self.service.clock.now()
        volume = m.Volume(
            id=self.service.ids.uuid(), project_id=caller.project_id, user_id=caller.user_id,
            name=(fields.get("name") or "").strip() or None,
            description=(fields.get("description") or "").strip() or None, size=0,
            status="managing", attach_status="detached",
            availability_zone=fields.get("availability_zone") or record.availability_zone,
            host=manage_host, volume_type_id=volume_type.id,
            bootable=bool(fields.get("bootable", False)),
            multiattach=volume_type.extra_specs.get("multiattach") == "<is> True",
            metadata_=dict(fields.get("metadata") or {}), admin_metadata={},
            replication_status="disabled", image_metadata={}, created_at=now)
        session.add(volume)
        session.flush()
        return volume, Cast("cinder-volume", backend_of(manage_host), "manage_existing",
                            {"volume_id": volume.id, "ref": ref})

    def manage_snapshot(self, session: Session, caller: Caller, volume: m.Volume,
                        fields: Mapping[str, Any]) -> tuple[m.Snapshot, Cast]:
        if volume.host is None:
            raise ServiceUnavailable("Service is unavailable at this time.")
        self.service_for(session, volume.host, None)
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        self.service.quotas.check_snapshot(session, caller.project_id, volume.size,
                                           volume_type.name if volume_type else None)
        now = self.service.clock.now()
        snapshot = m.Snapshot(
            id=self.service.ids.uuid(), project_id=caller.project_id,
            user_id=caller.user_id, volume_id=volume.id, volume_size=volume.size,
            volume_type_id=volume.volume_type_id, name=fields.get("name"),
            description=fields.get("description"), status="creating", progress="0%",
            metadata_=dict(fields.get("metadata") or {}), created_at=now)
        session.add(snapshot)
        session.flush()
        return snapshot, Cast("cinder-volume", backend_of(volume.host),
                              "manage_existing_snapshot",
                              {"snapshot_id": snapshot.id, "ref": fields["ref"]})

    # -- cinder-volume -----------------------------------------------------------------------

    def take_volume(self, backend: str, volume_id: str, ref: Any) -> None:
        """The driver sizes the LV, the quota is reserved, the LV is renamed."""
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None or volume.status != "managing":
                return
            reason = self._refused(session, backend, ref, "volume")
            ident = _ident(ref, "volume")
            size = 0
            if reason is None and ident is not None:
                size = self._size(backend, ident)
                volume_type = session.get(m.VolumeType, volume.volume_type_id)
                try:
                    service.quotas.check_volume(
                        session, volume.project_id, size,
                        volume_type.name if volume_type else None, count=0)
                except ApiError as error:
                    reason = str(error)
            now = service.clock.now()
            volume.updated_at = now
            if reason is not None or ident is None:
                LOG.error("Manage existing volume %s failed: %s", volume_id, reason)
                volume.status = "error_managing"
                return
            self._rename(session, backend, ident, volume_id)
            volume.size = size
            volume.status = "available"
            volume.launched_at = now
            volume.service_uuid = service.service_uuid(backend)
        LOG.info("Manage existing volume completed successfully. (volume %s)", volume_id)

    def take_snapshot(self, backend: str, snapshot_id: str, ref: Any) -> None:
        service = self.service
        with service.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is None or snapshot.status != "creating":
                return
            reason = self._refused(session, backend, ref, "snapshot")
            ident = _ident(ref, "snapshot")
            snapshot.updated_at = service.clock.now()
            if reason is not None or ident is None:
                LOG.error("Manage existing snapshot %s failed: %s", snapshot_id, reason)
                snapshot.status = "error"
                return
            self._rename(session, backend, ident, snapshot_id)
            snapshot.status = "available"
            snapshot.progress = "100%"

    def _refused(self, session: Session, backend: str, ref: Any, kind: str) -> str | None:
        """Why the driver refuses ``ref`` (ManageExistingInvalidReference and kin)."""
        if not isinstance(ref, Mapping) or "source-name" not in ref:
            return (f"Manage existing {kind} failed due to invalid backend reference "
                    f"{json.dumps(ref)}: Reference must contain source-name element.")
        ident = _ident(ref, kind)
        if ident is None or ident not in self._entries(backend):
            return (f"Manage existing {kind} failed due to invalid backend reference "
                    f"{ref['source-name']}: Specified logical volume does not exist.")
        if session.get(m.Volume if kind == "volume" else m.Snapshot, ident) is not None:
            return f"Failed to manage existing {kind} {ref['source-name']}, because of " \
                   "it is already managed."
        return None

    def _rename(self, session: Session, backend: str, old: str, new: str) -> None:
        self.service.store.move(backend, old, backend, new, session=session)
        self.leftovers.pop((backend, old), None)


def sort_and_page(entries: list[dict[str, Any]], query: Mapping[str, str]
                  ) -> list[dict[str, Any]]:
    """cinder's ``paginate_entries_list``: sorted by reference or size, after a marker
    (a reference, as JSON), ``offset`` skipped, ``limit`` long."""
    keys, dirs = _sort(query)
    bad = [k for k in keys if k not in SORT_KEYS]
    if bad:
        raise BadRequest(f"Invalid sort keys passed: {', '.join(bad)}")
    bad = [d for d in dirs if d not in ("asc", "desc")]
    if bad:
        raise BadRequest(f"Invalid sort dirs passed: {', '.join(bad)}")

    def value(entry: dict[str, Any], key: str) -> Any:
        found = entry[key]
        return sorted(found.values())[0] if isinstance(found, dict) else found

    ordered = list(entries)
    for key, direction in reversed(list(zip(keys, dirs, strict=True))):
        ordered.sort(key=functools.partial(value, key=key), reverse=direction == "desc")
    offset = _number(query.get("offset"), "offset", 0) or 0
    limit = _number(query.get("limit"), "limit", None)
    start = 0
    if query.get("marker"):
        try:
            marker = json.loads(query["marker"])
        except ValueError:
            raise invalid_input(f"marker {query['marker']} can not be analysed, please use "
                                "json like format") from None
        positions = [i for i, e in enumerate(ordered) if e["reference"] == marker]
        if not positions:
            raise invalid_input(f"marker not found: {marker}")
        start = positions[0] + 1
    end = None if limit is None else start + offset + limit
    return ordered[start + offset:end]


def _sort(query: Mapping[str, str]) -> tuple[list[str], list[str]]:
    if "sort" in query:
        keys, dirs = [], []
        for part in query["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            keys.append(key.strip())
            dirs.append(direction.strip() or "asc")
        return keys, dirs
    keys = [k.strip() for k in query.get("sort_key", "reference").split(",")]
    dirs = [d.strip() for d in query.get("sort_dir", "asc").split(",")]
    dirs += [dirs[-1]] * (len(keys) - len(dirs))
    return keys, dirs[:len(keys)]


def _number(raw: str | None, name: str, default: int | None) -> int | None:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} param must be an integer") from None
    if value < 0:
        raise BadRequest(f"{name} param must be positive")
    return value


class ManageEndpoints:
    """The manage and unmanage methods of VolumeManager (one backend of one node)."""

    service: BlockStorageService
    backend: Backend

    async def manage_existing(self, volume_id: str, ref: Any) -> None:
        self.service.manageable.take_volume(self.backend.host, volume_id, ref)

    async def manage_existing_snapshot(self, snapshot_id: str, ref: Any) -> None:
        self.service.manageable.take_snapshot(self.backend.host, snapshot_id, ref)

    async def unmanage_snapshot(self, snapshot_id: str) -> None:
        """The snapshot leaves cinder; its LV stays (a manageable snapshot again)."""
        with self.service.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is None:
                return
            self.service.manageable.left(self.backend.host, snapshot_id, Leftover(
                "snapshot", snapshot.volume_size, snapshot.volume_id))
            session.delete(snapshot)
        LOG.info("Unmanage snapshot completed successfully. (snapshot %s)", snapshot_id)
