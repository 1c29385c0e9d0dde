"""nova's quotas: ``[quota]`` defaults, a project's own limits over them, and what it uses."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.compute import models as m
from stacklab.config import QuotaOptions

# What each microversion's quota set shows (the network proxies' quotas went in 2.36,
# the personality files' in 2.57).
_NETWORK = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
_FILES = ("injected_file_content_bytes", "injected_file_path_bytes", "injected_files")
_LEGACY_DEFAULTS = {"fixed_ips": -1, "floating_ips": 10, "security_group_rules": 20,
                    "security_groups": 10}


def defaults(options: QuotaOptions) -> dict[str, int]:
    values = {k: int(v) for k, v in asdict(options).items()}
    values["injected_file_path_bytes"] = values.pop("injected_file_path_length")
    return {**_LEGACY_DEFAULTS, **values}


def limits(session: Session, options: QuotaOptions, project_id: str) -> dict[str, int]:
    values = defaults(options)
    for row in session.scalars(select(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id)):
        values[row.resource] = row.hard_limit
    return values


def set_limits(session: Session, project_id: str, changes: dict[str, int]) -> None:
    for resource, value in changes.items():
        row = session.get(m.QuotaLimit, (project_id, resource))
        if row is None:
            session.add(m.QuotaLimit(project_id=project_id, resource=resource,
                                     hard_limit=value))
        else:
            row.hard_limit = value


def reset(session: Session, project_id: str) -> None:
    session.execute(delete(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id))


def shown(values: dict[str, Any], *, network: bool, files: bool) -> dict[str, Any]:
    return {k: v for k, v in values.items()
            if (network or k not in _NETWORK) and (files or k not in _FILES)}
