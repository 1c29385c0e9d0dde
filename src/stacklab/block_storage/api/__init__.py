"""Block Storage v3 over HTTP: importing this package declares every operation on ``api``."""

from stacklab.block_storage.api import (  # noqa: F401
    attachments,
    backups,
    capabilities,
    consistencygroups,
    discovery,
    extensions,
    group_snapshots,
    groups,
    hosts,
    manageable,
    messages,
    qos,
    quotas,
    services,
    snapshots,
    transfers,
    volume_attach_actions,
    volume_migration,
    volume_reimage,
    volume_types,
    volume_upload,
    volumes,
    zones,
)
from stacklab.block_storage.api.base import api

__all__ = ["api"]
