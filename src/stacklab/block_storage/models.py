"""cinder's tables, as stacklab keeps them (one prefix, ``block_storage_``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


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
