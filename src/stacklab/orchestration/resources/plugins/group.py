"""OS::Heat::ResourceGroup, after heat's ``openstack/heat/resource_group.py``: ``count``
members of one definition (``index_var``, ``%index%`` by default, replaced by each
member's index) in a nested stack whose resources are named by their indexes. A count
that grows adds the lowest free indexes; one that shrinks removes the highest (heat's
default removal order), listed in ``removed_rsrc_list``. A changed definition updates
the nested stack, where each member is changed in place or replaced as its type says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context
from stacklab.orchestration.resources.plugins.nested import StackResource
from stacklab.orchestration.resources.properties import (
    INTEGER,
    LIST,
    MAP,
    STRING,
    Attribute,
    Property,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.parameters import AllowedValues, Range

MEMBER_TEMPLATE_VERSION = "2015-04-30"


def _indexed(value: Any, variable: str, index: int) -> Any:
    if isinstance(value, str):
        return value.replace(variable, str(index))
    if isinstance(value, list):
        return [_indexed(v, variable, index) for v in value]
    if isinstance(value, dict):
        return {k: _indexed(v, variable, index) for k, v in value.items()}
    return value


def _ints(ctx: Context, key: str) -> list[int]:
    found: list[int] = json.loads(ctx.data.get(key, "[]"))
    return found


@register
class ResourceGroup(StackResource):
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
        "removal_policies": Property(LIST, "Policies for removal of resources on update.",
                                     default=[], update_allowed=True),
        "removal_policies_mode": Property(STRING, "How to handle changes to "
                                          "removal_policies on update.", default="append",
                                          update_allowed=True,
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

    @staticmethod
    def _member(properties: Mapping[str, Any], index: int) -> dict[str, Any]:
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

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        count = int(properties.get("count") or 0)
        members = _ints(ctx, "members")
        removed: list[str] = json.loads(ctx.data.get("removed", "[]"))
        while len(members) > count:
            index = max(members)
            members.remove(index)
            removed.append(str(index))
        index = 0
        while len(members) < count:
            while index in members:
                index += 1
            members.append(index)
        members.sort()
        ctx.data["members"] = json.dumps(members)
        ctx.data["removed"] = json.dumps(removed)
        return ({"heat_template_version": MEMBER_TEMPLATE_VERSION,
                 "resources": {str(i): self._member(properties, i) for i in members}}, {})

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        nested = ctx.nested()
        held = nested.resources(physical_id)
        names = [str(i) for i in _ints(ctx, "members") if str(i) in held]
        refs = [held[n][1] or n for n in names]
        values = {n: dict(await nested.attributes(physical_id, n)) for n in names}
        keys = {k for attrs in values.values() for k in attrs if k != "show"}
        out: dict[str, Any] = {
            "refs": refs, "refs_map": dict(zip(names, refs, strict=True)),
            "removed_rsrc_list": json.loads(ctx.data.get("removed", "[]")),
            # get_attr [group, attributes, <attribute>]: member name -> its value.
            "attributes": {k: {n: values[n].get(k) for n in names} for k in keys}}
        for name, attrs in values.items():
            out[f"resource.{name}"] = attrs
        # get_attr [group, <member attribute>]: that attribute of every member, in order.
        for key in keys:
            out.setdefault(key, [values[n].get(key) for n in names])
        return out
