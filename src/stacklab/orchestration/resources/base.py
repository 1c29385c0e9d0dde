"""The contract between heat-engine and a resource type (heat's ``Resource`` plugin,
in our own shape).

The engine calls a plugin's coroutines in this order and persists what they return:

- create: ``create`` once, returning the physical id (heat's ``resource_id``), then
  ``create_complete`` until it answers True (the engine waits on the clock between
  polls and enforces the stack's timeout);
- update: the engine compares old and new properties; when any changed property is not
  ``update_allowed`` (or ``update`` raises ``UpdateReplace``) it makes a replacement and
  deletes the old resource; otherwise ``update`` then ``update_complete``;
- delete: ``delete`` then ``delete_complete`` (a resource already gone, 404, is deleted);
- ``attributes`` answers get_attr (and ``show``), read back from the service each time;
- snapshot (a stack snapshot, action SNAPSHOT): ``snapshot`` once, then
  ``snapshot_complete`` until True; what it keeps in ``Context.data`` (a backup's or an
  image's id) is the resource's part of the snapshot. Deleting the snapshot calls
  ``delete_snapshot`` with that data; restoring it asks ``restore_properties`` for the
  properties the restoring update gives the resource (heat's ``handle_restore``);
- ``deletion_policy: Snapshot``: allowed only for a type with ``SNAPSHOT_DELETE`` (heat's
  ``handle_snapshot_delete``); the engine calls ``delete_with_snapshot`` instead of
  ``delete``, then ``delete_complete`` as for any delete;
- signal: only a type with ``SIGNALS`` takes one (heat's ``handle_signal``); the engine
  records it in ``data["signals"]`` then calls ``signal``; any other type's signal is
  refused (heat's ResourceActionNotSupported, 400). A type with a ``handle_signal``
  coroutine (a scaling policy) acts on it instead, as an action on its stack (see
  ``engine.stack.StackRun.signal``).

A plugin keeps no state of its own between calls: what it must remember goes in
``Context.data`` (heat's resource data), stored with the resource by the engine.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, ClassVar, Protocol

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.resources.properties import Attribute, Property

# The catalog types a plugin names in ``Context.call``.
COMPUTE, NETWORK, VOLUME, IMAGE, IDENTITY, ORCHESTRATION = (
    "compute", "network", "volumev3", "image", "identity", "orchestration")


class UpdateReplace(Exception):
    """The change cannot be made in place: the engine replaces the resource."""


class ResourceFailure(Exception):
    """The resource could not be made, changed or removed; ``str()`` is the reason heat
    shows after ``<Type> "<name>" ...`` in the status reason (e.g. ``Went to status
    ERROR due to "Message: No valid host was found."``)."""


class AdoptFailure(ResourceFailure):
    """heat's ``handle_adopt`` given no physical id (a plain ``Exception`` there)."""

    error_type = "Exception"


class Nested(Protocol):
    """A resource's nested stacks (heat's ``StackResource``): real stacks, each with its
    own id, its parent the resource's stack, acting with the parent's trust. Actions run
    in the background as any stack's; a plugin polls ``state`` in its ``*_complete``."""

    def template_name(self) -> str | None:
        """A template resource's template (its file name in ``files`` or URL)."""
        ...

    def template_text(self) -> str | None:
        """That template's text as the stack's ``files`` hold it (None when missing)."""
        ...

    async def create(self, template: Mapping[str, Any] | str, parameters: Mapping[str, Any],
                     *, name: str | None = None, detached: bool = False,
                     adopt: Mapping[str, Any] | None = None) -> str:
        """A nested stack made (named ``<stack>-<resource>-<random>`` unless ``name``);
        its id. ``detached``: a stack of its own, not nested (OS::Heat::Stack's remote
        stack in this cloud); ``adopt``: the stack adopts its resources from that data
        instead (heat's ``create_with_template(adopt_data=...)``). Raises the template's
        errors (``StackValidationFailed``)."""
        ...

    async def update(self, stack_id: str, template: Mapping[str, Any] | str,
                     parameters: Mapping[str, Any]) -> None: ...

    async def delete(self, stack_id: str) -> None: ...

    def state(self, stack_id: str) -> tuple[str, str, str] | None:
        """(action, status, reason) of the nested stack, None once it is gone."""
        ...

    def outputs(self, stack_id: str) -> dict[str, Any]:
        """The nested stack's outputs, by key (their values)."""
        ...

    def resources(self, stack_id: str) -> dict[str, tuple[str, str | None]]:
        """The nested stack's resources: name -> (type, physical id), oldest first."""
        ...

    def failed(self, stack_id: str) -> set[str]:
        """The nested stack's resources in a FAILED state (any action's)."""
        ...

    def definitions(self, stack_id: str) -> dict[str, Any]:
        """The nested stack's resource definitions as its template holds them (a group
        compares its members' with the definition it would give them)."""
        ...

    async def attributes(self, stack_id: str, resource: str) -> Mapping[str, Any]:
        """One resource's attributes in the nested stack (read back now)."""
        ...


class Context(Protocol):
    """What a plugin may use while it acts on one resource."""

    stack_id: str
    stack_name: str
    project_id: str
    resource_name: str
    # Heat's resource data: strings kept with the resource across calls and engines.
    data: MutableMapping[str, str]
    # The resource's metadata (the template's, resolved, and what heat adds to it: a
    # server's ``os-collect-config`` and ``deployments``), saved with the resource.
    metadata: MutableMapping[str, Any]

    def physical_name(self) -> str:
        """heat's ``physical_resource_name``: ``<stack>-<resource>-<12 random chars>``,
        stable for the resource (kept in ``data``)."""
        ...

    def random_string(self, length: int, characters: str) -> str:
        """Characters drawn from the cloud's seeded source (never ``random``)."""
        ...

    def signal_url(self) -> str:
        """A URL at heat-api-cfn that signals this resource without a token (the
        pre-signed URL heat's signal responders hand to servers)."""
        ...

    def cfn_url(self) -> str:
        """heat-api-cfn's versioned URL, ``.../heat-api-cfn/v1/`` (heat's
        ``get_cfn_metadata_server_url``: what os-collect-config's cfn collector polls)."""
        ...

    def keystone_url(self) -> str:
        """keystone's v3 URL (heat's ``server_keystone_endpoint_url``)."""
        ...

    async def create_stack_user(self, password: str) -> str:
        """heat's ``StackUser._create_user``: a keystone user named after the resource,
        with only the ``heat_stack_user`` role in the stack's project; its id."""
        ...

    async def delete_stack_user(self, user_id: str) -> None:
        """The stack user gone (none: nothing)."""
        ...

    def now(self) -> float:
        """The engine's clock (cooldowns, waits)."""
        ...

    def timeout_secs(self) -> float:
        """heat's ``Stack.timeout_secs``: the stack's ``timeout_mins`` in seconds, else
        ``stack_action_timeout``."""
        ...

    def nested(self) -> Nested:
        """This resource's nested stacks (OS::Heat::Stack, template resources, groups)."""
        ...

    def update_policy(self) -> Mapping[str, Any]:
        """The resource's ``update_policy`` section in the template being applied,
        resolved (a ResourceGroup's ``rolling_update`` and ``batch_create``); ``{}``
        without one."""
        ...

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: Mapping[str, Any] | None = None,
                   microversion: str | None = None) -> Any:
        """One call to ``service``'s public API (a catalog type above) with the stack's
        credentials (the user's token, or a trust's once deferred): the parsed body, or
        ``ServiceCallError`` with the service's status and body. ``path`` follows the
        catalog endpoint's URL, as keystoneauth's adapter joins them (``/servers`` for
        compute, ``/v2.0/networks`` for network, ``/volumes`` for volumev3, ``/v2/images``
        for image, ``/v3/projects`` for identity; orchestration's endpoint ends before the
        project id: ``/{project_id}/stacks/...``)."""
        ...


class ResourcePlugin:
    """One resource type. Subclasses set the class attributes and override what they do."""

    TYPE: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    PROPERTIES: ClassVar[Mapping[str, Property]] = {}
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {}
    # The keys its ``update_policy`` section takes (heat's ``update_policy_schema``; none
    # by default: any key is refused before the stack acts).
    UPDATE_POLICY: ClassVar[Mapping[str, Property]] = {}
    # The seconds between ``*_complete`` polls (lab time).
    POLL_INTERVAL: ClassVar[float] = 1.0
    # A resource over a nested stack: updated on every stack update (the nested stack
    # finds what changed in it), its properties all allowed to change in place.
    NESTED: ClassVar[bool] = False
    # Whether the type takes signals (heat's resources with a ``handle_signal``), and the
    # actions during which it refuses them (heat's ``no_signal_actions``).
    SIGNALS: ClassVar[bool] = False
    NO_SIGNAL_ACTIONS: ClassVar[tuple[str, ...]] = ("SUSPEND", "DELETE")

    # Whether ``deletion_policy: Snapshot`` is allowed (heat's handle_snapshot_delete).
    SNAPSHOT_DELETE: ClassVar[bool] = False

    def validate(self, properties: Mapping[str, Any]) -> None:
        """Checks across properties heat makes before acting (raise
        ``StackValidationFailed``); each property alone is already checked."""

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        raise NotImplementedError

    async def adopt(self, ctx: Context, resource_data: Mapping[str, Any],
                    properties: Mapping[str, Any]) -> str | None:
        """heat's ``handle_adopt``: the resource takes the physical id the adopt data
        gives (its entry of ``abandon``'s answer), nothing made; the engine keeps its
        resource data and metadata."""
        resource_id = resource_data.get("resource_id")
        if not resource_id:
            raise AdoptFailure("Resource ID was not provided.")
        return str(resource_id)

    async def adopt_complete(self, ctx: Context, physical_id: str | None,
                             properties: Mapping[str, Any]) -> bool:
        return True

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return True

    async def update(self, ctx: Context, physical_id: str | None,
                     old: Mapping[str, Any], new: Mapping[str, Any],
                     changed: frozenset[str]) -> None:
        """Change the resource in place; only properties declared ``update_allowed``
        reach here. Raise ``UpdateReplace`` when it cannot be done in place."""
        raise UpdateReplace()

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return True

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        """Remove it; a 404 from the service means it is gone already."""

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return True

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        """Every attribute's current value, ``show`` (the service's view) included."""
        return {}

    async def snapshot(self, ctx: Context, physical_id: str | None,
                       properties: Mapping[str, Any]) -> None:
        """Start the resource's part of a stack snapshot, its ids kept in ``ctx.data``
        (heat's ``handle_snapshot``); most types have nothing to keep."""

    async def snapshot_complete(self, ctx: Context, physical_id: str | None,
                                properties: Mapping[str, Any]) -> bool:
        return True

    async def delete_snapshot(self, ctx: Context, data: Mapping[str, str]) -> None:
        """Remove what ``snapshot`` made, given the resource data the snapshot kept
        (heat's ``handle_delete_snapshot``); what is gone already is deleted."""

    def restore_properties(self, properties: Mapping[str, Any], data: Mapping[str, str]
                           ) -> dict[str, Any] | None:
        """The properties a restore of a snapshot gives the resource (heat's
        ``handle_restore``): None keeps the snapshot's definition as it was."""
        return None

    async def delete_with_snapshot(self, ctx: Context, physical_id: str | None,
                                   properties: Mapping[str, Any], failed: bool) -> None:
        """``deletion_policy: Snapshot``: keep a copy (a backup, an image), then delete,
        ``delete_complete`` polling both; ``failed``: the resource is FAILED, and heat
        deletes it without a copy. Only for a type with ``SNAPSHOT_DELETE``."""
        raise NotImplementedError

    async def signal(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any], details: Any) -> str | None:
        """A signal to a type with ``SIGNALS`` (already in ``data["signals"]``); what it
        answers is the reason of the resource's SIGNAL event (None: heat's default). It
        may run while an action polls the resource: what it changes in ``ctx.data`` is not
        kept (change the service's side instead)."""
        return None

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """``resource type show``'s body."""
        return {
            "resource_type": cls.TYPE,
            "description": cls.DESCRIPTION,
            "properties": {k: v.describe() for k, v in cls.PROPERTIES.items()},
            "attributes": {**{k: v.describe() for k, v in cls.ATTRIBUTES.items()},
                           "show": {"description": "Detailed information about resource.",
                                    "type": "map"}},
            "support_status": {"status": "SUPPORTED", "version": None, "message": None,
                               "previous_status": None},
        }


def gone(error: ServiceCallError) -> bool:
    """Whether a delete's error means the resource is gone already (heat's
    ``ignore_not_found``)."""
    return error.status == 404


async def delete_if_there(ctx: Context, service: str, path: str, **kwargs: Any) -> None:
    """DELETE ``path``; a resource the service no longer has is deleted already."""
    try:
        await ctx.call(service, "DELETE", path, **kwargs)
    except ServiceCallError as error:
        if not gone(error):
            raise


async def find_by_name_or_id(ctx: Context, service: str, value: str, *, show: str,
                             found: Callable[[Any], Any], listing: str,
                             params: Mapping[str, Any], matches: Callable[[Any], list[Any]],
                             missing: Exception, ambiguous: Exception | None,
                             not_an_id: tuple[int, ...] = (404,)) -> str:
    """The id of what ``value`` numbers or names (heat's client plugins' ``find_*``): the
    item at ``show`` if the service has it (``found`` picks it from the body; a status in
    ``not_an_id`` means it is not an id), else the one item ``matches`` picks from the
    ``listing`` asked with ``params``; none raises ``missing``, several ``ambiguous``
    (None: the first is taken, as keystone's plugin does)."""
    try:
        return str(found(await ctx.call(service, "GET", show)))
    except ServiceCallError as error:
        if error.status not in not_an_id:
            raise
    listed = matches(await ctx.call(service, "GET", listing, params=params))
    if len(listed) == 1 or (listed and ambiguous is None):
        return str(listed[0]["id"])
    if not listed:
        raise missing
    assert ambiguous is not None
    raise ambiguous


async def run_steps(ctx: Context, start: Callable[[dict[str, Any]], Awaitable[bool]],
                    done: Callable[[dict[str, Any]], Awaitable[bool]],
                    key: str = "update_steps") -> bool:
    """One poll of a queue of steps kept in ``ctx.data[key]`` (heat's
    ``ServerUpdateProgress``/``VolumeUpdateProgress`` lists, checked one at a time by
    ``check_update_complete``): the first step not started is started (``start`` says
    whether it was; not: it is tried again next poll), a started one polled with ``done``
    and dropped once done. True once the queue is empty."""
    steps = json.loads(ctx.data.get(key) or "[]")
    while steps:
        step = steps[0]
        if not step.get("called"):
            step["called"] = await start(step)
            ctx.data[key] = json.dumps(steps)
            return False
        if not await done(step):
            return False
        steps.pop(0)
        ctx.data[key] = json.dumps(steps)
    return True
