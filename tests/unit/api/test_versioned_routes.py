"""Routes declared with microversions: version ranges, a schema per range, expected errors,
and actions dispatched by the key of their body, through the shared request path."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.unit.api.test_app import FakeCloud

from stacklab.api.app import UNEXPECTED_ERROR, build_app
from stacklab.api.errors import Conflict, Forbidden, NotFound, nova_error
from stacklab.api.microversion import MicroversionRange, Version, VersionRange
from stacklab.api.service import Call, Reply, Schemas, ServiceApi, VersionedSchema, schemas_from
from stacklab.api.validation import describe_nova

ADMIN = {"X-Auth-Token": "admin-token"}


def at(version: str) -> dict[str, str]:
    return {**ADMIN, "OpenStack-API-Version": f"compute {version}"}


def _named(key: str, *, extra: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": {"type": "string", "maxLength": 5}}
    if extra:
        fields[extra] = {"type": "integer"}
    return {"type": "object", "required": [key], "additionalProperties": False,
            "properties": {key: {"type": "object", "properties": fields,
                                 "additionalProperties": False}}}


api = ServiceApi("compute", errors=nova_error, describe_error=describe_nova,
                 microversions=MicroversionRange("compute", Version(2, 1), Version(2, 90)))


# A resource added at 2.20.
@api.route("GET", "/v2.1/gadgets", min_version="2.20", expected_errors=())
async def list_gadgets(call: Call) -> dict[str, Any]:
    return {"gadgets": []}


# One path and method, two operations: the older one until 2.29, the newer from 2.30.
@api.route("PUT", "/v2.1/widgets/{ident}", max_version="2.29", schema=_named("widget"),
           expected_errors=400)
async def update_widget_old(call: Call) -> dict[str, Any]:
    return {"by": "old", "body": call.body}


@api.route("PUT", "/v2.1/widgets/{ident}", min_version="2.30", schema=_named("change"),
           expected_errors=400)
async def update_widget_new(call: Call) -> dict[str, Any]:
    return {"by": "new", "body": call.body}


# One operation, a schema per range: "colour" is accepted from 2.40 on; before 2.10
# nothing is checked (as with nova's stacked schemas, a version no schema covers).
@api.route("POST", "/v2.1/widgets", status=201, expected_errors=(400, 409), schema=[
    VersionedSchema(_named("widget"), "2.10", "2.39"),
    VersionedSchema(_named("widget", extra="colour"), "2.40"),
])
async def create_widget(call: Call) -> dict[str, Any]:
    if call.body["widget"].get("name") == "taken":
        raise Conflict("Widget name taken.")
    if call.body["widget"].get("name") == "gone":
        raise NotFound("Not declared by this route.")  # a bug: 404 is not declared
    if call.body["widget"].get("name") == "nope":
        raise Forbidden("Policy does not allow it.")  # always passes, as nova's Forbidden
    return {"widget": call.body["widget"]}


@api.route("GET", "/v2.1/undeclared")
async def undeclared(call: Call) -> None:
    raise Conflict("Routes that declare nothing answer what they raise.")


ACTIONS = "/v2.1/widgets/{ident}/action"
api.action_route(ACTIONS, expected_errors=(400, 404))


@api.action(ACTIONS, "polish")
async def polish(call: Call) -> dict[str, Any]:
    return {"polished": call.params["ident"]}


@api.action(ACTIONS, "paint", min_version="2.50", status=202,
            schema=schemas_from({"2.50": _named("paint"), "2.60": _named("paint", extra="coats")}))
async def paint(call: Call) -> None:
    if call.body["paint"].get("name") == "busy":
        raise Conflict("The widget is busy.")


@api.action(ACTIONS, "retire", max_version="2.44", expected_errors=409)
async def retire(call: Call) -> Reply:
    if call.params["ident"] == "missing":
        raise NotFound("No such widget.")  # the action declares only 409: a bug
    raise Conflict("Widgets never retire.")


class Cloud(FakeCloud):
    def service_apis(self) -> list[tuple[str, ServiceApi]]:
        return [("/compute", api)]


@pytest.fixture
def cloud() -> Cloud:
    return Cloud()


@pytest.fixture
def client(cloud: Cloud) -> Iterator[TestClient]:
    with TestClient(build_app(cloud),  # type: ignore[arg-type]
                    raise_server_exceptions=False) as test_client:
        yield test_client


# -- version ranges ----------------------------------------------------------------------


def test_a_resource_is_absent_before_its_first_version(client: TestClient) -> None:
    response = client.get("/compute/v2.1/gadgets", headers=at("2.19"))
    assert response.status_code == 404
    assert response.json() == {"itemNotFound": {"code": 404, "message":
                                                "The resource could not be found."}}
    # The answer still says which version it was given at, as nova's do.
    assert response.headers["openstack-api-version"] == "compute 2.19"
    assert client.get("/compute/v2.1/gadgets", headers=at("2.20")).json() == {"gadgets": []}
    assert client.get("/compute/v2.1/gadgets", headers=ADMIN).status_code == 404  # 2.1


def test_the_operation_serving_the_version_answers(client: TestClient) -> None:
    old = client.put("/compute/v2.1/widgets/w", headers=at("2.29"),
                     json={"widget": {"name": "a"}})
    new = client.put("/compute/v2.1/widgets/w", headers=at("2.30"),
                     json={"change": {"name": "b"}})
    assert (old.status_code, old.json()["by"]) == (200, "old")
    assert (new.status_code, new.json()["by"]) == (200, "new")
    # Each with its own schema: the old body is refused by the newer operation.
    refused = client.put("/compute/v2.1/widgets/w", headers=at("2.30"),
                         json={"widget": {"name": "a"}})
    assert refused.status_code == 400
    assert "'change' is a required property" in refused.json()["badRequest"]["message"]


def test_overlapping_versions_of_one_operation_are_refused_when_declared() -> None:
    other = ServiceApi("compute", errors=nova_error,
                       microversions=MicroversionRange("compute", Version(2, 1), Version(2, 9)))

    @other.route("GET", "/v2.1/x", max_version="2.5")
    async def first(call: Call) -> None: ...

    with pytest.raises(ValueError, match="declared twice"):
        @other.route("GET", "/v2.1/x", min_version="2.5")
        async def second(call: Call) -> None: ...


def test_a_service_without_microversions_cannot_declare_a_range() -> None:
    plain = ServiceApi("identity", errors=nova_error)
    with pytest.raises(ValueError, match="no microversions"):
        plain.route("GET", "/v3/x", min_version="2.1")


def test_version_ranges_hold_both_ends_and_open_ends_reach_everything() -> None:
    bounded = VersionRange.of("2.10", "2.20")
    assert Version(2, 10) in bounded and Version(2, 20) in bounded
    assert Version(2, 9) not in bounded and Version(2, 21) not in bounded
    assert Version(2, 99) in VersionRange.of("2.10")
    assert None in bounded  # a service without microversions asks with none
    with pytest.raises(ValueError):
        VersionRange.of("2.20", "2.10")


# -- a schema per range ------------------------------------------------------------------


def test_each_range_checks_with_its_own_schema(client: TestClient) -> None:
    coloured = {"widget": {"name": "a", "colour": 3}}
    before = client.post("/compute/v2.1/widgets", headers=at("2.39"), json=coloured)
    assert before.status_code == 400
    assert before.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute widget.")
    assert "'colour' was unexpected" in before.json()["badRequest"]["message"]
    after = client.post("/compute/v2.1/widgets", headers=at("2.40"), json=coloured)
    assert (after.status_code, after.json()) == (201, coloured)
    # Where no schema is declared, the body reaches the handler unchecked.
    unchecked = client.post("/compute/v2.1/widgets", headers=at("2.9"),
                            json={"widget": {"name": "long name", "odd": True}})
    assert unchecked.status_code == 201


def test_a_table_of_starting_versions_becomes_adjacent_ranges() -> None:
    ranges = schemas_from({"2.60": {"b": 1}, "2.1": {"a": 1}, "2.19": {"c": 1}})
    assert [(r.min_version, r.max_version) for r in ranges] == [
        ("2.1", "2.18"), ("2.19", "2.59"), ("2.60", None)]
    schemas = Schemas.declare(ranges)
    assert schemas.at(Version(2, 18)) is schemas.at(Version(2, 1))
    assert schemas.at(Version(2, 19)) is not schemas.at(Version(2, 18))
    assert schemas.latest is schemas.at(Version(2, 90))


def test_overlapping_schema_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Schemas.declare([VersionedSchema({}, "2.1", "2.10"), VersionedSchema({}, "2.10")])


# -- expected errors ---------------------------------------------------------------------


def test_a_declared_error_is_answered_as_raised(client: TestClient, cloud: Cloud) -> None:
    response = client.post("/compute/v2.1/widgets", headers=at("2.40"),
                           json={"widget": {"name": "taken"}})
    assert response.status_code == 409
    assert response.json()["conflictingRequest"]["message"] == "Widget name taken."
    assert cloud.unexpected_errors == 0


def test_an_undeclared_error_is_a_logged_500(client: TestClient, cloud: Cloud,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="stacklab.api"):
        response = client.post("/compute/v2.1/widgets", headers=at("2.40"),
                               json={"widget": {"name": "gone"}})
    assert response.status_code == 500
    assert response.json()["computeFault"]["code"] == 500
    # Nothing of the handler's message reaches the client.
    assert "Not declared" not in response.text
    assert cloud.unexpected_errors == 1
    logged = [r.getMessage() for r in caplog.records if UNEXPECTED_ERROR in r.getMessage()]
    assert logged and "/compute/v2.1/widgets" in logged[0]
    assert "answered 404, which it does not declare" in caplog.text


def test_forbidden_and_errors_of_the_request_path_always_pass(client: TestClient,
                                                              cloud: Cloud) -> None:
    assert client.post("/compute/v2.1/widgets", headers=at("2.40"),
                       json={"widget": {"name": "nope"}}).status_code == 403
    # 401, 406 and the schema's 400 come before the handler: no declaration needed.
    assert client.get("/compute/v2.1/gadgets").status_code == 401
    assert client.get("/compute/v2.1/gadgets", headers=at("2.91")).status_code == 406
    assert cloud.unexpected_errors == 0


def test_a_route_declaring_nothing_answers_what_it_raises(client: TestClient) -> None:
    assert client.get("/compute/v2.1/undeclared", headers=ADMIN).status_code == 409


# -- actions ---------------------------------------------------------------------------------


def test_an_action_is_chosen_by_the_key_of_the_body(client: TestClient) -> None:
    response = client.post("/compute/v2.1/widgets/w1/action", headers=ADMIN,
                           json={"polish": None})
    assert (response.status_code, response.json()) == (200, {"polished": "w1"})


@pytest.mark.parametrize(("body", "message"), [
    ({"sand": {}}, "There is no such action: sand"),
    ({"polish": None, "paint": {}}, "There is no such action: polish, paint"),
    ([1], "Malformed request body: too many body keys"),
])
def test_a_body_naming_no_known_action_is_400(client: TestClient, body: Any,
                                              message: str) -> None:
    response = client.post("/compute/v2.1/widgets/w1/action", headers=ADMIN, json=body)
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == message


def test_an_action_outside_its_versions_is_absent(client: TestClient) -> None:
    early = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.49"),
                        json={"paint": {"name": "red"}})
    assert early.status_code == 404
    assert early.json()["itemNotFound"]["message"] == "The resource could not be found."
    served = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.50"),
                         json={"paint": {"name": "red"}})
    assert served.status_code == 202  # the action's own status
    late = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.45"),
                       json={"retire": None})
    assert late.status_code == 404
    assert client.post("/compute/v2.1/widgets/w1/action", headers=at("2.44"),
                       json={"retire": None}).status_code == 409


def test_each_action_checks_its_body_with_its_own_schema_per_range(client: TestClient) -> None:
    coats = {"paint": {"name": "red", "coats": 2}}
    refused = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.59"), json=coats)
    assert refused.status_code == 400
    assert "'coats' was unexpected" in refused.json()["badRequest"]["message"]
    assert client.post("/compute/v2.1/widgets/w1/action", headers=at("2.60"),
                       json=coats).status_code == 202
    too_long = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.60"),
                           json={"paint": {"name": "crimson"}})
    assert too_long.status_code == 400
    assert too_long.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute name. Value: crimson.")


def test_an_action_declares_its_own_expected_errors(client: TestClient, cloud: Cloud) -> None:
    # "paint" declares none of its own: the route's (400, 404) apply, and 409 is not in them.
    busy = client.post("/compute/v2.1/widgets/w1/action", headers=at("2.60"),
                       json={"paint": {"name": "busy"}})
    assert busy.status_code == 500
    assert cloud.unexpected_errors == 1
    # "retire" declares 409 only: its 404 is a bug.
    missing = client.post("/compute/v2.1/widgets/missing/action", headers=at("2.44"),
                          json={"retire": None})
    assert missing.status_code == 500
    assert cloud.unexpected_errors == 2


def test_actions_are_declared_once_on_a_declared_action_route() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        api.action(ACTIONS, "polish")
    with pytest.raises(LookupError):
        api.action("/v2.1/nothing/{ident}/action", "polish")


def test_the_fuzz_and_tools_see_the_newest_schema() -> None:
    create = next(op for op in api.operations if op.name == "POST /v2.1/widgets")
    assert create.schema is not None
    assert "colour" in create.schema.schema["properties"]["widget"]["properties"]

