"""neutron's auto-allocated-topology: a project's network, made once on first ask.

What the project gets (neutron's AutoAllocatedTopologyMixin): a network
``auto_allocated_network``, one subnet ``auto_allocated_subnet_v<N>`` from each default
subnet pool (IPv4, IPv6), and a router ``auto_allocated_router`` uplinked to the default
external network (the external network with ``is_default``) with an interface on each
subnet. It needs that external network and at least one default subnet pool: without
either the answer is neutron's 409 ``Deployment error: ...``. Everything is made in the
caller's transaction, so a failure leaves nothing behind (neutron cleans up by hand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError
from stacklab.network import models as m
from stacklab.network import quotas

if TYPE_CHECKING:
    from stacklab.network.service import NetworkService

DRY_RUN = "dry-run"
DRY_RUN_PASSED = "dry-run=pass"
NETWORK_NAME = "auto_allocated_network"
ROUTER_NAME = "auto_allocated_router"


def failure(reason: str) -> ApiError:
    return ApiError(f"Deployment error: {reason}.", status=409, kind="AutoAllocationFailure")


def default_external_network(session: Session) -> m.Network:
    """The deployment's default external network (the first made, should there be two)."""
    network = session.scalar(select(m.Network).where(
        m.Network.external.is_(True), m.Network.is_default.is_(True))
        .order_by(m.Network.created_at, m.Network.id).limit(1))
    if network is None:
        raise failure("No default router:external network")
    return network


def default_pools(session: Session) -> list[m.SubnetPool]:
    """The default subnet pool of each IP version that has one, IPv4 first."""
    pools = []
    for version in (4, 6):
        pool = session.scalar(select(m.SubnetPool).where(
            m.SubnetPool.is_default.is_(True), m.SubnetPool.ip_version == version)
            .order_by(m.SubnetPool.created_at, m.SubnetPool.id).limit(1))
        if pool is not None:
            pools.append(pool)
    return pools


def check_requirements(session: Session) -> None:
    """What a dry run asks: a default external network and a default subnet pool."""
    default_external_network(session)
    if not default_pools(session):
        raise failure("No default subnetpools defined")


def topology_of(session: Session, project_id: str) -> m.AutoAllocatedTopology | None:
    return session.get(m.AutoAllocatedTopology, project_id)


def allocate(service: NetworkService, session: Session, project_id: str,
             context: RequestContext) -> str:
    """The project's auto-allocated network's id, its topology built if it has none."""
    existing = topology_of(session, project_id)
    if existing is not None:
        return existing.network_id
    external = default_external_network(session)
    pools = default_pools(session)
    if not pools:
        raise failure("Unable to provide tenant private network")
    # Built as the admin would (neutron uses an elevated context for the pools and the
    # gateway), owned by the project.
    try:
        network = service.add_network(session, project_id, {
            "name": NETWORK_NAME, "admin_state_up": False, "shared": False})
        session.flush()
        subnets = [service.add_subnet(session, project_id, {
            "name": f"auto_allocated_subnet_v{pool.ip_version}", "network_id": network.id,
            "ip_version": pool.ip_version, "subnetpool_id": pool.id}, context)
            for pool in pools]
    except ApiError as exc:
        if exc.status >= 500:
            raise
        raise failure("Unable to provide tenant private network") from exc
    try:
        quotas.enforce(session, project_id, "router")
        router = service.routing.create_router(session, project_id, {
            "name": ROUTER_NAME, "admin_state_up": True,
            "external_gateway_info": {"network_id": external.id}})
        for subnet in subnets:
            service.routing.add_interface(session, router, {"subnet_id": subnet.id})
    except ApiError as exc:
        if exc.status >= 500:
            raise
        raise failure("Unable to provide external connectivity") from exc
    network.admin_state_up = True
    session.add(m.AutoAllocatedTopology(project_id=project_id, network_id=network.id,
                                        router_id=router.id))
    session.flush()
    return network.id


def release(service: NetworkService, session: Session, project_id: str) -> None:
    """The project's topology taken down: the router's interfaces, the router, the
    subnets and the network (nothing when it has none)."""
    topology = topology_of(session, project_id)
    if topology is None:
        return
    network = session.get(m.Network, topology.network_id)
    router = session.get(m.Router, topology.router_id) if topology.router_id else None
    session.delete(topology)
    session.flush()
    if router is not None:
        for port in service.routing.interface_ports(session, router.id):
            for subnet_id in _subnet_ids(session, port.id):
                service.routing.remove_interface(session, router, {"subnet_id": subnet_id})
        session.flush()
        service.routing.delete_router(session, router)
    if network is not None:
        for subnet in service.subnets_of(session, network.id):
            service.delete_subnet(session, subnet)
        session.flush()
        service.delete_network(session, network)


def _subnet_ids(session: Session, port_id: str) -> list[str]:
    return list(session.scalars(select(m.IPAllocation.subnet_id).where(
        m.IPAllocation.port_id == port_id)))


def response(network_id: str, project_id: str) -> dict[str, Any]:
    return {"id": network_id, "tenant_id": project_id}
