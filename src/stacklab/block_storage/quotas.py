"""cinder's quotas: defaults from ``[DEFAULT] quota_*``, a project's own limits, usage counted
from what the project holds (cinder/quota.py, api/contrib/quotas.py).

Usage is counted, not tracked: a project uses what its volumes and snapshots hold now
(a volume counts until its row is gone, as cinder releases quota when the delete is
done). Snapshots take gigabytes too, as cinder's default (no ``no_snapshot_gb_quota``).
Each volume type adds ``volumes_<type>``, ``gigabytes_<type>`` and ``snapshots_<type>``,
unlimited by default. Nothing is reserved between a request and its commit here: a
request checks and records in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.block_storage import models as m
from stacklab.config import DefaultOptions
from stacklab.store.locks import serialize

# The resources of every project, in cinder's order of registration.
BASE_RESOURCES = ("volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes",
                  "groups", "per_volume_gigabytes")
TYPE_RESOURCES = ("volumes", "gigabytes", "snapshots")
# The temporary volume of a migration counts against no quota (cinder makes it with
# use_quota=False): its migration_status is "target:<the volume's id>".
_CONSUMES_QUOTA = or_(m.Volume.migration_status.is_(None),
                      m.Volume.migration_status.not_like("target:%"))
# The quota class every project's defaults come from (cinder's _DEFAULT_QUOTA_NAME).
DEFAULT_CLASS = "default"


class OverQuota(ApiError):
    """cinder's QuotaError family: 413 with ``Retry-After: 0``."""

    status = 413

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": "0"})


@dataclass(frozen=True)
class Usage:
    in_use: int
    limit: int
    reserved: int = 0


class Quotas:
    def __init__(self, options: DefaultOptions) -> None:
        self.options = options

    def option_defaults(self, type_names: Iterable[str]) -> dict[str, int]:
        """Each resource's default from cinder.conf (``[DEFAULT] quota_*``)."""
        o = self.options
        found = {"volumes": o.quota_volumes, "snapshots": o.quota_snapshots,
                 "gigabytes": o.quota_gigabytes, "backups": o.quota_backups,
                 "backup_gigabytes": o.quota_backup_gigabytes, "groups": o.quota_groups,
                 "per_volume_gigabytes": o.per_volume_size_limit}
        for name in type_names:
            for resource in TYPE_RESOURCES:
                found[f"{resource}_{name}"] = -1
        return found

    def defaults(self, session: Session) -> dict[str, int]:
        """Every project's defaults: the ``default`` quota class where it sets a resource,
        else the option (cinder's get_defaults with ``use_default_quota_class``). cinder's
        database starts with the class's rows made from the options of its first
        ``db sync``; stacklab reads the options for what the class does not set, so a
        changed option still holds until the class is updated."""
        found = self.option_defaults(self.type_names(session))
        found.update(self._class_rows(session, DEFAULT_CLASS, found))
        return found

    def class_limits(self, session: Session, class_name: str) -> dict[str, int]:
        """A quota class's limits: its own where it has them, else the defaults."""
        found = self.defaults(session)
        if class_name != DEFAULT_CLASS:
            found.update(self._class_rows(session, class_name, found))
        return found

    @staticmethod
    def _class_rows(session: Session, class_name: str,
                    known: Mapping[str, int]) -> dict[str, int]:
        # A row of a volume type since deleted names no resource any more: left out.
        return {row.resource: row.hard_limit for row in session.scalars(
            select(m.QuotaClass).where(m.QuotaClass.class_name == class_name))
            if row.resource in known}

    def update_class(self, session: Session, class_name: str,
                     values: Mapping[str, object]) -> None:
        """Set a quota class's limits (the schema checked the values)."""
        known = self.option_defaults(self.type_names(session))
        bad = [key for key in values if key not in known]
        if bad:
            raise BadRequest(f"Invalid input received: Bad key(s) in quota class set: "
                             f"{', '.join(bad)}")
        rows = {row.resource: row for row in session.scalars(select(m.QuotaClass).where(
            m.QuotaClass.class_name == class_name))}
        for key, raw in values.items():
            value = int(str(raw))
            row = rows.get(key)
            if row is None:
                session.add(m.QuotaClass(class_name=class_name, resource=key,
                                         hard_limit=value))
            else:
                row.hard_limit = value
        session.flush()

    @staticmethod
    def type_names(session: Session) -> list[str]:
        return [t.name for t in session.scalars(select(m.VolumeType).order_by(
            m.VolumeType.created_at, m.VolumeType.id))]

    def limits(self, session: Session, project_id: str) -> dict[str, int]:
        found = self.defaults(session)
        for row in session.scalars(select(m.Quota).where(m.Quota.project_id == project_id)):
            if row.resource in found:
                found[row.resource] = row.hard_limit
        return found

    @staticmethod
    def in_use(session: Session, project_id: str) -> dict[str, int]:
        types = {t.id: t.name for t in session.scalars(select(m.VolumeType))}
        used: dict[str, int] = {"volumes": 0, "snapshots": 0, "gigabytes": 0, "backups": 0,
                                "backup_gigabytes": 0, "groups": 0,
                                "per_volume_gigabytes": 0}
        for name in types.values():
            for resource in TYPE_RESOURCES:
                used[f"{resource}_{name}"] = 0

        def add(key: str, amount: int) -> None:
            used[key] = used.get(key, 0) + amount

        # Summed in SQL, grouped by type: a create checks this, and loading every row of
        # the project made each create O(volumes) (about 12 creates/s once it held
        # 1,000, with 10 clients).
        for type_id, count, size in session.execute(
                select(m.Volume.volume_type_id, func.count(), func.sum(m.Volume.size))
                .where(m.Volume.project_id == project_id, _CONSUMES_QUOTA)
                .group_by(m.Volume.volume_type_id)):
            type_name = types.get(type_id)
            add("volumes", count)
            add("gigabytes", int(size or 0))
            if type_name is not None:
                add(f"volumes_{type_name}", count)
                add(f"gigabytes_{type_name}", int(size or 0))
        for snapshot_type, count, size in session.execute(
                select(m.Snapshot.volume_type_id, func.count(), func.sum(m.Snapshot.volume_size))
                .where(m.Snapshot.project_id == project_id)
                .group_by(m.Snapshot.volume_type_id)):
            type_name = types.get(snapshot_type or "")
            add("snapshots", count)
            add("gigabytes", int(size or 0))
            if type_name is not None:
                add(f"snapshots_{type_name}", count)
                add(f"gigabytes_{type_name}", int(size or 0))
        for count, size in session.execute(
                select(func.count(), func.sum(m.Backup.size))
                .where(m.Backup.project_id == project_id)):
            add("backups", count)
            add("backup_gigabytes", int(size or 0))
        return used

    def usage(self, session: Session, project_id: str) -> dict[str, Usage]:
        limits = self.limits(session, project_id)
        used = self.in_use(session, project_id)
        return {key: Usage(used.get(key, 0), limit) for key, limit in limits.items()}

    # -- checks ------------------------------------------------------------------------------

    def _counted(self, session: Session, project_id: str) -> tuple[dict[str, int],
                                                                   dict[str, int]]:
        """The project's limits and usage, counted under the project's quota lock, held
        until ``session`` commits the rows the check lets in: two API processes sharing a
        server database cannot both pass the last unit (cinder reserves instead)."""
        serialize(session, f"block_storage:quota:{project_id}")
        return self.limits(session, project_id), self.in_use(session, project_id)

    def check_size(self, session: Session, project_id: str, size: int) -> None:
        limit = self.limits(session, project_id)["per_volume_gigabytes"]
        if 0 <= limit < size:
            raise OverQuota(f"Requested volume size {size}G is larger than maximum allowed "
                            f"limit {limit}G.")

    def check_volume(self, session: Session, project_id: str, size: int,
                     type_name: str | None, *, count: int = 1) -> None:
        """A new volume (``count`` 1) or a larger one (``count`` 0) fits the quotas,
        else cinder's 413 for the first resource over."""
        limits, used = self._counted(session, project_id)
        wanted: dict[str, int] = {"gigabytes": size}
        if count:
            wanted["volumes"] = count
        if type_name is not None:
            wanted[f"gigabytes_{type_name}"] = size
            if count:
                wanted[f"volumes_{type_name}"] = count
        for key in self._overs(limits, used, wanted):
            if "gigabytes" in key:
                raise OverQuota(
                    f"Requested volume or snapshot exceeds allowed {key} quota. Requested "
                    f"{size}G, quota is {limits[key]}G and {used.get(key, 0)}G has been "
                    "consumed.")
            raise OverQuota(f"Maximum number of volumes allowed ({limits[key]}) exceeded for "
                            f"quota '{key}'.")

    def check_snapshot(self, session: Session, project_id: str, size: int,
                       type_name: str | None) -> None:
        self.check_snapshots(session, project_id, [(size, type_name)])

    def check_snapshots(self, session: Session, project_id: str,
                        volumes: Sequence[tuple[int, str | None]]) -> None:
        """One new snapshot of each volume (its size and its type's name) fits, reserved
        together as cinder's create_snapshots_in_db does for a group snapshot; else 413
        for the first resource over."""
        limits, used = self._counted(session, project_id)
        wanted: dict[str, int] = {"snapshots": len(volumes),
                                  "gigabytes": sum(size for size, _ in volumes)}
        for size, type_name in volumes:
            if type_name is not None:
                for key, amount in ((f"snapshots_{type_name}", 1),
                                    (f"gigabytes_{type_name}", size)):
                    wanted[key] = wanted.get(key, 0) + amount
        for key in self._overs(limits, used, wanted):
            if "gigabytes" in key:
                raise OverQuota(
                    f"Requested volume or snapshot exceeds allowed {key} quota. Requested "
                    f"{wanted[key]}G, quota is {limits[key]}G and {used.get(key, 0)}G has "
                    "been consumed.")
            raise OverQuota(f"Maximum number of snapshots allowed ({limits[key]}) exceeded")

    def check_backup(self, session: Session, project_id: str, size: int) -> None:
        """One more backup of ``size`` GB fits (cinder's process_reserve_over_quota for
        backups), else 413."""
        limits, used = self._counted(session, project_id)
        for key in self._overs(limits, used, {"backups": 1, "backup_gigabytes": size}):
            if key == "backup_gigabytes":
                raise OverQuota(
                    f"Requested backup exceeds allowed Backup gigabytes quota. Requested "
                    f"{size}G, quota is {limits[key]}G and {used.get(key, 0)}G has been "
                    "consumed.")
            raise OverQuota(f"Maximum number of backups allowed ({limits[key]}) exceeded")

    @staticmethod
    def _overs(limits: Mapping[str, int], used: Mapping[str, int],
               wanted: Mapping[str, int]) -> list[str]:
        return [key for key, amount in wanted.items()
                if limits.get(key, -1) >= 0 and used.get(key, 0) + amount > limits[key]]

    # -- updates ------------------------------------------------------------------------------

    def update(self, session: Session, project_id: str, values: Mapping[str, object],
               *, skip_validation: bool = True) -> None:
        limits = self.limits(session, project_id)
        bad = sorted(key for key in values if key not in limits)
        if bad:
            raise BadRequest(f"Bad key(s) in quota set: {','.join(bad)}")
        checked: dict[str, int] = {}
        for key, raw in values.items():
            try:
                value = int(str(raw))
            except ValueError:
                raise BadRequest(f"Quota limit {raw} for {key} must be an integer.") from None
            if value < -1:
                raise BadRequest(f"Quota limit {value} for {key} must be -1 or greater.")
            if value > 0x7FFFFFFF:
                raise BadRequest(f"Quota limit {value} for {key} must be less than or equal "
                                 f"to {0x7FFFFFFF}.")
            checked[key] = value
        if not skip_validation:
            used = self.in_use(session, project_id)
            for key, value in checked.items():
                if value != -1 and value < used.get(key, 0):
                    raise BadRequest(
                        f"Quota {key} limit must be equal or greater than existing resources. "
                        f"Current usage is {used.get(key, 0)} and the requested limit is "
                        f"{value}.")
        rows = {row.resource: row for row in session.scalars(
            select(m.Quota).where(m.Quota.project_id == project_id))}
        for key, value in checked.items():
            row = rows.get(key)
            if row is None:
                session.add(m.Quota(project_id=project_id, resource=key, hard_limit=value))
            else:
                row.hard_limit = value

    @staticmethod
    def reset(session: Session, project_id: str) -> None:
        for row in session.scalars(select(m.Quota).where(m.Quota.project_id == project_id)):
            session.delete(row)
