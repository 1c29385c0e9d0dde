"""Compute v2.1 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.compute.api import (  # noqa: F401
    aggregates,
    discovery,
    flavors,
    hosts,
    hypervisors,
    keypairs,
    limits,
    quota_classes,
    quota_sets,
    server_actions,
    server_details,
    server_external_events,
    server_groups,
    server_network,
    servers,
    services,
    usage,
)
from stacklab.compute.api.base import api

__all__ = ["api"]
