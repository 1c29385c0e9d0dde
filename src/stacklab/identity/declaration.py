"""Identity (keystone) as the cloud builds it; it starts first and publishes the catalog."""

from __future__ import annotations

from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.identity.api import api
from stacklab.identity.policies import RULES
from stacklab.identity.service import CatalogEntry, IdentityService

IDENTITY = Key("identity", IdentityService)


# Where keystone runs in another process, how stale this process's view of revocations
# and role assignments may be when it checks a token (seconds).
ELSEWHERE_REFRESH = 1.0


def _build(parts: Parts) -> IdentityService:
    identity = IdentityService(parts.db, parts.clock, parts.ids, parts.config)
    if not parts.here("keystone", None):
        # Tokens are checked here, but revoked and roles changed in keystone's process.
        identity.state.refresh_every = ELSEWHERE_REFRESH
    return identity


def _start(parts: Parts, startup: Startup) -> None:
    identity = parts.get(IDENTITY)
    startup.first_start = identity.start([
        CatalogEntry(spec.type, spec.name, spec.description, startup.url(spec))
        for spec in startup.catalog])
    startup.admin_project_id = identity.admin_project_id()


DECLARATION = ServiceDeclaration(
    api=api, mount="/identity", rules=RULES,
    catalog=CatalogSpec("identity", "keystone", "Identity Service", "/identity"),
    key=IDENTITY, build=_build, start=_start)
