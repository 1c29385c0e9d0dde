"""Compute v2.1 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.compute.api import discovery, flavors, keypairs, limits  # noqa: F401
from stacklab.compute.api.base import api

__all__ = ["api"]
