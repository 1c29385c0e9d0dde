"""Ready-made Resolvers: the engine supplies only what it alone knows (resources)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stacklab.orchestration.template.intrinsics import select_path


class StackResolver:
    """Parameters and files from the stack; resources and the facade through callables.

    `resource_ref(name)` and `resource_attr(name, attr, *path)` raise KeyError for a name
    the stack does not have; left out, every resource answers None (not created yet), which
    is what `stack preview` and template validation need.
    """

    def __init__(
        self,
        parameters: Mapping[str, Any],
        files: Mapping[str, str] | None = None,
        *,
        resource_ref: Callable[[str], str | None] | None = None,
        resource_attr: Callable[..., Any] | None = None,
        facade: Callable[[str], Any] | None = None,
        availability_zones: Callable[[], list[str]] | None = None,
    ) -> None:
        self.parameters = parameters
        self.files = files or {}
        self._ref = resource_ref
        self._attr = resource_attr
        self._facade = facade
        if availability_zones is not None:
            self.availability_zones = availability_zones

    def param(self, name: str) -> Any:
        return self.parameters[name]

    def resource_ref(self, name: str) -> str | None:
        return None if self._ref is None else self._ref(name)

    def resource_attr(self, name: str, attr: str | None, *path: Any) -> Any:
        return None if self._attr is None else self._attr(name, attr, *path)

    def file(self, name: str) -> str | None:
        return self.files.get(name)

    def facade(self, kind: str) -> Any:
        # heat's facade of a top-level stack (no parent resource) has nothing to show.
        return None if self._facade is None else self._facade(kind)


def attribute_from(attributes: Mapping[str, Any] | None, attr: str | None, *path: Any) -> Any:
    """What a resource answers for get_attr from a map of its attribute values."""
    if attributes is None:
        return None
    if attr is None:
        return dict(attributes)
    return select_path(attributes.get(attr), path)
