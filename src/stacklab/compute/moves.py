"""Moving a server to another host, as nova-api starts it: resize, migrations, evacuation, unshelve.

nova-api checks the request (the source compute is up, the target host
exists and is another one), records the migration and sets the server's
first task state; the conductor then schedules with the request spec built
here and the computes carry the move on. Each start returns the cast that
hands it over, to be sent once the change is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.compute import models as m
from stacklab.compute import quotas, states
from stacklab.compute.casts import Cast
from stacklab.store.base import fits_bigint
from stacklab.store.locks import serialize

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService


def request_spec(instance: m.Instance, *, flavor: dict[str, Any] | None = None,
                 ignore_hosts: list[str] | None = None,
                 force_hosts: list[str] | None = None) -> dict[str, Any]:
    """What the scheduler is asked for the server (its group named, not yet read)."""
    return {"flavor": flavor or instance.flavor, "image_properties": {},
            "availability_zone": instance.requested_zone,
            "scheduler_hints": dict(instance.scheduler_hints),
            "group": {"uuid": instance.server_group} if instance.server_group else None,
            "ignore_hosts": ignore_hosts or [], "force_hosts": force_hosts or [],
            # A server booted from a volume records no image (its root disk is no host's).
            "boot_from_volume": not instance.image_ref,
            "project_id": instance.project_id}


def _away_spec(session: Session, instance: m.Instance, host: str | None,
               flavor: dict[str, Any] | None = None) -> dict[str, Any]:
    """The spec of a move off the server's host (to ``host`` if named), with its group's policy."""
    spec = request_spec(instance, flavor=flavor,
                        ignore_hosts=[instance.host] if instance.host else [],
                        force_hosts=[host] if host else [])
    if spec["group"]:
        group = session.scalar(select(m.ServerGroup).where(
            m.ServerGroup.uuid == instance.server_group))
        spec["group"] = {"uuid": group.uuid, "policy": group.policy,
                         "rules": dict(group.rules)} if group else None
    return spec


def finished_migration(session: Session, instance: m.Instance) -> m.Migration:
    """The resize waiting to be confirmed or reverted."""
    migration = session.scalar(select(m.Migration).where(
        m.Migration.instance_uuid == instance.uuid, m.Migration.status == "finished")
        .order_by(m.Migration.id.desc()).limit(1))
    if migration is None:
        raise BadRequest("Instance has not been resized.")
    return migration


# nova's in-progress statuses of a live migration (its DB API's list).
LIVE_IN_PROGRESS = ("queued", "preparing", "running", "post-migrating")


def live_migrations_in_progress(session: Session, instance: m.Instance) -> list[m.Migration]:
    """``GET /servers/{id}/migrations``: the server's live migrations still under way."""
    return list(session.scalars(select(m.Migration).where(
        m.Migration.instance_uuid == instance.uuid,
        m.Migration.migration_type == "live-migration",
        m.Migration.status.in_(LIVE_IN_PROGRESS)).order_by(m.Migration.id)))


# nova's statuses of an evacuation whose source compute has not cleaned up after it yet
# (``_destroy_evacuated_instances``): still starting, claimed on the destination, or
# rebuilt there. The cleanup makes it ``completed``.
EVACUATIONS_TO_CLEAN_UP = ("accepted", "pre-migrating", "done")


@dataclass(frozen=True, slots=True)
class Evacuation:
    uuid: str
    instance_uuid: str
    instance_deleted: bool


def evacuations_from(session: Session, host: str) -> list[Evacuation]:
    """The evacuations away from ``host`` that it has still to clean up after, oldest first
    (deleted servers' too, as nova reads them with ``read_deleted='yes'``)."""
    rows = session.execute(
        select(m.Migration.uuid, m.Migration.instance_uuid, m.Instance.deleted)
        .join(m.Instance, m.Instance.uuid == m.Migration.instance_uuid, isouter=True)
        .where(m.Migration.source_compute == host,
               m.Migration.migration_type == "evacuation",
               m.Migration.status.in_(EVACUATIONS_TO_CLEAN_UP))
        .order_by(m.Migration.id))
    return [Evacuation(row.uuid, row.instance_uuid, row.deleted is not False) for row in rows]


def migration_of(session: Session, instance: m.Instance, migration_id: str) -> m.Migration | None:
    """The server's migration of that (integer) id; None for any other id."""
    if not migration_id.isascii() or not migration_id.isdigit() or not fits_bigint(
            int(migration_id)):
        return None
    return session.scalar(select(m.Migration).where(
        m.Migration.id == int(migration_id), m.Migration.instance_uuid == instance.uuid))


def in_progress_live_migration(session: Session, instance: m.Instance,
                               migration_id: str) -> m.Migration:
    """One live migration under way, or the 404 saying which of the three it is not."""
    migration = migration_of(session, instance, migration_id)
    where = f"{migration_id} for server {instance.uuid}"
    if migration is None:
        raise NotFound(f"In-progress live migration {migration_id} is not found for server "
                       f"{instance.uuid}.")
    if migration.migration_type != "live-migration":
        raise NotFound(f"Migration {where} is not live-migration.")
    if migration.status not in LIVE_IN_PROGRESS:
        raise NotFound(f"Live migration {where} is not in progress.")
    return migration


def _invalid_state(migration: m.Migration, instance: m.Instance, method: str) -> BadRequest:
    return BadRequest(f"Migration {migration.id} state of instance {instance.uuid} is "
                      f"{migration.status}. Cannot {method} while the migration is in this "
                      "state.")


class Moves:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    def _host_is_up(self, host: str | None) -> bool:
        record = self.service.service_record(host) if host else None
        return record is not None and self.service.services.is_up(record)

    def check_host_up(self, instance: m.Instance) -> None:
        """nova's ``check_instance_host(check_is_up=True)``."""
        if not self._host_is_up(instance.host):
            raise Conflict("Service is unavailable at this time.")

    def _known(self, host: str | None) -> bool:
        return host is None or host in self.service.placement.providers

    def _record(self, session: Session, instance: m.Instance, kind: str, status: str,
                new_flavor: dict[str, Any], dest: str | None = None) -> str:
        now = self.service.clock.now()
        migration = m.Migration(
            uuid=self.service.ids.uuid(), instance_uuid=instance.uuid, migration_type=kind,
            status=status, source_compute=instance.host, dest_compute=dest,
            old_flavor=dict(instance.flavor), new_flavor=dict(new_flavor),
            project_id=instance.project_id, user_id=instance.user_id,
            created_at=now, updated_at=now)
        session.add(migration)
        return migration.uuid

    def _cold(self, session: Session, instance: m.Instance, *, kind: str,
              flavor: dict[str, Any], host: str | None) -> Cast:
        self.check_host_up(instance)
        if not self._known(host):
            raise NotFound(f"Compute host {host} could not be found.")
        if host is not None and host == instance.host:
            raise BadRequest("The target host can't be the same one.")
        migration_uuid = self._record(session, instance, kind, "pre-migrating", flavor)
        instance.system_metadata = {**instance.system_metadata,
                                    "old_vm_state": instance.vm_state}
        instance.task_state = states.RESIZE_PREP
        return Cast.to_conductor("migrate_server", instance_uuid=instance.uuid,
                                 spec=_away_spec(session, instance, host, flavor),
                                 migration_uuid=migration_uuid)

    def resize(self, session: Session, instance: m.Instance, flavor_ref: str,
               context: RequestContext) -> Cast:
        flavor = self.service.builds.flavor(session, flavor_ref, context,
                                            message=f"Flavor {flavor_ref} could not be found.")
        if flavor["flavorid"] == instance.flavor.get("flavorid"):
            raise BadRequest("When resizing, instances must change flavor!")
        if flavor["root_gb"] < instance.flavor["root_gb"]:
            raise BadRequest("Resize error: Unable to resize disk down.")
        service = self.service
        serialize(session, f"compute:quota:{instance.project_id}")
        quotas.check_upsize(service.quotas.limits(instance.project_id),
                            service.quotas.usage(instance.project_id), instance.flavor, flavor)
        return self._cold(session, instance, kind="resize", flavor=flavor, host=None)

    def migrate(self, session: Session, instance: m.Instance, host: str | None) -> Cast:
        return self._cold(session, instance, kind="migration", flavor=instance.flavor,
                          host=host)

    def confirm_resize(self, session: Session, instance: m.Instance) -> Cast:
        migration = finished_migration(session, instance)
        migration.status = "confirming"
        return Cast.to_compute(migration.source_compute, "confirm_resize",
                               instance_uuid=instance.uuid, migration_uuid=migration.uuid)

    def revert_resize(self, session: Session, instance: m.Instance) -> Cast:
        migration = finished_migration(session, instance)
        migration.status = "reverting"
        instance.task_state = states.RESIZE_REVERTING
        return Cast.to_compute(migration.dest_compute, "revert_resize",
                               instance_uuid=instance.uuid, migration_uuid=migration.uuid)

    def live_migrate(self, session: Session, instance: m.Instance, host: str | None) -> Cast:
        self.check_host_up(instance)
        if not self._known(host):
            raise BadRequest(f"Compute host {host} could not be found.")
        if host is not None and host == instance.host:
            raise BadRequest(f"The source and destination hosts are the same: {host}")
        migration_uuid = self._record(session, instance, "live-migration", "queued",
                                      instance.flavor, dest=host)
        instance.task_state = states.MIGRATING
        return Cast.to_conductor("live_migrate_instance", instance_uuid=instance.uuid,
                                 spec=_away_spec(session, instance, host),
                                 migration_uuid=migration_uuid, source=instance.host)

    def evacuate(self, session: Session, instance: m.Instance, host: str | None, *,
                 stop: bool, on_shared_storage: bool | None = None) -> Cast:
        """Rebuild a server of a compute that is down elsewhere (stopped there with ``stop``).
        ``on_shared_storage``: the caller's word on the server's disk (before 2.14; the
        destination checks it), None to let the destination tell."""
        if host is not None:
            if not self._known(host):
                raise NotFound(f"Compute host {host} not found.")
            if host == instance.host:
                raise BadRequest("The target host can't be the same one.")
        if self._host_is_up(instance.host):
            raise BadRequest(f"Compute service of {instance.host} is still in use.")
        migration_uuid = self._record(session, instance, "evacuation", "accepted",
                                      instance.flavor, dest=host)
        instance.system_metadata = {**instance.system_metadata,
                                    "old_vm_state": instance.vm_state}
        instance.task_state = states.REBUILDING
        return Cast.to_conductor("rebuild_instance", instance_uuid=instance.uuid,
                                 spec=_away_spec(session, instance, host),
                                 migration_uuid=migration_uuid,
                                 target_state=states.STOPPED if stop else None,
                                 on_shared_storage=on_shared_storage)

    def unshelve(self, instance: m.Instance, host: str | None, zone: str | None) -> Cast:
        """Back from a shelve: on its host if it is still there, else wherever fits."""
        if host:
            if instance.vm_state != states.SHELVED_OFFLOADED:
                raise Conflict(f"The unshelve action on host {host} is only possible for a "
                               "shelved offloaded instance.")
            if not self._known(host):
                raise BadRequest(f"Compute host {host} could not be found.")
        if zone:
            if zone not in self.service.availability_zones():
                raise BadRequest("The requested availability zone is not available")
            instance.requested_zone = zone
        instance.task_state = states.UNSHELVING
        spec = request_spec(instance, force_hosts=[host] if host else [])
        if instance.vm_state == states.SHELVED:
            # Still on its host with its allocation: it only has to start there again.
            spec["keep_host"] = instance.host
        return Cast.to_conductor("unshelve_instance", instance_uuid=instance.uuid, spec=spec)

    def force_complete(self, session: Session, instance: m.Instance,
                       migration_id: str) -> Cast:
        """Ask the source to finish a running live migration now (the guest paused for it).

        The caller has checked the lock and the state (active, migrating); an unknown
        migration is nova's 400 here, not a 404.
        """
        migration = migration_of(session, instance, migration_id)
        if migration is None:
            raise BadRequest(f"Migration {migration_id} not found for instance "
                             f"{instance.uuid}")
        if migration.status != "running":
            raise _invalid_state(migration, instance, "force complete")
        return Cast.to_compute(migration.source_compute, "live_migration_force_complete",
                               instance_uuid=instance.uuid, migration_uuid=migration.uuid)

    def abort_live_migration(self, session: Session, instance: m.Instance, migration_id: str,
                             *, in_queue: bool) -> Cast:
        """Cancel a live migration: a running one, or (2.65+) one still queued or preparing.

        The source compute rolls it back: the server stays where it was.
        """
        migration = migration_of(session, instance, migration_id)
        if migration is None:
            raise NotFound(f"Migration {migration_id} not found for instance {instance.uuid}")
        allowed = ("running", "queued", "preparing") if in_queue else ("running",)
        if migration.status not in allowed:
            raise _invalid_state(migration, instance, "abort live migration")
        return Cast.to_compute(migration.source_compute, "live_migration_abort",
                               instance_uuid=instance.uuid, migration_uuid=migration.uuid)
