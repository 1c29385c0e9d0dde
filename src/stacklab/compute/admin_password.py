"""changePassword: nova-api's half of setting a server's root (admin) password.

nova's compute API marks the server ``updating_password`` and then *calls* (not
casts) its compute, so the answer waits for the guest: a guest that is not
running, or a compute that refuses, is the API's 409. The simulated hypervisor
sets the password as nova's fake driver does, so nova's 501 (a driver without
``set_admin_password``) never arises here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, Conflict
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

# How long nova-api waits for the compute's answer: oslo's default rpc_response_timeout.
_CALL_TIMEOUT = 60


def not_running(uuid: str) -> Conflict:
    """nova's InstancePasswordSetFailed for a guest that is not running."""
    return Conflict(f"Failed to set admin password on {uuid} because instance {uuid} "
                    "is not running")


def change_password(service: ComputeService, instance: m.Instance, password: str,
                    context: RequestContext) -> Callable[[], Awaitable[None]]:
    """Mark the server (in the caller's session); returns the call to make once committed."""
    instance.task_state = states.UPDATING_PASSWORD
    uuid, host = instance.uuid, instance.host

    async def ask_compute() -> None:
        try:
            await service.bus.call(Target("compute", host), "set_admin_password",
                                   instance_uuid=uuid, new_pass=password,
                                   ctxt=bus_context(context), timeout=_CALL_TIMEOUT)
        except ApiError:
            raise
        except Exception:
            # A compute that never answers: nova leaves the task state as it is.
            raise Conflict(f"Instance {uuid} is not ready") from None

    return ask_compute

