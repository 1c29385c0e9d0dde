"""Deleting a server, as nova-api does: through its compute, or at once when that compute is down.

A server whose compute is up is marked deleting and its compute is asked to
terminate it. When the compute is down (or the server never got a host),
nova-api deletes the record itself (its "local delete") and frees the ports.
Either way a shelved server's snapshot goes with it, and a resized server is
confirmed first so that its source host lets its guest go.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacklab.api.context import RequestContext
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService


def user_ports(instance: m.Instance) -> set[str]:
    """Ports the user brought: on delete nova unbinds them instead of deleting them."""
    requests = instance.networks if isinstance(instance.networks, list) else []
    return {r["port_id"] for r in requests if isinstance(r, dict) and r.get("port_id")}


class Deletes:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    async def delete(self, uuid: str, context: RequestContext) -> None:
        service = self.service
        ctxt = bus_context(context)
        shelved_image: Any = None
        with service.db.session() as session:
            instance = service.instances.find(session, uuid)
            if instance is None or instance.deleted:
                return
            service.instances.start_action(session, instance, "delete", ctxt)
            if instance.task_state == states.DELETING:
                return
            # Read before a local delete marks it deleted.
            if instance.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED):
                shelved_image = instance.system_metadata.get("shelved_image_id")
            if instance.vm_state == states.RESIZED:
                service.confirm_on_delete(session, instance)
            record = service.service_record(instance.host) if instance.host else None
            local = record is None or not service.services.is_up(record)
            if local:
                service.delete_row(session, instance)
            else:
                instance.task_state = states.DELETING
                instance.updated_at = service.clock.now()
            host, preserved = instance.host, user_ports(instance)
        # A shelved server's snapshot dies with it, as nova-api deletes it (through glance).
        await service.delete_image(shelved_image)
        if local:
            await service.release_network(uuid, preserved)
            return
        await service.bus.cast(Target("compute", host), "terminate_instance",
                               instance_uuid=uuid, ctxt=ctxt)
        await service.settle([uuid])
