"""The Block Storage API object, its microversions, and what handlers share."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, cast

from stacklab.api.errors import ApiError, nova_error
from stacklab.api.microversion import MicroversionRange, Version
from stacklab.api.service import Call, ServiceApi
from stacklab.api.validation import describe_nova

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

# cinder/api/openstack/api_version_request.py: 3.0 to 3.71; cinder reads only the
# generic header, with the service type "volume".
MICROVERSIONS = MicroversionRange("volume", Version(3, 0), Version(3, 71))
# The date cinder's version document carries for its newest microversion.
UPDATED = "2023-08-31T00:00:00Z"


def cinder_internal_error(exception: str) -> ApiError:
    # cinder/api/middleware/fault.py FaultWrapper: webob's HTTPInternalServerError
    # explanation, in the fault body (whose name for a 500 is computeFault).
    return ApiError("The server has either erred or is incapable of performing the "
                    "requested operation.")


# cinder's API shares nova's WSGI fault bodies ({"itemNotFound": {code, message}}) and
# its validation messages ("Invalid input for field/attribute ...").
api = ServiceApi("volume", errors=nova_error, microversions=MICROVERSIONS,
                 malformed_json_message="Malformed request body",
                 describe_error=describe_nova, internal_error=cinder_internal_error)


def block_storage(call: Call) -> BlockStorageService:
    return cast("BlockStorageService", call.service)


def timestamp(moment: float | None) -> str | None:
    """cinder's datetimes as its JSON renders them: naive UTC with microseconds."""
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def project_target(call: Call) -> dict[str, str | None]:
    """cinder's ``context.authorize(rule)`` target: the caller's own project and user."""
    return {"project_id": call.context.project_id, "user_id": call.context.user_id}
