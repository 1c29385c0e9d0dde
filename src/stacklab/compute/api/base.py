"""The Compute API object, its microversions, and what handlers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from stacklab.api.errors import nova_error, nova_internal_error
from stacklab.api.microversion import MicroversionRange, Version
from stacklab.api.service import Call, ServiceApi
from stacklab.api.validation import describe_nova

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

MICROVERSIONS = MicroversionRange("compute", Version(2, 1), Version(2, 104),
                                  legacy_header="X-OpenStack-Nova-API-Version")

api = ServiceApi("compute", errors=nova_error, microversions=MICROVERSIONS,
                 malformed_json_message="Malformed request body", describe_error=describe_nova,
                 request_id_header="x-compute-request-id",
                 internal_error=nova_internal_error)


# What a call through the Networking API may answer: its client errors pass through to the
# caller as nova passes neutron's, and its own failures are 500.
NEUTRON_ERRORS = (400, 403, 404, 409, 413, 500)


def compute(call: Call) -> ComputeService:
    return cast("ComputeService", call.service)


def links(call: Call, collection: str, ident: str) -> list[dict[str, str]]:
    """nova's self (versioned) and bookmark (unversioned) links."""
    versioned = call.url_for(f"/v2.1/{collection}/{ident}")
    bookmark = call.url_for(f"/{collection}/{ident}")
    return [{"rel": "self", "href": versioned}, {"rel": "bookmark", "href": bookmark}]


def project_target(call: Call) -> dict[str, str | None]:
    """nova's target for collection operations: the caller's own project."""
    return {"project_id": call.context.project_id, "user_id": call.context.user_id}


def no_target(call: Call) -> dict[str, str | None]:
    """nova's target for its admin APIs (aggregates, hosts, quota classes): ``target={}``,
    so a rule naming ``%(project_id)s`` matches nothing rather than the caller's project."""
    return {}
