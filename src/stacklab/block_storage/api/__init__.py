"""Block Storage v3 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.block_storage.api import discovery, services  # noqa: F401
from stacklab.block_storage.api.base import api

__all__ = ["api"]
