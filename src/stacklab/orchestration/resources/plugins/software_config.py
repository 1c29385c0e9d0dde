"""heat's software configuration types: OS::Heat::SoftwareConfig, StructuredConfig,
CloudConfig, MultipartMime (configs kept by heat-api's /software_configs) and
OS::Heat::SoftwareDeployment, StructuredDeployment (a config bound to a server through
/software_deployments). Read from heat's ``heat/engine/resources/openstack/heat/
{software_config,structured_config,cloud_config,multi_part,software_deployment}.py``.

The lab has no agent in its servers (os-collect-config): a deployment waits, IN_PROGRESS,
for what an agent would send: a signal to the resource (heat-api's resource signal, or the
pre-signed heat-api-cfn URL its ``deploy_signal_id`` input holds), or an update of the
deployment to COMPLETE or FAILED through the API. With ``signal_transport: NO_SIGNAL`` it is
COMPLETE at once, as upstream.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import Parser
from typing import Any, ClassVar

import yaml

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.resources.base import (
    ORCHESTRATION,
    Context,
    ResourceFailure,
    ResourcePlugin,
    UpdateReplace,
    delete_if_there,
    gone,
)
from stacklab.orchestration.resources.properties import (
    ANY,
    BOOLEAN,
    LIST,
    MAP,
    STRING,
    Attribute,
    Property,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import AllowedValues, Length

IO_TYPES = ["String", "Number", "CommaDelimitedList", "Json", "Boolean"]
UNGROUPED = "Heat::Ungrouped"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}$")


def _configs(ctx: Context, suffix: str = "") -> str:
    return f"/{ctx.project_id}/software_configs{suffix}"


def _deployments(ctx: Context, suffix: str = "") -> str:
    return f"/{ctx.project_id}/software_deployments{suffix}"


async def _show_config(ctx: Context, config_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await ctx.call(ORCHESTRATION, "GET",
                                            _configs(ctx, f"/{config_id}")))["software_config"]
    return found


async def _create_config(ctx: Context, **fields: Any) -> str:
    body = await ctx.call(ORCHESTRATION, "POST", _configs(ctx), json=fields)
    return str(body["software_config"]["id"])


async def user_data_of(ctx: Context, user_data: str) -> str:
    """heat's server ``get_software_config``: user data that is a config's id is that
    config's content (a config not found leaves the id as given)."""
    if not _UUID.match(user_data):
        return user_data
    try:
        return str((await _show_config(ctx, user_data)).get("config") or "")
    except ServiceCallError as error:
        if not gone(error):
            raise
    return user_data


_INPUT = Property(MAP, "Schema of an input.", schema={
    "name": Property(STRING, "Name of the input.", required=True),
    "description": Property(STRING, "Description of the input."),
    "type": Property(STRING, "Type of the value of the input.", default="String",
                     constraints=(AllowedValues(IO_TYPES),)),
    "default": Property(ANY, "Default value for the input if none is specified."),
    "replace_on_change": Property(BOOLEAN, "Replace the deployment instead of updating it "
                                  "when the input value changes.", default=False),
})
_OUTPUT = Property(MAP, "Schema of an output.", schema={
    "name": Property(STRING, "Name of the output.", required=True),
    "description": Property(STRING, "Description of the output."),
    "type": Property(STRING, "Type of the value of the output.", default="String",
                     constraints=(AllowedValues(IO_TYPES),)),
    "error_output": Property(BOOLEAN, "Denotes that the deployment is in an error state if "
                             "this output has a value.", default=False),
})
_GROUP = Property(STRING, "Namespace to group this software config by when delivered to a "
                  "server. This may imply what configuration tool is going to perform the "
                  "configuration.", default=UNGROUPED)
_CONFIG_ATTRIBUTES: Mapping[str, Attribute] = {
    "config": Attribute("The config value of the software config.", STRING),
}


def _io(values: Any) -> list[dict[str, Any]]:
    """Inputs or outputs as the API takes them: heat's as_dict (no None values)."""
    return [{k: v for k, v in dict(item).items() if v is not None} for item in values or []]


class _ConfigPlugin(ResourcePlugin):
    """A config made once through heat-api (none of its properties changes in place: a new
    config replaces it); its reference is the config's id."""

    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = _CONFIG_ATTRIBUTES

    async def config_fields(self, ctx: Context, properties: Mapping[str, Any]
                            ) -> dict[str, Any]:
        raise NotImplementedError

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        fields = await self.config_fields(ctx, properties)
        return await _create_config(ctx, name=ctx.physical_name(), **fields)

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id:
            await delete_if_there(ctx, ORCHESTRATION, _configs(ctx, f"/{physical_id}"))

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if not physical_id:
            return {"config": None}
        shown = await _show_config(ctx, physical_id)
        return {"config": shown.get("config"), "show": shown}


@register
class SoftwareConfig(_ConfigPlugin):
    TYPE = "OS::Heat::SoftwareConfig"
    DESCRIPTION = ("A resource for describing and storing software configuration. The "
                   "software_configs API which backs this resource creates immutable "
                   "configs, so any change to the template resource definition will result "
                   "in a new config being created, and the old one being deleted.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "group": _GROUP,
        "config": Property(STRING, "Configuration script or manifest which specifies what "
                           "actual configuration is performed."),
        "options": Property(MAP, "Map containing options specific to the configuration "
                            "management tool used by this resource."),
        "inputs": Property(LIST, "Schema representing the inputs that this software config "
                           "is expecting.", schema=_INPUT),
        "outputs": Property(LIST, "Schema representing the outputs that this software config "
                            "will produce.", schema=_OUTPUT),
    }

    async def config_fields(self, ctx: Context, properties: Mapping[str, Any]
                            ) -> dict[str, Any]:
        return {"group": properties.get("group") or UNGROUPED,
                "config": properties.get("config"),
                "options": properties.get("options"),
                "inputs": _io(properties.get("inputs")),
                "outputs": _io(properties.get("outputs"))}


@register
class StructuredConfig(SoftwareConfig):
    TYPE = "OS::Heat::StructuredConfig"
    DESCRIPTION = ("A resource which has same logic with OS::Heat::SoftwareConfig. This "
                   "resource is like OS::Heat::SoftwareConfig except that the config "
                   "property is represented by a Map rather than a String.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        **SoftwareConfig.PROPERTIES,
        "config": Property(MAP, "Map representing the configuration data structure which "
                           "will be serialized to JSON format."),
    }


@register
class CloudConfig(_ConfigPlugin):
    TYPE = "OS::Heat::CloudConfig"
    DESCRIPTION = ("A configuration resource for representing cloud-init cloud-config. This "
                   "resource allows cloud-config YAML to be defined and stored by the config "
                   "API. Any intrinsic functions called in the config will be resolved before "
                   "storing the result.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "cloud_config": Property(MAP, "Map representing the cloud-config data structure "
                                 "which will be formatted as YAML."),
    }

    async def config_fields(self, ctx: Context, properties: Mapping[str, Any]
                            ) -> dict[str, Any]:
        dumped = yaml.safe_dump(properties.get("cloud_config") or {},
                                default_flow_style=False)
        return {"group": UNGROUPED, "config": f"#cloud-config\n{dumped}"}


@register
class SoftwareComponent(_ConfigPlugin):
    """heat's ``software_component.py``: one config (group ``component``, its config
    ``{"configs": [...]}``) holding a configuration per lifecycle action; a deployment of
    it deploys at the actions its configs name, whatever the deployment's ``actions``."""

    TYPE = "OS::Heat::SoftwareComponent"
    DESCRIPTION = ("A resource for describing and storing a software component. This "
                   "resource is similar to OS::Heat::SoftwareConfig. In contrast to "
                   "SoftwareConfig which allows for storing only one configuration (e.g. "
                   "one script), SoftwareComponent allows for storing multiple "
                   "configurations to address handling of all lifecycle hooks (CREATE, "
                   "UPDATE, SUSPEND, RESUME, DELETE) for a software component in one "
                   "place.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "configs": Property(
            LIST, "The list of configurations for the different lifecycle actions of the "
            "represented software component.", required=True,
            constraints=(Length(min=1),), schema=Property(MAP, schema={
                "actions": Property(
                    LIST, "Lifecycle actions to which the configuration applies. The string "
                    "values provided for this property can include the standard resource "
                    "actions CREATE, DELETE, UPDATE, SUSPEND and RESUME supported by Heat.",
                    default=["CREATE", "UPDATE"], constraints=(Length(min=1),),
                    schema=Property(STRING, "")),
                "config": SoftwareConfig.PROPERTIES["config"],
                "tool": Property(STRING, "The configuration tool used to actually apply the "
                                 "configuration on a server. This string property has to be "
                                 "understood by in-instance tools running inside deployed "
                                 "servers.", required=True)})),
        "inputs": SoftwareConfig.PROPERTIES["inputs"],
        "outputs": SoftwareConfig.PROPERTIES["outputs"],
        "options": SoftwareConfig.PROPERTIES["options"],
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        **_CONFIG_ATTRIBUTES,
        "configs": Attribute("The list of configurations for the different lifecycle "
                             "actions of the represented software component.", LIST),
    }

    async def config_fields(self, ctx: Context, properties: Mapping[str, Any]
                            ) -> dict[str, Any]:
        # heat's validate, made here: it names the resource.
        seen: set[str] = set()
        for entry in properties.get("configs") or []:
            actions = set(entry.get("actions") or [])
            if actions & seen:
                raise StackValidationFailed(
                    "Defining more than one configuration for the same action in "
                    f'SoftwareComponent "{ctx.resource_name}" is not allowed.')
            seen |= actions
        configs = [{k: v for k, v in dict(c).items() if v is not None}
                   for c in properties.get("configs") or []]
        return {"group": "component", "config": {"configs": configs},
                "options": properties.get("options"),
                "inputs": _io(properties.get("inputs")),
                "outputs": _io(properties.get("outputs"))}

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        shown = dict(await super().attributes(ctx, physical_id, properties))
        config = shown.get("config")
        shown["configs"] = config.get("configs") if isinstance(config, Mapping) else None
        return shown


@register
class MultipartMime(_ConfigPlugin):
    TYPE = "OS::Heat::MultipartMime"
    DESCRIPTION = ("Assembles a collection of software configurations as a multi-part mime "
                   "message. Parts in the message can be populated with inline configuration "
                   "or references to other config resources.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "group": Property(STRING, "Namespace to group this multi-part configs by when "
                          "delivered to a server. This may imply what configuration tool is "
                          "going to perform the configuration.", default=UNGROUPED),
        "parts": Property(LIST, "Parts belonging to this message.", default=[],
                          schema=Property(MAP, schema={
                              "config": Property(STRING, "Content of part to attach, either "
                                                 "inline or by referencing the ID of another "
                                                 "software config resource.", required=True),
                              "filename": Property(STRING, "Optional filename to associate "
                                                   "with part."),
                              "type": Property(STRING, "Whether the part content is text or "
                                               "multipart.", default="text",
                                               constraints=(AllowedValues(
                                                   ["text", "multipart"]),)),
                              "subtype": Property(STRING, "Optional subtype to specify with "
                                                  "the type.")})),
    }

    async def config_fields(self, ctx: Context, properties: Mapping[str, Any]
                            ) -> dict[str, Any]:
        parts: list[MIMEText] = []
        for item in properties.get("parts") or []:
            content = str(item.get("config") or "")
            if _UUID.match(content):
                try:
                    content = str((await _show_config(ctx, content)).get("config") or "")
                except ServiceCallError as error:
                    if not gone(error):
                        raise
            if item.get("type") == "multipart":
                message = Parser().parsestr(content)
                if message.is_multipart():
                    for sub in message.get_payload():
                        if isinstance(sub, Message):
                            parts.append(_part(str(sub.get_payload()),
                                               sub.get_content_subtype(),
                                               sub.get_filename() or ""))
                continue
            parts.append(_part(content, str(item.get("subtype") or ""),
                               str(item.get("filename") or "")))
        # The boundary from the cloud's seeded source (the email module would draw one).
        boundary = "=" * 15 + ctx.random_string(19, "0123456789") + "=="
        blob = MIMEMultipart(boundary=boundary, _subparts=parts)
        return {"group": properties.get("group") or UNGROUPED, "config": blob.as_string()}


def _part(content: str, subtype: str, filename: str) -> MIMEText:
    if not subtype and filename:
        subtype = os.path.splitext(filename)[0]
    try:
        content.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    part = MIMEText(content, _subtype=subtype, _charset=charset) if subtype else MIMEText(
        content, _charset=charset)
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


# -- deployments ---------------------------------------------------------------------------

_ACTIONS = ["CREATE", "UPDATE", "DELETE", "SUSPEND", "RESUME"]
TRANSPORTS = ["CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL", "ZAQAR_SIGNAL"]
# heat's [DEFAULT] default_deployment_signal_transport.
DEFAULT_TRANSPORT = "CFN_SIGNAL"
DEPLOY_ATTRIBUTES = ("deploy_stdout", "deploy_stderr", "deploy_status_code")
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


def deployed_actions(properties: Mapping[str, Any], source: Mapping[str, Any]
                     ) -> set[str]:
    """The actions a deployment deploys at: its ``actions``, or for a component's config
    (group ``component``) those its configs name (heat's ``_handle_action``)."""
    if source.get("group") == "component":
        configs = (source.get("config") or {}).get("configs") or []
        return {str(a) for c in configs for a in (c.get("actions") or [])}
    return {str(a) for a in properties.get("actions") or []}


class DeploymentFailed(Exception):
    """heat's ``exception.Error`` raised by a deployment the server failed."""

    error_type = "Error"


@register
class SoftwareDeployment(ResourcePlugin):
    TYPE = "OS::Heat::SoftwareDeployment"
    DESCRIPTION = ("This resource associates a server with some configuration. The "
                   "configuration is to be deployed to that server. Unless "
                   "signal_transport=NO_SIGNAL, this resource will remain in an IN_PROGRESS "
                   "state until the server signals it with the output values for that "
                   "deployment.")
    SIGNALS = True
    # A deployment's DELETE (or SUSPEND) action waits for the server's signal too.
    NO_SIGNAL_ACTIONS = ()
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "config": Property(STRING, "ID of software configuration resource to execute when "
                           "applying to the server.", update_allowed=True),
        "server": Property(STRING, "ID of resource to apply configuration to. Normally this "
                           "should be a Nova server ID.", required=True),
        "input_values": Property(MAP, "Input values to apply to the software configuration "
                                 "on this server.", update_allowed=True),
        "actions": Property(LIST, "Which lifecycle actions of the deployment resource will "
                            "result in this deployment being triggered.", update_allowed=True,
                            default=["CREATE", "UPDATE"],
                            constraints=(AllowedValues(_ACTIONS),)),
        "name": Property(STRING, "Name of the derived config associated with this "
                         "deployment. This is used to apply a sort order to the list of "
                         "configurations currently deployed to a server.",
                         update_allowed=True),
        "signal_transport": Property(
            STRING, "How the server should signal to heat with the deployment output values. "
            "CFN_SIGNAL will allow an HTTP POST to a CFN keypair signed URL. TEMP_URL_SIGNAL "
            "will create a Swift TempURL to be signaled via HTTP PUT. HEAT_SIGNAL will allow "
            "calls to the Heat API resource-signal using the provided keystone credentials. "
            "ZAQAR_SIGNAL will create a dedicated zaqar queue to be signaled using the "
            "provided keystone credentials. NO_SIGNAL will result in the resource going to "
            "the COMPLETE state without waiting for any signal.",
            default=DEFAULT_TRANSPORT, constraints=(AllowedValues(TRANSPORTS),)),
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "deploy_stdout": Attribute("Captured stdout from the configuration execution.",
                                   STRING),
        "deploy_stderr": Attribute("Captured stderr from the configuration execution.",
                                   STRING),
        "deploy_status_code": Attribute("Returned status code from the configuration "
                                        "execution.", STRING),
    }

    # -- what the server is given (heat's derived config) -------------------------------

    async def _source(self, ctx: Context, properties: Mapping[str, Any]) -> dict[str, Any]:
        config_id = properties.get("config")
        return await _show_config(ctx, str(config_id)) if config_id else {}

    def _derived_body(self, source: Mapping[str, Any], inputs: list[dict[str, Any]]) -> Any:
        return source.get("config")

    def _inputs(self, ctx: Context, properties: Mapping[str, Any], action: str,
                source: Mapping[str, Any]) -> list[dict[str, Any]]:
        values = dict(properties.get("input_values") or {})
        inputs: list[dict[str, Any]] = []
        for declared in source.get("inputs") or []:
            entry = {k: v for k, v in declared.items() if k != "value"}
            entry["value"] = values.pop(entry["name"], entry.get("default"))
            inputs.append(entry)
        inputs += [{"name": k, "type": "String", "value": v} for k, v in values.items()]
        transport = str(properties.get("signal_transport") or DEFAULT_TRANSPORT)

        def add(name: str, value: Any, description: str) -> None:
            inputs.append({"name": name, "type": "String", "value": value,
                           "description": description})

        add("deploy_server_id", properties.get("server"), "ID of the server being deployed to")
        add("deploy_action", action, "Name of the current action being deployed")
        add("deploy_stack_id", f"{ctx.stack_name}/{ctx.stack_id}",
            "ID of the stack this deployment belongs to")
        add("deploy_resource_name", ctx.resource_name,
            "Name of this deployment resource in the stack")
        add("deploy_signal_transport", transport,
            "How the server should signal to heat with the deployment output values.")
        if transport in ("CFN_SIGNAL", "TEMP_URL_SIGNAL"):
            # The lab's pre-signed heat-api-cfn URL takes a POST or a PUT: it stands in for
            # the Swift TempURL too (the lab has no object store).
            add("deploy_signal_id", ctx.signal_url(),
                "ID of signal to use for signaling output values")
            add("deploy_signal_verb", "POST" if transport == "CFN_SIGNAL" else "PUT",
                "HTTP verb to use for signaling output values")
        elif transport == "HEAT_SIGNAL":
            add("deploy_project_id", ctx.project_id, "ID of project for API authentication")
        return inputs

    async def _trigger(self, ctx: Context, properties: Mapping[str, Any], action: str,
                       physical_id: str | None) -> str | None:
        """heat's ``_handle_action``: a derived config for ``action`` (inputs with their
        values and heat's ``deploy_*``), then the deployment made or moved to it."""
        transport = str(properties.get("signal_transport") or DEFAULT_TRANSPORT)
        if transport == "ZAQAR_SIGNAL":
            raise ResourceFailure("ZAQAR_SIGNAL needs the Messaging service (zaqar), which "
                                  "this cloud does not run")
        source = await self._source(ctx, properties)
        if action not in deployed_actions(properties, source):
            return physical_id
        inputs = self._inputs(ctx, properties, action, source)
        derived = await _create_config(
            ctx, group=source.get("group") or UNGROUPED,
            config=self._derived_body(source, inputs) or "",
            options=source.get("options"), inputs=inputs,
            outputs=list(source.get("outputs") or []),
            name=properties.get("name") or source.get("name") or ctx.physical_name())
        fields: dict[str, Any] = {"config_id": derived, "action": action,
                                  "input_values": properties.get("input_values")}
        if transport == "NO_SIGNAL":
            fields.update(status="COMPLETE", status_reason="Not waiting for outputs signal")
        else:
            fields.update(status="IN_PROGRESS", status_reason="Deploy data available")
        if physical_id is None:
            body = await ctx.call(ORCHESTRATION, "POST", _deployments(ctx), json={
                **fields, "server_id": properties.get("server"),
                "stack_user_project_id": ctx.project_id})
            return str(body["software_deployment"]["id"])
        previous = (await self._show(ctx, physical_id))["config_id"]
        await ctx.call(ORCHESTRATION, "PUT", _deployments(ctx, f"/{physical_id}"), json={
            k: v for k, v in fields.items() if v is not None})
        if previous:
            await delete_if_there(ctx, ORCHESTRATION, _configs(ctx, f"/{previous}"))
        return physical_id

    async def _show(self, ctx: Context, physical_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (await ctx.call(
            ORCHESTRATION, "GET", _deployments(ctx, f"/{physical_id}")))["software_deployment"]
        return found

    async def _complete(self, ctx: Context, physical_id: str | None) -> bool:
        if physical_id is None:
            return True
        shown = await self._show(ctx, physical_id)
        if shown["status"] == "COMPLETE":
            return True
        if shown["status"] == "FAILED":
            raise DeploymentFailed(f"Deployment to server failed: {shown['status_reason']}")
        return False

    # -- the contract ------------------------------------------------------------------

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        return await self._trigger(ctx, properties, "CREATE", None)

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return await self._complete(ctx, physical_id)

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        if physical_id is not None:
            previous = await _show_config(ctx, (await self._show(ctx, physical_id))[
                "config_id"])
            before = {i["name"]: i.get("value") for i in previous.get("inputs") or []}
            source = await self._source(ctx, new)
            for entry in self._inputs(ctx, new, "UPDATE", source):
                if (entry.get("replace_on_change") and entry["name"] in before
                        and before[entry["name"]] != entry.get("value")):
                    raise UpdateReplace()
        else:
            # Never deployed (no CREATE in its actions): the contract keeps the create's
            # physical id, so its first deployment comes with a replacement.
            raise UpdateReplace()
        await self._trigger(ctx, new, "UPDATE", physical_id)

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return await self._complete(ctx, physical_id)

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        """heat's ``handle_delete``: a DELETE in ``actions`` is deployed, and waited for
        unless NO_SIGNAL; otherwise the deployment goes at once."""
        ctx.data.pop("waiting", None)
        if physical_id is None:
            return
        try:
            source = await self._source(ctx, properties)
        except ServiceCallError as error:
            if not gone(error):
                raise
            source = {}
        if "DELETE" not in deployed_actions(properties, source):
            return
        try:
            await self._trigger(ctx, properties, "DELETE", physical_id)
        except ServiceCallError as error:
            if not gone(error):
                raise
            return
        if properties.get("signal_transport") != "NO_SIGNAL":
            ctx.data["waiting"] = "1"

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        if physical_id is None:
            return True
        try:
            shown = await self._show(ctx, physical_id)
        except ServiceCallError as error:
            if gone(error):
                return True
            raise
        if ctx.data.get("waiting") and await self._server_exists(ctx, shown) and not (
                await self._complete(ctx, physical_id)):
            return False
        await delete_if_there(ctx, ORCHESTRATION, _deployments(ctx, f"/{physical_id}"))
        await delete_if_there(ctx, ORCHESTRATION, _configs(ctx, f"/{shown['config_id']}"))
        return True

    async def _server_exists(self, ctx: Context, shown: Mapping[str, Any]) -> bool:
        try:
            await ctx.call("compute", "GET", f"/servers/{shown['server_id']}")
        except ServiceCallError as error:
            if error.status in (400, 404):
                return False
            raise
        return True

    async def signal(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any], details: Any) -> str | None:
        """heat's ``signal_software_deployment``: the outputs the agent sent and the status
        they mean, kept on the deployment (ignored unless it is IN_PROGRESS)."""
        if physical_id is None:
            return None
        shown = await self._show(ctx, physical_id)
        if shown["status"] != "IN_PROGRESS":
            return None
        config = await _show_config(ctx, shown["config_id"])
        outputs, status, reason, event = signal_outcome(
            physical_id, details, list(config.get("outputs") or []), shown["output_values"])
        await ctx.call(ORCHESTRATION, "PUT", _deployments(ctx, f"/{physical_id}"), json={
            "output_values": outputs, "status": status, "status_reason": reason})
        return event

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        out: dict[str, Any] = dict.fromkeys(DEPLOY_ATTRIBUTES)
        if properties.get("config"):
            try:
                source = await _show_config(ctx, str(properties["config"]))
                out.update(dict.fromkeys(o["name"] for o in source.get("outputs") or []))
            except ServiceCallError as error:
                if not gone(error):
                    raise
        if physical_id is not None:
            shown = await self._show(ctx, physical_id)
            out.update(shown.get("output_values") or {})
            out["show"] = shown
        return out


def signal_outcome(deployment_id: str, details: Any, config_outputs: list[Mapping[str, Any]],
                   output_values: Mapping[str, Any] | None
                   ) -> tuple[dict[str, Any], str, str, str]:
    """heat's ``signal_software_deployment`` on an IN_PROGRESS deployment: the outputs an
    agent sent (the config's outputs and deploy_stdout/stderr/status_code), the status they
    mean (a non-zero ``deploy_status_code`` or an ``error_output`` given: FAILED), its
    reason and the signal event's reason: ``(output_values, status, reason, event)``."""
    details = dict(details) if isinstance(details, Mapping) else {}
    outputs = dict(output_values or {})
    status, reasons = None, {}
    code = details.get("deploy_status_code")
    if code and str(code) != "0":
        status = FAILED
        reasons["deploy_status_code"] = f"Deployment exited with non-zero status code: {code}"
        event = f"deployment {deployment_id} failed ({code})"
    else:
        event = f"deployment {deployment_id} succeeded"
    for output in config_outputs:
        key = output.get("name")
        if key in details:
            outputs[str(key)] = details[key]
            if output.get("error_output"):
                status = FAILED
                reasons[str(key)] = details[key]
                event = f"deployment {deployment_id} failed"
    for key in DEPLOY_ATTRIBUTES:
        outputs[key] = details.get(key)
    if status == FAILED:
        return outputs, FAILED, ", ".join(f"{k} : {v}" for k, v in reasons.items()), event
    return outputs, COMPLETE, "Outputs received", event



@register
class StructuredDeployment(SoftwareDeployment):
    """heat's StructuredDeployment: the config (a map) given to the server with each
    ``{get_input: name}`` replaced by that input's value."""

    TYPE = "OS::Heat::StructuredDeployment"
    DESCRIPTION = ("A deployment resource which substitutes the input values into a "
                   "structured configuration, replacing each input_key function (get_input "
                   "by default) with the value of the input it names.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        **SoftwareDeployment.PROPERTIES,
        "input_key": Property(STRING, "Name of key to use for substituting inputs during "
                              "deployment.", default="get_input"),
        "input_values_validate": Property(
            STRING, "Perform a check on the input values passed to verify that each required "
            "input has a corresponding value. When the property is set to STRICT and no "
            "value is passed, an exception is raised.", default="LAX",
            constraints=(AllowedValues(["LAX", "STRICT"]),)),
    }

    def _derived_body(self, source: Mapping[str, Any], inputs: list[dict[str, Any]]) -> Any:
        config = source.get("config")
        if not isinstance(config, Mapping):
            return config
        values = {i["name"]: i.get("value") for i in inputs}
        return _substitute(config, self._key, values, self._strict)

    async def _trigger(self, ctx: Context, properties: Mapping[str, Any], action: str,
                       physical_id: str | None) -> str | None:
        self._key = str(properties.get("input_key") or "get_input")
        self._strict = properties.get("input_values_validate") == "STRICT"
        return await super()._trigger(ctx, properties, action, physical_id)

    _key = "get_input"
    _strict = False


def _substitute(value: Any, key: str, values: Mapping[str, Any], strict: bool) -> Any:
    if isinstance(value, Mapping):
        if len(value) == 1 and key in value:
            name = value[key]
            if isinstance(name, str) and name in values:
                return values[name]
            if strict:
                raise ResourceFailure(f"Input {name} not found in input values")
            return None
        return {k: _substitute(v, key, values, strict) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, key, values, strict) for v in value]
    return value


