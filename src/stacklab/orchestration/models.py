"""heat's tables, as stacklab keeps them (one prefix, ``orchestration_``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


class Stack(Base):
    """A stack: what it was made from (template, files, environment, parameters), its
    state as heat shows it (action, status, reason), its trust and its outputs as last
    resolved (heat's legacy engine resolves them when asked; stacklab keeps them from the
    end of the last action, which is when their values can change)."""

    __tablename__ = "orchestration_stack"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    template: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The template and environment of the last good state (what a rollback returns to).
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    disable_rollback: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_mins: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    owner_resource: Mapped[str | None] = mapped_column(String(255))
    trust_id: Mapped[str | None] = mapped_column(String(64))
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)
    deleted_at: Mapped[float | None] = mapped_column(Float)


class Resource(Base):
    """A resource of a stack: its type, physical id, state, the properties it was last
    made or changed with (what an update compares against) and heat's resource data."""

    __tablename__ = "orchestration_resource"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    physical_id: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requires: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class Event(Base):
    """One state change of a resource (or of the stack itself, named after it)."""

    __tablename__ = "orchestration_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    stack_id: Mapped[str] = mapped_column(String(36), index=True)
    resource_name: Mapped[str] = mapped_column(String(255))
    physical_id: Mapped[str | None] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Float)


class StackLock(Base):
    """heat's stack_lock: the engine acting on a stack (one at a time)."""

    __tablename__ = "orchestration_stack_lock"
    stack_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    engine_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[float] = mapped_column(Float)


class Snapshot(Base):
    """heat's snapshot: a stack's state when it was taken (``data``: the stack as heat's
    abandon shows it, each resource with the resource data its snapshot kept, a backup's
    or an image's id), with the snapshot's own action (CREATE, DELETE) and status."""

    __tablename__ = "orchestration_snapshot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(String(36), index=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class SoftwareConfig(Base):
    """heat's software_config: a configuration a server's agent applies. ``config`` holds
    heat's four keys (``config``, ``inputs``, ``outputs``, ``options``); immutable once
    made (heat has no update)."""

    __tablename__ = "orchestration_software_config"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    group: Mapped[str | None] = mapped_column(String(255))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)


class SoftwareDeployment(Base):
    """heat's software_deployment: a config bound to a server, with its inputs, the
    outputs the server signalled back and its state (action, status, reason)."""

    __tablename__ = "orchestration_software_deployment"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    config_id: Mapped[str] = mapped_column(String(36), index=True)
    server_id: Mapped[str] = mapped_column(String(255), index=True)
    input_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    action: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(255))
    status_reason: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    stack_user_project_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float | None] = mapped_column(Float)
