"""Error bodies in each service's own wire format."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from stacklab.api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotImplementedOperation,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    glance_error,
    heat_error,
    keystone_error,
    neutron_error,
    nova_error,
)

# (error, status, title) for the statuses every service answers with.
CASES = [
    (BadRequest("bad"), 400, "Bad Request"),
    (Unauthorized("who?"), 401, "Unauthorized"),
    (Forbidden("no"), 403, "Forbidden"),
    (NotFound("gone"), 404, "Not Found"),
    (Conflict("busy"), 409, "Conflict"),
    (PayloadTooLarge("big"), 413, "Request Entity Too Large"),
    (NotImplementedOperation("later"), 501, "Not Implemented"),
]
IDS = [str(status) for _, status, _ in CASES]


def test_status_and_title_of_each_class() -> None:
    for error, status, title in CASES:
        assert error.status == status
        assert error.title == title


def test_413_keeps_the_rfc_2616_title() -> None:
    # HTTPStatus calls 413 "Content Too Large" (RFC 9110) on recent Pythons.
    assert PayloadTooLarge("x").title == "Request Entity Too Large"
    assert keystone_error(PayloadTooLarge("x"))["error"]["title"] == "Request Entity Too Large"


def test_unauthorized_has_keystones_default_message() -> None:
    assert Unauthorized().message == "The request you have made requires authentication."


def test_status_kind_and_headers_can_be_given() -> None:
    error = ApiError("teapot", status=418, kind="Teapot", headers={"Retry-After": "5"})
    assert (error.status, error.kind, error.headers) == (418, "Teapot", {"Retry-After": "5"})
    assert error.title == HTTPStatus(418).phrase
    assert str(error) == "teapot"


def test_an_unknown_status_has_a_generic_title() -> None:
    assert ApiError("odd", status=599).title == "Error"


def test_a_plain_api_error_is_500() -> None:
    assert ApiError("boom").status == 500
    assert ApiError("boom").title == "Internal Server Error"


@pytest.mark.parametrize(("error", "status", "title"), CASES, ids=IDS)
def test_keystone_format(error: ApiError, status: int, title: str) -> None:
    assert keystone_error(error) == {
        "error": {"code": status, "title": title, "message": error.message}
    }


NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    409: "conflictingRequest",
    413: "overLimit",
    501: "notImplemented",
}


@pytest.mark.parametrize(("error", "status", "title"), CASES, ids=IDS)
def test_nova_format(error: ApiError, status: int, title: str) -> None:
    assert nova_error(error) == {NOVA_FAULTS[status]: {"code": status, "message": error.message}}


@pytest.mark.parametrize(("status", "name"), [
    (405, "badMethod"), (415, "badMediaType"), (429, "overLimit"),
    (503, "serviceUnavailable"), (500, "computeFault"), (406, "computeFault"),
    (410, "computeFault"),
])
def test_nova_fault_names_for_other_statuses(status: int, name: str) -> None:
    assert list(nova_error(ApiError("x", status=status))) == [name]


def test_service_unavailable_in_nova_format() -> None:
    assert nova_error(ServiceUnavailable("down")) == {
        "serviceUnavailable": {"code": 503, "message": "down"}
    }


@pytest.mark.parametrize(("error", "status", "title"), CASES, ids=IDS)
def test_neutron_format_uses_the_title_as_type(error: ApiError, status: int, title: str) -> None:
    assert neutron_error(error) == {
        "NeutronError": {"type": title.replace(" ", ""), "message": error.message,
                         "detail": ""}
    }


def test_neutron_format_prefers_the_kind() -> None:
    error = NotFound("Network abc could not be found.", kind="NetworkNotFound")
    assert neutron_error(error)["NeutronError"]["type"] == "NetworkNotFound"
    assert neutron_error(PayloadTooLarge("x"))["NeutronError"]["type"] == "RequestEntityTooLarge"


@pytest.mark.parametrize(("error", "status", "title"), CASES, ids=IDS)
def test_glance_format(error: ApiError, status: int, title: str) -> None:
    assert glance_error(error) == {"code": f"{status} {title}", "title": title,
                                   "message": error.message}


@pytest.mark.parametrize(("error", "status", "title"), CASES, ids=IDS)
def test_heat_format(error: ApiError, status: int, title: str) -> None:
    # heat's fault middleware shows webob's explanation of the status beside the message.
    webob = {400: "The server could not comply with the request since it is either "
                  "malformed or otherwise incorrect.",
             403: "Access was denied to this resource.",
             404: "The resource could not be found.",
             409: "There was a conflict when trying to complete your request.",
             413: "The body of your request was too large for this server."}
    body = heat_error(error)
    if status in webob:
        assert body["explanation"] == webob[status]
    assert heat_error(error) == {
        "code": status,
        "title": title,
        "explanation": body["explanation"],
        "error": {"type": title.replace(" ", ""), "message": error.message, "traceback": None},
    }


def test_heat_format_prefers_the_kind() -> None:
    error = NotFound("The Stack (s) could not be found.", kind="EntityNotFound")
    assert heat_error(error)["error"]["type"] == "EntityNotFound"
