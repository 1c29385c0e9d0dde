"""Compute's domain code without HTTP: a service on an in-memory store, a recording bus, images.

The service runs on a virtual clock and seeded ids; the Image API is a
stand-in answering for a few images (and recording the images created), and
the bus records what is cast (no conductor or compute listens). Its computes
are registered and report, so they are up, and placement knows them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.context import RequestContext
from stacklab.bus.interface import Target
from stacklab.clock import VirtualClock
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.glance import GlanceError
from stacklab.compute.service import ComputeService
from stacklab.config import QuotaOptions
from stacklab.ids import IdSource
from stacklab.store.database import Database
from stacklab.topology.loader import load_topology

IMAGE = "11111111-1111-4111-8111-111111111111"
BIG_IMAGE = "22222222-2222-4222-8222-222222222222"
QUEUED_IMAGE = "33333333-3333-4333-8333-333333333333"
GiB = 1024 ** 3


class RecordingBus:
    """Keeps what is cast; nothing listens. A call gets the answer set for its method."""

    def __init__(self) -> None:
        self.casts: list[tuple[Target, str, dict[str, Any]]] = []
        self.calls: list[tuple[Target, str, dict[str, Any]]] = []
        self.answers: dict[str, Any] = {}

    async def call(self, target: Target, method: str, **kwargs: Any) -> Any:
        self.calls.append((target, method, kwargs))
        answer = self.answers[method]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def cast(self, target: Target, method: str, **kwargs: Any) -> None:
        self.casts.append((target, method, kwargs))

    async def notify(self, *args: Any, **kwargs: Any) -> None:
        pass


class ImageApi:
    """Answers as the Image API would: ``show`` for a few images, ``create`` queues one."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {
            IMAGE: {"id": IMAGE, "name": "cirros", "status": "active", "min_ram": 0,
                    "min_disk": 0, "size": 20 * 1024 ** 2, "disk_format": "raw",
                    "container_format": "bare", "hw_disk_bus": "virtio"},
            BIG_IMAGE: {"id": BIG_IMAGE, "name": "big", "status": "active", "min_ram": 1024,
                        "min_disk": 30, "size": 3 * GiB},
            QUEUED_IMAGE: {"id": QUEUED_IMAGE, "name": "empty", "status": "queued"},
        }
        self.tokens: list[str] = []
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.refusal: GlanceError | None = None
        self.failure: GlanceError | None = None  # what ``show`` answers instead (a 5xx)

    async def show(self, image_id: str, *, token: str | None = None) -> dict[str, Any]:
        self.tokens.append(token or "")
        if self.failure is not None:
            raise self.failure
        if image_id not in self.images:
            raise GlanceError(404, {"message": f"No image found with ID {image_id}"})
        return dict(self.images[image_id])

    async def create(self, fields: dict[str, Any], *, token: str | None = None) -> dict[str, Any]:
        if self.refusal is not None:
            raise self.refusal
        self.tokens.append(token or "")
        image = {**fields, "id": f"snap-{len(self.created) + 1}", "status": "queued"}
        self.created.append(image)
        return image

    async def list(self, filters: dict[str, str], *, token: str | None = None,
                   sort_key: str = "created_at", sort_dir: str = "desc") -> list[dict[str, Any]]:
        """The images (made here or put in ``images``) whose fields match, newest first."""
        self.tokens.append(token or "")
        found = [dict(i) for i in [*self.images.values(), *self.created]
                 if i["id"] not in self.deleted
                 and all(str(i.get(k)) == v for k, v in filters.items())]
        return sorted(found, key=lambda i: str(i.get(sort_key) or ""),
                      reverse=sort_dir == "desc")

    async def delete(self, image_id: str) -> None:
        self.deleted.append(image_id)


def compute_service(quota_options: QuotaOptions | None = None) -> ComputeService:
    db = Database("sqlite://")
    db.upgrade()
    service = ComputeService(db, VirtualClock(), IdSource(5), load_topology(), RecordingBus(),
                             boot_profile="realistic", quota_options=quota_options)
    with db.session() as session:
        service.flavors.ensure_defaults(session)
        session.add(m.Flavor(flavorid="zero", name="zero-disk", memory_mb=512, root_gb=0,
                             vcpus=1, created_at=0.0, extra_specs={}))
        service.services.register(session, service.service_hosts())
    service.services.heartbeat(lambda host: True)
    for host in compute_hosts(service):
        service.placement.add_provider(host, vcpus=8, memory_mb=16384, disk_gb=200)
    service.glance = ImageApi()  # type: ignore[assignment]
    return service


def compute_hosts(service: ComputeService) -> list[str]:
    return sorted(host for host, binary in service.service_hosts() if binary == "nova-compute")


def context(project: str = "project-a", *, admin: bool = False) -> RequestContext:
    return RequestContext(request_id="req-1", project_id=project, user_id="user-a",
                          auth_token="user-token", roles=["admin"] if admin else ["member"])


def casts(service: ComputeService) -> list[tuple[Target, str, dict[str, Any]]]:
    return service.bus.casts  # type: ignore[attr-defined, no-any-return]


def add_server(service: ComputeService, *, host: str | None, vm_state: str = states.ACTIVE,
               flavor: str = "2", group: str | None = None) -> str:
    """A server as a finished build leaves it: on ``host``, in ``vm_state``."""
    with service.db.session() as session:
        snapshot = service.builds.flavor(session, flavor, context(admin=True))
        instance = m.Instance(
            uuid=service.ids.uuid(), name="vm", hostname="vm", project_id="project-a",
            user_id="user-a", image_ref=IMAGE, flavor=snapshot, vcpus=snapshot["vcpus"],
            memory_mb=snapshot["memory_mb"], host=host, vm_state=vm_state, networks="none",
            server_group=group, created_at=0.0, updated_at=0.0)
        session.add(instance)
        return instance.uuid


def server(service: ComputeService, uuid: str) -> m.Instance:
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        return instance


def add_group(service: ComputeService, project: str = "project-a",
              members: list[str] | None = None) -> str:
    with service.db.session() as session:
        group = m.ServerGroup(uuid=service.ids.uuid(), name="g", policy="anti-affinity",
                              rules={"max_server_per_host": 1}, members=members or [],
                              project_id=project, user_id="user-a", created_at=0.0)
        session.add(group)
        return group.uuid


def migrations(service: ComputeService) -> list[m.Migration]:
    with service.db.session() as session:
        return list(session.scalars(select(m.Migration).order_by(m.Migration.id)))
