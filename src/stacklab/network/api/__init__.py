"""Networking v2.0 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.network.api import (  # noqa: F401
    agents,
    auto_allocation,
    extensions,
    floatingips,
    metering,
    networks,
    ports,
    quotas,
    routers,
    security_groups,
    service_providers,
    subnetpools,
    subnets,
    tags,
)
from stacklab.network.api.base import api

__all__ = ["api"]
