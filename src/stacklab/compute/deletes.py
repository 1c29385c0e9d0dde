"""Deleting a server, as nova-api does: through its compute, or at once when that compute is down.

A server whose compute is up is marked deleting and its compute is asked to
terminate it. When the compute is down (or the server never got a host),
nova-api deletes the record itself (its "local delete") and frees the ports.
Either way a shelved server's snapshot goes with it, and a resized server is
confirmed first so that its source host lets its guest go.

With ``[DEFAULT] reclaim_instance_interval`` above 0, nova defers deletes: a
server that was ever launched is only powered off and kept SOFT_DELETED (it
holds its host's resources, not its project's quota). ``restore`` brings it
back, ``forceDelete`` deletes it now, and each compute reclaims (deletes)
its soft-deleted servers once the interval has passed since their delete,
looking every interval (nova's ``_reclaim_queued_deletes`` periodic task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from stacklab.api.context import RequestContext
from stacklab.bus.interface import MessagingTimeout, Target
from stacklab.compute import models as m
from stacklab.compute import quotas, states
from stacklab.compute.casts import Cast
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")


def user_ports(instance: m.Instance) -> set[str]:
    """Ports the user brought: on delete nova unbinds them instead of deleting them."""
    requests = instance.networks if isinstance(instance.networks, list) else []
    return {r["port_id"] for r in requests if isinstance(r, dict) and r.get("port_id")}


class Deletes:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    @property
    def deferred(self) -> bool:
        """Whether deletes are soft ([DEFAULT] reclaim_instance_interval above 0)."""
        return self.service.reclaim_instance_interval > 0

    async def delete(self, uuid: str, context: RequestContext, *, force: bool = False) -> None:
        """``DELETE /servers/{id}`` (soft when deletes are deferred) or ``forceDelete``."""
        service = self.service
        ctxt = bus_context(context)
        shelved_image: Any = None
        await self._confirm_resize_first(uuid, ctxt)
        with service.db.session() as session:
            instance = service.instances.find(session, uuid)
            if instance is None or instance.deleted:
                return
            service.instances.start_action(session, instance, "delete", ctxt)
            if instance.task_state in (states.DELETING, states.SOFT_DELETING):
                return
            if service.volumes.mappings(session, uuid):
                # Its compute detaches (and may delete) its volumes with the user's token.
                ctxt["auth_token"] = context.auth_token
            # nova's soft_delete needs a server that was launched; any other is deleted.
            soft = self.deferred and not force and instance.launched_at is not None
            # Read before a local delete marks it deleted.
            if instance.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED):
                shelved_image = instance.system_metadata.get("shelved_image_id")
            record = service.service_record(instance.host) if instance.host else None
            local = record is None or not service.services.is_up(record)
            if local:
                # A soft delete with the compute down is a delete, as nova's _local_delete.
                service.delete_row(session, instance)
            else:
                instance.task_state = states.SOFT_DELETING if soft else states.DELETING
                instance.progress = 0
                if soft:
                    instance.deleted_at = service.clock.now()
                instance.updated_at = service.clock.now()
            host, preserved = instance.host, user_ports(instance)
        # A shelved server's snapshot dies with it, as nova-api deletes it (through glance).
        await service.delete_image(shelved_image)
        if local:
            await service.release_network(uuid, preserved)
            await service.volumes.release_all(uuid, ctxt)
            return
        method = "soft_delete_instance" if soft else "terminate_instance"
        await service.bus.cast(Target("compute", host), method, instance_uuid=uuid, ctxt=ctxt)
        await service.settle([uuid])

    async def _confirm_resize_first(self, uuid: str, ctxt: dict[str, Any]) -> None:
        """A resized server being deleted is confirmed first, as nova-api's
        _confirm_resize_on_deleting: a call to the source compute (confirm_resize), which
        lets its guest go and frees the migration's share, in its own process where the
        computes run apart. A source that is down frees nothing of its own: the share is
        released here (its guest went with its node)."""
        service = self.service
        with service.db.session() as session:
            instance = service.instances.find(session, uuid)
            if (instance is None or instance.deleted or instance.vm_state != states.RESIZED
                    or instance.task_state in (states.DELETING, states.SOFT_DELETING)):
                return
            migration = service.unconfirmed_resize(session, instance)
            if migration is None:
                return
            service.instances.start_action(session, instance, "confirmResize", ctxt)
            migration.status = "confirming"
            migration_uuid, source = migration.uuid, migration.source_compute or ""
        record = service.service_record(source) if source else None
        if record is not None and service.services.is_up(record):
            try:
                await service.bus.call(Target("compute", source), "confirm_resize",
                                       ctxt=ctxt, instance_uuid=uuid,
                                       migration_uuid=migration_uuid)
                return
            except MessagingTimeout:
                LOG.warning("[instance: %s] No reply to confirm_resize from %s; deleting "
                            "anyway", uuid, source)
        with service.db.session() as session:
            service.placement.release(migration_uuid, session)
            found = session.scalar(select(m.Migration).where(m.Migration.uuid == migration_uuid))
            if found is not None:
                found.status = "confirmed"
                found.updated_at = service.clock.now()

    def restore(self, instance: m.Instance) -> Cast | None:
        """``restore``: a soft-deleted server back (its project's quota permitting).

        Returns the cast that has its compute power it on; a server on no host
        is ACTIVE at once, as nova-api does it.
        """
        service = self.service
        quotas.servers_allowed(service.quotas.limits(instance.project_id),
                               service.quotas.usage(instance.project_id), instance.flavor,
                               1, 1)
        instance.deleted_at = None
        if not instance.host:
            instance.vm_state, instance.task_state = states.ACTIVE, None
            return None
        instance.task_state = states.RESTORING
        return Cast.to_compute(instance.host, "restore_instance", instance_uuid=instance.uuid)

    # -- the computes' periodic reclaim ------------------------------------------------------

    async def run_reclaim(self, reachable: Callable[[str], bool]) -> None:
        """Every interval, reclaim what is due (forever; nothing when deletes are not soft)."""
        interval = self.service.reclaim_instance_interval
        if interval <= 0:
            return
        while True:
            await self.service.lab_clock.sleep(interval)
            try:
                await self.reclaim_due(reachable)
            except Exception:  # the periodic task logs and tries again next time
                LOG.exception("Reclaiming soft-deleted instances failed")

    async def reclaim_due(self, reachable: Callable[[str], bool]) -> list[str]:
        """Delete the soft-deleted servers of the computes that run whose interval has passed.

        Returns their uuids. A compute that is powered off reclaims nothing: its
        servers wait for it, as nova's periodic task runs on the compute itself.
        """
        service = self.service
        # Deleted at least the interval (the lab's seconds) ago, as the rows' wall stamps say.
        lab = service.lab_clock
        oldest = lab.to_wall(lab.now() - service.reclaim_instance_interval)
        due: list[tuple[str, str]] = []
        with service.db.session() as session:
            rows = session.scalars(select(m.Instance).where(
                m.Instance.deleted.is_(False), m.Instance.vm_state == states.SOFT_DELETED,
                m.Instance.task_state.is_(None)))
            for instance in rows:
                host = instance.host
                if not host or not reachable(host):
                    continue
                if instance.deleted_at is not None and instance.deleted_at > oldest:
                    continue
                instance.task_state = states.DELETING
                instance.updated_at = service.clock.now()
                due.append((instance.uuid, host))
        ctxt: Mapping[str, Any] = {"request_id": None, "global_request_id": None,
                                   "user_id": None, "project_id": None, "is_admin": True}
        for uuid, host in due:
            LOG.info("[instance: %s] Reclaiming deleted instance", uuid)
            await service.bus.cast(Target("compute", host), "terminate_instance",
                                   instance_uuid=uuid, ctxt=ctxt)
        return [uuid for uuid, _ in due]

