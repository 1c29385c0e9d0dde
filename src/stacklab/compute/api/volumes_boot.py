"""``/os-volumes_boot``: nova's old alias of ``/servers``, gone at 2.103 (then 404).

The alias serves the servers' own operations (same handlers, checks and views) at the
versions they have, until 2.102. Its actions are not served here: below 2.103 they are
stacklab's 501, as any action route not implemented.
"""

from __future__ import annotations

import dataclasses

from stacklab.api.errors import NotImplementedOperation
from stacklab.api.microversion import Version, VersionRange
from stacklab.api.service import Call
from stacklab.compute.api import servers  # noqa: F401  (its routes are declared first)
from stacklab.compute.api.base import api

_LAST = Version(2, 102)
_ALIASES = {"/v2.1/servers": "/v2.1/os-volumes_boot",
            "/v2.1/servers/detail": "/v2.1/os-volumes_boot/detail",
            "/v2.1/servers/{server_id}": "/v2.1/os-volumes_boot/{server_id}"}


def _until_removed(versions: VersionRange) -> VersionRange:
    high = versions.maximum if versions.maximum is not None and versions.maximum < _LAST \
        else _LAST
    return VersionRange(versions.minimum, high)


for _operation in list(api.operations):
    _alias = _ALIASES.get(_operation.path)
    if _alias is None or _operation.actions is not None:
        continue
    if _operation.versions.minimum is not None and _operation.versions.minimum > _LAST:
        continue
    # The same operation under the alias' path: ServiceApi keeps one list of them.
    api._add(dataclasses.replace(_operation, path=_alias,
                                 versions=_until_removed(_operation.versions)))


@api.route("POST", "/v2.1/os-volumes_boot/{server_id}/action", max_version="2.102",
           expected_errors=())
async def volumes_boot_action(call: Call) -> None:
    raise NotImplementedOperation("Server actions through /os-volumes_boot are not "
                                  "implemented by stacklab; use /servers/{id}/action.")
