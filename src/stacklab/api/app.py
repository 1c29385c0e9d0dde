"""The ASGI application: one port, one mount per service, the shared request path.

Every request, whatever the service, passes through the same steps here:
request ids, the body size limit, token validation, microversion
negotiation, body parsing and validation, policy, the handler, and error
rendering in the service's own format. Services only declare operations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes

import orjson
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stacklab.api.client import is_console
from stacklab.api.context import RequestContext
from stacklab.api.db_retry import DEADLOCK as DEADLOCK_RETRY
from stacklab.api.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotImplementedOperation,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
)
from stacklab.api.routing import IndexedRouter
from stacklab.api.service import Action, Call, Operation, Reach, Reply, ServiceApi, not_served
from stacklab.api.validation import check_integers, parse_json
from stacklab.bus.interface import reset_host as reset_bus_host
from stacklab.bus.interface import set_host as set_bus_host
from stacklab.ha.route import Direct, Entry, ProxyAnswer, Routed, Unreachable, bind, unbind
from stacklab.ha.route import Route as LabRoute
from stacklab.observability import logging as obs
from stacklab.store.errors import DBConnectionError, DBDeadlock, DBDuplicateEntry

if TYPE_CHECKING:
    from stacklab.cloud import Cloud

LOG = logging.getLogger("stacklab.api")

# oslo.middleware's request_id accepts a global request id only in this form.
_GLOBAL_ID = re.compile(r"^req-[a-f0-9]{8}(-[a-f0-9]{4}){3}-[a-f0-9]{12}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Every route takes every method: the dispatcher answers for the ones not implemented.
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What the log says of an exception no handler expected; tests of a live server count it.
UNEXPECTED_ERROR = "unexpected error in"
# Header values go out as latin-1 bytes: anything else (a tag in a Location) is escaped.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
# The ASGI extension a real listener offers to close a request's connection without an
# answer (stacklab.server): how a VIP nobody holds looks to a client.
CLOSE_CONNECTION = "stacklab.close_connection"
# oslo.db's exception, named in the errors services render for it.
DB_CONNECTION_ERROR = "oslo_db.exception.DBConnectionError"
# keystonemiddleware auth_token, when keystone cannot validate a token.
KEYSTONE_UNAVAILABLE = "The Keystone service is temporarily unavailable."


class JsonReply(JSONResponse):
    def render(self, content: Any) -> bytes:
        # orjson writes the same bytes as json.dumps with these options, ~8x faster: a
        # 10,000-port list spent a quarter of its time encoding. It refuses what json takes
        # (integers beyond 64 bits, say): those bodies go the slow way.
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()


def build_app(cloud: Cloud) -> ASGIApp:
    routes: list[BaseRoute] = []
    for prefix, api in cloud.service_apis():
        served: ASGIApp = IndexedRouter(_service_routes(api, cloud.reach(api.name), cloud))
        if api.request_id_header:
            served = ServiceRequestIdHeader(served, api.request_id_header)
        routes.append(Mount(prefix, app=served))
    app = Starlette()
    # Its own Router would try every service's mount in turn; replaced before the first
    # request builds starlette's middleware around it.
    app.router = IndexedRouter(routes)
    wrapped = RequestIdMiddleware(app, cloud, [(prefix, api.name)
                                               for prefix, api in cloud.service_apis()])
    # The services call each other over HTTP through it (nova's calls to neutron).
    cloud.app = wrapped
    return wrapped


class UnexpectedApiError(Exception):
    """An error code the operation does not declare: a bug, answered 500 as nova does."""


class ConnectionClosed(ConnectionError):
    """Nothing at the VIP took the connection. A real listener closes it without an answer;
    in-process (no listener) the client gets this instead."""


def _service_routes(api: ServiceApi, reach: Reach, cloud: Cloud) -> list[BaseRoute]:
    # One path, one method, several operations when each serves other microversions.
    by_path: dict[str, dict[str, list[Operation]]] = defaultdict(lambda: defaultdict(list))
    for operation in api.operations:
        by_path[operation.path][operation.method].append(operation)
    routes: list[BaseRoute] = []
    for path, operations in by_path.items():
        if "GET" in operations and "HEAD" not in operations:
            operations["HEAD"] = operations["GET"]
        routes.append(Route(path, _Endpoint(_dispatcher(api, operations, reach, cloud)),
                            methods=_ALL_METHODS))
    routes.append(Route("/{rest:path}", _Endpoint(_dispatcher(api, {}, reach, cloud)),
                        methods=_ALL_METHODS))
    return routes


class _Endpoint:
    """A route's ASGI application: the request to the dispatcher, its response sent.

    starlette's own wrapper of a ``request -> response`` function does the same inside a
    handler of the exceptions starlette raises (HTTPException), which nothing here raises:
    the dispatcher answers every exception itself, and any other passes through either way.
    """

    def __init__(self, dispatch: Callable[[Request], Awaitable[Response]]) -> None:
        self.dispatch = dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.dispatch(Request(scope, receive, send))
        await response(scope, receive, send)


def _dispatcher(api: ServiceApi, operations: dict[str, list[Operation]], reach: Reach,
                cloud: Cloud) -> Any:
    async def dispatch(request: Request) -> Response:
        obs.set_service(api.name)
        context: RequestContext = request.scope["state"]["context"]
        try:
            check_request_text(request.scope)
            candidates = operations.get(request.method)
            if candidates is None and operations:
                # A path we serve, with a method it does not take.
                allowed = ", ".join(sorted(operations))
                raise MethodNotAllowed(
                    f"The method {request.method} is not allowed for this resource.",
                    headers={"Allow": allowed})
            if candidates is None:
                raise NotImplementedOperation(
                    f"stacklab does not implement {request.method} {request.url.path} "
                    f"of the {api.name} service"
                )
            retry = api.db_retry or DEADLOCK_RETRY
            pauses: Iterator[float] | None = None
            while True:
                try:
                    return await _run(api, candidates, request, context, reach, cloud)
                except (DBConnectionError, DBDeadlock, DBDuplicateEntry) as error:
                    if not retry.retries(error):
                        raise
                    if pauses is None:
                        pauses = retry.pauses(cloud.db_retry_rng)
                    pause = next(pauses, None)
                    if pause is None:
                        LOG.error("%s: DB exceeded retry limit.", api.name)
                        raise
                    LOG.debug("%s: performing DB retry for %s %s", api.name,
                              request.method, request.url.path)
                    await cloud.parts.scaled_clock.sleep(pause)
        except ApiError as error:
            return _error_response(api, error, request)
        except ClientDisconnect:
            # The client went away mid-body (a probe's timeout): nothing is lost, as nothing
            # was acknowledged, and no one reads the answer; not a server error.
            return _error_response(api, BadRequest(
                "The client closed the connection before its request body was read."), request)
        except DBDuplicateEntry as error:
            # Two requests stored the same unique name at once (each checked first, in its
            # own process or worker): the loser gets keystone's sql.handle_conflicts 409,
            # not a 500.
            LOG.info("%s: duplicate entry: %s", api.name, error)
            return _error_response(api, ApiError(
                "Conflict occurred attempting to store the resource - Duplicate entry.",
                status=409, kind="Conflict"), request)
        except DBConnectionError as error:
            # What oslo.db raised reaches the service's own handling of the unexpected.
            LOG.error("%s: DBConnectionError: %s", api.name, error)
            return _error_response(api, api.internal_error(DB_CONNECTION_ERROR), request)
        except Exception:
            cloud.unexpected_errors += 1
            LOG.exception("%s %s %s", UNEXPECTED_ERROR, request.method, request.url.path)
            return _error_response(
                api,
                ApiError("An unexpected error prevented the server from fulfilling your "
                         "request."),
                request,
            )

    return dispatch


async def _run(
    api: ServiceApi, candidates: list[Operation], request: Request, context: RequestContext,
    reach: Reach, cloud: Cloud,
) -> Response:
    # The versions of one method on one path agree on being public (checked when declared).
    public = candidates[0].public
    token = request.headers.get("x-auth-token")
    if token:
        context.auth_token = token
        if not public:
            _authenticate(api, cloud, token, context)
            if api.requires_scope and not context.scoped:
                # keystonemiddleware lets a v3 unscoped token through with no project;
                # the lab refuses it as it does an invalid token.
                raise Unauthorized()
    elif not public:
        raise Unauthorized()
    version = api.microversions.negotiate(request.headers) if api.microversions else None
    request.state.version = version
    operation = next((op for op in candidates if version in op.versions), None)
    if operation is None:
        raise not_served()
    operation.check_query(version, request.query_params.keys())
    schema = operation.schemas.at(version)
    body: Any = None
    action: Action | None = None
    if request.method in _BODY_METHODS and not operation.stream_body:
        if api.body_limit is None:
            raw = await _read_body(request, cloud.config.oslo_middleware.max_request_body_size)
        else:
            raw = await _read_body(request, api.body_limit.limit(cloud.config),
                                   api.body_limit.refusal)
        # Before anything can echo them: this request's secrets are masked in every log line.
        obs.note_request_body(raw)
        has_body = bool(raw.strip())
        if has_body and api.strict_json_content_type:
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type not in ("", "application/json"):
                raise BadRequest("Expecting to find application/json in Content-Type header - "
                                 "the server could not comply with the request since it is "
                                 "either malformed or otherwise incorrect. The client is "
                                 "assumed to be in error.")
        if has_body or (schema is not None and not operation.body_optional):
            body = parse_json(raw, api.malformed_json_message, api.describe_error)
        if operation.actions is not None:
            # An action's schema is its own: the body says which action it is.
            action = operation.actions.select(body, version)
            schema = action.schemas.at(version)
        if schema is not None and (has_body or not operation.body_optional):
            schema.validate(body, api.describe_error)
        # After the schema, whose own bounds name the field better when it has them.
        check_integers(body, api.describe_error)
    call = Call(request, context, reach, body, operation, version)
    call.action = action
    try:
        if operation.policy is not None:
            target = operation.target(call) if operation.target else call.default_target()
            call.authorize(operation.policy, target)
        result = await operation.handler(call)
    except ApiError as error:
        if operation.expects(error, action):
            raise
        raise UnexpectedApiError(
            f"{operation.name}{f' ({action.name})' if action else ''} answered "
            f"{error.status}, which it does not declare: {error.message}") from error
    headers = api.microversions.response_headers(version) if api.microversions and version \
        else {}
    if isinstance(result, Response):
        result.headers.update(headers)
        return result
    if isinstance(result, Reply):
        headers.update({name: header_value(value) for name, value in result.headers.items()})
        status = result.status or operation.status
        content = result.body
    else:
        status, content = operation.status, result
    if action is not None and action.status is not None and not (
            isinstance(result, Reply) and result.status):
        status = action.status
    if request.method == "HEAD" or content is None or status == 204:
        return Response(status_code=status, headers=headers)
    return JsonReply(content, status_code=status, headers=headers)


def _authenticate(api: ServiceApi, cloud: Cloud, token: str, context: RequestContext) -> None:
    try:
        cloud.authenticate(token, context)
    except DBConnectionError:
        if not api.token_middleware:
            raise  # keystone itself: its own 500
        # keystonemiddleware asked keystone, which answered 500: "Unable to validate token".
        LOG.critical("Unable to validate token: Failed to fetch token data from identity "
                     "server")
        raise ServiceUnavailable(KEYSTONE_UNAVAILABLE) from None


def check_request_text(scope: Scope) -> None:
    """A path or query that does not decode as UTF-8 is the client's error, named as such.

    The ASGI server decodes them with replacement characters; a handler would then look
    up, store or log text the client never sent.
    """
    raw_path = scope.get("raw_path")
    if not _is_utf8(unquote_to_bytes(raw_path) if raw_path is not None
                    else scope["path"].encode("utf-8", "surrogatepass")):
        raise BadRequest("Invalid input: the request path is not valid UTF-8.")
    query: bytes = scope.get("query_string", b"")
    if not query or _is_utf8(unquote_to_bytes(query)):
        return
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        if not _is_utf8(name_bytes):
            raise BadRequest("Invalid input: a query parameter's name is not valid UTF-8.")
        if not _is_utf8(unquote_to_bytes(value.replace(b"+", b" "))):
            raise BadRequest(f"Invalid input for query parameter {name_bytes.decode()}: "
                             "the value is not valid UTF-8.")


def _is_utf8(data: bytes) -> bool:
    # Python's strict codec also refuses encoded surrogates (ED A0 80) and overlong forms.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def header_value(value: str) -> str:
    """Percent-escape what latin-1 headers cannot carry as the client would read it."""
    return value if value.isascii() and value.isprintable() else quote(value, safe=_HEADER_SAFE)


async def _read_body(request: Request, limit: int,
                     refusal: Callable[[int, int], ApiError] | None = None) -> bytes:
    """The body, at most ``limit`` bytes: beyond, oslo.middleware's 413 at once, or a
    service's own ``refusal(size, limit)`` once the whole size is counted (heat's)."""
    # Kept once read: a handler run again (a service's retry of database errors) reads it
    # again, and the stream gives it only once.
    kept: bytes | None = request.scope.get(_BODY_KEPT)
    if kept is not None:
        return kept
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(f"Request is too large. The limit is {limit} bytes.")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large if refusal is None else refusal(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit and refusal is None:
            raise too_large
        if size <= limit:
            chunks.append(chunk)
    if size > limit and refusal is not None:
        raise refusal(size, limit)
    request.scope[_BODY_KEPT] = body = b"".join(chunks)
    return body


_BODY_KEPT = "stacklab.body"


def _error_response(api: ServiceApi, error: ApiError, request: Request) -> Response:
    if error.status >= 500:
        LOG.error("%s error %d: %s", api.name, error.status, error.message)
    else:
        LOG.info("%s error %d: %s", api.name, error.status, error.message)
    headers = dict(error.headers)
    # nova and cinder put the negotiated version on errors too.
    version = getattr(request.state, "version", None)
    if api.microversions is not None and version is not None:
        headers.update(api.microversions.response_headers(version))
    if error.status == 401:
        identity_url = str(request.base_url).rstrip("/") + "/identity"
        headers.setdefault("WWW-Authenticate", f'Keystone uri="{identity_url}"')
    return JsonReply(api.errors(error), status_code=error.status, headers=headers)


_UNEXPECTED_BODY = json.dumps({"error": {
    "code": 500, "title": "Internal Server Error",
    "message": "An unexpected error prevented the server from fulfilling your request."}}).encode()


class ServiceRequestIdHeader:
    """The request id again under a service's own header (nova's ``x-compute-request-id``).

    nova's compute_req_id middleware sends both headers on every answer, errors included,
    and Tempest's compute client checks for its own.
    """

    def __init__(self, app: ASGIApp, header: str) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = scope.get("state", {}).get("context")
        if scope["type"] != "http" or context is None:
            await self.app(scope, receive, send)
            return
        request_id = context.request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (self.header, request_id)]}
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestIdMiddleware:
    """Request ids on every response, the request context, the way in, and the access log.

    A request to a service the lab's proxies balance enters through the control plane
    (``cloud.request_path``): the public VIP's holder, its HAProxy, a controller's API
    worker (the log context's node). The proxy may answer itself (503), or nothing may
    take the connection: then the listener closes it without an answer. The lab's console
    (``api.client.console``) reaches services directly, out of band.
    """

    def __init__(self, app: ASGIApp, cloud: Cloud,
                 mounts: list[tuple[str, str]] | None = None) -> None:
        self.app = app
        self.cloud = cloud
        self.request_ids = cloud.ids.stream("request-ids")
        # Longest prefix first: the service a path belongs to.
        self.mounts = sorted(mounts or [], key=lambda item: -len(item[0]))

    def _api_of(self, path: str) -> str | None:
        for prefix, name in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{self.request_ids.uuid()}"
        incoming: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-openstack-request-id":
                incoming = value.decode("latin-1")
        context = RequestContext(
            request_id=request_id,
            global_request_id=incoming if incoming and _GLOBAL_ID.match(incoming) else None,
        )
        scope.setdefault("state", {})["context"] = context
        started = self.cloud.clock.monotonic()
        api = self._api_of(scope["path"])
        entry: Entry = Direct()
        if api is not None and not is_console(scope):
            entry = await self.cloud.request_path.enter(api)
        if isinstance(entry, Unreachable | ProxyAnswer):
            await self._not_served(scope, send, entry, request_id, context, started)
            return
        route = entry.route if isinstance(entry, Routed) else None
        node = route.controller if route is not None else \
            entry.node if isinstance(entry, Direct) else None
        obs.bind_request(request_id, context.global_request_id, node)
        bound = bind(route)
        # What the request's handler sends over the bus leaves over its controller's
        # connection to the broker.
        sending = set_bus_host(node)
        status_holder: list[int] = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-openstack-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        broken: Unreachable | ProxyAnswer | None = None
        try:
            if route is None:
                await self.app(scope, receive, send_with_id)
            else:
                broken = await self._serve(route, scope, receive, send_with_id, status_holder)
        except Exception:
            # Raised past the dispatcher (while sending, or in routing): counted and logged
            # the same way; starlette has already answered 500 if it could.
            self.cloud.unexpected_errors += 1
            LOG.exception("%s %s %s", UNEXPECTED_ERROR, scope["method"], scope["path"])
            if not status_holder[0]:
                status_holder[0] = 500
                await send({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"),
                    (b"x-openstack-request-id", request_id.encode())]})
                await send({"type": "http.response.body", "body": _UNEXPECTED_BODY})
        finally:
            if route is not None:
                route.active = False
            unbind(bound)
            reset_bus_host(sending)
            if broken is None:
                self._log(scope, status_holder[0], started,
                          route.describe() if route is not None else "")
                obs.clear_request()
        if broken is not None:
            await self._not_served(scope, send, broken, request_id, context, started)

    async def _serve(self, route: LabRoute, scope: Scope, receive: Receive, send: Send,
                     status: list[int]) -> Unreachable | ProxyAnswer | None:
        """Serve the request on its controller; if its way breaks before the answer has
        started (the controller or its API process died, the proxy went away), the work is
        given up (cancelled: its transaction rolls back, and nothing it still says reaches
        the client) and what the client gets instead is returned. The app runs in this
        task, in this context, as it would without a lab."""
        path = self.cloud.request_path
        broken = path.watch(route)
        task = asyncio.current_task()
        gave_up: list[bool] = []

        def give_up(future: asyncio.Future[str]) -> None:
            if not future.cancelled() and not status[0] and task is not None:
                gave_up.append(True)
                task.cancel()

        async def unless_gone(message: Message) -> None:
            if message["type"] == "http.response.start" and route.database_delay:
                await path.answer_ready(route)
            if not gave_up:  # a dead worker's last words reach nobody
                await send(message)

        broken.add_done_callback(give_up)
        try:
            await self.app(scope, receive, unless_gone)
        except (Exception, asyncio.CancelledError):
            if not gave_up:
                raise
        finally:
            path.unwatch(route)
        if not gave_up:
            return None
        if task is not None and task.cancelling():
            task.uncancel()
        if status[0]:  # it had started answering after all: the connection just dies
            return Unreachable(route.vip, f"{route.server} died while answering")
        return await path.broken_answer(route, broken.result())

    async def _not_served(self, scope: Scope, send: Send, entry: Unreachable | ProxyAnswer,
                          request_id: str, context: RequestContext, started: float) -> None:
        """No OpenStack service answers: the connection closed, or HAProxy's own page."""
        if isinstance(entry, Unreachable):
            obs.bind_request(request_id, context.global_request_id, None)
            self._log(scope, 0, started, f"connection to {entry.vip} closed: {entry.reason}")
            obs.clear_request()
            await _close_connection(scope, entry.reason)
            return
        obs.bind_request(request_id, context.global_request_id, entry.proxy)
        obs.set_service("haproxy")
        # HAProxy's own page: no OpenStack service saw the request, no request id.
        await send({"type": "http.response.start", "status": entry.status,
                    "headers": [*entry.headers,
                                (b"content-length", str(len(entry.body)).encode())]})
        await send({"type": "http.response.body", "body": entry.body})
        self._log(scope, entry.status, started, entry.describe())
        obs.clear_request()

    def _log(self, scope: Scope, status: int, started: float, way: str) -> None:
        elapsed = self.cloud.clock.monotonic() - started
        query = scope.get("query_string", b"").decode("latin-1")
        LOG.info(
            '"%s %s%s" status: %d time: %.4f%s',
            scope["method"], scope["path"], f"?{query}" if query else "",
            status, elapsed, f" {way}" if way else "",
        )


async def _close_connection(scope: Scope, reason: str) -> None:
    close = scope.get("extensions", {}).get(CLOSE_CONNECTION)
    if close is None:
        raise ConnectionClosed(reason)
    await close()
