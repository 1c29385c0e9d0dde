"""The template language's errors, named and worded as heat's own exceptions.

Each class carries the HTTP status heat's API answers it with (`status`) and its name is the
`type` heat's fault body shows (`{"error": {"type": "StackValidationFailed", ...}}`), so the
API layer renders them without a table of its own.
"""

from __future__ import annotations

from collections.abc import Sequence


class TemplateError(Exception):
    """Base of every error the template library raises; `message` is heat's text."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def error_type(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        return self.message


class TemplateFormatError(TemplateError):
    """The text is not a template at all (heat's API turns its ValueError into a 400)."""

    @property
    def error_type(self) -> str:
        return "HTTPBadRequest"


class RequestLimitExceeded(TemplateError):
    def __init__(self, message: str) -> None:
        super().__init__(f"Request limit exceeded: {message}")


class InvalidTemplateVersion(TemplateError):
    def __init__(self, explanation: str) -> None:
        super().__init__(f"The template version is invalid: {explanation}")
        self.explanation = explanation


class InvalidTemplateSection(TemplateError):
    def __init__(self, section: str) -> None:
        super().__init__(f"The template section is invalid: {section}")
        self.section = section


class UserParameterMissing(TemplateError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Parameter ({key}) was not provided.")
        self.key = key


class UnknownUserParameter(TemplateError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Parameter ({key}) was not defined in template.")
        self.key = key


class ImmutableParameterModified(TemplateError):
    def __init__(self, *keys: str) -> None:
        super().__init__(
            "The following parameters are immutable and may not be updated: " + ", ".join(keys)
        )
        self.keys = keys


class InvalidMergeStrategyForParam(TemplateError):
    def __init__(self, strategy: str, param: str) -> None:
        super().__init__(f"Invalid merge strategy '{strategy}' for parameter '{param}'.")


class ConflictingMergeStrategyForParam(TemplateError):
    def __init__(self, strategy: str, param: str, env_file: str) -> None:
        super().__init__(
            f"Conflicting merge strategy '{strategy}' for parameter '{param}' in file '{env_file}'."
        )


class InvalidTemplateAttribute(TemplateError):
    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"The Referenced Attribute ({resource} {key}) is incorrect.")


class InvalidTemplateReference(TemplateError):
    def __init__(self, resource: object, key: str) -> None:
        super().__init__(f'The specified reference "{resource}" (in {key}) is incorrect.')
        self.resource = resource
        self.key = key


class CircularDependencyException(TemplateError):
    def __init__(self, cycle: str) -> None:
        super().__init__(f"Circular Dependency Found: {cycle}")
        self.cycle = cycle


class InvalidSchemaError(TemplateError):
    pass


class InvalidBreakPointHook(TemplateError):
    pass


class InvalidRestrictedAction(TemplateError):
    pass


class EntityNotFound(TemplateError):
    status = 404

    def __init__(self, entity: str, name: str) -> None:
        super().__init__(f"The {entity} ({name}) could not be found.")
        self.entity = entity
        self.name = name


class NotFound(TemplateError):
    status = 404


def format_path(path: Sequence[str | int]) -> str:
    """Join path items as heat does: digits as `[n]`, the rest with dots."""
    text = ""
    for item in path:
        if isinstance(item, int) or item.isdigit():
            text += f"[{item}]"
        elif text:
            text += f".{item}"
        else:
            text = item
    return text


class StackValidationFailed(TemplateError):
    """heat's `StackValidationFailed`: `<error>: <path>: <message>`, each part optional."""

    def __init__(
        self,
        message: str = "",
        *,
        path: str | Sequence[str | int] | None = None,
        error: str = "",
    ) -> None:
        if path is None:
            self.path: list[str | int] = []
        elif isinstance(path, str):
            self.path = [path] if path else []
        else:
            self.path = list(path)
        self.error = error
        self.error_message = message
        shown_path = format_path(self.path)
        super().__init__(
            (f"{error}: " if error else "") + (f"{shown_path}: " if shown_path else "") + message
        )

    def with_prefix(
        self, path: Sequence[str | int], error: str | None = None
    ) -> StackValidationFailed:
        """The same failure with `path` put before its own (as heat re-raises it higher up)."""
        return StackValidationFailed(
            self.error_message,
            path=[*path, *self.path],
            error=self.error if error is None else error,
        )
