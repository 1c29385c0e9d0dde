"""Imports every service's tables so the metadata (and Alembic) sees them all."""

from stacklab.identity import models as identity_models

__all__ = ["identity_models"]
