"""Networking's tables: networks, subnets, ports and their addresses, security groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


class _Standard:
    """What every neutron resource has (standard attributes, tags, revision numbers)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Network(_Standard, Base):
    __tablename__ = "network_network"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    mtu: Mapped[int] = mapped_column(Integer, default=1450)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    network_type: Mapped[str] = mapped_column(String(32))
    physical_network: Mapped[str | None] = mapped_column(String(64))
    segmentation_id: Mapped[int | None] = mapped_column(Integer)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)
    dns_domain: Mapped[str] = mapped_column(String(255), default="")


class Subnet(_Standard, Base):
    __tablename__ = "network_subnet"
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSON, default=list)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32))
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32))
    subnetpool_id: Mapped[str | None] = mapped_column(String(36))
    service_types: Mapped[list[str]] = mapped_column(JSON, default=list)


class Port(_Standard, Base):
    __tablename__ = "network_port"
    __table_args__ = (UniqueConstraint("network_id", "mac_address"),)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), index=True)
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    security_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    extra_dhcp_opts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    binding_host_id: Mapped[str] = mapped_column(String(255), default="")
    binding_vnic_type: Mapped[str] = mapped_column(String(32), default="normal")
    binding_profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dns_name: Mapped[str] = mapped_column(String(255), default="")


class IPAllocation(Base):
    """One fixed IP of a port; unique per subnet, which is what IPAM guarantees."""

    __tablename__ = "network_ip_allocation"
    __table_args__ = (UniqueConstraint("subnet_id", "ip_address"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_port.id", ondelete="CASCADE"), index=True)
    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("network_subnet.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(String(36), index=True)
    ip_address: Mapped[str] = mapped_column(String(64))


class SecurityGroup(_Standard, Base):
    __tablename__ = "network_security_group"
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class SecurityGroupRule(Base):
    __tablename__ = "network_security_group_rule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("network_security_group.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    # The prefix's network address (neutron's normalized_cidr); remote_ip_prefix keeps the
    # address as given, host bits included.
    normalized_cidr: Mapped[str | None] = mapped_column(String(64))
    remote_group_id: Mapped[str | None] = mapped_column(String(36))
    description: Mapped[str] = mapped_column(Text, default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class Router(_Standard, Base):
    __tablename__ = "network_router"
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_network_id: Mapped[str | None] = mapped_column(String(36))
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    distributed: Mapped[bool] = mapped_column(Boolean, default=False)
    ha: Mapped[bool] = mapped_column(Boolean, default=False)
    availability_zone_hints: Mapped[list[str]] = mapped_column(JSON, default=list)


class FloatingIP(_Standard, Base):
    __tablename__ = "network_floatingip"
    floating_network_id: Mapped[str] = mapped_column(String(36), index=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    floating_port_id: Mapped[str] = mapped_column(String(36))
    fixed_port_id: Mapped[str | None] = mapped_column(String(36), index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64))
    router_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class QuotaLimit(Base):
    """A project's own neutron quota for one resource, over the ``[quotas]`` default."""

    __tablename__ = "network_quota"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer)


class Agent(Base):
    """A neutron agent on a node (neutron's agents table)."""

    __tablename__ = "network_agent"
    __table_args__ = (UniqueConstraint("agent_type", "host"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_type: Mapped[str] = mapped_column(String(255))
    binary: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    configurations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float] = mapped_column(Float)
    heartbeat_timestamp: Mapped[float] = mapped_column(Float)


class DhcpBinding(Base):
    __tablename__ = "network_dhcp_binding"
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("network_agent.id", ondelete="CASCADE"), primary_key=True)
    binding_index: Mapped[int] = mapped_column(Integer, default=1)


class RouterBinding(Base):
    __tablename__ = "network_router_binding"
    router_id: Mapped[str] = mapped_column(
        ForeignKey("network_router.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(
        ForeignKey("network_agent.id", ondelete="CASCADE"), primary_key=True)
    binding_index: Mapped[int] = mapped_column(Integer, default=1)
    # What the hosting agent last reported for an HA router: active, standby, unknown.
    ha_state: Mapped[str] = mapped_column(String(16), default="standby")


class VrIdAllocation(Base):
    __tablename__ = "network_vrid_allocation"
    __table_args__ = (UniqueConstraint("project_id", "vr_id"),)
    router_id: Mapped[str] = mapped_column(
        ForeignKey("network_router.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255))
    vr_id: Mapped[int] = mapped_column(Integer)


class SubnetPool(_Standard, Base):
    """Prefixes subnets are carved from (``subnet create --subnet-pool``)."""

    __tablename__ = "network_subnetpool"
    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    default_quota: Mapped[int | None] = mapped_column(Integer)


class MeteringLabel(Base):
    """neutron's metering label: no standard attributes (no tags, revisions or times shown);
    ``created_at`` only orders lists as every other collection is ordered."""

    __tablename__ = "network_metering_label"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(1024), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class MeteringLabelRule(Base):
    """A traffic rule of a metering label; it has no project of its own (its label's)."""

    __tablename__ = "network_metering_label_rule"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    metering_label_id: Mapped[str] = mapped_column(
        ForeignKey("network_metering_label.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    source_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    destination_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class AutoAllocatedTopology(Base):
    """A project's auto-allocated network and the router that uplinks it (one a project).
    Deleting the network by hand forgets the topology; deleting the router leaves it."""

    __tablename__ = "network_auto_allocated_topology"
    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_network.id", ondelete="CASCADE"), unique=True)
    router_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_router.id", ondelete="SET NULL"))
