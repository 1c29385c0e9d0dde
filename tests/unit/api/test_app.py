"""The shared request path (stacklab.api.app) driven through a tiny service and a fake cloud."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient
from starlette.types import Message

from stacklab.api.app import UNEXPECTED_ERROR, JsonReply, build_app
from stacklab.api.context import RequestContext
from stacklab.api.errors import NotFound, Unauthorized, keystone_error, nova_error
from stacklab.api.microversion import MicroversionRange, Version
from stacklab.api.policy import PolicyEngine, PolicyRule
from stacklab.api.service import Call, Reach, Reply, ServiceApi
from stacklab.clock import VirtualClock
from stacklab.config import Config
from stacklab.ha.route import Direct
from stacklab.ids import IdSource
from stacklab.store.errors import DBDuplicateEntry

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
GOOD_GLOBAL_ID = "req-0123abcd-0123-4567-89ab-0123456789ab"
LIMIT = 64
SECRET = "s3cr3t-detail-from-the-database"

THING = {
    "type": "object",
    "properties": {
        "thing": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
            "required": ["name"],
            "additionalProperties": False,
        }
    },
    "required": ["thing"],
}

# A nova-like service: nova's error format, microversions, policy on some operations.
compute = ServiceApi(
    "compute", errors=nova_error,
    microversions=MicroversionRange("compute", Version(2, 1), Version(2, 90),
                                    legacy_header="X-OpenStack-Nova-API-Version"),
)
seen: dict[str, Any] = {}


@compute.route("GET", "/v2.1/things/{thing_id}", policy="demo:get_thing")
async def get_thing(call: Call) -> dict[str, Any]:
    seen["context"] = call.context
    seen["version"] = call.version
    if call.params["thing_id"] == "missing":
        raise NotFound("Thing missing could not be found.")
    return {"thing": {"id": call.params["thing_id"], "new": call.version_at_least("2.50")}}


@compute.route("POST", "/v2.1/things", status=202, schema=THING)
async def create_thing(call: Call) -> dict[str, Any]:
    return {"thing": {**call.body["thing"], "id": "t-1"}}


@compute.route("POST", "/v2.1/echo")
async def echo(call: Call) -> Any:
    return {"body": call.body}


@compute.route("POST", "/v2.1/things/{thing_id}/action", schema=THING, body_optional=True)
async def optional_body(call: Call) -> Reply:
    return Reply(status=204 if call.body is None else 200, body={"got": call.body})


@compute.route("DELETE", "/v2.1/things/{thing_id}", status=204, policy="demo:delete_thing")
async def delete_thing(call: Call) -> None:
    return None


@compute.route("PUT", "/v2.1/things/{thing_id}")
async def replace_thing(call: Call) -> Reply:
    return Reply({"thing": {"id": call.params["thing_id"]}}, status=201,
                 headers={"Location": call.url_for(f"/v2.1/things/{call.params['thing_id']}")})


@compute.route("GET", "/v2.1/boom")
async def boom(call: Call) -> Any:
    raise RuntimeError(SECRET)


@compute.route("POST", "/v2.1/named")
async def named(call: Call) -> Any:
    # What the store raises when another process stored the same unique name first.
    raise DBDuplicateEntry(f"(1062, \"Duplicate entry '{SECRET}' for key 'uq_name'\")")


@compute.route("GET", "/v2.1/raw")
async def raw(call: Call) -> Response:
    return PlainTextResponse("plain", headers={"X-Raw": "yes"})


@compute.route("GET", "/", public=True)
async def versions(call: Call) -> dict[str, Any]:
    seen["public_context"] = call.context
    return {"versions": []}


# A keystone-like service: keystone's error format, no microversions.
identity = ServiceApi("identity", errors=keystone_error)


@identity.route("GET", "/v3/things")
async def list_things(call: Call) -> dict[str, Any]:
    return {"things": [], "user": call.context.user_id}


class FakeCloud:
    """Just what the request path calls on a Cloud."""

    def __init__(self) -> None:
        self.config = Config()
        self.config.oslo_middleware.max_request_body_size = LIMIT
        self.ids = IdSource(5)
        self.clock = VirtualClock()
        self.policy = PolicyEngine([
            PolicyRule("demo:get_thing", "role:reader or role:admin"),
            PolicyRule("demo:delete_thing", "role:admin and project_id:%(project_id)s"),
        ])
        self.authenticated: list[str] = []
        self.unexpected_errors = 0

    def reach(self, service: str) -> Reach:
        return Reach(service, self.policy)

    def stacklab_routes(self) -> list[BaseRoute]:
        async def health(request: Any) -> Response:
            return PlainTextResponse("ok")

        return [Route("/stacklab/health", health)]

    def service_apis(self) -> list[tuple[str, ServiceApi]]:
        return [("/compute", compute), ("/identity", identity)]

    def authenticate(self, token: str, context: RequestContext) -> None:
        self.authenticated.append(token)
        roles = {"admin-token": ["admin", "reader"], "reader-token": ["reader"],
                 "nobody-token": []}.get(token)
        if roles is None:
            raise Unauthorized("The request you have made requires authentication.")
        context.user_id = f"u-{token}"
        context.project_id = "p-1"
        context.roles = roles
        context.authenticated = True

    @property
    def request_path(self) -> FakeRequestPath:
        return FakeRequestPath()


class FakeRequestPath:
    """Every request straight to one API worker, as a cloud without proxies."""

    async def enter(self, api: str) -> Direct:
        return Direct("controller-0")


ADMIN = {"X-Auth-Token": "admin-token"}
READER = {"X-Auth-Token": "reader-token"}


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def client(cloud: FakeCloud) -> Iterator[TestClient]:
    seen.clear()
    with TestClient(build_app(cloud),  # type: ignore[arg-type]
                    raise_server_exceptions=False) as test_client:
        yield test_client


# -- request ids ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "headers"), [
    ("GET", "/compute/v2.1/things/t1", ADMIN),           # success
    ("GET", "/compute/v2.1/things/t1", {}),              # 401
    ("GET", "/compute/v2.1/things/missing", ADMIN),      # 404 from the handler
    ("GET", "/compute/v2.1/no/such/path", ADMIN),        # unknown path inside a mount
    ("PATCH", "/compute/v2.1/things/t1", ADMIN),         # unknown method on a known path
    ("GET", "/compute/v2.1/boom", ADMIN),                # 500
    ("GET", "/identity/v3/things", {}),                  # other service's 401
    ("GET", "/nowhere", {}),                             # outside every mount
    ("GET", "/stacklab/health", {}),                     # stacklab's own routes
])
def test_every_response_has_a_request_id(client: TestClient, method: str, path: str,
                                         headers: dict[str, str]) -> None:
    response = client.request(method, path, headers=headers)
    assert REQUEST_ID.match(response.headers["x-openstack-request-id"]), response.headers
    assert len(response.headers.get_list("x-openstack-request-id")) == 1


def test_request_ids_are_fresh_per_request_and_seeded(client: TestClient) -> None:
    first = client.get("/compute/", headers=ADMIN).headers["x-openstack-request-id"]
    second = client.get("/compute/", headers=ADMIN).headers["x-openstack-request-id"]
    assert first != second
    again = FakeCloud()
    with TestClient(build_app(again)) as other:  # type: ignore[arg-type]
        assert other.get("/compute/").headers["x-openstack-request-id"] == first


def test_the_context_carries_the_response_request_id(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1", headers=ADMIN)
    assert response.status_code == 200
    context = seen["context"]
    assert context.request_id == response.headers["x-openstack-request-id"]
    assert context.global_request_id is None


def test_a_valid_incoming_request_id_becomes_the_global_request_id(
        client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "X-OpenStack-Request-ID": GOOD_GLOBAL_ID})
    assert response.status_code == 200
    assert seen["context"].global_request_id == GOOD_GLOBAL_ID
    # The caller's id is not echoed back as ours: each service issues its own.
    assert response.headers["x-openstack-request-id"] != GOOD_GLOBAL_ID


@pytest.mark.parametrize("incoming", [
    "not-a-request-id",
    "req-XYZ",
    GOOD_GLOBAL_ID.upper(),
    GOOD_GLOBAL_ID + "0",
    "0123abcd-0123-4567-89ab-0123456789ab",
])
def test_an_invalid_incoming_request_id_is_ignored(client: TestClient, incoming: str) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "X-OpenStack-Request-ID": incoming})
    assert response.status_code == 200
    assert seen["context"].global_request_id is None


# -- authentication ------------------------------------------------------------------------


def test_a_missing_token_is_401_in_the_services_format(client: TestClient,
                                                       cloud: FakeCloud) -> None:
    response = client.get("/compute/v2.1/things/t1")
    assert response.status_code == 401
    assert response.json() == {"unauthorized": {
        "code": 401, "message": "The request you have made requires authentication."}}
    assert response.headers["www-authenticate"] == 'Keystone uri="http://testserver/identity"'
    assert cloud.authenticated == []


def test_a_missing_token_for_identity_is_401_in_keystones_format(client: TestClient) -> None:
    response = client.get("/identity/v3/things")
    assert response.status_code == 401
    assert response.json() == {"error": {
        "code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication."}}
    # keystone names itself too, as keystonemiddleware does for the other services.
    assert response.headers["www-authenticate"] == 'Keystone uri="http://testserver/identity"'


def test_an_invalid_token_is_401(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1", headers={"X-Auth-Token": "forged"})
    assert response.status_code == 401
    assert "unauthorized" in response.json()


def test_a_valid_token_fills_the_context(client: TestClient, cloud: FakeCloud) -> None:
    response = client.get("/identity/v3/things", headers=READER)
    assert response.status_code == 200
    assert response.json() == {"things": [], "user": "u-reader-token"}
    assert cloud.authenticated == ["reader-token"]


def test_a_public_operation_needs_no_token_and_skips_validation(
        client: TestClient, cloud: FakeCloud) -> None:
    assert client.get("/compute/").json() == {"versions": []}
    # Even a bad token is not validated on a public operation; it is only recorded.
    response = client.get("/compute/", headers={"X-Auth-Token": "forged"})
    assert response.status_code == 200
    assert cloud.authenticated == []
    assert seen["public_context"].auth_token == "forged"


# -- policy --------------------------------------------------------------------------------


def test_policy_denial_is_403_naming_the_rule(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1", headers={"X-Auth-Token": "nobody-token"})
    assert response.status_code == 403
    assert response.json() == {"forbidden": {
        "code": 403,
        "message": "You are not authorized to perform the requested action: demo:get_thing."}}


def test_policy_sees_the_default_target(client: TestClient) -> None:
    response = client.delete("/compute/v2.1/things/t1", headers=ADMIN)
    assert response.status_code == 204
    assert response.content == b""
    assert client.delete("/compute/v2.1/things/t1", headers=READER).status_code == 403


# -- bodies --------------------------------------------------------------------------------


def test_a_valid_body_reaches_the_handler_with_the_operation_status(client: TestClient) -> None:
    response = client.post("/compute/v2.1/things", headers=ADMIN,
                           json={"thing": {"name": "a", "size": 2}})
    assert response.status_code == 202
    assert response.json() == {"thing": {"name": "a", "size": 2, "id": "t-1"}}
    assert response.headers["content-type"].startswith("application/json")


def test_a_body_over_the_limit_with_content_length_is_413(client: TestClient) -> None:
    body = b'{"thing": {"name": "' + b"x" * LIMIT + b'"}}'
    response = client.post("/compute/v2.1/things", headers=ADMIN, content=body)
    assert response.status_code == 413
    assert response.json() == {"overLimit": {
        "code": 413, "message": f"Request is too large. The limit is {LIMIT} bytes."}}


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"thing": {"name": "'
        yield b"x" * LIMIT
        yield b'"}}'

    response = client.post("/compute/v2.1/things", headers=ADMIN, content=chunks())
    assert response.status_code == 413
    assert "overLimit" in response.json()


def test_a_chunked_body_within_the_limit_is_read(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"thing": '
        yield b'{"name": "a"}}'

    response = client.post("/compute/v2.1/things", headers=ADMIN, content=chunks())
    assert response.status_code == 202


def test_a_body_at_the_limit_is_accepted(client: TestClient) -> None:
    prefix, suffix = b'{"body": "', b'"}'
    body = prefix + b"x" * (LIMIT - len(prefix) - len(suffix)) + suffix
    assert len(body) == LIMIT
    response = client.post("/compute/v2.1/echo", headers=ADMIN, content=body)
    assert response.status_code == 200


def test_the_limit_comes_from_the_config(client: TestClient, cloud: FakeCloud) -> None:
    cloud.config.oslo_middleware.max_request_body_size = 10
    response = client.post("/compute/v2.1/echo", headers=ADMIN, json={"a": "bcdefghij"})
    assert response.status_code == 413


def _raw_post(cloud: FakeCloud, chunks: list[bytes], declared: int | None, *,
              gone: bool = False) -> list[Message]:
    """Drive the ASGI app directly, delivering the body in several receive() messages
    (``gone``: the client disconnects before the body's end)."""
    app = build_app(cloud)  # type: ignore[arg-type]
    headers = [(b"host", b"testserver"), (b"x-auth-token", b"admin-token"),
               (b"content-type", b"application/json")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/compute/v2.1/echo",
             "raw_path": b"/compute/v2.1/echo", "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    pending = [{"type": "http.request", "body": chunk,
                "more_body": gone or i < len(chunks) - 1}
               for i, chunk in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_body_in_many_chunks_over_the_limit_is_413() -> None:
    sent = _raw_post(FakeCloud(), [b'{"body": "'] + [b"x" * 20] * 5 + [b'"}'], declared=None)
    assert sent[0]["status"] == 413


def test_a_content_length_smaller_than_the_body_does_not_bypass_the_limit() -> None:
    sent = _raw_post(FakeCloud(), [b'{"body": "'] + [b"x" * 20] * 5 + [b'"}'], declared=10)
    assert sent[0]["status"] == 413


def test_a_client_gone_mid_body_is_not_a_server_error(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    cloud = FakeCloud()
    sent = _raw_post(cloud, [b'{"bo', b'dy": '], declared=40, gone=True)
    assert sent[0]["status"] == 400
    assert cloud.unexpected_errors == 0
    assert not [r for r in caplog.records if r.getMessage().startswith(UNEXPECTED_ERROR)]


def test_a_body_in_many_chunks_within_the_limit_is_joined() -> None:
    sent = _raw_post(FakeCloud(), [b'{"bo', b'dy": ', b"[1, 2]}"], declared=None)
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b'{"body":{"body":[1,2]}}'


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/compute/v2.1/things", headers=ADMIN, content=b'{"thing": ')
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith("Malformed request body:")


def test_malformed_json_is_400_even_without_a_schema(client: TestClient) -> None:
    response = client.post("/compute/v2.1/echo", headers=ADMIN, content=b"{nope")
    assert response.status_code == 400


def test_an_empty_body_where_one_is_required_is_400(client: TestClient) -> None:
    response = client.post("/compute/v2.1/things", headers=ADMIN)
    assert response.status_code == 400
    assert "body is empty" in response.json()["badRequest"]["message"]


def test_an_empty_body_without_a_schema_is_none(client: TestClient) -> None:
    response = client.post("/compute/v2.1/echo", headers=ADMIN)
    assert response.json() == {"body": None}


def test_an_optional_body_may_be_absent_but_is_validated_when_sent(client: TestClient) -> None:
    assert client.post("/compute/v2.1/things/t1/action", headers=ADMIN).status_code == 204
    response = client.post("/compute/v2.1/things/t1/action", headers=ADMIN,
                           json={"thing": {"name": 1}})
    assert response.status_code == 400
    assert "'thing/name'" in response.json()["badRequest"]["message"]


def test_a_schema_error_is_400_naming_the_field(client: TestClient) -> None:
    response = client.post("/compute/v2.1/things", headers=ADMIN,
                           json={"thing": {"name": "a", "size": "big"}})
    assert response.status_code == 400
    assert response.json() == {"badRequest": {
        "code": 400,
        "message": "Invalid input for field 'thing/size': 'big' is not of type 'integer'"}}


def test_a_missing_required_field_is_400_naming_it(client: TestClient) -> None:
    response = client.post("/compute/v2.1/things", headers=ADMIN, json={"thing": {}})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "Invalid input for field 'thing/name': 'name' is a required property")


def test_authentication_comes_before_body_parsing(client: TestClient) -> None:
    # Authentication comes first: a bad body from an anonymous caller is a 401.
    response = client.post("/compute/v2.1/things", content=b"{broken")
    assert response.status_code == 401


# -- unimplemented operations and failures -------------------------------------------------


def test_an_unknown_path_in_a_mount_is_501_naming_method_and_path(client: TestClient) -> None:
    response = client.get("/compute/v2.1/os-hypervisors", headers=ADMIN)
    assert response.status_code == 501
    assert response.json() == {"notImplemented": {
        "code": 501,
        "message": "stacklab does not implement GET /compute/v2.1/os-hypervisors "
                   "of the compute service"}}


def test_an_unsupported_method_on_a_known_path_is_405(client: TestClient) -> None:
    # The path is served; a method it does not take is the client's error, as upstream.
    response = client.patch("/compute/v2.1/things/t1", headers=ADMIN, json={})
    assert response.status_code == 405
    assert "badMethod" in response.json()
    assert "GET" in response.headers["allow"]


def test_an_unknown_path_in_keystone_is_501_in_keystones_format(client: TestClient) -> None:
    response = client.delete("/identity/v3/nothing", headers=READER)
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == 501
    assert error["title"] == "Not Implemented"
    assert "DELETE /identity/v3/nothing" in error["message"]


def test_an_unexpected_exception_is_500_without_a_traceback(
        client: TestClient, cloud: FakeCloud, caplog: pytest.LogCaptureFixture) -> None:
    response = client.get("/compute/v2.1/boom", headers=ADMIN)
    assert response.status_code == 500
    assert response.json() == {"computeFault": {
        "code": 500,
        "message": "An unexpected error prevented the server from fulfilling your request."}}
    assert SECRET not in response.text
    assert "Traceback" not in response.text
    # Counted, and logged with its traceback under the marker tests of a live server count.
    assert cloud.unexpected_errors == 1
    logged = [r for r in caplog.records if r.getMessage().startswith(UNEXPECTED_ERROR)]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert client.get("/compute/v2.1/things/t1", headers=ADMIN).status_code == 200
    assert cloud.unexpected_errors == 1


# -- responses -----------------------------------------------------------------------------


def test_a_duplicate_entry_is_409_in_the_services_format(client: TestClient,
                                                        cloud: FakeCloud) -> None:
    response = client.post("/compute/v2.1/named", headers=ADMIN, json={})
    assert response.status_code == 409
    assert response.json() == {"conflictingRequest": {
        "code": 409,
        "message": "Conflict occurred attempting to store the resource - Duplicate entry."}}
    assert SECRET not in response.text and cloud.unexpected_errors == 0


def test_head_on_a_get_route_has_no_body(client: TestClient) -> None:
    get = client.get("/compute/v2.1/things/t1", headers=ADMIN)
    head = client.head("/compute/v2.1/things/t1", headers=ADMIN)
    assert get.content
    assert head.status_code == 200
    assert head.content == b""
    assert REQUEST_ID.match(head.headers["x-openstack-request-id"])


def test_head_of_a_missing_item_is_404(client: TestClient) -> None:
    assert client.head("/compute/v2.1/things/missing", headers=ADMIN).status_code == 404


def test_a_reply_sets_status_and_headers(client: TestClient) -> None:
    response = client.put("/compute/v2.1/things/t9", headers=ADMIN)
    assert response.status_code == 201
    assert response.json() == {"thing": {"id": "t9"}}
    assert response.headers["location"] == "http://testserver/compute/v2.1/things/t9"


def test_a_handler_response_is_passed_through(client: TestClient) -> None:
    response = client.get("/compute/v2.1/raw", headers=ADMIN)
    assert response.text == "plain"
    assert response.headers["x-raw"] == "yes"
    assert response.headers["openstack-api-version"] == "compute 2.1"


# -- microversions -------------------------------------------------------------------------


def test_no_version_header_gives_the_minimum_and_says_so(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1", headers=ADMIN)
    assert seen["version"] == Version(2, 1)
    assert response.json() == {"thing": {"id": "t1", "new": False}}
    assert response.headers["openstack-api-version"] == "compute 2.1"
    assert response.headers["x-openstack-nova-api-version"] == "2.1"
    assert response.headers["vary"] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version"


def test_a_requested_version_is_echoed(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "OpenStack-API-Version": "compute 2.60"})
    assert response.json() == {"thing": {"id": "t1", "new": True}}
    assert response.headers["openstack-api-version"] == "compute 2.60"
    assert response.headers["x-openstack-nova-api-version"] == "2.60"


def test_latest_is_echoed_as_the_maximum(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "X-OpenStack-Nova-API-Version": "latest"})
    assert response.headers["openstack-api-version"] == "compute 2.90"


def test_an_out_of_range_version_is_406(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "OpenStack-API-Version": "compute 3.0"})
    assert response.status_code == 406
    assert "Version 3.0 is not supported" in response.json()["computeFault"]["message"]


def test_a_malformed_version_is_400(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/t1",
                          headers={**ADMIN, "OpenStack-API-Version": "compute two"})
    assert response.status_code == 400


def test_a_service_without_microversions_sends_no_version_headers(client: TestClient) -> None:
    response = client.get("/identity/v3/things", headers=READER)
    assert "openstack-api-version" not in response.headers
    assert "vary" not in response.headers


def test_an_error_after_negotiation_carries_the_version_headers(client: TestClient) -> None:
    response = client.get("/compute/v2.1/things/missing",
                          headers={**ADMIN, "OpenStack-API-Version": "compute 2.60"})
    assert response.status_code == 404
    assert response.headers["openstack-api-version"] == "compute 2.60"
    assert "OpenStack-API-Version" in response.headers["vary"]


@pytest.mark.parametrize("path", ["/compute/v2.1/things/\ud800", "/compute/v2.1/things/\udcff"])
def test_a_surrogate_in_a_path_without_raw_path_is_400(path: str) -> None:
    """An ASGI server may leave raw_path out: the decoded path is checked instead."""
    app = build_app(FakeCloud())  # type: ignore[arg-type]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "root_path": "",
             "query_string": b"", "headers": [(b"host", b"testserver"),
                                                (b"x-auth-token", b"admin-token")],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert b"not valid UTF-8" in sent[1]["body"]


@pytest.mark.parametrize("content", [
    {"ports": [{"id": "p1", "name": "ünïcode ✓", "fixed_ips": [], "mtu": 1450, "up": True,
                "profile": None, "ratio": 0.5}]},
    {"keys": {1: "int keys become strings, as json does"}},
    {"big": 2**70},  # beyond what orjson encodes: the slow way, same bytes
])
def test_json_bodies_are_the_standard_librarys_bytes(content: dict[str, Any]) -> None:
    expected = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()
    assert JsonReply(content).body == expected
