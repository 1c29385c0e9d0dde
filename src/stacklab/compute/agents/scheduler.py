"""nova-scheduler: chooses hosts with the filter scheduler and claims them in placement."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.compute.agents import bind
from stacklab.compute.placement import Conflict, flavor_resources
from stacklab.compute.scheduler import (
    FlavorSpec,
    NoValidHost,
    RequestSpec,
    Scheduler,
    ServerGroupSpec,
)

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.scheduler.manager")
# How often a request chooses again when a chosen host's claim no longer fits.
CLAIM_ATTEMPTS = 3


class SchedulerManager:
    """The endpoint of topic ``scheduler`` on each controller."""

    def __init__(self, compute: ComputeService, host: str) -> None:
        self.compute = compute
        self.host = host
        self.scheduler = Scheduler(enabled_filters=compute.enabled_filters)

    def select_destinations(self, spec: dict[str, Any], ctxt: Mapping[str, Any]) -> list[str]:
        """One host per instance of ``spec``, each already holding its allocation.

        Runs without awaiting anything, so no other request of this process can claim
        between the choice and the claim; another process's claim is caught by the
        claim's compare-and-swap on the provider's generation (placement's), and the
        hosts are chosen again as they are then.
        """
        bind(ctxt, self.host, "nova-scheduler")
        flavor = spec["flavor"]
        group = spec.get("group")
        request = RequestSpec(
            flavor=FlavorSpec(vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"],
                              root_gb=flavor["root_gb"], ephemeral_gb=flavor["ephemeral_gb"],
                              swap=flavor["swap"], extra_specs=flavor.get("extra_specs", {}),
                              name=flavor.get("name", "")),
            image_properties=spec.get("image_properties", {}),
            availability_zone=spec.get("availability_zone"),
            scheduler_hints=spec.get("scheduler_hints", {}),
            group=ServerGroupSpec(group["uuid"], group["policy"], group.get("rules", {}))
            if group else None,
            force_hosts=tuple(spec.get("force_hosts", ())),
            force_nodes=tuple(spec.get("force_nodes", ())),
            ignore_hosts=tuple(spec.get("ignore_hosts", ())),
            instance_uuids=tuple(spec["instance_uuids"]),
            boot_from_volume=bool(spec.get("boot_from_volume")),
            project_id=str(spec.get("project_id") or ""),
        )
        resources = flavor_resources(flavor, boot_from_volume=request.boot_from_volume)
        placement = self.compute.placement
        for _ in range(CLAIM_ATTEMPTS):
            # The hosts as placement has them now: a claim another process made since
            # the last request is counted.
            hosts = self.compute.host_states()
            chosen = self.scheduler.select_destinations(request, hosts,
                                                        len(request.instance_uuids))
            claimed: list[str] = []
            try:
                for uuid, host in zip(request.instance_uuids, chosen, strict=True):
                    placement.claim(uuid, host.host, resources)
                    claimed.append(uuid)
            except Conflict as exc:
                # Another claim took the room first: choose again among the hosts as
                # they are now (nova tries the next host of its weighed list).
                LOG.debug("Claim failed, choosing again: %s", exc)
                for uuid in claimed:
                    placement.release(uuid)
                continue
            break
        else:
            raise NoValidHost()
        LOG.info("Selected hosts %s for instances %s", [h.host for h in chosen],
                 list(request.instance_uuids))
        return [host.host for host in chosen]
