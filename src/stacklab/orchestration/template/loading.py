"""Template and environment text to data, by heat's rules.

JSON is tried first, then YAML with the safe loader, where timestamps and dates stay strings
(`heat_template_version: 2016-10-14` unquoted is the version text, not a date). The result must
be a mapping; a template must name a format version.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from stacklab.orchestration.template.errors import RequestLimitExceeded, TemplateFormatError

# heat's [DEFAULT] max_template_size and its sibling for environments' files.
MAX_TEMPLATE_SIZE = 524288

VERSION_KEYS = ("HeatTemplateFormatVersion", "heat_template_version", "AWSTemplateFormatVersion")

ENVIRONMENT_SECTIONS = (
    "parameters",
    "resource_registry",
    "parameter_defaults",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as the text they were written as."""


def _scalar_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _scalar_text)


def load_yaml(text: str) -> Any:
    """YAML (a superset of JSON) as heat's loader reads it; yaml.YAMLError on bad syntax."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass


def simple_parse(text: str | bytes, url: str | None = None) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise TemplateFormatError(
                f"Error parsing template {url or '[root stack]'} {exc}"
            ) from exc
        if data is None:
            data = {}
    if not isinstance(data, dict):
        raise TemplateFormatError("The template is not a JSON object or YAML mapping.")
    return data


def check_size(text: str | bytes, limit: int = MAX_TEMPLATE_SIZE) -> None:
    size = len(text)
    if size > limit:
        raise RequestLimitExceeded(
            f"Template size ({size} bytes) exceeds maximum allowed size ({limit} bytes)."
        )


def load_template(
    text: str | bytes | dict[str, Any],
    url: str | None = None,
    max_size: int = MAX_TEMPLATE_SIZE,
) -> dict[str, Any]:
    """A template's text (or an already-decoded mapping) as a dict, checked as heat's API does."""
    if isinstance(text, dict):
        data = text
    else:
        check_size(text, max_size)
        data = simple_parse(text, url)
    if not any(key in data for key in VERSION_KEYS):
        raise TemplateFormatError("Template format version not found.")
    return data


def load_environment(text: str | bytes | dict[str, Any] | None) -> dict[str, Any]:
    """An environment file's text as a dict, its section names checked as heat does."""
    if text is None:
        return {}
    if isinstance(text, dict):
        data: Any = text
    else:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise TemplateFormatError(str(exc)) from exc
        if data is None:
            data = {}
    if not isinstance(data, dict):
        raise TemplateFormatError("The environment is not a valid YAML mapping data type.")
    for section, value in data.items():
        if section not in ENVIRONMENT_SECTIONS:
            raise TemplateFormatError(f'environment has wrong section "{section}"')
        if value is None:
            raise TemplateFormatError(f'environment has empty section "{section}"')
    return data
