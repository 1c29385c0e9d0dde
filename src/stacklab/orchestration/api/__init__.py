"""heat-api v1 and heat-api-cfn over HTTP: importing this package declares every
operation on ``api`` (heat-api) and ``cfn_api`` (heat-api-cfn)."""

from stacklab.orchestration.api import software  # noqa: F401  (its routes join ``api``)
from stacklab.orchestration.api.cfn import cfn_api
from stacklab.orchestration.api.stacks import api

__all__ = ["api", "cfn_api"]
