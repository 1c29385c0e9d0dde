"""heat's OS::Heat::SoftwareDeploymentGroup (``software_deployment.py``): one
OS::Heat::SoftwareDeployment per entry of ``servers`` (a map of names to server ids), in a
nested stack whose resources are named by the map's keys, each with the group's config,
inputs, actions and signal transport. Its attributes are maps of those names:
``deploy_stdouts``, ``deploy_stderrs``, ``deploy_status_codes``, and any attribute of the
members (a config's output) as the map of each member's value, as heat's
``get_attribute`` answers it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context
from stacklab.orchestration.resources.plugins.group import (
    MEMBER_TEMPLATE_VERSION,
    UPDATE_POLICY_SCHEMA,
)
from stacklab.orchestration.resources.plugins.nested import StackResource
from stacklab.orchestration.resources.plugins.software_config import SoftwareDeployment
from stacklab.orchestration.resources.properties import MAP, Attribute, Property
from stacklab.orchestration.resources.registry import register

# The group's attribute -> the member attribute each maps.
_MAPPED = {"deploy_stdouts": "deploy_stdout", "deploy_stderrs": "deploy_stderr",
           "deploy_status_codes": "deploy_status_code"}


@register
class SoftwareDeploymentGroup(StackResource):
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
    # heat's rolling_update and batch_create keys are taken (templates carry them); the
    # lab applies a change to every member at once.
    UPDATE_POLICY: ClassVar[Mapping[str, Property]] = UPDATE_POLICY_SCHEMA

    @staticmethod
    def _member(properties: Mapping[str, Any], server: Any) -> dict[str, Any]:
        member = {k: v for k, v in properties.items() if k != "servers" and v is not None}
        member["server"] = server
        return {"type": SoftwareDeployment.TYPE, "properties": member}

    def _template(self, properties: Mapping[str, Any]) -> dict[str, Any]:
        servers = properties.get("servers") or {}
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": {str(name): self._member(properties, server)
                              for name, server in servers.items()}}

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        return self._template(properties), {}

    def validation_template(self, properties: Mapping[str, Any]
                            ) -> Mapping[str, Any] | None:
        return self._template(properties) if properties.get("servers") else None

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        nested = ctx.nested()
        held = nested.resources(physical_id)
        names = [str(n) for n in properties.get("servers") or {} if str(n) in held]
        values = {n: dict(await nested.attributes(physical_id, n)) for n in names}
        keys = {k for attrs in values.values() for k in attrs if k != "show"}
        out: dict[str, Any] = {k: {n: values[n].get(k) for n in names} for k in keys}
        for group_key, member_key in _MAPPED.items():
            out[group_key] = {n: values[n].get(member_key) for n in names}
        return out
