"""How a service declares its API: operations with their policy, schema and status.

Each service module builds one ``ServiceApi`` and declares handlers on it::

    api = ServiceApi("identity", errors=keystone_error)

    @api.route("GET", "/v3/projects/{project_id}", policy="identity:get_project",
               target=project_target)
    async def get_project(call: Call) -> dict[str, Any]: ...

The shared wrapper (``stacklab.api.app``) then does for every operation what
keystonemiddleware, oslo.policy and the validators do upstream: token check,
policy, body size limit, JSON parsing and schema validation, error rendering.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from stacklab.api.context import RequestContext
from stacklab.api.errors import ErrorFormat
from stacklab.api.microversion import MicroversionRange, Version
from stacklab.api.validation import Describe, Schema, describe

if TYPE_CHECKING:
    from stacklab.cloud import Cloud


@dataclass
class Reply:
    """A response other than a JSON body with the operation's status."""

    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Call:
    """One request to one operation, as a handler sees it."""

    def __init__(
        self,
        request: Request,
        context: RequestContext,
        cloud: Cloud,
        body: Any,
        operation: Operation,
        version: Version | None,
    ) -> None:
        self.request = request
        self.context = context
        self.cloud = cloud
        self.body = body
        self.operation = operation
        self.version = version
        self.params: Mapping[str, str] = request.path_params
        self.query = request.query_params
        self.headers = request.headers
        # Verdicts already reached in this request: rendering a thousand servers asks the
        # same question of the same targets over and over.
        self._verdicts: dict[tuple[str, tuple[tuple[str, Any], ...]], bool] = {}
        # What a handler reads once per request and uses many times (e.g. service records).
        self.memo: dict[str, Any] = {}

    def authorize(self, rule: str, target: Mapping[str, Any] | None = None) -> None:
        self.cloud.policy_for(self.operation.service).authorize(
            rule, target or self.default_target(), self.context)

    def allows(self, rule: str, target: Mapping[str, Any] | None = None) -> bool:
        target = target or self.default_target()
        key = (rule, tuple(sorted(target.items())))
        try:
            verdict = self._verdicts.get(key)
        except TypeError:  # a target holding lists or dicts: asked once, not remembered
            return self.cloud.policy_for(self.operation.service).allows(
                rule, target, self.context)
        if verdict is None:
            verdict = self._verdicts[key] = self.cloud.policy_for(
                self.operation.service).allows(rule, target, self.context)
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


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    policy: str | None = None
    target: TargetLoader | None = None
    public: bool = False
    status: int = 200
    schema: Schema | None = None
    # Some operations take no body but clients send "{}" or nothing at all.
    body_optional: bool = False
    # The handler reads the body itself, as a stream (image uploads).
    stream_body: bool = False
    # Whose policy rules apply: every service has its own, as upstream.
    service: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


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
    ) -> None:
        self.name = name
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
        schema: Mapping[str, Any] | None = None,
        body_optional: bool = False,
        stream_body: bool = False,
    ) -> Callable[[Handler], Handler]:
        compiled = Schema(schema) if schema is not None else None

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method.upper(), path, handler, policy, target, public, status,
                          compiled, body_optional, stream_body, self.name)
            )
            return handler

        return register
