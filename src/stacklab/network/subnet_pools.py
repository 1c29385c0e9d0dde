"""Subnet pools: the prefixes a pool holds, the bounds of what it hands out, and the next
free prefix a subnet is given from it (neutron's subnet allocation, lowest prefix first)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.network import attributes
from stacklab.network import models as m


def not_found(pool_id: str) -> ApiError:
    return ApiError(f"Subnet pool {pool_id} could not be found.", status=404,
                    kind="SubnetPoolNotFound")


def _illegal_bounds(prefixlen: int, minimum: int, maximum: int) -> BadRequest:
    return BadRequest(f"Invalid input for operation: Illegal prefix bounds: prefixlen "
                      f"{prefixlen}, min_prefixlen {minimum}, max_prefixlen {maximum}.")


def _mixed_versions() -> BadRequest:
    return BadRequest("Invalid input for operation: Cannot mix IPv4 and IPv6 prefixes in a "
                      "subnet pool.")


def _prefixes(values: list[str]) -> tuple[int, list[str]]:
    """The IP version of the prefixes and the prefixes collapsed (neighbours merged)."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise BadRequest(f"Invalid input for prefixes. Reason: '{value}' is not a valid "
                             "IP subnet.") from None
    versions = {n.version for n in networks}
    if len(versions) != 1:
        raise _mixed_versions()
    collapsed = ipaddress.collapse_addresses(networks)  # type: ignore[type-var]
    return versions.pop(), [str(n) for n in collapsed]


def _top(ip_version: int) -> int:
    return 32 if ip_version == 4 else 128


class SubnetPools:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    @staticmethod
    def visible(context: RequestContext, pool: m.SubnetPool) -> bool:
        """Pools a caller sees: their project's and shared ones (an admin: all)."""
        return context.is_admin or pool.shared or pool.project_id == context.project_id

    def get(self, session: Session, pool_id: str, context: RequestContext) -> m.SubnetPool:
        pool = session.get(m.SubnetPool, pool_id)
        if pool is None or not self.visible(context, pool):
            raise not_found(pool_id)
        return pool

    def for_subnet(self, session: Session, fields: Mapping[str, Any],
                   context: RequestContext) -> m.SubnetPool | None:
        """The pool a new subnet names, or with ``use_default_subnetpool`` the default pool
        of its IP version; the caller must see it."""
        pool_id = fields.get("subnetpool_id")
        if fields.get("use_default_subnetpool") and not pool_id:
            version = int(fields.get("ip_version", 4))
            default = session.scalar(select(m.SubnetPool).where(
                m.SubnetPool.is_default.is_(True), m.SubnetPool.ip_version == version))
            if default is None:
                raise BadRequest(f"No default subnetpool found for IPv{version}")
            pool_id = default.id
        return self.get(session, pool_id, context) if pool_id else None

    @staticmethod
    def allocate_prefix(session: Session, pool: m.SubnetPool, prefixlen: int | None) -> str:
        """The first free prefix of ``prefixlen`` (the pool's default) in the pool."""
        length = int(prefixlen or pool.default_prefixlen)
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise _illegal_bounds(length, pool.min_prefixlen, pool.max_prefixlen)
        used = [ipaddress.ip_network(s.cidr) for s in session.scalars(
            select(m.Subnet).where(m.Subnet.subnetpool_id == pool.id))]
        for prefix in pool.prefixes:
            for candidate in ipaddress.ip_network(prefix).subnets(new_prefix=length):
                if not any(candidate.overlaps(u) for u in used):
                    return str(candidate)
        raise ApiError(f"Insufficient prefix space to allocate subnet size /{length}.",
                       status=409, kind="SubnetAllocationError")

    def create(self, session: Session, project_id: str,
               fields: Mapping[str, Any]) -> m.SubnetPool:
        """A pool of the given prefixes; its prefix lengths default to the widest prefix
        (minimum and default) and to a single address (maximum)."""
        if not fields.get("prefixes"):
            raise BadRequest("Failed to parse request. Required attribute 'prefixes' not "
                             "specified")
        version, prefixes = _prefixes(list(fields["prefixes"]))
        widest = min(ipaddress.ip_network(p).prefixlen for p in prefixes)
        top = _top(version)
        minimum = int(fields.get("min_prefixlen") or widest)
        maximum = int(fields.get("max_prefixlen") or top)
        default = int(fields.get("default_prefixlen") or minimum)
        if not minimum <= default <= maximum <= top:
            raise _illegal_bounds(default, minimum, maximum)
        now = self.clock.now()
        pool = m.SubnetPool(
            id=self.ids.uuid(), project_id=project_id, name=fields.get("name", ""),
            description=fields.get("description", ""), ip_version=version, prefixes=prefixes,
            default_prefixlen=default, min_prefixlen=minimum, max_prefixlen=maximum,
            shared=bool(fields.get("shared", False)),
            is_default=bool(fields.get("is_default", False)),
            default_quota=fields.get("default_quota"), tags=[], created_at=now,
            updated_at=now)
        session.add(pool)
        return pool

    @staticmethod
    def update(pool: m.SubnetPool, fields: Mapping[str, Any]) -> None:
        """Prefixes given are added to the pool's (a pool never loses one); the bounds must
        still hold."""
        for name, value in fields.items():
            if name == "prefixes":
                version, pool.prefixes = _prefixes([*pool.prefixes, *value])
                if version != pool.ip_version:
                    raise _mixed_versions()
            else:
                setattr(pool, attributes.column_of("subnetpool", name), value)
        if not pool.min_prefixlen <= pool.default_prefixlen <= pool.max_prefixlen \
                <= _top(pool.ip_version):
            raise _illegal_bounds(pool.default_prefixlen, pool.min_prefixlen,
                                  pool.max_prefixlen)

    @staticmethod
    def delete(session: Session, pool: m.SubnetPool) -> None:
        if session.scalar(select(m.Subnet.id).where(m.Subnet.subnetpool_id == pool.id)):
            raise ApiError(f"Unable to complete operation on subnet pool {pool.id}. Subnet "
                           "pool has subnets allocated from it.", status=409,
                           kind="SubnetPoolInUse")
        session.delete(pool)
