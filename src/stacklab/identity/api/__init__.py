"""Identity v3 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.identity.api import (  # noqa: F401  (each module registers its routes)
    auth,
    catalog,
    credentials,
    discovery,
    domain_config,
    endpoint_filter,
    endpoint_policy,
    oauth1,
    policy_blobs,
    projects,
    roles,
    trusts,
    users,
)
from stacklab.identity.api.base import api

__all__ = ["api"]
