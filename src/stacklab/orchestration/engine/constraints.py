"""Heat's custom constraints answered for the engine (``custom_constraint: nova.flavor`` on
a parameter, ``neutron.network`` on a port's property...).

The template library checks constraints synchronously, through a callback; the services
answer asynchronously. So a check runs in two passes: the first answers the local
constraints (addresses, CIDRs, timestamps) at once and, for the ones a service must
answer, notes the value and lets it pass; the engine then asks the services for what was
noted (``resolve``: the same look-ups the resource plugins use, with the caller's
credentials, so another project's private network is not found) and checks again, now
with every answer known. Messages are heat's: ``Error validating value 'x': <reason>``,
the reason being what heat's client plugin raises (``The Flavor (x) could not be
found.``, neutronclient's ``Unable to find network with name or id 'x'``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError, ServiceUnreachable
from stacklab.orchestration.resources.base import COMPUTE, VOLUME, Context, Nested
from stacklab.orchestration.resources.constraints import LOCAL_CHECKS, local_problem
from stacklab.orchestration.resources.plugins import keystone, neutron
from stacklab.orchestration.resources.plugins.glance import find_image
from stacklab.orchestration.resources.plugins.neutron import NotFound
from stacklab.orchestration.resources.plugins.nova import find_flavor

Lookup = Callable[[Context, str], Awaitable[object]]


def _by_id(service: str, collection: str, key: str, entity: str,
           listed_by_name: bool = False) -> Lookup:
    """A look-up by id (then by name, when heat's client plugin also takes a name) that
    fails as heat's ``EntityNotFound``."""
    async def find(ctx: Context, value: str) -> object:
        try:
            return await ctx.call(service, "GET", f"/{collection}/{quote(value, safe='')}")
        except ServiceCallError as error:
            if error.status != 404:
                raise
        if listed_by_name:
            listed = (await ctx.call(service, "GET", f"/{collection}"))[key]
            if any(item.get("name") == value for item in listed):
                return value
        raise NotFound(f"The {entity} ({value}) could not be found.", "EntityNotFound")
    return find


def _neutron(collection: str) -> Lookup:
    async def find(ctx: Context, value: str) -> object:
        return await neutron.find_id(ctx, collection, value)
    return find


def _keystone(collection: str) -> Lookup:
    async def find(ctx: Context, value: str) -> object:
        return await keystone.find_id(ctx, collection, value)
    return find


# The constraints a service answers, by heat's name (its ``heat.constraints`` entry points).
SERVICE_LOOKUPS: dict[str, Lookup] = {
    "nova.flavor": find_flavor,
    "nova.keypair": _by_id(COMPUTE, "os-keypairs", "keypairs", "Key"),
    "nova.server": _by_id(COMPUTE, "servers", "servers", "Server"),
    "glance.image": find_image,
    "neutron.network": _neutron("networks"),
    "neutron.subnet": _neutron("subnets"),
    "neutron.port": _neutron("ports"),
    "neutron.router": _neutron("routers"),
    "neutron.security_group": _neutron("security-groups"),
    "neutron.subnetpool": _neutron("subnetpools"),
    "cinder.volume": _by_id(VOLUME, "volumes", "volumes", "Volume"),
    "cinder.snapshot": _by_id(VOLUME, "snapshots", "snapshots", "VolumeSnapshot"),
    "cinder.backup": _by_id(VOLUME, "backups", "backups", "Volume backup"),
    "cinder.vtype": _by_id(VOLUME, "types", "volume_types", "VolumeType",
                           listed_by_name=True),
    "keystone.project": _keystone("projects"),
    "keystone.user": _keystone("users"),
    "keystone.role": _keystone("roles"),
    "keystone.group": _keystone("groups"),
    "keystone.domain": _keystone("domains"),
}

# Names heat knows that are not checked here (no cheap, deterministic check): their values
# pass, and the service judges them when the resource is made.
UNCHECKED = frozenset({
    "nova.host", "neutron.qos_policy", "neutron.segment", "neutron.address_scope",
    "neutron.lb.provider", "dns_name", "rel_dns_name", "dns_domain", "expiration",
    "cron_expression", "designate.domain", "designate.zone", "test_constr"})


class ConstraintChecker:
    """The ``custom(name, value)`` callback of the template library and the property
    check, with what the services answered so far (see the module's doc)."""

    def __init__(self) -> None:
        # (constraint, value) -> None when found, else the reason heat gives.
        self.answers: dict[tuple[str, str], str | None] = {}
        self.pending: set[tuple[str, str]] = set()

    def __call__(self, name: str, value: Any) -> bool | str | None:
        if isinstance(value, list):
            # A comma_delimited_list or a list property: each item must pass.
            for item in value:
                answer = self(name, item)
                if answer is not True:
                    return answer
            return True
        if name in LOCAL_CHECKS:
            return local_problem(name, value) or True
        if name in SERVICE_LOOKUPS:
            key = (name, str(value))
            if key not in self.answers:
                self.pending.add(key)
                return True
            reason = self.answers[key]
            return True if reason is None else f"Error validating value '{value}': {reason}"
        if name in UNCHECKED:
            return True
        return None

    async def resolve(self, ctx: Context) -> None:
        """Ask the services about every value noted since the last time."""
        for name, value in sorted(self.pending):
            try:
                await SERVICE_LOOKUPS[name](ctx, value)
                self.answers[name, value] = None
            except NotFound as error:
                self.answers[name, value] = str(error)
            except (ServiceCallError, ServiceUnreachable):
                # Not a "no such thing" (e.g. a member may not list keystone's projects):
                # heat's constraint would not refuse on that; the resource's own call
                # answers with the service's words when it is made.
                self.answers[name, value] = None
        self.pending.clear()


class LookupContext:
    """``resources.base.Context`` for look-ups made before any resource exists: only
    ``call`` serves, with the caller's token."""

    def __init__(self, call: Callable[..., Awaitable[Any]], project_id: str) -> None:
        self._call = call
        self.stack_id = ""
        self.stack_name = ""
        self.project_id = project_id
        self.resource_name = ""
        self.data: MutableMapping[str, str] = {}
        self.metadata: MutableMapping[str, Any] = {}

    def physical_name(self) -> str:
        raise NotImplementedError("a constraint look-up names nothing")

    def random_string(self, length: int, characters: str) -> str:
        raise NotImplementedError("a constraint look-up draws nothing")

    def signal_url(self) -> str:
        raise NotImplementedError("a constraint look-up signals nothing")

    def cfn_url(self) -> str:
        raise NotImplementedError("a constraint look-up polls nothing")

    def keystone_url(self) -> str:
        raise NotImplementedError("a constraint look-up logs in nowhere")

    async def create_stack_user(self, password: str) -> str:
        raise NotImplementedError("a constraint look-up makes no user")

    async def delete_stack_user(self, user_id: str) -> None:
        raise NotImplementedError("a constraint look-up deletes no user")

    def now(self) -> float:
        raise NotImplementedError("a constraint look-up waits on nothing")

    def timeout_secs(self) -> float:
        raise NotImplementedError("a constraint look-up has no timeout")

    def nested(self) -> Nested:
        raise NotImplementedError("a constraint look-up nests nothing")

    def update_policy(self) -> Mapping[str, Any]:
        return {}

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: Mapping[str, Any] | None = None,
                   microversion: str | None = None) -> Any:
        return await self._call(service, method, path, json=json, params=params,
                                microversion=microversion)
