"""heat's API errors (heat/common/exception.py), as the shared error type renders them."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError


class HeatError(ApiError):
    """An error with heat's status and the exception name its fault body shows."""

    def __init__(self, message: str, *, status: int = 400, kind: str | None = None,
                 **kw: Any) -> None:
        super().__init__(message, status=status, kind=kind or type(self).__name__, **kw)


class StackNotFound(HeatError):
    def __init__(self, name: str) -> None:
        super().__init__(f"The Stack ({name}) could not be found.", status=404,
                         kind="EntityNotFound")


class ResourceNotFound(HeatError):
    def __init__(self, name: str, stack: str) -> None:
        super().__init__(f"The Resource ({name}) could not be found.", status=404,
                         kind="EntityNotFound")


class StackExists(HeatError):
    def __init__(self, name: str) -> None:
        super().__init__(f"The Stack ({name}) already exists.", status=409)


class ActionInProgress(HeatError):
    def __init__(self, name: str, action: str) -> None:
        super().__init__(f"Stack {name} already has an action ({action}) in progress.",
                         status=409)


class NotSupported(HeatError):
    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature} is not supported.", status=400)
