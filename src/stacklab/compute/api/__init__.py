"""Compute v2.1 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.compute.api import (  # noqa: F401
    aggregates,
    assisted_volume_snapshots,
    discovery,
    extensions,
    flavors,
    floating_ips,
    hosts,
    hypervisors,
    images,
    keypairs,
    limits,
    networks,
    quota_classes,
    quota_sets,
    security_groups,
    server_actions,
    server_details,
    server_external_events,
    server_groups,
    server_ips,
    server_migrations,
    server_network,
    server_shares,
    servers,
    services,
    usage,
    volume_attachments,
    volumes_boot,
    volumes_proxy,
)
from stacklab.compute.api.base import api
from stacklab.compute.api.query_rules import apply

# Once every operation is declared: the query parameters nova's schemas let each take.
apply(api)

__all__ = ["api"]
