"""A server's consoles as nova-api hands them out: its console log, asked of its compute, and
the URL where a console proxy (nova-novncproxy and friends) would serve it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, Conflict
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

_PROXY_PATHS = {"novnc": "/vnc_lite.html?path=%3Ftoken%3D", "xvpvnc": "/console?token=",
                "spice-html5": "/spice_auto.html?token=", "serial": "/?token=",
                "webmks": "/mks?token="}


def require_host(instance: m.Instance) -> str:
    """The server's host, if it runs on one (a console needs a running guest)."""
    if not instance.host or instance.vm_state in (states.BUILDING, states.SHELVED_OFFLOADED):
        raise Conflict(f"Instance {instance.uuid} is not ready")
    return instance.host


class Consoles:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    async def output(self, instance: m.Instance, length: Any,
                     context: RequestContext) -> Any:
        """The last ``length`` lines of the server's console log (all of it with None)."""
        host = require_host(instance)
        try:
            return await self.service.bus.call(
                Target("compute", host), "get_console_output", instance_uuid=instance.uuid,
                length=length, ctxt=bus_context(context), timeout=30)
        except ApiError:
            raise
        except Exception:
            raise Conflict(f"Instance {instance.uuid} is not ready") from None

    def url(self, console_type: str) -> str:
        """A new console's URL: the proxy's page with a token of its own."""
        token = self.service.ids.hex_id()
        path = _PROXY_PATHS.get(console_type, "/?token=")
        return f"{self.service.base_url()}/compute-console{path}{token}"
