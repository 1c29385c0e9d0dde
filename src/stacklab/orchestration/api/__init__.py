"""heat-api v1 and heat-api-cfn over HTTP: importing this package declares every
operation on ``api`` (heat-api) and ``cfn_api`` (heat-api-cfn)."""

from stacklab.orchestration.api import (  # noqa: F401  (their routes join ``api``)
    cfn_query,
    snapshots,
    software,
)
from stacklab.orchestration.api.cfn import cfn_api
from stacklab.orchestration.api.stacks import api

__all__ = ["api", "cfn_api"]
