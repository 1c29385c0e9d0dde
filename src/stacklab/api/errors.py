"""Errors raised by handlers and rendered in each service's own wire format.

Handlers raise ``ApiError`` subclasses; the service's ``ErrorFormat`` turns
them into the body its real counterpart sends, so a client's error parsing
(keystoneauth, novaclient, the SDK) finds the message where it looks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    status = 500

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        # A service-specific error type name, e.g. neutron's "NetworkNotFound".
        self.kind = kind
        self.headers = dict(headers or {})

    @property
    def title(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(self, message: str = "The request you have made requires authentication.",
                 **kw: Any) -> None:
        super().__init__(message, **kw)


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class PayloadTooLarge(ApiError):
    status = 413

    @property
    def title(self) -> str:
        # keystone and webob still use the RFC 2616 phrase.
        return "Request Entity Too Large"


class UnsupportedMediaType(ApiError):
    status = 415


class NotImplementedOperation(ApiError):
    status = 501


class ServiceUnavailable(ApiError):
    status = 503


ErrorFormat = Callable[[ApiError], dict[str, Any]]


def keystone_error(error: ApiError) -> dict[str, Any]:
    """``{"error": {"code", "title", "message"}}``: keystone, and keystonemiddleware's 401."""
    return {"error": {"code": error.status, "title": error.title, "message": error.message}}


# nova's fault names by status (nova/api/openstack/wsgi.py Fault._fault_names);
# cinder uses the same wrapper.
_NOVA_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def nova_error(error: ApiError) -> dict[str, Any]:
    name = _NOVA_FAULT_NAMES.get(error.status, "computeFault")
    return {name: {"code": error.status, "message": error.message}}


def _neutron_kind(error: ApiError) -> str:
    """The exception class neutron would name for an error raised without one."""
    message = error.message
    if error.status == 400:
        if message.startswith("Invalid input for operation"):
            return "InvalidInput"
        if message.startswith(("Invalid input for ", "Unrecognized attribute",
                                "Failed to parse request", "Resource body required")):
            return "HTTPBadRequest"
        return "BadRequest"
    return error.title.replace(" ", "")


def neutron_error(error: ApiError) -> dict[str, Any]:
    kind = error.kind or _neutron_kind(error)
    return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}


def glance_error(error: ApiError) -> dict[str, Any]:
    # glance answers with webob's error document; rendered as JSON it has these
    # keys, the code being the whole status line.
    return {"code": f"{error.status} {error.title}", "title": error.title,
            "message": error.message}


# webob's explanation of each status, which heat's fault body carries beside the message
# (heat/api/middleware/fault.py renders the webob exception it maps the error to); a
# status whose webob class has none shows the message.
_WEBOB_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
         "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
         "requested.  Either you supplied the wrong credentials (e.g., bad password), or your "
         "browser does not understand how to supply the credentials required.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    409: "There was a conflict when trying to complete your request.",
    413: "The body of your request was too large for this server.",
    500: "The server has either erred or is incapable of performing the requested "
         "operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
}


def heat_error(error: ApiError) -> dict[str, Any]:
    # heat's fault middleware: webob's title and explanation, the exception's name and
    # message, no traceback unless [DEFAULT] debug.
    return {
        "explanation": _WEBOB_EXPLANATIONS.get(error.status, error.message),
        "code": error.status,
        "error": {"message": error.message, "traceback": None,
                  "type": error.kind or error.title.replace(" ", "")},
        "title": error.title,
    }


# What a service answers when its handler meets an error it does not handle (a database
# it cannot reach, say): given the exception's class path, the error to render.
InternalError = Callable[[str], ApiError]


def keystone_internal_error(exception: str) -> ApiError:
    # keystone server/flask/application.py wraps it in UnexpectedError (exception.py).
    return ApiError("An unexpected error prevented the server from fulfilling your request.")


def nova_internal_error(exception: str) -> ApiError:
    # nova api/openstack/wsgi.py expected_errors: "Unexpected API Error. {support}\n{exc}"
    # with version.support_string() (NOVA_SUPPORT) and the exception's type.
    return ApiError(f"Unexpected API Error. Please contact the administrator\n"
                    f"<class '{exception}'>")


def glance_internal_error(exception: str) -> ApiError:
    # glance common/wsgi.py Resource: webob.exc.HTTPInternalServerError(), whose
    # explanation is webob's.
    return ApiError("The server has either erred or is incapable of performing the "
                    "requested operation.")


def neutron_internal_error(exception: str) -> ApiError:
    # neutron api/api_common.py convert_exception_to_http_exc: "Everything else is 500",
    # details hidden.
    return ApiError("Request Failed: internal server error while processing your request.",
                    kind="HTTPInternalServerError")
