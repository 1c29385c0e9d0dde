"""``/os-volumes_boot``: nova's old alias of ``/servers``, gone at 2.103 (then 404).

The alias serves the servers' own operations (same handlers, checks and views) at the
versions they have, until 2.102, their actions included (nova's alias takes only the
actions of its servers controller; this one takes them all).
"""

from __future__ import annotations

import dataclasses

from stacklab.api.microversion import Version, VersionRange
from stacklab.compute.api import server_actions, servers  # noqa: F401  (declared first)
from stacklab.compute.api.base import api

_LAST = Version(2, 102)
_ALIASES = {"/v2.1/servers": "/v2.1/os-volumes_boot",
            "/v2.1/servers/detail": "/v2.1/os-volumes_boot/detail",
            "/v2.1/servers/{server_id}": "/v2.1/os-volumes_boot/{server_id}",
            "/v2.1/servers/{server_id}/action": "/v2.1/os-volumes_boot/{server_id}/action"}


def _until_removed(versions: VersionRange) -> VersionRange:
    high = versions.maximum if versions.maximum is not None and versions.maximum < _LAST \
        else _LAST
    return VersionRange(versions.minimum, high)


for _operation in list(api.operations):
    _alias = _ALIASES.get(_operation.path)
    if _alias is None:
        continue
    if _operation.versions.minimum is not None and _operation.versions.minimum > _LAST:
        continue
    # The same operation under the alias' path: ServiceApi keeps one list of them.
    api._add(dataclasses.replace(_operation, path=_alias,
                                 versions=_until_removed(_operation.versions)))

