"""The `conditions` section: named booleans, each evaluated once and on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.intrinsics import Function, _resolve, validate

if TYPE_CHECKING:
    from stacklab.orchestration.template.intrinsics import Context

_IN_PROGRESS = object()
_ERROR = "Condition validation error"


class Conditions:
    """Parsed condition definitions, evaluated within one resolution context."""

    def __init__(self, definitions: Mapping[str, Any], context: Context | None = None) -> None:
        self.definitions = dict(definitions)
        self.context = context
        self._resolved: dict[str, Any] = {}

    def validate(self) -> None:
        for name, definition in self.definitions.items():
            self._check_type(name, definition)
            validate(definition)

    @staticmethod
    def _check_type(name: str, definition: Any) -> None:
        if not isinstance(definition, bool | Function):
            raise StackValidationFailed(
                f'The definition of condition "{name}" is invalid: {definition}', error=_ERROR
            )

    def is_enabled(self, name: Any) -> bool:
        """Whether the condition `name` holds (None: no condition, so it does)."""
        if name is None:
            return True
        if isinstance(name, bool):
            return name
        if not isinstance(name, str) or name not in self.definitions:
            raise ValueError(f'Invalid condition "{name}"')
        if name not in self._resolved:
            if self.context is None:
                raise ValueError(f'Condition "{name}" needs the parameters to be evaluated')
            self._resolved[name] = _IN_PROGRESS
            value = _resolve(self.definitions[name], self.context)
            self._check_type(name, value)
            self._resolved[name] = value
        result = self._resolved[name]
        if result is _IN_PROGRESS:
            raise StackValidationFailed(f'Circular definition for condition "{name}"', error=_ERROR)
        return bool(result)

    def evaluate_all(self) -> dict[str, bool]:
        """Every condition's value (the stack's conditions, as `stack show` lists none yet)."""
        return {name: self.is_enabled(name) for name in self.definitions}

    def __repr__(self) -> str:
        return f"Conditions({self.definitions!r})"
