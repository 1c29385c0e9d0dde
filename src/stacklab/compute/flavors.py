"""Flavors: sizes of servers, their extra specs and who may use private ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.compute.server_schemas import flag
from stacklab.ids import IdSource

# nova's classic default set (devstack and most guides create exactly these).
DEFAULT_FLAVORS = (
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
)


class Flavors:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    def ensure_defaults(self, session: Session) -> None:
        if session.scalar(select(m.Flavor.id).limit(1)) is not None:
            return
        for flavorid, name, ram, disk, vcpus in DEFAULT_FLAVORS:
            session.add(m.Flavor(flavorid=flavorid, name=name, memory_mb=ram, root_gb=disk,
                                 vcpus=vcpus, created_at=self.clock.now(), extra_specs={}))

    def get(self, session: Session, flavorid: str, project_id: str | None = None,
            is_admin: bool = True) -> m.Flavor:
        flavor = session.scalar(select(m.Flavor).where(m.Flavor.flavorid == flavorid))
        if flavor is None or not self.visible(session, flavor, project_id, is_admin):
            raise NotFound(f"Flavor {flavorid} could not be found.")
        return flavor

    def visible(self, session: Session, flavor: m.Flavor, project_id: str | None,
                is_admin: bool) -> bool:
        if flavor.is_public or is_admin:
            return True
        return session.get(m.FlavorAccess, (flavor.id, project_id or "")) is not None

    def list_flavors(self, session: Session, *, project_id: str | None, is_admin: bool,
             is_public: bool | None, min_ram: int | None,
             min_disk: int | None) -> list[m.Flavor]:
        query = select(m.Flavor).where(m.Flavor.disabled.is_(False))
        if min_ram is not None:
            query = query.where(m.Flavor.memory_mb >= min_ram)
        if min_disk is not None:
            query = query.where(m.Flavor.root_gb >= min_disk)
        flavors = list(session.scalars(query))
        if is_public is not None:
            flavors = [f for f in flavors if f.is_public == is_public]
        # A non-admin sees public flavors and the private ones shared with his project.
        return [f for f in flavors if self.visible(session, f, project_id, is_admin)]

    def create(self, session: Session, fields: Mapping[str, Any]) -> m.Flavor:
        flavorid = fields.get("id") or self.ids.uuid()
        if session.scalar(select(m.Flavor.id).where(m.Flavor.flavorid == str(flavorid))):
            raise Conflict(f"Flavor with ID {flavorid} already exists.")
        if session.scalar(select(m.Flavor.id).where(m.Flavor.name == fields["name"])):
            raise Conflict(f"Flavor with name {fields['name']} already exists.")
        flavor = m.Flavor(
            flavorid=str(flavorid), name=fields["name"], memory_mb=int(fields["ram"]),
            vcpus=int(fields["vcpus"]), root_gb=int(fields["disk"]),
            ephemeral_gb=int(fields.get("OS-FLV-EXT-DATA:ephemeral", 0)),
            swap=int(fields.get("swap") or 0),
            rxtx_factor=float(fields.get("rxtx_factor", 1.0)),
            is_public=flag(fields.get("os-flavor-access:is_public", True)),
            description=fields.get("description"), extra_specs={},
            created_at=self.clock.now())
        session.add(flavor)
        return flavor

    def delete(self, session: Session, flavorid: str) -> None:
        session.delete(self.get(session, flavorid))

    def access(self, session: Session, flavor: m.Flavor) -> list[str]:
        if flavor.is_public:
            raise NotFound("Access list not available for public flavors.")
        return list(session.scalars(select(m.FlavorAccess.project_id).where(
            m.FlavorAccess.flavor_id == flavor.id).order_by(m.FlavorAccess.project_id)))

    def add_access(self, session: Session, flavor: m.Flavor, project_id: str) -> None:
        if flavor.is_public:
            raise Conflict("Can not add access to a public flavor.")
        if session.get(m.FlavorAccess, (flavor.id, project_id)) is not None:
            raise Conflict(f"Flavor access already exists for flavor {flavor.flavorid} and "
                           f"project {project_id} combination.")
        session.add(m.FlavorAccess(flavor_id=flavor.id, project_id=project_id))

    def remove_access(self, session: Session, flavor: m.Flavor, project_id: str) -> None:
        row = session.get(m.FlavorAccess, (flavor.id, project_id))
        if row is None:
            raise NotFound(f"Flavor access not found for {flavor.flavorid} / {project_id} "
                           "combination.")
        session.delete(row)

    def set_extra_specs(self, session: Session, flavor: m.Flavor,
                        specs: Mapping[str, Any]) -> dict[str, Any]:
        for key, value in specs.items():
            if not isinstance(value, str | int | float | bool) or isinstance(value, bool):
                raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}. "
                                 "extra_specs value must be a string or a number")
        flavor.extra_specs = {**flavor.extra_specs, **{k: str(v) for k, v in specs.items()}}
        return dict(flavor.extra_specs)

    def delete_extra_spec(self, session: Session, flavor: m.Flavor, key: str) -> None:
        if key not in flavor.extra_specs:
            raise NotFound(f"Flavor {flavor.flavorid} has no extra specs with key {key}.")
        flavor.extra_specs = {k: v for k, v in flavor.extra_specs.items() if k != key}
