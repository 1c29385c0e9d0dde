"""cinder-volume and cinder-scheduler as RPC servers on the bus.

Each cinder-volume process consumes ``cinder-volume.<host@backend>`` (its service's own
queue): a request on a volume goes to the host the volume records and to nothing else,
so while that process is stopped or its node is off, the request waits in the queue (a
cast) or times out (a call), as upstream's. Two nodes with one ``backend_host`` consume
the one queue: either serves. The scheduler on each controller consumes
``cinder-scheduler``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacklab.block_storage.backends import Backend
from stacklab.block_storage.servicegroup import SCHEDULER, TOPICS, VOLUME
from stacklab.bus.inprocess import InProcessListener
from stacklab.bus.interface import Target

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService


class VolumeManager:
    """The endpoint of one cinder-volume process (one backend of one node)."""

    def __init__(self, service: BlockStorageService, backend: Backend) -> None:
        self.service = service
        self.backend = backend
        self.listener: InProcessListener | None = None

    @property
    def node(self) -> str:
        return self.backend.node

    @property
    def target(self) -> Target:
        return Target(TOPICS[VOLUME], self.backend.host)


class SchedulerManager:
    """The endpoint of one cinder-scheduler process."""

    def __init__(self, service: BlockStorageService, node: str) -> None:
        self.service = service
        self.node = node
        self.listener: InProcessListener | None = None

    @property
    def target(self) -> Target:
        return Target(TOPICS[SCHEDULER], self.node)
