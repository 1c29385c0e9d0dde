"""Every resource type the engine serves, by its heat name."""

from __future__ import annotations

from stacklab.orchestration.resources.base import ResourcePlugin

_TYPES: dict[str, type[ResourcePlugin]] = {}


def register(plugin: type[ResourcePlugin]) -> type[ResourcePlugin]:
    """Class decorator: ``@register`` on a plugin makes its ``TYPE`` known."""
    assert plugin.TYPE and plugin.TYPE not in _TYPES, plugin.TYPE
    _TYPES[plugin.TYPE] = plugin
    return plugin


def _load() -> None:
    # Importing the modules runs their @register; kept here so a new module is listed once.
    import stacklab.orchestration.resources.plugins  # noqa: F401


def get(type_name: str) -> type[ResourcePlugin] | None:
    _load()
    return _TYPES.get(type_name)


def names() -> list[str]:
    _load()
    return sorted(_TYPES)
