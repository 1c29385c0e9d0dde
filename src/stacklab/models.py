"""Imports every service's tables so the metadata (and Alembic) sees them all."""

from stacklab.identity import models as identity_models
from stacklab.image import models as image_models

__all__ = ["identity_models", "image_models"]
