"""Imports every service's tables so the metadata (and Alembic) sees them all."""

from stacklab.block_storage import models as block_storage_models
from stacklab.compute import models as compute_models
from stacklab.ha import models as ha_models
from stacklab.identity import models as identity_models
from stacklab.image import models as image_models
from stacklab.lab import models as lab_models
from stacklab.network import models as network_models
from stacklab.orchestration import models as orchestration_models

__all__ = ["block_storage_models", "compute_models", "ha_models", "identity_models",
           "image_models", "lab_models", "network_models", "orchestration_models"]
