"""nova's quotas: ``[quota]`` defaults, a project's own limits over them, and what it uses.

The checks answer as nova's quota engine does: a 403 naming the first resource
that would go over, with what was requested, what is used and the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, func, select

from stacklab.api.errors import Forbidden
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.config import QuotaOptions
from stacklab.store.database import Database

# What each microversion's quota set shows (the network proxies' quotas went in 2.36,
# the personality files' in 2.57).
_NETWORK = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
_FILES = ("injected_file_content_bytes", "injected_file_path_bytes", "injected_files")
_LEGACY_DEFAULTS = {"fixed_ips": -1, "floating_ips": 10, "security_group_rules": 20,
                    "security_groups": 10}
# The quota class whose limits are every project's defaults.
DEFAULT_CLASS = "default"
# What the detailed quota set counts as in use (nova counts servers, not key pairs).
_COUNTED = ("cores", "instances", "ram", "server_groups")


def defaults(options: QuotaOptions) -> dict[str, int]:
    values = {k: int(v) for k, v in asdict(options).items()}
    values["injected_file_path_bytes"] = values.pop("injected_file_path_length")
    return {**_LEGACY_DEFAULTS, **values}


def shown(values: dict[str, Any], *, network: bool, files: bool) -> dict[str, Any]:
    return {k: v for k, v in values.items()
            if (network or k not in _NETWORK) and (files or k not in _FILES)}


def exceeded(resource: str, requested: int, used: int, limit: int) -> Forbidden:
    return Forbidden(f"Quota exceeded for {resource}: Requested {requested}, but already "
                     f"used {used} of {limit} {resource}")


def check_metadata(limit: int, count: int) -> None:
    """A server's metadata items against ``metadata_items`` (-1: unlimited)."""
    if 0 <= limit < count:
        raise exceeded("metadata_items", count, 0, limit)


def servers_allowed(limits: Mapping[str, int], used: Mapping[str, int],
                    flavor: Mapping[str, Any], min_count: int, max_count: int) -> int:
    """How many servers of ``flavor`` a create gets: up to ``max_count``, at least ``min_count``.

    nova trims a multi-create to what the instances, cores and ram quotas
    leave; when even ``min_count`` servers do not fit, the first quota they
    would exceed is the 403.
    """
    each = {"instances": 1, "cores": int(flavor["vcpus"]), "ram": int(flavor["memory_mb"])}
    allowed = max_count
    for name, size in each.items():
        if limits[name] >= 0 and size:
            allowed = min(allowed, (limits[name] - used[name]) // size)
    if allowed >= min_count:
        return allowed
    name = next(name for name, size in each.items()
                if limits[name] >= 0 and used[name] + size * min_count > limits[name])
    raise exceeded(name, each[name] * min_count, used[name], limits[name])


def check_upsize(limits: Mapping[str, int], used: Mapping[str, int],
                 old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """A resize to a bigger flavor: the added cores and ram against what the project has left.

    As nova's legacy quota check of a resize, only the growth counts (a downsize
    checks nothing).
    """
    for name, key in (("cores", "vcpus"), ("ram", "memory_mb")):
        growth = int(new[key]) - int(old[key])
        if growth > 0 and limits[name] >= 0 and used[name] + growth > limits[name]:
            raise exceeded(name, growth, used[name], limits[name])


def check_group_members(limit: int, members: int, adding: int) -> None:
    """A server group's members against ``server_group_members`` (-1: unlimited)."""
    if 0 <= limit < members + adding:
        raise Forbidden("Quota exceeded, too many servers in group")


class Quotas:
    """A project's compute limits as the store has them, and what the project uses."""

    def __init__(self, db: Database, options: QuotaOptions) -> None:
        self.db = db
        self.options = options

    def defaults(self) -> dict[str, int]:
        """Every project's defaults: the ``default`` quota class's limits over ``[quota]``."""
        return self.class_limits(DEFAULT_CLASS)

    def class_limits(self, class_name: str) -> dict[str, int]:
        """A quota class's limits, ``[quota]`` for what it does not set (nova's
        ``get_class_quotas``)."""
        values = defaults(self.options)
        with self.db.session() as session:
            for row in session.scalars(select(m.QuotaClassLimit)
                                       .where(m.QuotaClassLimit.class_name == class_name)):
                values[row.resource] = row.hard_limit
        return values

    def update_class(self, class_name: str, changes: Mapping[str, int]) -> dict[str, int]:
        self._set_limits(m.QuotaClassLimit, {"class_name": class_name}, changes)
        return self.class_limits(class_name)

    def _set_limits(self, model: Any, owner: dict[str, str], changes: Mapping[str, int]) -> None:
        """Each changed resource's hard limit, in one row per (owner, resource)."""
        with self.db.session() as session:
            for resource, value in changes.items():
                row = session.get(model, (*owner.values(), resource))
                if row is None:
                    session.add(model(**owner, resource=resource, hard_limit=value))
                else:
                    row.hard_limit = value

    def limits(self, project_id: str) -> dict[str, int]:
        """The project's limits: its own where an admin set them, else the defaults."""
        values = self.defaults()
        with self.db.session() as session:
            for row in session.scalars(select(m.QuotaLimit)
                                       .where(m.QuotaLimit.project_id == project_id)):
                values[row.resource] = row.hard_limit
        return values

    def usage(self, project_id: str) -> dict[str, int]:
        """What a project uses against its quota (its servers not deleted, softly or not)."""
        with self.db.session() as session:
            count, cores, ram = session.execute(
                select(func.count(), func.coalesce(func.sum(m.Instance.vcpus), 0),
                       func.coalesce(func.sum(m.Instance.memory_mb), 0))
                .where(m.Instance.project_id == project_id, m.Instance.deleted.is_(False),
                       # As nova's counts: a soft-deleted server holds no quota until restored.
                       m.Instance.vm_state != states.SOFT_DELETED)).one()
            groups = session.scalar(select(func.count()).select_from(m.ServerGroup).where(
                m.ServerGroup.project_id == project_id)) or 0
        return {"instances": int(count), "cores": int(cores), "ram": int(ram),
                "server_groups": groups}

    def detail(self, project_id: str) -> dict[str, dict[str, int]]:
        """Each limit with what is in use (``os-quota-sets/{id}/detail``)."""
        used = self.usage(project_id)
        return {k: {"limit": v, "in_use": used[k] if k in _COUNTED else 0, "reserved": 0}
                for k, v in self.limits(project_id).items()}

    def update(self, project_id: str, changes: Mapping[str, int]) -> dict[str, int]:
        self._set_limits(m.QuotaLimit, {"project_id": project_id}, changes)
        return self.limits(project_id)

    def reset(self, project_id: str) -> None:
        with self.db.session() as session:
            session.execute(delete(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id))
