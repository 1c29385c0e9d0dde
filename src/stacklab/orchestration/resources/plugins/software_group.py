"""heat's OS::Heat::SoftwareDeploymentGroup (``software_deployment.py``): one
OS::Heat::SoftwareDeployment per entry of ``servers`` (a map of names to server ids), in a
nested stack whose resources are named by the map's keys, each with the group's config,
inputs, actions and signal transport. Its attributes are maps of those names:
``deploy_stdouts``, ``deploy_stderrs``, ``deploy_status_codes``, and any attribute of the
members (a config's output) as the map of each member's value, as heat's
``get_attribute`` answers it.

It is heat's ResourceGroup with the servers' names for indexes (as upstream it subclasses
it): ``update_policy``'s ``batch_create`` makes the deployments in batches and
``rolling_update`` takes any change of its properties to them ``max_batch_size`` at a
time, ``pause_time`` apart (no ``min_in_service``: heat replaces with none kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context
from stacklab.orchestration.resources.plugins.group import (
    BATCH_CREATE_SCHEMA,
    MEMBER_TEMPLATE_VERSION,
    ResourceGroup,
)
from stacklab.orchestration.resources.plugins.software_config import SoftwareDeployment
from stacklab.orchestration.resources.properties import (
    INTEGER,
    MAP,
    NUMBER,
    Attribute,
    Property,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.parameters import Range

# The group's attribute -> the member attribute each maps.
_MAPPED = {"deploy_stdouts": "deploy_stdout", "deploy_stderrs": "deploy_stderr",
           "deploy_status_codes": "deploy_status_code"}

ROLLING_UPDATE_SCHEMA: Mapping[str, Property] = {
    "max_batch_size": Property(INTEGER, "The maximum number of deployments to replace at "
                               "once.", default=1, constraints=(Range(1, None),)),
    "pause_time": Property(NUMBER, "The number of seconds to wait between batches of "
                           "updates.", default=0, constraints=(Range(0, None),)),
}


@register
class SoftwareDeploymentGroup(ResourceGroup):
    TYPE = "OS::Heat::SoftwareDeploymentGroup"
    DESCRIPTION = ("This resource associates a group of servers with some configuration. "
                   "The configuration is to be deployed to all servers in the group. The "
                   "properties work in a similar way to OS::Heat::SoftwareDeployment, and "
                   "in addition to the attributes documented, you may pass any attribute "
                   "supported by OS::Heat::SoftwareDeployment, including those exposing "
                   "arbitrary outputs, and return a map of deployment names to the "
                   "specified attribute.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "servers": Property(MAP, "A map of names and server IDs to apply configuration to. "
                            "The name is arbitrary and is used as the Heat resource name "
                            "for the corresponding deployment.", required=True,
                            update_allowed=True),
        **{key: SoftwareDeployment.PROPERTIES[key]
           for key in ("config", "input_values", "actions", "name", "signal_transport")},
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "deploy_stdouts": Attribute("A map of Nova names and captured stdouts from the "
                                    "configuration execution to each server.", MAP),
        "deploy_stderrs": Attribute("A map of Nova names and captured stderrs from the "
                                    "configuration execution to each server.", MAP),
        "deploy_status_codes": Attribute("A map of Nova names and returned status code "
                                         "from the configuration execution.", MAP),
    }
    UPDATE_POLICY: ClassVar[Mapping[str, Property]] = {
        "rolling_update": Property(MAP, "", schema=ROLLING_UPDATE_SCHEMA),
        "batch_create": Property(MAP, "", schema=BATCH_CREATE_SCHEMA),
    }

    @staticmethod
    def _member(properties: Mapping[str, Any], index: int | str) -> dict[str, Any]:
        """heat's ``build_resource_definition``: the deployment of the server named."""
        member = {k: v for k, v in properties.items() if k != "servers" and v is not None}
        member["server"] = (properties.get("servers") or {}).get(str(index))
        return {"type": SoftwareDeployment.TYPE, "properties": member}

    def size(self, properties: Mapping[str, Any]) -> int:
        return len(properties.get("servers") or {})

    def member_names(self, ctx: Context, properties: Mapping[str, Any],
                     size: int) -> list[str]:
        return [str(name) for name in properties.get("servers") or {}][:size]

    def skipped(self, ctx: Context) -> set[str]:
        return set()

    def definition_changed(self, changed: frozenset[str]) -> bool:
        # heat's res_def_changed: every property is the members' definition.
        return bool(changed)

    def _update_skiplist(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> None:
        """No removal policies: nothing is skipped."""

    def validation_template(self, properties: Mapping[str, Any]
                            ) -> Mapping[str, Any] | None:
        servers = properties.get("servers") or {}
        if not servers:
            return None
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": {str(name): self._member(properties, str(name))
                              for name in servers}}

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        members = await self.members_of(
            ctx, physical_id, [str(n) for n in properties.get("servers") or {}])
        out: dict[str, Any] = {k: members.by_member(k) for k in members.keys}
        for group_key, member_key in _MAPPED.items():
            out[group_key] = members.by_member(member_key)
        return out
