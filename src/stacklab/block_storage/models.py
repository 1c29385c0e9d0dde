"""cinder's tables, as stacklab keeps them (one prefix, ``block_storage_``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import BYTES, Base


class VolumeService(Base):
    """A cinder service (cinder-scheduler on a host, cinder-volume on host@backend), as
    cinder's services table: ``updated_at`` is its last heartbeat, ``modified_at`` its
    last change by an operator (enable/disable), which the list shows when newer."""

    __tablename__ = "block_storage_service"
    __table_args__ = (UniqueConstraint("host", "binary"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    # The lab node whose process this is (a host@backend names a backend, not a node).
    node: Mapped[str] = mapped_column(String(255))
    availability_zone: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    replication_status: Mapped[str] = mapped_column(String(36), default="disabled")
    active_backend_id: Mapped[str | None] = mapped_column(String(255))
    cluster_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)
    modified_at: Mapped[float | None] = mapped_column(Float)


class VolumeType(Base):
    """A volume type: its extra specs (what the scheduler matches), who may use it when
    private (``projects``), its QoS specs and, as a row of its own, its encryption."""

    __tablename__ = "block_storage_volume_type"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    extra_specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    projects: Mapped[list[str]] = mapped_column(default=list)
    qos_specs_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class QosSpecs(Base):
    __tablename__ = "block_storage_qos_specs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    consumer: Mapped[str] = mapped_column(String(255))
    specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class Encryption(Base):
    """A volume type's encryption, as data: no volume is encrypted by stacklab."""

    __tablename__ = "block_storage_encryption"
    volume_type_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    encryption_id: Mapped[str] = mapped_column(String(36), unique=True)
    provider: Mapped[str] = mapped_column(String(255))
    control_location: Mapped[str] = mapped_column(String(255))
    cipher: Mapped[str | None] = mapped_column(String(255))
    key_size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Volume(Base):
    """A volume, as cinder's volumes table holds it.

    ``host`` is ``host@backend#pool``, the cinder-volume service that owns it (``None``
    until the scheduler picked one); only that service acts on it. ``attach_status``
    follows its attachments (their own table, keyed by the volume's id, as cinder's
    volume_attachment); ``admin_metadata`` holds what only
    cinder sets (``readonly``); ``image_metadata`` is the volume_glance_metadata of a
    volume made from an image.
    """

    __tablename__ = "block_storage_volume"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(255))
    previous_status: Mapped[str | None] = mapped_column(String(255))
    attach_status: Mapped[str] = mapped_column(String(255), default="detached")
    migration_status: Mapped[str | None] = mapped_column(String(255))
    replication_status: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    service_uuid: Mapped[str | None] = mapped_column(String(36))
    volume_type_id: Mapped[str] = mapped_column(String(36))
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False)
    encryption_key_id: Mapped[str | None] = mapped_column(String(36))
    group_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    admin_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    image_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)
    launched_at: Mapped[float | None] = mapped_column(Float)
    terminated_at: Mapped[float | None] = mapped_column(Float)


class VolumeAttachment(Base):
    """One attachment of a volume (cinder's volume_attachment): reserved for an instance,
    then given a connector (``attaching``, with the host and device it names), then
    ``attached``. A detached one is gone: cinder keeps it soft-deleted, which no API shows.
    ``attach_mode`` is ``null`` (the text) until a mode is asked, as cinder stores it."""

    __tablename__ = "block_storage_volume_attachment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    attach_mode: Mapped[str | None] = mapped_column(String(36))
    attach_status: Mapped[str] = mapped_column(String(255))
    # The volume's host when it was reserved: the cinder-volume that made the connection.
    volume_host: Mapped[str | None] = mapped_column(String(255))
    connector: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    connection_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attach_time: Mapped[float | None] = mapped_column(Float)
    detach_time: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Snapshot(Base):
    __tablename__ = "block_storage_snapshot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    volume_size: Mapped[int] = mapped_column(Integer)
    volume_type_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    progress: Mapped[str | None] = mapped_column(String(255))
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Quota(Base):
    """A project's own limit for one resource (cinder's quotas table); absent, the
    default holds."""

    __tablename__ = "block_storage_quota"
    __table_args__ = (UniqueConstraint("project_id", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(String(255))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class QuotaClass(Base):
    """A quota class's limit for one resource (cinder's quota_classes): the class
    ``default`` holds what every project gets unless it has its own."""

    __tablename__ = "block_storage_quota_class"
    __table_args__ = (UniqueConstraint("class_name", "resource"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    class_name: Mapped[str] = mapped_column(String(255), index=True)
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)


class Backup(Base):
    """A volume backup (cinder's backups table). ``host`` is the cinder-backup service
    that last handled it; ``service_metadata`` the object-name prefix its driver wrote
    under ``container``; ``parent_id`` the backup an incremental one builds on."""

    __tablename__ = "block_storage_backup"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    restore_volume_id: Mapped[str | None] = mapped_column(String(36))
    host: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    container: Mapped[str | None] = mapped_column(String(255))
    service: Mapped[str | None] = mapped_column(String(255))
    service_metadata: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    fail_reason: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    object_count: Mapped[int] = mapped_column(Integer, default=0)
    num_dependent_backups: Mapped[int] = mapped_column(Integer, default=0)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    data_timestamp: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Transfer(Base):
    """A volume transfer (cinder's transfers table): the auth key is kept as a salted
    hash only; an accepted or deleted transfer stays as history (``deleted``)."""

    __tablename__ = "block_storage_transfer"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    salt: Mapped[str] = mapped_column(String(255))
    crypt_hash: Mapped[str] = mapped_column(String(255))
    source_project_id: Mapped[str] = mapped_column(String(255))
    destination_project_id: Mapped[str | None] = mapped_column(String(255))
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    no_snapshots: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class GroupType(Base):
    """A group type (cinder's group_types): its group specs, public or not."""

    __tablename__ = "block_storage_group_type"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    group_specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Group(Base):
    """A generic volume group (cinder's groups): its type, the volume types its volumes
    may have, and the backend (``host``) its volumes all live on."""

    __tablename__ = "block_storage_group"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    availability_zone: Mapped[str] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    group_type_id: Mapped[str] = mapped_column(String(36))
    volume_type_ids: Mapped[list[str]] = mapped_column(default=list)
    group_snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_group_id: Mapped[str | None] = mapped_column(String(36))
    replication_status: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class GroupSnapshot(Base):
    """A snapshot of a group (cinder's group_snapshots): one snapshot of each volume the
    group held, made together (theirs carry its id)."""

    __tablename__ = "block_storage_group_snapshot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str | None] = mapped_column(String(255))
    group_id: Mapped[str] = mapped_column(String(36), index=True)
    group_type_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Message(Base):
    """A user message (cinder's messages): what went wrong in an asynchronous step of a
    request the user had a 2xx for, as an event id (resource, action, detail) rather than
    the failure's own text. ``expires_at`` is when it may go."""

    __tablename__ = "block_storage_message"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    message_level: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(255))
    resource_type: Mapped[str | None] = mapped_column(String(36))
    resource_uuid: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(255))
    detail_id: Mapped[str | None] = mapped_column(String(10))
    action_id: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, index=True)


class VolumeData(Base):
    """What a backend holds: a volume's or a snapshot's bytes (an LVM logical volume, an
    rbd image), by host@backend. In the store rather than in a process, as a node's LVM
    and the storage nodes' disks outlive it: every cinder process reads the same, and a
    restarted cinder-volume keeps its volumes' data (``storage.py``)."""

    __tablename__ = "block_storage_volume_data"
    backend: Mapped[str] = mapped_column(String(255), primary_key=True)
    ident: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Which piece of the bytes (store.base.pieces: a row must fit one database packet).
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The piece's length, so that a pool's used space is summed without reading them.
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(BYTES)


class BackupObject(Base):
    """An object of the backups' object store (swift's stand-in, ``objectstore.py``):
    every controller's cinder-backup writes and reads the same."""

    __tablename__ = "block_storage_backup_object"
    container: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    # Which piece of the object (cinder's objects are up to 50 MiB: store.base.pieces).
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(BYTES)


class PoolUsage(Base):
    """What a backend's entries (``VolumeData``) hold in all, in bytes: kept with every
    write, so that the scheduler reads a pool's used space in one row rather than summing
    every volume's at each request."""

    __tablename__ = "block_storage_pool_usage"
    backend: Mapped[str] = mapped_column(String(255), primary_key=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger)
