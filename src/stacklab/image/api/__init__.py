"""Image v2 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.image.api import discovery, images, members, metadefs, tasks  # noqa: F401
from stacklab.image.api.base import api

__all__ = ["api"]
