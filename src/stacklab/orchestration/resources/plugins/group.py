"""OS::Heat::ResourceGroup, after heat's ``openstack/heat/resource_group.py``: ``count``
members of one definition (``index_var``, ``%index%`` by default, replaced by each
member's index) in a nested stack whose resources are named by their indexes: the first
``count`` indexes not in the group's skiplist (heat's ``name_blacklist``), so a count
that shrinks removes the highest. ``removal_policies`` put named members (by name or by
reference) on the skiplist: they are removed first and their names never reused
(``removed_rsrc_list``); ``removal_policies_mode: update`` replaces the list. A changed
definition updates the nested stack, where each member is changed in place or replaced
as its type says; with ``update_policy: rolling_update`` it reaches the members in
batches (heat's ``heat/scaling/rolling_update.py``), and ``batch_create`` makes the
members in batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context
from stacklab.orchestration.resources.plugins.nested import CREATE, UPDATE, StackResource
from stacklab.orchestration.resources.properties import (
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Attribute,
    Property,
    check_properties,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.resources.scaling import (
    check_pause_time,
    group_batches,
    member_definitions,
)
from stacklab.orchestration.template.parameters import AllowedValues, Range

MEMBER_TEMPLATE_VERSION = "2015-04-30"


def _indexed(value: Any, variable: str, index: int | str) -> Any:
    if isinstance(value, str):
        return value.replace(variable, str(index))
    if isinstance(value, list):
        return [_indexed(v, variable, index) for v in value]
    if isinstance(value, dict):
        return {k: _indexed(v, variable, index) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Members:
    """A group's members as its attributes read them: names in the group's order (those
    its nested stack holds), their physical ids (``refs``, the name while none), and
    each member's attributes."""

    names: list[str]
    refs: list[str]
    values: dict[str, dict[str, Any]]

    @property
    def keys(self) -> set[str]:
        """Every attribute some member has (``show`` is the member's own, not the group's)."""
        return {k for attrs in self.values.values() for k in attrs if k != "show"}

    def by_member(self, key: str) -> dict[str, Any]:
        """Member name -> its ``key`` attribute (None where it has none)."""
        return {n: self.values[n].get(key) for n in self.names}

    def in_order(self, key: str) -> list[Any]:
        return [self.values[n].get(key) for n in self.names]


class GroupResource(StackResource):
    """A group whose nested stack may change in steps (heat's rolling updates and batched
    creates): each step a nested create or update of ``(size, new)`` (the group's size
    after it, and how many members may take the new definition), the next one started
    once the nested stack has settled and its pause has passed. The steps left are kept
    in the resource's data (``batches``)."""

    async def members_of(self, ctx: Context, physical_id: str,
                         wanted: Iterable[str]) -> Members:
        """The members named in ``wanted`` that the nested stack holds, with their
        attributes: what every group's ``attributes`` is built from."""
        nested = ctx.nested()
        held = nested.resources(physical_id)
        names = [n for n in wanted if n in held]
        return Members(names, [held[n][1] or n for n in names],
                       {n: dict(await nested.attributes(physical_id, n)) for n in names})

    def step_template(self, ctx: Context, physical_id: str | None,
                      properties: Mapping[str, Any], size: int, new: int
                      ) -> dict[str, Any]:
        """The nested template after one step."""
        raise NotImplementedError

    async def run_steps(self, ctx: Context, physical_id: str | None,
                        properties: Mapping[str, Any],
                        steps: list[tuple[int, int, float]]) -> str | None:
        """The first step now (a nested create when there is no nested stack yet), the
        others from ``*_complete``; each step is ``(size, new, pause before it)``. The
        pauses must end within the stack's timeout (heat's ``_update_timeout``)."""
        check_pause_time(sum(pause for _, _, pause in steps), ctx.timeout_secs())
        (size, new, _), rest = steps[0], steps[1:]
        template = self.step_template(ctx, physical_id, properties, size, new)
        action = CREATE if physical_id is None else UPDATE
        ctx.data["batches"] = json.dumps({"steps": [list(s) for s in rest], "next": None,
                                          "action": action})
        if physical_id is None:
            return await ctx.nested().create(template, {})
        await ctx.nested().update(physical_id, template, {})
        return physical_id

    async def _steps_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any], action: str) -> bool:
        state = json.loads(ctx.data.get("batches", "null"))
        if state is not None:
            action = state["action"]
        if not self.settled(ctx, physical_id, action):
            return False
        if state is None or physical_id is None:
            return True
        if not state["steps"]:
            ctx.data.pop("batches", None)
            return True
        size, new, pause = state["steps"][0]
        if state["next"] is None:
            state["next"] = ctx.now() + pause
        if ctx.now() < state["next"]:
            ctx.data["batches"] = json.dumps(state)
            return False
        state.update(steps=state["steps"][1:], next=None, action=UPDATE)
        ctx.data["batches"] = json.dumps(state)
        await ctx.nested().update(physical_id, self.step_template(
            ctx, physical_id, properties, int(size), int(new)), {})
        return False

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return await self._steps_complete(ctx, physical_id, properties, CREATE)

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return physical_id is None or await self._steps_complete(ctx, physical_id,
                                                                  properties, UPDATE)


def batched_steps(batches: list[tuple[int, int]], pause: float
                  ) -> list[tuple[int, int, float]]:
    """Batches as steps, ``pause`` seconds between two batches."""
    return [(size, new, pause if i else 0.0) for i, (size, new) in enumerate(batches)]


def _count(name: str) -> int:
    return int(name) if name.isdigit() else -1


ROLLING_UPDATE_SCHEMA: Mapping[str, Property] = {
    "min_in_service": Property(INTEGER, "The minimum number of resources in service while "
                               "rolling updates are being executed.", default=0,
                               constraints=(Range(0, None),)),
    "max_batch_size": Property(INTEGER, "The maximum number of resources to replace at "
                               "once.", default=1, constraints=(Range(1, None),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches of "
                           "updates.", default=0, constraints=(Range(0, None),)),
}
BATCH_CREATE_SCHEMA: Mapping[str, Property] = {
    "max_batch_size": Property(INTEGER, "The maximum number of resources to create at "
                               "once.", default=1, constraints=(Range(1, None),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches.",
                           default=0, constraints=(Range(0, None),)),
}
UPDATE_POLICY_SCHEMA: Mapping[str, Property] = {
    "rolling_update": Property(MAP, "Policy for rolling updates for this scaling group.",
                               schema=ROLLING_UPDATE_SCHEMA),
    "batch_create": Property(MAP, "Policy for batched creation of this group's members.",
                             schema=BATCH_CREATE_SCHEMA),
}


@register
class ResourceGroup(GroupResource):
    TYPE = "OS::Heat::ResourceGroup"
    DESCRIPTION = ("Creates one or more identically configured nested resources. In "
                   "addition to the `refs` attribute, this resource implements synthetic "
                   "attributes that mirror those of the resources in the group.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "count": Property(INTEGER, "The number of resources to create.", default=1,
                          update_allowed=True, constraints=(Range(0, None),)),
        "index_var": Property(STRING, "A variable that this resource will use to replace "
                              "with the current index of a given resource in the group.",
                              default="%index%", update_allowed=True),
        "resource_def": Property(MAP, "Resource definition for the resources in the group. "
                                 "The value of this property is the definition of a "
                                 "resource just as if it had been declared in the template "
                                 "itself.", required=True, update_allowed=True, schema={
                                     "type": Property(STRING, "The type of the resources in "
                                                      "the group.", required=True),
                                     "properties": Property(MAP, "Property values for the "
                                                            "resources in the group."),
                                     "metadata": Property(MAP, "Supplied metadata for the "
                                                          "resources in the group.")}),
        "removal_policies": Property(
            LIST, "Policies for removal of resources on update.", default=[],
            update_allowed=True, schema=Property(
                MAP, "Policy to be processed when doing an update which requires removal "
                "of specific resources.", schema={
                    "resource_list": Property(
                        LIST, "List of resources to be removed when doing an update which "
                        "requires removal of specific resources. The resource may be "
                        "specified several ways: (1) The resource name, as in the nested "
                        "stack, (2) The resource reference returned from get_resource in "
                        "a template, as available via the 'refs' attribute. Note this is "
                        "destructive on update when specified; even if the count is not "
                        "being reduced, and once a resource name is removed, its name "
                        "is never reused in subsequent updates.", default=[])})),
        "removal_policies_mode": Property(STRING, "How to handle changes to "
                                          "removal_policies on update. The default "
                                          '"append" mode appends to the internal list, '
                                          '"update" replaces it on update.',
                                          default="append", update_allowed=True,
                                          constraints=(AllowedValues(["append", "update"]),)),
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "refs": Attribute("A list of resource IDs for the resources in the group.", LIST),
        "refs_map": Attribute("A map of resource names to IDs for the resources in the "
                              "group.", MAP),
        "attributes": Attribute("A map of resource names to the specified attribute of each "
                                "individual resource.", MAP),
        "removed_rsrc_list": Attribute("A list of removed resource names.", LIST),
    }
    UPDATE_POLICY: ClassVar[Mapping[str, Property]] = UPDATE_POLICY_SCHEMA

    @staticmethod
    def _member(properties: Mapping[str, Any], index: int | str) -> dict[str, Any]:
        definition = properties["resource_def"]
        variable = str(properties.get("index_var") or "%index%")
        member: dict[str, Any] = {"type": definition["type"]}
        for key in ("properties", "metadata"):
            if definition.get(key):
                member[key] = _indexed(definition[key], variable, index)
        return member

    def validation_template(self, properties: Mapping[str, Any]
                            ) -> Mapping[str, Any] | None:
        if not properties.get("resource_def"):
            return None
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": {"0": self._member(properties, 0)}}

    # -- what a kind of group changes (heat's get_size, _resource_names, _name_skiplist,
    # res_def_changed; OS::Heat::SoftwareDeploymentGroup has its own) ------------------

    def size(self, properties: Mapping[str, Any]) -> int:
        return int(properties.get("count") or 0)

    def member_names(self, ctx: Context, properties: Mapping[str, Any],
                     size: int) -> list[str]:
        return self.names(ctx, size)

    def skipped(self, ctx: Context) -> set[str]:
        return set(self.skiplist(ctx))

    def definition_changed(self, changed: frozenset[str]) -> bool:
        return "resource_def" in changed

    # -- names: the first ``count`` indexes not in the skiplist (heat's name_blacklist) --

    @staticmethod
    def skiplist(ctx: Context) -> list[str]:
        kept = ctx.data.get("name_blacklist")
        return kept.split(",") if kept else []

    @staticmethod
    def names(ctx: Context, size: int) -> list[str]:
        skipped = set(ResourceGroup.skiplist(ctx))
        out: list[str] = []
        index = 0
        while len(out) < size:
            if str(index) not in skipped:
                out.append(str(index))
            index += 1
        return out

    def _update_skiplist(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> None:
        """heat's ``_update_name_skiplist``: the members ``removal_policies`` name (by
        name, or by reference as ``refs`` shows it) join the skiplist (``update`` mode:
        replace it); a skipped name is removed and never used again."""
        current = set(self.skiplist(ctx))
        held = {} if physical_id is None else ctx.nested().resources(physical_id)
        found: set[str] = set()
        for policy in properties.get("removal_policies") or []:
            for entry in (policy or {}).get("resource_list") or []:
                name = str(entry)
                if name in current or physical_id is None or name in held:
                    found.add(name)
                elif isinstance(entry, str):
                    found.update(n for n, (_, ref) in held.items() if ref == entry)
        mode = properties.get("removal_policies_mode") or "append"
        updated = found | (set() if mode == "update" else current)
        if updated != current:
            ctx.data["name_blacklist"] = ",".join(sorted(updated))

    # -- the nested stack --------------------------------------------------------------

    def _template(self, definitions: list[tuple[str, Any]]) -> dict[str, Any]:
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": dict(definitions)}

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        names = self.member_names(ctx, properties, self.size(properties))
        return self._template([(n, self._member(properties, n)) for n in names]), {}

    def step_template(self, ctx: Context, physical_id: str | None,
                      properties: Mapping[str, Any], size: int, new: int
                      ) -> dict[str, Any]:
        """heat's ``_assemble_for_rolling_update``: members not wanted go first, then the
        highest indexes (the first to take the new definition), members beyond the
        count last; missing names are made with the new definition."""
        names = self.member_names(ctx, properties, size)
        skipped = self.skipped(ctx)
        held = {} if physical_id is None else ctx.nested().definitions(physical_id)
        valid = [(n, d) for n, d in sorted(held.items(), key=lambda item: _count(item[0]))
                 if n not in skipped]
        target = self.size(properties)

        def priority(item: tuple[str, Any]) -> int:
            if item[0] not in names:
                return 0
            index = names.index(item[0])
            return target - index if index < target else size

        existing = {n for n, _ in valid}
        fresh = iter([n for n in names if n not in existing])
        return self._template(member_definitions(
            sorted(valid, key=priority), lambda n: self._member(properties, n), size, new,
            lambda: next(fresh)))

    def _policy(self, ctx: Context) -> dict[str, Any]:
        return check_properties(self.UPDATE_POLICY, ctx.update_policy(),
                                path=["resources", ctx.resource_name, "update_policy"])

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        self._update_skiplist(ctx, None, properties)
        count = self.size(properties)
        batch = self._policy(ctx).get("batch_create")
        if batch and count:
            # heat's batch_create: a rolling update from nothing.
            steps = batched_steps(group_batches(count, 0, int(batch["max_batch_size"]), 0),
                                  float(batch["pause_time"]))
            return await self.run_steps(ctx, None, properties, steps)
        ctx.data.pop("batches", None)
        return await super().create(ctx, properties)

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        """heat's ``handle_update``: the skiplist first; a changed ``resource_def`` with a
        ``rolling_update`` policy reaches the members in batches (``max_batch_size`` at a
        time, ``min_in_service`` kept, ``pause_time`` apart); anything else is one
        nested update."""
        if physical_id is None:
            return
        self._update_skiplist(ctx, physical_id, new)
        count = self.size(new)
        rolling = self._policy(ctx).get("rolling_update")
        if rolling and self.definition_changed(changed):
            skipped = self.skipped(ctx)
            held = ctx.nested().resources(physical_id)
            current = len(held) - len(skipped & set(held))
            batches = group_batches(count, current, int(rolling["max_batch_size"]),
                                    int(rolling.get("min_in_service") or 0))
            if batches:
                await self.run_steps(ctx, physical_id, new, batched_steps(
                    batches, float(rolling["pause_time"])))
                return
        await self.run_steps(ctx, physical_id, new, [(count, count, 0.0)])

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        members = await self.members_of(
            ctx, physical_id, self.names(ctx, int(properties.get("count") or 0)))
        out: dict[str, Any] = {
            "refs": members.refs,
            "refs_map": dict(zip(members.names, members.refs, strict=True)),
            "removed_rsrc_list": self.skiplist(ctx),
            # get_attr [group, attributes, <attribute>]: member name -> its value.
            "attributes": {k: members.by_member(k) for k in members.keys}}
        for name, attrs in members.values.items():
            out[f"resource.{name}"] = attrs
        # get_attr [group, <member attribute>]: that attribute of every member, in order.
        for key in members.keys:
            out.setdefault(key, members.in_order(key))
        return out
