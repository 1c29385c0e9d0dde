"""nova-compute's resource tracker: the usage a compute node's record shows.

nova-api reads a hypervisor's figures (``vcpus_used``, ``running_vms`` …) from the
``compute_nodes`` row, which only its own nova-compute writes: on every claim and drop,
and in ``update_available_resource`` (every periodic-task pass, 60 s). While the service
runs the row is current. Once the node loses power or the process stops, nobody writes it
any more: the API keeps showing the figures of the last write (servers evacuated away
still counted there) until nova-compute runs again.

``running_vms`` is the number of instances on the node that hold resources
(``stats.num_instances``: every vm_state but DELETED and SHELVED_OFFLOADED); the
allocations of a migration in progress count in the used figures, not as servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from stacklab.compute import models as m
from stacklab.compute import states

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.resource_tracker")

# nova's [DEFAULT] update_resources_interval 0: the periodic tasks' own pace.
UPDATE_INTERVAL = 60.0
_NOT_COUNTED = (states.DELETED, states.SHELVED_OFFLOADED)

Usage = dict[str, int]


class ResourceTracker:
    def __init__(self, service: ComputeService) -> None:
        self.service = service
        # Whether the node's nova-compute runs now; the cloud sets it from the lab's runtime.
        self.running: Callable[[str], bool] = lambda host: True
        self._records: dict[str, Usage] = {}

    def measure(self, host: str) -> Usage:
        """The usage as nova-compute would write it now."""
        placement = self.service.placement
        provider = placement.providers.get(host)
        with self.service.db.session() as session:
            placement.refresh(session)
            servers = session.scalar(select(func.count()).select_from(m.Instance).where(
                m.Instance.host == host, m.Instance.deleted.is_(False),
                m.Instance.vm_state.not_in(_NOT_COUNTED))) or 0
        if provider is None:
            return {"vcpus": 0, "memory_mb": 0, "local_gb": 0, "servers": servers}
        return {"vcpus": provider.usage["VCPU"], "memory_mb": provider.usage["MEMORY_MB"],
                "local_gb": provider.usage["DISK_GB"], "servers": servers}

    def record(self, host: str) -> Usage:
        """What the node's record shows: current while its nova-compute runs, else its last
        write (or, for a node never seen running, what it holds)."""
        if self.running(host):
            self._records[host] = self.measure(host)
            return self._records[host]
        return self._records.get(host) or self.measure(host)

    async def run(self) -> None:
        """``update_available_resource`` on every running compute, forever: the record a
        node leaves behind when it dies is at most one pass old."""
        while True:
            await self.service.lab_clock.sleep(UPDATE_INTERVAL)
            for host in list(self.service.agents):
                if self.running(host):
                    self._records[host] = self.measure(host)
