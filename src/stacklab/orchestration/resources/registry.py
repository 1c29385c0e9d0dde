"""Every resource type the engine serves, by its heat name."""

from __future__ import annotations

import importlib
import pkgutil

from stacklab.orchestration.resources import plugins
from stacklab.orchestration.resources.base import ResourcePlugin

_TYPES: dict[str, type[ResourcePlugin]] = {}


def register(plugin: type[ResourcePlugin]) -> type[ResourcePlugin]:
    """Class decorator: ``@register`` on a plugin makes its ``TYPE`` known."""
    assert plugin.TYPE and plugin.TYPE not in _TYPES, plugin.TYPE
    _TYPES[plugin.TYPE] = plugin
    return plugin


def _load() -> None:
    # Importing each module of the plugins package runs its @register: a new module is
    # found without being listed anywhere.
    for module in pkgutil.iter_modules(plugins.__path__):
        importlib.import_module(f"{plugins.__name__}.{module.name}")


def get(type_name: str) -> type[ResourcePlugin] | None:
    _load()
    return _TYPES.get(type_name)


def names() -> list[str]:
    _load()
    return sorted(_TYPES)
