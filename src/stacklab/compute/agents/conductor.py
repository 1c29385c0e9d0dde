"""nova-conductor: asks the scheduler for hosts and hands the work to the chosen computes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.bus.interface import Target
from stacklab.compute import states
from stacklab.compute.agents import bind
from stacklab.compute.instances import InstanceGone
from stacklab.compute.scheduler import NoValidHost
from stacklab.ha.route import working_on

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.conductor.manager")


class ConductorManager:
    """The endpoint of topic ``conductor`` on each controller."""

    def __init__(self, compute: ComputeService, host: str) -> None:
        self.compute = compute
        self.host = host

    def report_service_state(self, host: str, binary: str) -> None:
        """A compute's report, saved for it (nova's ``object_action`` of ``Service.save``):
        through this controller's way to the database, which may refuse it."""
        with working_on(self.host):
            self.compute.services.save_report(host, binary)

    async def _select(self, spec: dict[str, Any], ctxt: Mapping[str, Any]) -> list[str]:
        bind(ctxt, self.host, "nova-conductor")
        hosts: list[str] = await self.compute.bus.call(
            Target("scheduler"), "select_destinations", spec=spec, ctxt=ctxt)
        return hosts

    async def _fail(self, uuids: list[str], message: str, ctxt: Mapping[str, Any],
                    event: str, **changes: Any) -> None:
        instances = self.compute.instances
        LOG.warning("Failed to schedule instances %s: %s", ", ".join(uuids), message)
        for uuid in uuids:
            try:
                await instances.save(uuid, publisher="nova-conductor",
                                     fault=instances.fault(message), **changes)
            except InstanceGone:
                continue
            instances.event(uuid, ctxt.get("request_id"), event, self.host, result="Error",
                            details=message)

    async def build_instances(self, instance_uuids: list[str], spec: dict[str, Any],
                              ctxt: Mapping[str, Any]) -> None:
        """Schedule a create request's servers, then cast each to its compute.

        A compute whose build failed sends the server back here with the request's
        ``retry`` (nova's ``populate_retry``): its attempts counted against [scheduler]
        max_attempts and the hosts tried left out of the new choice. No retry at all with
        max_attempts 1 or a forced host.
        """
        event = "conductor_schedule_and_build_instances"
        for uuid in instance_uuids:
            self.compute.instances.event(uuid, ctxt.get("request_id"), event, self.host)
        await self.compute.profile_sleep("schedule")
        retry = _populate_retry(spec, self.compute.max_attempts)
        if retry is not None and retry["num_attempts"] > self.compute.max_attempts:
            message = ("Exceeded maximum number of retries. Exceeded max scheduling attempts "
                       f"{self.compute.max_attempts} for instance {instance_uuids[0]}. Last "
                       f"exception: {retry.get('exc_reason', '')}")
            await self._fail(instance_uuids, message, ctxt, event,
                             vm_state=states.ERROR, task_state=None)
            return
        spec = {**spec, "retry": retry}
        ignored = [*spec.get("ignore_hosts", ()), *(retry["hosts"] if retry else ())]
        try:
            hosts = await self._select({**spec, "instance_uuids": instance_uuids,
                                        "ignore_hosts": ignored}, ctxt)
        except NoValidHost as exc:
            message = str(exc)
            if retry is not None and retry["num_attempts"] > 1:
                # A reschedule with no host left: nova's alternates exhausted.
                message = ("Exceeded maximum number of retries. Exhausted all hosts "
                           "available for retrying build failures for instance "
                           f"{instance_uuids[0]}.")
            await self._fail(instance_uuids, message, ctxt, event,
                             vm_state=states.ERROR, task_state=None)
            return
        for uuid, host in zip(instance_uuids, hosts, strict=True):
            self.compute.instances.event(uuid, ctxt.get("request_id"), event, self.host,
                                         result="Success")
            await self.compute.bus.cast(Target("compute", host), "build_and_run_instance",
                                        instance_uuid=uuid, node=host, ctxt=ctxt, spec=spec)

    async def _move(self, instance_uuid: str, spec: dict[str, Any], migration_uuid: str,
                    ctxt: Mapping[str, Any], event: str, **failed: Any) -> str | None:
        """Pick the destination of a move; None (with the fault recorded) when none fits.

        While the server claims the destination, its source share becomes the
        migration's (placement's move_allocations); a failed move gives it back and
        leaves the server as it was, but for the ``failed`` changes.
        """
        compute = self.compute
        compute.instances.event(instance_uuid, ctxt.get("request_id"), event, self.host)
        compute.placement.move(instance_uuid, migration_uuid)
        try:
            hosts = await self._select({**spec, "instance_uuids": [instance_uuid]}, ctxt)
        except NoValidHost as exc:
            compute.placement.move(migration_uuid, instance_uuid)
            compute.finish_migration(migration_uuid, "error")
            await self._fail([instance_uuid], str(exc), ctxt, event,
                             **{"task_state": None, **failed})
            return None
        compute.instances.event(instance_uuid, ctxt.get("request_id"), event, self.host,
                                result="Success")
        return hosts[0]

    async def migrate_server(self, instance_uuid: str, spec: dict[str, Any],
                             migration_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """Resize or cold-migrate: pick a destination, then let it prepare."""
        dest = await self._move(instance_uuid, spec, migration_uuid, ctxt,
                                "conductor_migrate_server")
        if dest is not None:
            await self.compute.bus.cast(Target("compute", dest), "prep_resize",
                                        instance_uuid=instance_uuid,
                                        migration_uuid=migration_uuid, ctxt=ctxt)

    async def live_migrate_instance(self, instance_uuid: str, spec: dict[str, Any],
                                    migration_uuid: str, source: str,
                                    ctxt: Mapping[str, Any]) -> None:
        dest = await self._move(instance_uuid, spec, migration_uuid, ctxt,
                                "conductor_live_migrate_instance")
        if dest is not None:
            await self.compute.bus.cast(Target("compute", source), "live_migration",
                                        instance_uuid=instance_uuid, dest=dest,
                                        migration_uuid=migration_uuid, ctxt=ctxt)

    async def rebuild_instance(self, instance_uuid: str, spec: dict[str, Any],
                               migration_uuid: str, target_state: str | None,
                               ctxt: Mapping[str, Any],
                               on_shared_storage: bool | None = None) -> None:
        """Evacuate: rebuild the server on another host while its own is down."""
        # An evacuation nothing can take leaves the server in ERROR (nova's conductor).
        dest = await self._move(instance_uuid, spec, migration_uuid, ctxt,
                                "conductor_rebuild_instance", vm_state=states.ERROR)
        if dest is not None:
            await self.compute.bus.cast(Target("compute", dest), "rebuild_instance",
                                        instance_uuid=instance_uuid, image_ref=None,
                                        evacuate=True, migration_uuid=migration_uuid,
                                        target_state=target_state, ctxt=ctxt,
                                        on_shared_storage=on_shared_storage)

    async def unshelve_instance(self, instance_uuid: str, spec: dict[str, Any],
                                ctxt: Mapping[str, Any]) -> None:
        event = "conductor_unshelve_instance"
        compute = self.compute
        compute.instances.event(instance_uuid, ctxt.get("request_id"), event, self.host)
        try:
            await compute.instances.save(instance_uuid, publisher="nova-conductor",
                                         expected_task_state=states.UNSHELVING,
                                         task_state=states.SCHEDULING)
            # A shelved (not offloaded) server still holds its host: no scheduling.
            hosts = [spec["keep_host"]] if spec.get("keep_host") else \
                await self._select({**spec, "instance_uuids": [instance_uuid]}, ctxt)
        except InstanceGone:
            return
        except NoValidHost as exc:
            await self._fail([instance_uuid], str(exc), ctxt, event, task_state=None)
            return
        compute.instances.event(instance_uuid, ctxt.get("request_id"), event, self.host,
                                result="Success")
        await compute.bus.cast(Target("compute", hosts[0]), "unshelve_instance",
                               instance_uuid=instance_uuid, ctxt=ctxt)


def _populate_retry(spec: Mapping[str, Any], max_attempts: int) -> dict[str, Any] | None:
    """nova's ``populate_retry``: this scheduling counted as one more attempt (None: the
    build is never retried, with max_attempts 1 or one forced host)."""
    forced = spec.get("force_hosts") or ()
    if max_attempts <= 1 or len(forced) == 1:
        return None
    retry = spec.get("retry") or {"num_attempts": 0, "hosts": []}
    return {**retry, "num_attempts": int(retry["num_attempts"]) + 1,
            "hosts": list(retry["hosts"])}
