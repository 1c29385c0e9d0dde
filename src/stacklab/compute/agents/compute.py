"""nova-compute: one per compute node, driving that node's simulated hypervisor.

Each public method is an RPC nova's compute API or conductor sends to the
host (by cast unless noted). They move the server through nova's task
states in nova's order, each step taking the profile's time, and record an
event in the server's action log (``compute_<method>``, as nova's
``wrap_instance_event`` names them).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn

from stacklab.api.errors import Conflict
from stacklab.bus.interface import Target
from stacklab.compute import states
from stacklab.compute.admin_password import not_running
from stacklab.compute.agents import bind
from stacklab.compute.agents.events import VIF_PLUGGED, InstanceEvents
from stacklab.compute.agents.hypervisor import Hypervisor
from stacklab.compute.cinder import CinderError
from stacklab.compute.diagnostics import diagnostics
from stacklab.compute.disks import DiskUnavailable, ImageUnacceptable
from stacklab.compute.glance import GlanceError
from stacklab.compute.instances import InstanceGone, UnexpectedTaskState
from stacklab.compute.neutron import NeutronError
from stacklab.compute.volume_extend import extend_attached
from stacklab.compute.volume_reimage import reimage_root
from stacklab.compute.volume_swap import SwapFailed, swap_on_host

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")


class ServerFailed(Exception):
    """A step failed and the server was left as nova leaves it (ERROR, or its task state
    cleared, the fault recorded): the event of its action says why."""


class VolumesFailed(ServerFailed):
    """cinder refused a step of a move: the server was put in ERROR."""


class ComputeManager:
    def __init__(self, compute: ComputeService, host: str) -> None:
        self.compute = compute
        self.host = host
        self.hypervisor = Hypervisor(host, compute.clock)
        # The vif-plugging wait is one of the compute's timers: the lab's seconds.
        self.events = InstanceEvents(compute.lab_clock)

    # -- starting on the host -------------------------------------------------------------

    def init_host(self) -> None:
        """nova-compute starting on its node (the node is back): as nova's ``init_host``,
        first clean up after the servers evacuated while it was away."""
        self._destroy_evacuated_instances()

    def _destroy_evacuated_instances(self) -> None:
        """The evacuations away from this host that it has not cleaned up yet: their guests
        still here are destroyed, this host's share of each server is given back to
        placement and the migration is ``completed``.

        A server deleted meanwhile lost its allocations with it; nova leaves its
        migration as it was.
        """
        compute = self.compute
        placement = compute.placement
        for evacuation in compute.evacuations_from(self.host):
            uuid = evacuation.instance_uuid
            if uuid in self.hypervisor.domains:
                LOG.info("[instance: %s] Destroying the guest: the server was evacuated from "
                         "this host", uuid)
                self.hypervisor.destroy(uuid)
            # Its files here go too; a disk on shared storage is the server's still.
            compute.disks.forget_local(uuid, self.host)
            if evacuation.instance_deleted:
                continue
            LOG.info("[instance: %s] Removing this host's allocation of the evacuated server",
                     uuid)
            placement.release(evacuation.uuid)
            held = placement.allocation(uuid)
            if held is not None and held.provider == self.host:
                # The conductor had not scheduled it yet: the share here is still the
                # server's own (nova removes this host from the server's allocations).
                placement.release(uuid)
            compute.set_migration(evacuation.uuid, status="completed")

    # -- plumbing ------------------------------------------------------------------------

    @asynccontextmanager
    async def _event(self, uuid: str, ctxt: Mapping[str, Any], name: str) -> AsyncIterator[None]:
        bind(ctxt, self.host, "nova-compute")
        instances = self.compute.instances
        request_id = ctxt.get("request_id")
        started = self.compute.clock.monotonic()
        instances.event(uuid, request_id, name, self.host)
        try:
            yield
        except (InstanceGone, UnexpectedTaskState) as exc:
            # Deleted or taken over meanwhile: nova logs it and gives up the operation.
            LOG.warning("[instance: %s] %s stopped: %s", uuid, name, exc)
            instances.event(uuid, request_id, name, self.host, result="Error", details=str(exc))
        except ServerFailed as exc:
            # The server is in ERROR (or back to no task) already; the event says why.
            instances.event(uuid, request_id, name, self.host, result="Error", details=str(exc))
        else:
            LOG.info("[instance: %s] Took %.2f seconds for %s", uuid,
                     self.compute.clock.monotonic() - started, name)
            instances.event(uuid, request_id, name, self.host, result="Success")

    async def _save(self, uuid: str, expected: Any, **changes: Any) -> dict[str, Any]:
        return await self.compute.instances.save(uuid, expected_task_state=expected, **changes)

    async def _steps(self, uuid: str, expected: str | None, *task_states: str) -> None:
        """Pass through ``task_states`` in order, each after the previous one."""
        for task_state in task_states:
            await self._save(uuid, expected, task_state=task_state)
            await self.compute.profile_sleep(task_state)
            expected = task_state

    async def _boot(self, uuid: str, expected: str | None) -> None:
        """Start the guest from its disk; a disk the cluster cannot serve (after librados'
        timeout) leaves the server in ERROR, as a libvirt domain that cannot open its rbd
        disk fails to start."""
        record = self.compute.instance_summary(uuid)
        try:
            first = await self.compute.disks.boot(uuid, self.host)
        except DiskUnavailable as exc:
            await self._disk_failed(uuid, expected, exc)
        self.hypervisor.boot(uuid, record["hostname"], record["ips"], first_boot=first)

    async def _disk_failed(self, uuid: str, expected: str | None,
                           exc: DiskUnavailable) -> NoReturn:
        LOG.error("[instance: %s] Setting instance vm_state to ERROR: %s", uuid, exc.message)
        if uuid in self.hypervisor.domains:
            self.hypervisor.disk_error(uuid)
        await self._save(uuid, expected, vm_state=states.ERROR, task_state=None,
                         power_state=states.SHUTDOWN,
                         fault=self.compute.instances.fault(exc.message))
        raise ServerFailed(exc.message)

    async def _new_disk(self, uuid: str, expected: str | None, image_ref: str) -> None:
        """A fresh root disk from the image (a rebuild's, an unshelve's); one the cluster
        cannot take leaves the server in ERROR."""
        try:
            await self.compute.disks.create(uuid, self.host, image_ref)
        except DiskUnavailable as exc:
            await self._disk_failed(uuid, expected, exc)

    # -- build and delete ----------------------------------------------------------------

    async def build_and_run_instance(self, instance_uuid: str, node: str,
                                     ctxt: Mapping[str, Any],
                                     spec: Mapping[str, Any] | None = None) -> None:
        """``spec``: the request as the conductor scheduled it, with its ``retry`` (the
        attempts so far and the hosts tried) when the build may be rescheduled."""
        uuid = instance_uuid
        # neutron may say a port is wired before the build waits for it: kept from now on.
        self.events.expect(uuid)
        try:
            async with self._event(uuid, ctxt, "compute__do_build_and_run_instance"):
                await self._build(uuid, node, ctxt, spec)
        finally:
            self.events.forget(uuid)

    async def _build(self, uuid: str, node: str, ctxt: Mapping[str, Any],
                     spec: Mapping[str, Any] | None = None) -> None:
        try:
            await self._save(uuid, (states.SCHEDULING, None), vm_state=states.BUILDING,
                             task_state=None, host=self.host, node=node,
                             availability_zone=self.compute.host_zone(self.host))
            await self.compute.instances.notify(uuid, "create.start", self.host, ctxt=ctxt)
            await self._save(uuid, None, task_state=states.NETWORKING)
            try:
                addresses, unwired = await self.compute.allocate_network(uuid, self.host)
            except NeutronError as exc:
                await self._abort_build(uuid, states.NETWORKING, _allocation_failure(uuid, exc))
                return
            await self.compute.profile_sleep(states.NETWORKING)
            await self._save(uuid, states.NETWORKING, addresses=addresses,
                             task_state=states.BLOCK_DEVICE_MAPPING)
            await self.compute.profile_sleep(states.BLOCK_DEVICE_MAPPING)
            failure = await self.compute.volumes.prepare_for_boot(uuid, self.host, ctxt)
            if failure is not None:
                await self._abort_build(uuid, states.BLOCK_DEVICE_MAPPING,
                                        f"Build of instance {uuid} aborted: {failure}", ctxt=ctxt)
                return
            await self._steps(uuid, states.BLOCK_DEVICE_MAPPING, states.SPAWNING)
            # spawn's _create_image: the root disk from the image (none for a server
            # booted from a volume). What fails here is worth another host.
            image_ref = self.compute.instance_summary(uuid)["image_ref"]
            if self.compute.volumes.boots_from_volume(uuid):
                image_ref = ""
            failure = self.hypervisor.spawn_failure
            if failure is None and image_ref:
                try:
                    await self.compute.disks.create(uuid, self.host, image_ref,
                                                    self.compute.fetch_image)
                except (DiskUnavailable, GlanceError) as exc:
                    failure = exc.message
                except ImageUnacceptable as exc:
                    await self._abort_build(uuid, states.SPAWNING,
                                            f"Build of instance {uuid} aborted: {exc.message}",
                                            ctxt=ctxt)
                    return
            if failure is not None:
                await self._reschedule(uuid, ctxt, spec, failure)
                return
            if not await self._wait_for_plugging(uuid, self._awaited(unwired)):
                # nova's VirtualInterfaceCreateException, turned into a build abort.
                await self._abort_build(
                    uuid, states.SPAWNING,
                    f"Build of instance {uuid} aborted: Failed to allocate the network(s), "
                    "not rescheduling.",
                    details="VirtualInterfaceCreateException: Virtual Interface creation failed")
                return
            await self._boot(uuid, states.SPAWNING)
            await self._save(uuid, states.SPAWNING, vm_state=states.ACTIVE,
                             task_state=None, power_state=states.RUNNING,
                             launched_at=self.compute.clock.now())
            await self.compute.instances.notify(uuid, "create.end", self.host, ctxt=ctxt,
                                                message="Success")
        except (InstanceGone, UnexpectedTaskState):
            self.hypervisor.destroy(uuid)
            raise

    def _awaited(self, unwired: list[str]) -> list[str]:
        """The ports whose plugging the build will wait for (none without a timeout)."""
        neutron = self.compute.neutron
        return [] if neutron is None or neutron.vif_plugging.timeout <= 0 else unwired

    async def _wait_for_plugging(self, uuid: str, ports: list[str]) -> bool:
        """Wait for neutron's network-vif-plugged of each port; False: the build fails."""
        if not ports or self.compute.neutron is None:
            return True
        options = self.compute.neutron.vif_plugging
        outcome = await self.events.wait(uuid, [(VIF_PLUGGED, port) for port in ports],
                                         options.timeout, fatal=options.fatal)
        if outcome.cleared:
            return True  # being deleted: the next save says so
        for name, tag in outcome.failed:
            LOG.error("[instance: %s] neutron reported a failure on event %s-%s", uuid, name,
                      tag)
        if outcome.missing:
            LOG.warning("[instance: %s] Timeout waiting for %s after %s seconds (%s)", uuid,
                        ", ".join(f"{name}-{tag}" for name, tag in outcome.missing),
                        options.timeout, "fatal" if options.fatal else "booting anyway")
        return outcome.ok or not options.fatal

    async def _reschedule(self, uuid: str, ctxt: Mapping[str, Any],
                          spec: Mapping[str, Any] | None, reason: str) -> None:
        """nova's RescheduledException: what this host did for the build is undone and
        the conductor tries another host, this one excluded ([scheduler] max_attempts
        counts the attempts). Without retry information (max_attempts 1, a forced host)
        the build fails here, the reason its fault.

        libvirt keeps the server's ports for the next host; stacklab deletes the ports it
        made and the next host makes new ones (their addresses may differ)."""
        retry = (spec or {}).get("retry")
        if not retry:
            LOG.debug("[instance: %s] Retry info not present, will not reschedule", uuid)
            await self._abort_build(uuid, states.SPAWNING, reason, ctxt=ctxt)
            return
        LOG.error("[instance: %s] Build of instance %s was re-scheduled: %s", uuid, uuid,
                  reason)
        compute = self.compute
        self.hypervisor.destroy(uuid)
        compute.disks.delete(uuid, self.host)
        await compute.release_network(uuid, _user_ports(compute, uuid))
        try:
            await compute.volumes.reserve_anew(uuid, ctxt)
        except CinderError as exc:
            LOG.warning("[instance: %s] Failed to release the volumes for the reschedule: %s",
                        uuid, exc.message)
        compute.placement.release(uuid)
        await self._save(uuid, states.SPAWNING, task_state=states.SCHEDULING, host=None,
                         node=None)
        again = {**(spec or {}), "retry": {**retry, "hosts": [*retry["hosts"], self.host],
                                           "exc_reason": reason}}
        await compute.bus.cast(Target("conductor"), "build_instances", instance_uuids=[uuid],
                               spec=again, ctxt=ctxt)

    async def _abort_build(self, uuid: str, task_state: str, message: str,
                           details: str = "", ctxt: Mapping[str, Any] | None = None) -> None:
        """What nova does with a BuildAbortException: no retry, the server in ERROR (its
        volumes detached, those to be deleted with it deleted)."""
        LOG.error("[instance: %s] %s", uuid, message)
        await self.compute.release_network(uuid, _user_ports(self.compute, uuid))
        await self.compute.volumes.release_all(uuid, ctxt or {})
        self.compute.placement.release(uuid)
        await self._save(uuid, task_state, vm_state=states.ERROR, task_state=None,
                         fault=self.compute.instances.fault(message, details=details))

    async def terminate_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        # A build still waiting for the server's ports stops waiting (nova clears its events).
        self.events.clear(instance_uuid)
        async with self._event(instance_uuid, ctxt, "compute_terminate_instance"):
            await self.compute.instances.notify(instance_uuid, "delete.start", self.host,
                                                ctxt=ctxt)
            await self.compute.profile_sleep("destroy")
            self.hypervisor.destroy(instance_uuid)
            self.compute.disks.delete(instance_uuid, self.host)
            await self.compute.release_network(instance_uuid,
                                               _user_ports(self.compute, instance_uuid))
            await self.compute.volumes.release_all(instance_uuid, ctxt)
            await self.compute.mark_deleted(instance_uuid)
            await self.compute.instances.notify(instance_uuid, "delete.end", self.host,
                                                ctxt=ctxt)

    async def soft_delete_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """A deferred delete: the guest powered off (libvirt has no soft delete), kept."""
        async with self._event(instance_uuid, ctxt, "compute_soft_delete_instance"):
            await self.compute.profile_sleep("power_off")
            self.hypervisor.power_off(instance_uuid)
            await self._save(instance_uuid, states.SOFT_DELETING, vm_state=states.SOFT_DELETED,
                             task_state=None, power_state=states.SHUTDOWN)

    async def restore_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """A soft-deleted server back: powered on (libvirt has no restore), ACTIVE."""
        async with self._event(instance_uuid, ctxt, "compute_restore_instance"):
            await self.compute.profile_sleep("power_on")
            await self._boot(instance_uuid, states.RESTORING)
            await self._save(instance_uuid, states.RESTORING, vm_state=states.ACTIVE,
                             task_state=None, power_state=states.RUNNING)

    # -- volumes ------------------------------------------------------------------------

    async def attach_volume(self, instance_uuid: str, bdm_uuid: str,
                            ctxt: Mapping[str, Any]) -> None:
        """nova-api reserved the volume: connect it here and complete its attachment."""
        await self._volume_step(instance_uuid, ctxt, "compute_attach_volume", "attach_volume",
                                self.compute.volumes.connect(self.host, bdm_uuid, ctxt))

    async def detach_volume(self, instance_uuid: str, volume_id: str,
                            attachment_id: str | None, ctxt: Mapping[str, Any]) -> None:
        """Disconnect the volume here and delete its attachment (the volume available)."""
        await self._volume_step(instance_uuid, ctxt, "compute_detach_volume", "detach_volume",
                                self.compute.volumes.disconnect(instance_uuid, volume_id, ctxt))

    async def swap_volume(self, instance_uuid: str, old_volume_id: str, new_volume_id: str,
                          new_attachment_id: str, ctxt: Mapping[str, Any]) -> None:
        """The new volume connected in the old one's place (cinder's migration asked)."""
        async def swap() -> None:
            grown = await swap_on_host(self.compute, self.host, instance_uuid, old_volume_id,
                                       new_volume_id, new_attachment_id, ctxt)
            if grown is not None:
                self.hypervisor.resize_disk(instance_uuid, grown.device, grown.old_gb,
                                            grown.new_gb)

        await self._volume_step(instance_uuid, ctxt, "compute_swap_volume", "swap_volume_prep",
                                swap())
    # -- cinder's assisted snapshots ------------------------------------------------------

    async def volume_snapshot_create(self, instance_uuid: str, volume_id: str,
                                     create_info: Mapping[str, Any],
                                     ctxt: Mapping[str, Any]) -> None:
        """A snapshot of a volume file the guest has open, for cinder's file-based drivers.
        The lab's volumes are block devices (LVM over iSCSI, RBD), no file on a share that
        libvirt could snapshot: it fails, and as nova does on any failure here, cinder is
        told the snapshot is in error."""
        bind(ctxt, self.host, "nova-compute")
        LOG.error("[instance: %s] Error occurred during volume_snapshot_create, sending "
                  "error status to Cinder. (volume %s is no file on a share)", instance_uuid,
                  volume_id)
        await self._assisted_snapshot_status(create_info.get("snapshot_id"), "error", ctxt)

    async def volume_snapshot_delete(self, instance_uuid: str, volume_id: str,
                                     snapshot_id: str, delete_info: Mapping[str, Any],
                                     ctxt: Mapping[str, Any]) -> None:
        """Merging away such a snapshot: it fails for the same reason."""
        bind(ctxt, self.host, "nova-compute")
        LOG.error("[instance: %s] Error occurred during volume_snapshot_delete, sending "
                  "error status to Cinder. (volume %s is no file on a share)", instance_uuid,
                  volume_id)
        await self._assisted_snapshot_status(snapshot_id, "error_deleting", ctxt)

    async def _assisted_snapshot_status(self, snapshot_id: str | None, status: str,
                                        ctxt: Mapping[str, Any]) -> None:
        if not snapshot_id:
            return
        token = ctxt.get("auth_token")
        try:
            await self.compute.volumes.cinder().update_snapshot_status(
                snapshot_id, status, token=str(token) if token else None)
        except CinderError as exc:
            LOG.warning("Failed to send updated snapshot status to volume service: %s",
                        exc.message)

    async def _volume_step(self, uuid: str, ctxt: Mapping[str, Any], event: str, step: str,
                           work: Awaitable[None]) -> None:
        """One volume operation as an event of its action: cinder's refusal fails the event
        (logged), never the server."""
        bind(ctxt, self.host, "nova-compute")
        instances, request_id = self.compute.instances, ctxt.get("request_id")
        instances.event(uuid, request_id, event, self.host)
        await self.compute.profile_sleep(step)
        try:
            await work
        except (CinderError, SwapFailed) as exc:
            LOG.error("[instance: %s] %s failed: %s", uuid, step, exc.message)
            instances.event(uuid, request_id, event, self.host, result="Error",
                            details=exc.message)
            return
        instances.event(uuid, request_id, event, self.host, result="Success")

    async def extend_volume(self, instance_uuid: str, volume_id: str | None,
                            ctxt: Mapping[str, Any]) -> None:
        """cinder's ``volume-extended``: the guest sees the volume's new size."""
        async def grow() -> None:
            grown = await extend_attached(self.compute, instance_uuid, volume_id)
            if grown is not None:
                self.hypervisor.resize_disk(instance_uuid, grown.device, grown.old_gb,
                                            grown.new_gb)

        await self._volume_step(instance_uuid, ctxt, "compute_extend_volume", "extend_volume",
                                grow())

    async def _move_volumes(self, uuid: str, task_state: str | None, work: Awaitable[None],
                            migration_uuid: str | None = None,
                            migration_status: str = "error") -> None:
        """A move's volume step. cinder's refusal stops the move (VolumesFailed) with the
        server in ERROR and cinder's reason as its fault (nova's
        ``_error_out_instance_on_exception``), the migration ``error`` (``failed`` for an
        evacuation)."""
        try:
            await work
        except CinderError as exc:
            LOG.error("[instance: %s] Setting instance vm_state to ERROR: %s", uuid,
                      exc.message)
            if migration_uuid:
                self.compute.set_migration(migration_uuid, status=migration_status)
            await self._save(uuid, task_state, vm_state=states.ERROR, task_state=None,
                             fault=self.compute.instances.fault(exc.message))
            raise VolumesFailed(exc.message) from None

    # -- events from other services ---------------------------------------------------------

    async def external_instance_event(self, events: list[dict[str, Any]],
                                      ctxt: Mapping[str, Any]) -> None:
        """neutron's events for servers on this host (nova's ``external_instance_event``).

        ``network-changed``: the server's ports changed (a floating IP came or
        went), so its addresses are read from neutron again. The others
        (``network-vif-plugged`` ...) go to the build waiting for them
        (``events``); one nobody waits for is logged and dropped, as upstream.
        """
        bind(ctxt, self.host, "nova-compute")
        for event in events:
            uuid, name, tag = event["server_uuid"], event["name"], event.get("tag")
            label = f"{name}-{tag}" if tag else name
            LOG.info("[instance: %s] Received event %s", uuid, label)
            if name == "network-changed":
                await self.compute.network_changed(uuid)
            elif name == "volume-extended":
                await self.extend_volume(uuid, tag, ctxt)
            elif not self.events.deliver(event):
                LOG.warning("[instance: %s] Received unexpected event %s", uuid, label)

    # -- power ---------------------------------------------------------------------------

    async def _power(self, uuid: str, ctxt: Mapping[str, Any], event: str, task_state: str,
                     step: str, vm_state: str, power_state: int, note: str,
                     notification: str | None = None) -> None:
        """``notification``: what nova notifies of it (``power_off`` is
        ``instance.power_off.start`` and ``.end``)."""
        async with self._event(uuid, ctxt, event):
            if notification is not None:
                await self.compute.instances.notify(uuid, f"{notification}.start", self.host,
                                                    ctxt=ctxt)
            await self.compute.profile_sleep(step)
            if power_state == states.RUNNING and note == "boot":
                await self._boot(uuid, task_state)
            else:
                self.hypervisor.set_power(uuid, power_state, note)
            await self._save(uuid, task_state, vm_state=vm_state, task_state=None,
                             power_state=power_state)
            if notification is not None:
                await self.compute.instances.notify(uuid, f"{notification}.end", self.host,
                                                    ctxt=ctxt)

    async def stop_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_stop_instance", states.POWERING_OFF,
                          "power_off", states.STOPPED, states.SHUTDOWN, "reboot: Power down",
                          "power_off")

    async def start_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_start_instance", states.POWERING_ON,
                          "power_on", states.ACTIVE, states.RUNNING, "boot", "power_on")

    async def pause_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_pause_instance", states.PAUSING,
                          "pause", states.PAUSED, states.PAUSED_POWER, "(paused)", "pause")

    async def unpause_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_unpause_instance", states.UNPAUSING,
                          "unpause", states.ACTIVE, states.RUNNING, "(unpaused)", "unpause")

    async def suspend_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        # libvirt suspends with managedSave: the domain is saved to disk and shut off.
        await self._power(instance_uuid, ctxt, "compute_suspend_instance", states.SUSPENDING,
                          "suspend", states.SUSPENDED, states.SHUTDOWN,
                          "PM: suspend entry (deep)", "suspend")

    async def resume_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_resume_instance", states.RESUMING,
                          "resume", states.ACTIVE, states.RUNNING, "PM: suspend exit",
                          "resume")

    async def rescue_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_rescue_instance", states.RESCUING,
                          "rescue", states.RESCUED, states.RUNNING, "boot")

    async def unrescue_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        await self._power(instance_uuid, ctxt, "compute_unrescue_instance", states.UNRESCUING,
                          "unrescue", states.ACTIVE, states.RUNNING, "boot")

    async def reboot_instance(self, instance_uuid: str, reboot_type: str,
                              ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        hard = reboot_type == "HARD"
        first = states.REBOOTING_HARD if hard else states.REBOOTING
        pending = states.REBOOT_PENDING_HARD if hard else states.REBOOT_PENDING
        started = states.REBOOT_STARTED_HARD if hard else states.REBOOT_STARTED
        async with self._event(uuid, ctxt, "compute_reboot_instance"):
            await self.compute.instances.notify(uuid, "reboot.start", self.host, ctxt=ctxt)
            await self._steps(uuid, first, pending, started)
            await self.compute.profile_sleep("reboot_hard" if hard else "reboot_soft")
            await self._boot(uuid, started)
            await self._save(uuid, started, vm_state=states.ACTIVE, task_state=None,
                             power_state=states.RUNNING)
            await self.compute.instances.notify(uuid, "reboot.end", self.host, ctxt=ctxt)

    # -- rebuild, evacuate, snapshot, shelve -----------------------------------------------

    async def rebuild_instance(self, instance_uuid: str, image_ref: str | None, evacuate: bool,
                               migration_uuid: str | None, target_state: str | None,
                               ctxt: Mapping[str, Any],
                               reimage_boot_volume: bool = False,
                               on_shared_storage: bool | None = None) -> None:
        """Rebuild the server here: from a new image, or (``evacuate``) after its host was
        lost. ``on_shared_storage`` is what the caller said of the server's disk (before
        2.14); None lets the compute tell (libvirt's ``instance_on_disk``)."""
        uuid = instance_uuid
        compute = self.compute
        async with self._event(uuid, ctxt, "compute_rebuild_instance"):
            record = compute.instance_summary(uuid)
            previous = record["system_metadata"].get("old_vm_state", record["vm_state"])
            changes: dict[str, Any] = {}
            if evacuate:
                on_disk = compute.disks.shared
                if on_shared_storage is not None and on_shared_storage != on_disk:
                    await self._refuse_evacuation(uuid, migration_uuid)
                on_shared_storage = on_disk
                changes = {"host": self.host, "node": self.host,
                           "availability_zone": compute.host_zone(self.host)}
                if migration_uuid:
                    compute.set_migration(migration_uuid, status="pre-migrating",
                                          dest_compute=self.host)
            else:
                self.hypervisor.destroy(uuid)
            # The volumes leave the old host (the dead source's, for an evacuation) and are
            # connected to this one: nova's detach_block_devices, then attach_block_devices.
            volumes = compute.volumes
            await self._move_volumes(uuid, states.REBUILDING, volumes.reserve_anew(uuid, ctxt),
                                     migration_uuid, "failed")
            if reimage_boot_volume and image_ref and not evacuate:
                await self._reimage(uuid, image_ref, ctxt)
            await self._steps(uuid, states.REBUILDING, states.REBUILD_BLOCK_DEVICE_MAPPING)
            await self._move_volumes(uuid, states.REBUILD_BLOCK_DEVICE_MAPPING,
                                     volumes.connect_all(uuid, self.host, ctxt), migration_uuid,
                                     "failed")
            await self._steps(uuid, states.REBUILD_BLOCK_DEVICE_MAPPING,
                              states.REBUILD_SPAWNING)
            await compute.profile_sleep("spawning")
            try:
                await self._spawn_rebuilt(uuid, image_ref or record["image_ref"], evacuate,
                                          on_shared_storage, changes)
            except ServerFailed:
                if evacuate and migration_uuid:
                    compute.set_migration(migration_uuid, status="failed")
                raise
            stopped = (target_state or previous) == states.STOPPED
            if stopped:
                self.hypervisor.power_off(uuid)
            await self._save(uuid, states.REBUILD_SPAWNING,
                             vm_state=states.STOPPED if stopped else states.ACTIVE,
                             task_state=None,
                             power_state=states.SHUTDOWN if stopped else states.RUNNING,
                             launched_at=compute.clock.now(),
                             system_metadata=_without(record["system_metadata"],
                                                      "old_vm_state"))
            if evacuate and migration_uuid:
                # Done, not completed: the source's share (the migration's allocation)
                # and its guest stay until the source compute starts again and cleans
                # up after itself (``init_host``).
                compute.set_migration(migration_uuid, status="done")

    async def _spawn_rebuilt(self, uuid: str, image: str, evacuate: bool,
                             on_shared_storage: bool | None, changes: dict[str, Any]) -> None:
        """A rebuild's spawn: the disk kept (shared storage), made anew from the image, or
        none (a volume), then the guest booted here."""
        compute = self.compute
        if evacuate and on_shared_storage:
            LOG.info("[instance: %s] disk on shared storage, evacuating using existing disk",
                     uuid)
        elif image and not compute.volumes.boots_from_volume(uuid):
            if evacuate:
                LOG.info("[instance: %s] disk not on shared storage, evacuating from image: "
                         "'%s'", uuid, image)
            await self._new_disk(uuid, states.REBUILD_SPAWNING, image)
        else:
            LOG.info("[instance: %s] disk on volume, evacuating using existing volume", uuid)
        await self._save(uuid, states.REBUILD_SPAWNING, **changes)
        if evacuate:
            await compute.rebind_network(uuid, self.host)
        await self._boot(uuid, states.REBUILD_SPAWNING)

    async def _refuse_evacuation(self, uuid: str, migration_uuid: str | None) -> NoReturn:
        """nova's InvalidSharedStorage: the caller's onSharedStorage is not what this host
        finds. The server stays as it was (task state cleared, on its lost host), the
        migration ``failed``, the destination's claim given back."""
        message = "Invalid state of instance files on shared storage"
        LOG.error("[instance: %s] %s", uuid, message)
        placement = self.compute.placement
        if migration_uuid:
            placement.release(uuid)
            placement.move(migration_uuid, uuid)
            self.compute.set_migration(migration_uuid, status="failed", dest_compute=self.host)
        await self._save(uuid, states.REBUILDING, task_state=None,
                         fault=self.compute.instances.fault(message))
        raise ServerFailed(message)

    async def _reimage(self, uuid: str, image_ref: str, ctxt: Mapping[str, Any]) -> None:
        """2.93: the root volume written anew from the image by cinder; a failure is nova's
        BuildAbortException (the server in ERROR)."""
        await self.compute.profile_sleep("reimage_volume")
        failure = await reimage_root(self.compute, self.events, uuid, image_ref, ctxt)
        if failure is None:
            return
        message = f"Build of instance {uuid} aborted: Failed to rebuild volume backed instance."
        await self._save(uuid, states.REBUILDING, vm_state=states.ERROR, task_state=None,
                         fault=self.compute.instances.fault(message, details=failure))
        raise VolumesFailed(message)

    async def snapshot_instance(self, instance_uuid: str, image_id: str,
                                ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_snapshot_instance"):
            await self._steps(uuid, states.IMAGE_SNAPSHOT, states.IMAGE_SNAPSHOT_PENDING,
                              states.IMAGE_PENDING_UPLOAD, states.IMAGE_UPLOADING)
            await self.compute.profile_sleep("snapshot")
            await self.compute.upload_snapshot(uuid, image_id)
            await self._save(uuid, states.IMAGE_UPLOADING, task_state=None)

    async def backup_instance(self, instance_uuid: str, image_id: str, backup_type: str,
                              rotation: int, ctxt: Mapping[str, Any]) -> None:
        """createBackup: a snapshot, then the server's older backups of that type rotated out."""
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_backup_instance"):
            await self._steps(uuid, states.IMAGE_BACKUP, states.IMAGE_PENDING_UPLOAD,
                              states.IMAGE_UPLOADING)
            await self.compute.profile_sleep("snapshot")
            await self.compute.upload_snapshot(uuid, image_id)
            await self._save(uuid, states.IMAGE_UPLOADING, task_state=None)
            await self.compute.snapshots.rotate_backups(uuid, backup_type, rotation,
                                                        newest=image_id)

    async def shelve_instance(self, instance_uuid: str, image_id: str, offload: bool,
                              ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_shelve_instance"):
            await self._steps(uuid, states.SHELVING, states.SHELVING_IMAGE_PENDING_UPLOAD,
                              states.SHELVING_IMAGE_UPLOADING)
            await self.compute.profile_sleep("shelve")
            await self.compute.upload_snapshot(uuid, image_id)
            self.hypervisor.power_off(uuid)
            await self._save(uuid, states.SHELVING_IMAGE_UPLOADING, vm_state=states.SHELVED,
                             task_state=None, power_state=states.SHUTDOWN)
        if offload:
            await self._save(uuid, None, task_state=states.SHELVING_OFFLOADING)
            await self.shelve_offload_instance(uuid, ctxt)

    async def shelve_offload_instance(self, instance_uuid: str,
                                      ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_shelve_offload_instance"):
            await self.compute.profile_sleep("destroy")
            self.hypervisor.destroy(uuid)
            # Its disk goes too (the snapshot keeps it); its volumes stay reserved for
            # it, connected to no host.
            self.compute.disks.delete(uuid, self.host)
            await self._move_volumes(uuid, states.SHELVING_OFFLOADING,
                                     self.compute.volumes.reserve_anew(uuid, ctxt))
            self.compute.placement.release(uuid)
            await self.compute.rebind_network(uuid, "")
            await self._save(uuid, states.SHELVING_OFFLOADING,
                             vm_state=states.SHELVED_OFFLOADED, task_state=None,
                             power_state=states.SHUTDOWN, host=None, node=None)

    async def unshelve_instance(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        compute = self.compute
        async with self._event(uuid, ctxt, "compute_unshelve_instance"):
            offloaded = compute.instance_summary(uuid)["vm_state"] == states.SHELVED_OFFLOADED
            # A server that moves takes its new host's zone (nova's conductor sets it).
            await self._save(uuid, states.SCHEDULING, task_state=states.SPAWNING,
                             host=self.host, node=self.host,
                             availability_zone=compute.host_zone(self.host))
            await compute.rebind_network(uuid, self.host)
            # An offloaded server's volumes are connected to its new host (a shelved one's
            # never left its host).
            if offloaded:
                await self._move_volumes(uuid, states.SPAWNING,
                                         compute.volumes.connect_all(uuid, self.host, ctxt))
            await compute.profile_sleep("spawning")
            record = compute.instance_summary(uuid)
            shelved_image = record["system_metadata"].get("shelved_image_id")
            if offloaded and shelved_image and not compute.volumes.boots_from_volume(uuid):
                # The offload removed the disk: a new one from the shelve's snapshot.
                await self._new_disk(uuid, states.SPAWNING, shelved_image)
            await self._boot(uuid, states.SPAWNING)
            await compute.delete_image(record["system_metadata"].get("shelved_image_id"))
            await self._save(uuid, states.SPAWNING, vm_state=states.ACTIVE, task_state=None,
                             power_state=states.RUNNING,
                             system_metadata=_without(record["system_metadata"],
                                                      "shelved_image_id", "shelved_at"))

    # -- resize and migrations -------------------------------------------------------------

    async def prep_resize(self, instance_uuid: str, migration_uuid: str,
                          ctxt: Mapping[str, Any]) -> None:
        """On the destination: the claim is made, tell the source to send the disk."""
        async with self._event(instance_uuid, ctxt, "compute_prep_resize"):
            migration = self.compute.set_migration(migration_uuid, status="pre-migrating",
                                                   dest_compute=self.host)
            for phase in ("start", "end"):  # nova's claim lies between them
                await self.compute.instances.notify(
                    instance_uuid, f"resize.prep.{phase}", self.host, ctxt=ctxt,
                    new_flavor=migration["new_flavor"], versioned_event=f"resize_prep.{phase}")
            await self.compute.bus.cast(Target("compute", migration["source_compute"]),
                                        "resize_instance", instance_uuid=instance_uuid,
                                        migration_uuid=migration_uuid, ctxt=ctxt)

    async def resize_instance(self, instance_uuid: str, migration_uuid: str,
                              ctxt: Mapping[str, Any]) -> None:
        """On the source: stop the guest and copy its disk."""
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_resize_instance"):
            self.compute.set_migration(migration_uuid, status="migrating")
            await self.compute.instances.notify(uuid, "resize.start", self.host, ctxt=ctxt)
            await self._save(uuid, states.RESIZE_PREP, task_state=states.RESIZE_MIGRATING)
            await self.compute.profile_sleep("migrate_disk")
            self.hypervisor.power_off(uuid)
            # The volumes let go of here, reserved for the destination.
            await self._move_volumes(uuid, states.RESIZE_MIGRATING,
                                     self.compute.volumes.reserve_anew(uuid, ctxt), migration_uuid,
                                     "error")
            await self._save(uuid, states.RESIZE_MIGRATING, task_state=states.RESIZE_MIGRATED)
            await self.compute.instances.notify(uuid, "resize.end", self.host, ctxt=ctxt)
            migration = self.compute.set_migration(migration_uuid, status="post-migrating")
            await self.compute.bus.cast(Target("compute", migration["dest_compute"]),
                                        "finish_resize", instance_uuid=uuid,
                                        migration_uuid=migration_uuid, ctxt=ctxt)

    async def finish_resize(self, instance_uuid: str, migration_uuid: str,
                            ctxt: Mapping[str, Any]) -> None:
        """On the destination: start the guest with the new flavor, to be confirmed."""
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_finish_resize"):
            migration = self.compute.set_migration(migration_uuid, status="finished")
            await self.compute.instances.notify(uuid, "finish_resize.start", self.host,
                                                ctxt=ctxt, versioned_event="resize_finish.start")
            await self._save(uuid, states.RESIZE_MIGRATED, task_state=states.RESIZE_FINISH,
                             host=self.host, node=self.host, flavor=migration["new_flavor"],
                             old_flavor=migration["old_flavor"],
                             availability_zone=self.compute.host_zone(self.host))
            await self.compute.rebind_network(uuid, self.host)
            await self._move_volumes(uuid, states.RESIZE_FINISH,
                                     self.compute.volumes.connect_all(uuid, self.host, ctxt),
                                     migration_uuid, "error")
            self.compute.disks.move(uuid, self.host)
            await self._boot(uuid, states.RESIZE_FINISH)
            record = self.compute.instance_summary(uuid)
            was_stopped = record["system_metadata"].get("old_vm_state") == states.STOPPED
            if was_stopped:
                self.hypervisor.power_off(uuid)
            await self._save(uuid, states.RESIZE_FINISH, vm_state=states.RESIZED,
                             task_state=None,
                             power_state=states.SHUTDOWN if was_stopped else states.RUNNING)
            await self.compute.instances.notify(uuid, "finish_resize.end", self.host,
                                                ctxt=ctxt, versioned_event="resize_finish.end")

    async def confirm_resize(self, instance_uuid: str, migration_uuid: str,
                             ctxt: Mapping[str, Any]) -> None:
        """On the source: forget the old guest and free what it held."""
        async with self._event(instance_uuid, ctxt, "compute_confirm_resize"):
            self.hypervisor.destroy(instance_uuid)
            self.compute.placement.release(migration_uuid)
            self.compute.set_migration(migration_uuid, status="confirmed")
            await self.compute.settle_resize(instance_uuid, states.RESIZE_CONFIRMING)

    async def revert_resize(self, instance_uuid: str, migration_uuid: str,
                            ctxt: Mapping[str, Any]) -> None:
        """On the destination: drop the new guest, give the source its share back."""
        async with self._event(instance_uuid, ctxt, "compute_revert_resize"):
            self.hypervisor.destroy(instance_uuid)
            await self._move_volumes(instance_uuid, states.RESIZE_REVERTING,
                                     self.compute.volumes.reserve_anew(instance_uuid, ctxt),
                                     migration_uuid, "error")
            placement = self.compute.placement
            placement.release(instance_uuid)
            placement.move(migration_uuid, instance_uuid)
            migration = self.compute.set_migration(migration_uuid, status="reverting")
            await self.compute.bus.cast(Target("compute", migration["source_compute"]),
                                        "finish_revert_resize", instance_uuid=instance_uuid,
                                        migration_uuid=migration_uuid, ctxt=ctxt)

    async def finish_revert_resize(self, instance_uuid: str, migration_uuid: str,
                                   ctxt: Mapping[str, Any]) -> None:
        uuid = instance_uuid
        async with self._event(uuid, ctxt, "compute_finish_revert_resize"):
            migration = self.compute.set_migration(migration_uuid, status="reverted")
            await self._save(uuid, states.RESIZE_REVERTING, host=self.host, node=self.host,
                             flavor=migration["old_flavor"], old_flavor=None,
                             availability_zone=self.compute.host_zone(self.host))
            await self.compute.rebind_network(uuid, self.host)
            await self._move_volumes(uuid, states.RESIZE_REVERTING,
                                     self.compute.volumes.connect_all(uuid, self.host, ctxt),
                                     migration_uuid, "error")
            self.compute.disks.move(uuid, self.host)
            await self._boot(uuid, states.RESIZE_REVERTING)
            await self.compute.settle_resize(uuid, states.RESIZE_REVERTING,
                                             hypervisor=self.hypervisor)

    async def live_migration(self, instance_uuid: str, dest: str, migration_uuid: str,
                             ctxt: Mapping[str, Any]) -> None:
        """On the source: copy memory to ``dest`` while the guest runs, then switch over."""
        uuid = instance_uuid
        compute = self.compute
        async with self._event(uuid, ctxt, "compute_live_migration"):
            if compute.migration_status(migration_uuid) == "cancelled":
                # Aborted while still queued: the destination's claim goes back.
                compute.placement.move(migration_uuid, uuid)
                return
            try:
                # The destination's attachments, made and completed before the copy.
                old = await compute.volumes.attach_for_live_migration(uuid, dest, ctxt)
            except CinderError as exc:
                # nova's rollback: the server stays here, running, the migration failed.
                LOG.error("[instance: %s] Pre live migration failed at %s: %s", uuid, dest,
                          exc.message)
                compute.placement.move(migration_uuid, uuid)
                await self._save(uuid, states.MIGRATING, task_state=None)
                compute.set_migration(migration_uuid, status="error")
                return
            compute.set_migration(migration_uuid, status="running", dest_compute=dest)
            await compute.profile_sleep("live_migrate")
            if compute.migration_status(migration_uuid) == "cancelling":
                # Aborted while copying: the guest keeps running here.
                await compute.volumes.undo_live_migration(uuid, old, ctxt)
                compute.placement.move(migration_uuid, uuid)
                await self._save(uuid, states.MIGRATING, task_state=None)
                compute.set_migration(migration_uuid, status="cancelled")
                return
            power = self.hypervisor.domain(uuid).power_state
            console = list(self.hypervisor.domain(uuid).console)
            self.hypervisor.destroy(uuid)
            target = compute.agents.get(dest)
            if target is not None:
                domain = target.hypervisor.domain(uuid)
                domain.power_state, domain.console = power, console
            await compute.rebind_network(uuid, dest)
            compute.disks.move(uuid, dest)
            await compute.volumes.drop_attachments(old, ctxt)
            await self._save(uuid, states.MIGRATING, task_state=None, host=dest, node=dest,
                             availability_zone=compute.host_zone(dest))
            compute.placement.release(migration_uuid)
            compute.set_migration(migration_uuid, status="completed")

    async def live_migration_force_complete(self, instance_uuid: str, migration_uuid: str,
                                            ctxt: Mapping[str, Any]) -> None:
        """libvirt pauses the guest so its last memory copies; the copy here ends on its own."""
        async with self._event(instance_uuid, ctxt, "compute_live_migration_force_complete"):
            LOG.info("[instance: %s] Forcing live migration %s to complete", instance_uuid,
                     migration_uuid)

    async def live_migration_abort(self, instance_uuid: str, migration_uuid: str,
                                   ctxt: Mapping[str, Any]) -> None:
        """A running copy stops at its next step; a queued one never starts."""
        compute = self.compute
        async with self._event(instance_uuid, ctxt, "compute_live_migration_abort"):
            status = compute.migration_status(migration_uuid)
            if status == "running":
                compute.set_migration(migration_uuid, status="cancelling")
            elif status in ("queued", "preparing"):
                compute.set_migration(migration_uuid, status="cancelled")
                await self._save(instance_uuid, states.MIGRATING, task_state=None)

    # -- what the API asks and waits for ------------------------------------------------------

    def get_console_output(self, instance_uuid: str, length: Any) -> str:
        """An RPC call: the guest's serial console log. A running guest whose rbd disk the
        cluster cannot serve now has logged its I/O errors."""
        domain = self.hypervisor.domains.get(instance_uuid)
        if (domain is not None and domain.power_state == states.RUNNING
                and self.compute.disks.blocked(instance_uuid, self.host) is not None):
            self.hypervisor.disk_error(instance_uuid)
        return self.hypervisor.console_output(instance_uuid, length)

    def get_instance_diagnostics(self, instance_uuid: str, standard: bool) -> dict[str, Any]:
        """An RPC call: what the hypervisor reports of the guest (409 unless it runs)."""
        domain = self.hypervisor.domain(instance_uuid)
        if domain.power_state != states.RUNNING:
            raise Conflict(f"Cannot 'get_diagnostics' instance {instance_uuid} while it is in "
                           f"power state {states.power_state_name(domain.power_state)}")
        with self.compute.db.session() as session:
            instance = self.compute.instances.find(session, instance_uuid)
            if instance is None:
                raise InstanceGone(instance_uuid)
            return diagnostics(instance, domain, self.compute.clock.now(), standard=standard)

    async def set_admin_password(self, instance_uuid: str, new_pass: str,
                                 ctxt: Mapping[str, Any]) -> None:
        """An RPC call: the guest's root password set (409 unless it runs).

        The simulated driver takes any password, as nova's fake driver does; either way
        the server leaves ``updating_password``.
        """
        bind(ctxt, self.host, "nova-compute")
        uuid, request_id = instance_uuid, ctxt.get("request_id")
        instances = self.compute.instances
        instances.event(uuid, request_id, "compute_set_admin_password", self.host)
        running = self.hypervisor.domain(uuid).power_state == states.RUNNING
        await self._save(uuid, states.UPDATING_PASSWORD, task_state=None)
        if not running:
            failure = not_running(uuid)
            instances.event(uuid, request_id, "compute_set_admin_password", self.host,
                            result="Error", details=failure.message)
            raise failure
        LOG.info("[instance: %s] Admin password set", uuid)
        instances.event(uuid, request_id, "compute_set_admin_password", self.host,
                        result="Success")

    async def inject_network_info(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """The guest's network configuration pushed again: libvirt's driver does nothing."""
        bind(ctxt, self.host, "nova-compute")
        LOG.debug("[instance: %s] Inject network info", instance_uuid)


def _allocation_failure(uuid: str, exc: NeutronError) -> str:
    """A port that cannot be made aborts the build, with neutron's reason."""
    reason = exc.message
    if exc.kind == "IpAddressGenerationFailure":
        # neutron's error reaches nova as NoMoreFixedIps.
        network = exc.message.rstrip(".").rsplit(" ", 1)[-1]
        reason = f"No fixed IP addresses available for network: {network}"
    return (f"Build of instance {uuid} aborted: Failed to allocate the network(s) with error "
            f"{reason}, not rescheduling.")


def _user_ports(compute: ComputeService, uuid: str) -> set[str]:
    requests = compute.instance_summary(uuid)["networks"]
    if not isinstance(requests, list):
        return set()
    return {r["port_id"] for r in requests if isinstance(r, dict) and r.get("port_id")}


def _without(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}
