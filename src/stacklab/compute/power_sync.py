"""nova-compute's ``_sync_power_states``: the database catches up with the hypervisor.

A compute node that loses power takes its guests with it: libvirt's persistent domains
are there again when the node is back, shut off. nova does not start them on its own
(``resume_guests_state_on_host_boot`` is False by default) and its ``init_host`` leaves
them be; the servers still show ACTIVE until the periodic task runs on that compute
(``sync_power_state_interval``, 600 s): it writes the hypervisor's power state into the
row, and for a server that should run but is shut off it calls the stop API ("Instance
shutdown by itself. Calling the stop API."), so it ends SHUTOFF. The other way round (a
stopped server found running), it stops it too. Servers with a task in progress are
skipped, as nova does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.casts import Cast

if TYPE_CHECKING:
    from stacklab.compute.agents.compute import ComputeManager
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")

# nova's [DEFAULT] sync_power_state_interval: a spacing of 0 runs the task at the periodic
# tasks' own pace (60 s); a negative one disables it.
DEFAULT_PERIODIC_SPACING = 60.0

_OFF = (states.SHUTDOWN, states.CRASHED)


class PowerSync:
    def __init__(self, service: ComputeService, interval: float) -> None:
        self.service = service
        self.interval = interval

    async def run(self, running: Callable[[str], bool]) -> None:
        """Every interval, on each compute whose nova-compute runs (forever)."""
        if self.interval < 0:
            return
        spacing = self.interval or DEFAULT_PERIODIC_SPACING
        while True:
            await self.service.lab_clock.sleep(spacing)
            for host, agent in list(self.service.agents.items()):
                if not running(host):
                    continue
                try:
                    await self.sync(agent)
                except Exception:  # the periodic task logs and tries again next time
                    LOG.exception("Error during ComputeManager._sync_power_states on %s", host)

    async def sync(self, agent: ComputeManager) -> list[str]:
        """One pass on ``agent``'s host: the servers it asked to stop."""
        service = self.service
        to_stop: list[tuple[str, dict[str, str]]] = []
        with service.db.session() as session:
            rows = session.scalars(select(m.Instance).where(
                m.Instance.host == agent.host, m.Instance.deleted.is_(False)))
            for instance in rows:
                if instance.task_state is not None:
                    continue  # "During sync_power_state the instance has a pending task"
                domain = agent.hypervisor.domains.get(instance.uuid)
                if domain is None:
                    continue  # "Instance is unexpectedly not found. Ignore."
                found, recorded = domain.power_state, instance.power_state
                instance.power_state = found
                wrong = (instance.vm_state == states.ACTIVE and found in _OFF) or \
                    (instance.vm_state == states.STOPPED and found == states.RUNNING)
                if not wrong:
                    continue
                LOG.warning("[instance: %s] %s Calling the stop API. Current vm_state: %s, "
                            "current task_state: None, original DB power_state: %s, current "
                            "VM power_state: %s", instance.uuid,
                            "Instance shutdown by itself." if found in _OFF
                            else "Instance is not stopped.", instance.vm_state,
                            recorded, found)
                # compute_api.force_stop, as an admin context of the compute itself.
                ctxt = {"request_id": f"req-{service.ids.uuid()}"}
                instance.task_state = states.POWERING_OFF
                service.instances.start_action(session, instance, "stop", ctxt)
                instance.updated_at = service.clock.now()
                to_stop.append((instance.uuid, ctxt))
        for uuid, ctxt in to_stop:
            cast = Cast.to_compute(agent.host, "stop_instance", instance_uuid=uuid)
            await service.bus.cast(cast.target, cast.method, ctxt=ctxt, **cast.kwargs)
        return [uuid for uuid, _ in to_stop]
