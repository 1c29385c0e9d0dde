"""A Resolver over plain dicts, as the engine's would answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stacklab.orchestration.template import Template, parse, resolve, select_path


class DictResolver:
    def __init__(
        self,
        params: dict[str, Any] | None = None,
        refs: dict[str, str] | None = None,
        attrs: dict[str, dict[str, Any]] | None = None,
        files: dict[str, str] | None = None,
        facade: dict[str, Any] | None = None,
    ) -> None:
        self.params = params or {}
        self.refs = refs or {}
        self.attrs = attrs or {}
        self.files = files or {}
        self.facades = facade or {}
        self.attr_calls: list[tuple[Any, ...]] = []

    def param(self, name: str) -> Any:
        return self.params[name]

    def resource_ref(self, name: str) -> str | None:
        return self.refs[name]

    def resource_attr(self, name: str, attr: str | None, *path: Any) -> Any:
        self.attr_calls.append((name, attr, *path))
        attrs = self.attrs[name]
        if attr is None:
            return attrs
        return select_path(attrs.get(attr), path)

    def file(self, name: str) -> str | None:
        return self.files.get(name)

    def facade(self, kind: str) -> Any:
        return self.facades.get(kind)


@pytest.fixture
def resolver() -> Callable[..., DictResolver]:
    return DictResolver


def _value_of(snippet: Any, version: str = "2021-04-16", r: DictResolver | None = None) -> Any:
    """Resolve one snippet written in a template of `version` (as a resource property)."""
    t = parse(
        {
            "heat_template_version": version,
            "resources": {"x": {"type": "T", "properties": {"v": snippet}}},
        }
    )
    return resolve(t.resources["x"].properties, r or DictResolver()).get("v")


def _hot(version: str, body: str) -> Template:
    return parse(f"heat_template_version: {version}\n{body}")


@pytest.fixture
def value_of() -> Callable[..., Any]:
    return _value_of


@pytest.fixture
def hot() -> Callable[..., Template]:
    return _hot
