"""How a service declares its API: operations with their policy, schema and status.

Each service module builds one ``ServiceApi`` and declares handlers on it::

    api = ServiceApi("identity", errors=keystone_error)

    @api.route("GET", "/v3/projects/{project_id}", policy="identity:get_project",
               target=project_target)
    async def get_project(call: Call) -> dict[str, Any]: ...

The shared wrapper (``stacklab.api.app``) then does for every operation what
keystonemiddleware, oslo.policy and the validators do upstream: token check,
policy, body size limit, JSON parsing and schema validation, error rendering.

A microversioned service declares on the route what nova spreads over decorators:
the versions it is served at (``min_version``/``max_version``, nova's
``@wsgi.api_version``: outside them the operation is absent, 404), one request schema
per version range (``schema=[VersionedSchema(...), ...]``, nova's stacked
``@validation.schema``), and the error codes it may answer (``expected_errors``, nova's
``@wsgi.expected_errors``: any other is a bug, logged and answered 500). Actions
(``POST .../action`` whose body names one action) are declared one by one with
``ServiceApi.action``, each with its own versions, schemas and errors.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import Request

from stacklab.api.context import RequestContext
from stacklab.api.db_retry import DbRetry
from stacklab.api.errors import (
    ApiError,
    BadRequest,
    ErrorFormat,
    InternalError,
    NotFound,
    keystone_internal_error,
)
from stacklab.api.microversion import ALL_VERSIONS, MicroversionRange, Version, VersionRange
from stacklab.api.policy import PolicyEngine
from stacklab.api.validation import Describe, Schema, describe

if TYPE_CHECKING:
    from stacklab.declaration import Key

T = TypeVar("T")


@dataclass(frozen=True)
class Reach:
    """What the calls to one service reach: its own objects and policy, no other service's.

    ``service`` is the object the service's declaration built (None for one that
    builds none); ``parts`` the others it built, by key name, each named after it
    (``network.agents``). Nothing here leads to another service: that one is reached
    through its API, over HTTP.
    """

    name: str
    policy: PolicyEngine
    service: Any = None
    parts: Mapping[str, object] = field(default_factory=dict)

    @staticmethod
    def owns(service: str, key_name: str) -> bool:
        return key_name == service or key_name.startswith(f"{service}.")

    def part(self, key: Key[T]) -> T:
        if not self.owns(self.name, key.name):
            raise LookupError(f"{key.name!r} is not {self.name}'s: a service reaches another "
                              "through its API")
        found = self.parts.get(key.name)
        if not isinstance(found, key.kind):
            raise LookupError(f"{self.name} built no {key.name!r}")
        return found


@dataclass
class Reply:
    """A response other than a JSON body with the operation's status."""

    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Call:
    """One request to one operation, as a handler sees it.

    It holds the operation's own service and nothing of the cloud around it: no other
    service, no way to one (the request path keeps the cloud to itself).
    """

    def __init__(
        self,
        request: Request,
        context: RequestContext,
        reach: Reach,
        body: Any,
        operation: Operation,
        version: Version | None,
    ) -> None:
        self.request = request
        self.context = context
        # The service this operation belongs to, as its declaration built it: all a handler
        # reaches of the cloud, with its own parts (``part``) and policy.
        self.service: Any = reach.service
        self.policy = reach.policy
        self._reach = reach
        self.body = body
        self.operation = operation
        self.version = version
        # The action an action route's body names (set by the request path).
        self.action: Action | None = None
        self.params: Mapping[str, str] = request.path_params
        self.query = request.query_params
        self.headers = request.headers
        # Verdicts already reached in this request: rendering a thousand servers asks the
        # same question of the same targets over and over.
        self._verdicts: dict[tuple[str, tuple[tuple[str, Any], ...]], bool] = {}
        # What a handler reads once per request and uses many times (e.g. service records).
        self.memo: dict[str, Any] = {}

    def part(self, key: Key[T]) -> T:
        """An object this service's declaration built besides ``service`` (its agents...)."""
        return self._reach.part(key)

    def authorize(self, rule: str, target: Mapping[str, Any] | None = None) -> None:
        self.policy.authorize(rule, target or self.default_target(), self.context)

    def allows(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        target = target or self.default_target()
        key = (rule, tuple(sorted(target.items())))
        try:
            verdict = self._verdicts.get(key)
        except TypeError:  # a target holding lists or dicts: asked once, not remembered
            return self.policy.allows(rule, target, self.context)
        if verdict is None:
            verdict = self._verdicts[key] = self.policy.allows(rule, target, self.context)
        return verdict

    def default_target(self) -> dict[str, Any]:
        target: dict[str, Any] = {
            "project_id": self.context.project_id,
            "user_id": self.context.user_id,
        }
        target.update(self.params)
        return target

    def url_for(self, path: str) -> str:
        """An absolute URL under this service's mount (for links and ``self`` hrefs)."""
        root = self.request.scope.get("root_path", "")
        base = str(self.request.base_url).rstrip("/")
        return f"{base}{root}{path}" if not base.endswith(root) else f"{base}{path}"

    def version_at_least(self, text: str) -> bool:
        return self.version is not None and self.version >= _parsed(text)


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> Version:
    """Handlers compare against a few literal versions, thousands of times per list."""
    return Version.parse(text)


Handler = Callable[[Call], Awaitable[Any]]
TargetLoader = Callable[[Call], Mapping[str, Any]]

# Codes any operation may answer whatever it declares, as nova lets its policy's
# Forbidden and keystone's Unauthorized through expected_errors; 501 is stacklab's
# answer for what it does not implement yet.
ALWAYS_EXPECTED = frozenset({401, 403, 501})


def not_served() -> NotFound:
    """What a request outside an operation's versions gets: as if it did not exist."""
    return NotFound("The resource could not be found.")


@dataclass(frozen=True)
class VersionedSchema:
    """A request schema and the microversions it checks (both ends included)."""

    schema: Mapping[str, Any]
    min_version: str | None = None
    max_version: str | None = None


def schemas_from(table: Mapping[str, Mapping[str, Any]]) -> tuple[VersionedSchema, ...]:
    """Ranges from a table keyed by the version each schema starts at.

    Each schema holds until the next one starts, the last one to the latest version.
    """
    starts = sorted((Version.parse(key), key) for key in table)
    ranges = []
    for (_, key), following in zip(starts, [*starts[1:], None], strict=True):
        end: str | None = None
        if following is not None:
            if following[0].minor == 0:
                raise ValueError(f"cannot end a range before {following[1]}")
            end = str(Version(following[0].major, following[0].minor - 1))
        ranges.append(VersionedSchema(table[key], key, end))
    return tuple(ranges)


SchemaDeclaration = Mapping[str, Any] | Sequence[VersionedSchema]


@dataclass(frozen=True)
class Schemas:
    """An operation's request schemas, each with the versions it applies to.

    At a version no range holds, the body is not checked (nova's stacked schemas do the
    same); a route that should not exist there says so with its own version range.
    """

    ranges: tuple[tuple[VersionRange, Schema], ...] = ()

    @classmethod
    def declare(cls, declared: SchemaDeclaration | None) -> Schemas:
        if declared is None:
            return cls()
        if isinstance(declared, Mapping):
            return cls(((ALL_VERSIONS, Schema(declared)),))
        ranges: list[tuple[VersionRange, Schema]] = []
        for entry in declared:
            versions = VersionRange.of(entry.min_version, entry.max_version)
            for other, _ in ranges:
                if versions.overlaps(other):
                    raise ValueError(f"schemas for {versions} and {other} overlap")
            ranges.append((versions, Schema(entry.schema)))
        return cls(tuple(ranges))

    def at(self, version: Version | None) -> Schema | None:
        for versions, schema in self.ranges:
            if version in versions:
                return schema
        return None

    @property
    def latest(self) -> Schema | None:
        """The schema of the newest range (what a tool exploring the API starts from)."""
        if not self.ranges:
            return None
        return max(self.ranges, key=lambda entry: (
            entry[0].maximum is None, entry[0].maximum or Version(0, 0)))[1]

    def __bool__(self) -> bool:
        return bool(self.ranges)


Codes = Iterable[int] | int


def _codes(declared: Codes | None) -> frozenset[int] | None:
    if isinstance(declared, int):
        return frozenset({declared})
    return frozenset(declared) if declared is not None else None


@dataclass(frozen=True)
class QueryRule:
    """The query parameters an operation takes from a microversion on (nova's query schemas
    without additional properties): any other name is refused with 400."""

    min_version: Version
    names: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def check(self, names: Iterable[str]) -> None:
        unexpected = sorted({n for n in names if n not in self.names
                             and not (self.prefixes and n.startswith(self.prefixes))})
        if unexpected:
            listed = ", ".join(repr(n) for n in unexpected)
            verb = "was" if len(unexpected) == 1 else "were"
            raise BadRequest(f"Additional properties are not allowed ({listed} {verb} "
                             "unexpected)")


@dataclass
class Action:
    """One action of an action route: ``{"<name>": {...}}`` posted to ``.../action``."""

    name: str
    handler: Handler
    versions: VersionRange = ALL_VERSIONS
    schemas: Schemas = field(default_factory=Schemas)
    expected_errors: frozenset[int] | None = None
    status: int | None = None  # None: the route's


@dataclass
class ActionSet:
    """The actions of one action route, and how a body that names none is answered."""

    actions: dict[str, Action] = field(default_factory=dict)

    def select(self, body: Any, version: Version | None) -> Action:
        """The action a body names, served at ``version`` (nova's action_peek, then 404)."""
        if not isinstance(body, dict):
            raise BadRequest("Malformed request body: too many body keys")
        if len(body) != 1:
            raise BadRequest("There is no such action: " + ", ".join(map(str, body)))
        name = next(iter(body))
        found = self.actions.get(name)
        if found is None:
            raise BadRequest(f"There is no such action: {name}")
        if version not in found.versions:
            raise not_served()
        return found


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    policy: str | None = None
    target: TargetLoader | None = None
    public: bool = False
    status: int = 200
    schemas: Schemas = field(default_factory=Schemas)
    # Some operations take no body but clients send "{}" or nothing at all.
    body_optional: bool = False
    # The handler reads the body itself, as a stream (image uploads).
    stream_body: bool = False
    # Whose policy rules apply: every service has its own, as upstream.
    service: str = ""
    versions: VersionRange = ALL_VERSIONS
    # None: not declared, every error passes (services without nova's discipline).
    expected_errors: frozenset[int] | None = None
    # Set on an action route: the body names the action that handles it.
    actions: ActionSet | None = None
    # The query parameters it takes, strictly, from a version on (none: any).
    query_rules: tuple[QueryRule, ...] = ()

    def check_query(self, version: Version | None, names: Iterable[str]) -> None:
        """Refuse what the newest rule in force at ``version`` does not name."""
        if version is None:
            return
        rules = [rule for rule in self.query_rules if rule.min_version <= version]
        if rules:
            max(rules, key=lambda rule: rule.min_version).check(names)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def schema(self) -> Schema | None:
        return self.schemas.latest

    def expects(self, error: ApiError, action: Action | None = None) -> bool:
        declared = self.expected_errors
        if action is not None and action.expected_errors is not None:
            declared = action.expected_errors
        return declared is None or error.status in declared or error.status in ALWAYS_EXPECTED


@dataclass(frozen=True)
class BodyLimit:
    """A service's own bound on a request body's bytes: ``limit(config)``, and
    ``refusal(size, limit)`` the error for a body over it."""

    limit: Callable[[Any], int]
    refusal: Callable[[int, int], ApiError]


class ServiceApi:
    def __init__(
        self,
        name: str,
        *,
        errors: ErrorFormat,
        microversions: MicroversionRange | None = None,
        strict_json_content_type: bool = False,
        malformed_json_message: str | None = None,
        describe_error: Describe = describe,
        requires_scope: bool = True,
        request_id_header: str | None = None,
        internal_error: InternalError = keystone_internal_error,
        token_middleware: bool = True,
        db_retry: DbRetry | None = None,
        body_limit: BodyLimit | None = None,
    ) -> None:
        self.name = name
        # A service's own limit on a request's body instead of oslo.middleware's
        # sizelimit (heat's pipeline has none; its JSON deserializer has its own): the
        # limit from the config, and the error for a body of that many bytes.
        self.body_limit = body_limit
        # How its handlers are run again when the database cannot be reached (neutron's);
        # None: the first error is the answer.
        self.db_retry = db_retry
        # What the service answers for an error its handlers do not handle (a database out
        # of reach): each has its own words.
        self.internal_error = internal_error
        # Whether tokens reach it through keystonemiddleware, which asks keystone and
        # answers 503 when keystone cannot answer; keystone checks its own tokens.
        self.token_middleware = token_middleware
        # A header of the service's own that repeats x-openstack-request-id on each answer.
        self.request_id_header = request_id_header
        self.errors = errors
        self.microversions = microversions
        # keystone refuses a JSON body sent under another Content-Type.
        self.strict_json_content_type = strict_json_content_type
        self.malformed_json_message = malformed_json_message
        # How a request that breaks a schema is told so: each service has its wording.
        self.describe_error = describe_error
        # A project-scoped API (nova, neutron, glance, cinder, heat) has no caller without a
        # scope: an unscoped token gets 401. Only keystone serves unscoped tokens.
        self.requires_scope = requires_scope
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        policy: str | None = None,
        target: TargetLoader | None = None,
        public: bool = False,
        status: int = 200,
        schema: SchemaDeclaration | None = None,
        body_optional: bool = False,
        stream_body: bool = False,
        min_version: str | None = None,
        max_version: str | None = None,
        expected_errors: Codes | None = None,
    ) -> Callable[[Handler], Handler]:
        schemas = Schemas.declare(schema)
        versions = VersionRange.of(min_version, max_version)
        if versions != ALL_VERSIONS and self.microversions is None:
            raise ValueError(f"{self.name} has no microversions: {method} {path} cannot "
                             "declare a version range")

        def register(handler: Handler) -> Handler:
            self._add(Operation(method.upper(), path, handler, policy, target, public, status,
                                schemas, body_optional, stream_body, self.name, versions,
                                _codes(expected_errors)))
            return handler

        return register

    def action_route(
        self,
        path: str,
        *,
        policy: str | None = None,
        target: TargetLoader | None = None,
        status: int = 200,
        expected_errors: Codes | None = None,
    ) -> None:
        """``POST path`` with one action per body; its actions are added with ``action``."""
        actions = ActionSet()

        async def dispatch(call: Call) -> Any:
            assert call.action is not None  # chosen by the request path before the handler
            return await call.action.handler(call)

        self._add(Operation("POST", path, dispatch, policy, target, status=status,
                            service=self.name, expected_errors=_codes(expected_errors),
                            actions=actions))

    def action(
        self,
        path: str,
        name: str,
        *,
        schema: SchemaDeclaration | None = None,
        min_version: str | None = None,
        max_version: str | None = None,
        expected_errors: Codes | None = None,
        status: int | None = None,
    ) -> Callable[[Handler], Handler]:
        route = next((op for op in self.operations
                      if op.path == path and op.actions is not None), None)
        if route is None or route.actions is None:
            raise LookupError(f"no action route {path} declared on {self.name}")
        actions = route.actions
        if name in actions.actions:
            raise ValueError(f"action {name} of {path} declared twice")

        def register(handler: Handler) -> Handler:
            actions.actions[name] = Action(
                name, handler, VersionRange.of(min_version, max_version),
                Schemas.declare(schema), _codes(expected_errors), status)
            return handler

        return register

    def _add(self, operation: Operation) -> None:
        for other in self.operations:
            if (other.method, other.path) != (operation.method, operation.path):
                continue
            if other.versions.overlaps(operation.versions):
                raise ValueError(f"{operation.name} is declared twice for "
                                 f"{other.versions} and {operation.versions}")
            if other.public != operation.public:
                raise ValueError(f"{operation.name}: versions differ in being public")
        self.operations.append(operation)
