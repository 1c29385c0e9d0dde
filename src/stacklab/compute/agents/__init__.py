"""The nova services that run on the lab's nodes and talk over the bus.

nova-conductor and nova-scheduler on each controller, nova-compute on each
compute node, as in the lab; nova-api (compute/api) casts to the conductor
and to the computes, and calls the computes for what it must answer with
(console output, console URLs).
"""

from collections.abc import Mapping
from typing import Any

from stacklab.observability.logging import bind_request, set_service


def bind(ctxt: Mapping[str, Any], host: str, service: str) -> None:
    """Log what follows as ``service`` on ``host``, under the request that caused it."""
    bind_request(str(ctxt.get("request_id") or ""), ctxt.get("global_request_id"), host)
    set_service(service)
