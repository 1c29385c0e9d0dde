"""Which resources an update adds, removes or changes, and in what.

Without resolvers the comparison is of the template text (unresolved snippets, as heat
compares definitions before it freezes them); with a resolver for each side, of the
resolved values — what heat's update compares (`after != before`, then the properties
whose values differ: the `prop_diff` a resource plugin's handle_update receives).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.orchestration.template import intrinsics as fn
from stacklab.orchestration.template.intrinsics import Context, Resolver, as_context
from stacklab.orchestration.template.template import ResourceDefinition, Template


@dataclass
class ResourceChange:
    name: str
    type_changed: bool = False
    properties_changed: set[str] = field(default_factory=set)
    metadata_changed: bool = False
    update_policy_changed: bool = False
    deletion_policy_changed: bool = False
    depends_on_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.type_changed
            or self.properties_changed
            or self.metadata_changed
            or self.update_policy_changed
        )


@dataclass
class TemplateDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, ResourceChange] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def _value(snippet: Any, ctx: Context | None) -> Any:
    if ctx is None:
        return fn.unparse(snippet)
    return fn.resolve(snippet, ctx)


def _changed_keys(before: Any, after: Any) -> set[str]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


# What an update does with a resource the new template keeps (heat's update preview names
# them so: ``unchanged``, ``updated`` in place, ``replaced``).
UNCHANGED, UPDATED, REPLACED = "unchanged", "updated", "replaced"


def update_kind(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    update_allowed: Callable[[str], bool],
    replace: bool = False,
    always_update: bool = False,
) -> tuple[str, frozenset[str]]:
    """How an update treats one resource kept by the new template, and the properties
    whose values differ (the ``prop_diff`` an in-place update receives): replaced when
    ``replace`` (a new type, a failed resource) or when a changed property may not change
    in place; updated when something changed (or always, for a resource over a nested
    stack: heat's StackResource lets the nested stack find what changed); else unchanged.
    The engine's update and its preview both ask this."""
    if replace:
        return REPLACED, frozenset()
    changed = frozenset(_changed_keys(before, after))
    if not changed:
        return (UPDATED if always_update else UNCHANGED), changed
    if all(update_allowed(key) for key in changed):
        return UPDATED, changed
    return REPLACED, changed


def compare_resource(
    old: ResourceDefinition,
    new: ResourceDefinition,
    old_ctx: Context | None = None,
    new_ctx: Context | None = None,
) -> ResourceChange:
    change = ResourceChange(new.name)
    change.type_changed = old.type != new.type
    change.properties_changed = _changed_keys(
        _value(old.properties, old_ctx), _value(new.properties, new_ctx)
    )
    change.metadata_changed = _value(old.metadata, old_ctx) != _value(new.metadata, new_ctx)
    change.update_policy_changed = _value(old.update_policy, old_ctx) != _value(
        new.update_policy, new_ctx
    )
    change.deletion_policy_changed = _value(old.deletion_policy, old_ctx) != _value(
        new.deletion_policy, new_ctx
    )
    change.depends_on_changed = set(old.depends_on) != set(new.depends_on)
    return change


def changed_resources(
    old: Template,
    new: Template,
    old_resolver: Resolver | Context | None = None,
    new_resolver: Resolver | Context | None = None,
) -> TemplateDiff:
    """Added, removed, changed (with what changed) and unchanged resources.

    With resolvers, only enabled resources (conditions evaluated) take part.
    """
    old_ctx = None if old_resolver is None else as_context(old_resolver)
    new_ctx = None if new_resolver is None else as_context(new_resolver)
    before = old.resources if old_ctx is None else old.enabled_resources(old_ctx)
    after = new.resources if new_ctx is None else new.enabled_resources(new_ctx)
    diff = TemplateDiff()
    for name, defn in after.items():
        if name not in before:
            diff.added.append(name)
            continue
        change = compare_resource(before[name], defn, old_ctx, new_ctx)
        if change:
            diff.changed[name] = change
        else:
            diff.unchanged.append(name)
    diff.removed = [name for name in before if name not in after]
    return diff
