"""Compute's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


class Flavor(Base):
    __tablename__ = "compute_flavor"
    # nova's flavors have an internal integer id and a public string "flavorid".
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    extra_specs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class FlavorAccess(Base):
    __tablename__ = "compute_flavor_access"
    flavor_id: Mapped[int] = mapped_column(
        ForeignKey("compute_flavor.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class KeyPair(Base):
    __tablename__ = "compute_keypair"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    fingerprint: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(8), default="ssh")
    created_at: Mapped[float] = mapped_column(Float)


class ServiceRecord(Base):
    """A nova service (nova-compute, -scheduler, -conductor) on a host, as nova's services table."""

    __tablename__ = "compute_service"
    __table_args__ = (UniqueConstraint("host", "binary"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    forced_down: Mapped[bool] = mapped_column(Boolean, default=False)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seen_up: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class ServerGroup(Base):
    __tablename__ = "compute_server_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    policy: Mapped[str] = mapped_column(String(32))
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    members: Mapped[list[str]] = mapped_column(default=list)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)


class Instance(Base):
    """A server, as nova's instances table (only the columns the API and agents use)."""

    __tablename__ = "compute_instance"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    hostname: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    image_ref: Mapped[str] = mapped_column(String(255), default="")
    # The flavor as it was at boot (nova keeps a copy: later flavor edits do not change it).
    flavor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The flavor's vcpus and memory_mb again, as columns: quota usage sums them in SQL.
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mb: Mapped[int] = mapped_column(Integer, default=0)
    old_flavor: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    host: Mapped[str | None] = mapped_column(String(255), index=True)
    node: Mapped[str | None] = mapped_column(String(255))
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    requested_zone: Mapped[str | None] = mapped_column(String(255))
    vm_state: Mapped[str] = mapped_column(String(255))
    task_state: Mapped[str | None] = mapped_column(String(255))
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(16))
    locked_reason: Mapped[str | None] = mapped_column(Text)
    key_name: Mapped[str | None] = mapped_column(String(255))
    key_data: Mapped[str | None] = mapped_column(Text)
    user_data: Mapped[str | None] = mapped_column(Text)
    config_drive: Mapped[str] = mapped_column(String(16), default="")
    access_ipv4: Mapped[str] = mapped_column(String(64), default="")
    access_ipv6: Mapped[str] = mapped_column(String(64), default="")
    disk_config: Mapped[str] = mapped_column(String(16), default="MANUAL")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    system_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    security_groups: Mapped[list[str]] = mapped_column(default=list)
    networks: Mapped[Any] = mapped_column(JSON, default=None)
    addresses: Mapped[dict[str, Any]] = mapped_column(default=dict)
    block_devices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scheduler_hints: Mapped[dict[str, Any]] = mapped_column(default=dict)
    server_group: Mapped[str | None] = mapped_column(String(36))
    trusted_certs: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    reservation_id: Mapped[str] = mapped_column(String(255), default="")
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    fault: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    launched_at: Mapped[float | None] = mapped_column(Float)
    terminated_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float | None] = mapped_column(Float)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    deleted_at: Mapped[float | None] = mapped_column(Float)


class InstanceAction(Base):
    """One user-visible operation on a server (``os-instance-actions``)."""

    __tablename__ = "compute_instance_action"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(255))
    request_id: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(String(255))
    start_time: Mapped[float] = mapped_column(Float)
    finish_time: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class InstanceActionEvent(Base):
    __tablename__ = "compute_instance_action_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("compute_instance_action.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str | None] = mapped_column(String(255))
    traceback: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[float] = mapped_column(Float)
    finish_time: Mapped[float | None] = mapped_column(Float)


class Migration(Base):
    """A move of a server between hosts (resize, cold/live migration, evacuation)."""

    __tablename__ = "compute_migration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    migration_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    source_compute: Mapped[str | None] = mapped_column(String(255))
    dest_compute: Mapped[str | None] = mapped_column(String(255))
    old_flavor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    new_flavor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    project_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class QuotaLimit(Base):
    """A project's own limit for one resource, over the ``[quota]`` default."""

    __tablename__ = "compute_quota"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class Aggregate(Base):
    """A host aggregate: named hosts and metadata; ``availability_zone`` metadata is a zone.

    Hosts and metadata are JSON on the row: an aggregate is read and written whole, and a
    lab has tens of them, not the thousands that would want nova's join tables.
    """

    __tablename__ = "compute_aggregate"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class QuotaClassLimit(Base):
    """A quota class's limit for one resource; the ``default`` class's are every project's
    defaults, over ``[quota]``."""

    __tablename__ = "compute_quota_class"
    class_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class BlockDeviceMapping(Base):
    """One disk of a server, as nova's block_device_mapping table: a volume (attached, or
    created for a boot from volume) or a local disk.

    A detached volume's row is removed (nova soft-deletes it; nothing here reads it back).
    """

    __tablename__ = "compute_block_device_mapping"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    instance_uuid: Mapped[str] = mapped_column(String(36), index=True)
    source_type: Mapped[str] = mapped_column(String(255))
    destination_type: Mapped[str] = mapped_column(String(255))
    boot_index: Mapped[int | None] = mapped_column(Integer)
    device_name: Mapped[str | None] = mapped_column(String(255))
    volume_id: Mapped[str | None] = mapped_column(String(36), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    volume_size: Mapped[int | None] = mapped_column(Integer)
    volume_type: Mapped[str | None] = mapped_column(String(255))
    attachment_id: Mapped[str | None] = mapped_column(String(36))
    delete_on_termination: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(255))
    guest_format: Mapped[str | None] = mapped_column(String(255))
    disk_bus: Mapped[str | None] = mapped_column(String(255))
    device_type: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


# -- placement (placement's resource_providers, inventories and allocations) ---------------


class ResourceProvider(Base):
    """A compute node as placement's resource provider; every change of its inventories or
    of the allocations against it moves its generation on (the compare-and-swap of a
    claim)."""

    __tablename__ = "placement_resource_provider"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class ProviderInventory(Base):
    __tablename__ = "placement_inventory"
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("placement_resource_provider.id", ondelete="CASCADE"), primary_key=True)
    resource_class: Mapped[str] = mapped_column(String(255), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    max_unit: Mapped[int] = mapped_column(Integer)


class ProviderAllocation(Base):
    """What a consumer (a server, or a migration holding a move's other share) uses of one
    class on one provider."""

    __tablename__ = "placement_allocation"
    __table_args__ = (UniqueConstraint("consumer_id", "provider_id", "resource_class"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("placement_resource_provider.id", ondelete="CASCADE"), index=True)
    consumer_id: Mapped[str] = mapped_column(String(36), index=True)
    resource_class: Mapped[str] = mapped_column(String(255))
    used: Mapped[int] = mapped_column(Integer)
