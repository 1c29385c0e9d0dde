"""cinder's tables, as stacklab keeps them (one prefix, ``block_storage_``)."""

from __future__ import annotations

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
