"""Resources over a stack of their own (heat's ``StackResource``): template resources
(a type that is a template's file name, given in ``files`` or mapped in the environment's
``resource_registry``) and OS::Heat::Stack.

A template resource's properties are its template's parameters and its attributes the
template's outputs (and ``OS::stack_id``); its nested stack is a real stack whose parent
is the resource's stack. heat's OS::Heat::Stack (``remote_stack.py``) makes a stack of
its own through heat's API, in the region its ``context`` names (here, this cloud): it is
not nested (no parent), and its ``outputs`` attribute is that stack's outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context, ResourceFailure, ResourcePlugin
from stacklab.orchestration.resources.properties import (
    INTEGER,
    MAP,
    STRING,
    Attribute,
    Property,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.errors import StackValidationFailed

CREATE, UPDATE, DELETE, ADOPT = "CREATE", "UPDATE", "DELETE", "ADOPT"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"


class NestedStackFailure(ResourceFailure):
    """The nested stack's action failed: its reason, as heat's ``Error:`` shows it."""

    error_type = "Error"


class StackResource(ResourcePlugin):
    """The life of a nested stack, its completion polled from the nested stack's state."""

    NESTED: ClassVar[bool] = True
    DETACHED: ClassVar[bool] = False

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        """The nested stack's template and parameters."""
        raise NotImplementedError

    def validation_template(self, properties: Mapping[str, Any]
                            ) -> Mapping[str, Any] | None:
        """A template the engine checks as the nested stack before any action (heat's
        ``validate_nested_stack``; a group's holds one member)."""
        return None

    @staticmethod
    def settled(ctx: Context, stack_id: str | None, action: str) -> bool:
        state = None if stack_id is None else ctx.nested().state(stack_id)
        if state is None:
            if action == DELETE:
                return True
            raise NestedStackFailure(f"Nested stack of {ctx.resource_name} is gone")
        done, status, reason = state
        if status == IN_PROGRESS:
            return False
        if status == FAILED:
            raise NestedStackFailure(reason)
        return done == action or (action == DELETE and done == "ROLLBACK")

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        template, parameters = self.child(ctx, properties)
        return await ctx.nested().create(template, parameters, detached=self.DETACHED)

    async def create_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return self.settled(ctx, physical_id, CREATE)

    async def adopt(self, ctx: Context, resource_data: Mapping[str, Any],
                    properties: Mapping[str, Any]) -> str | None:
        if self.DETACHED:
            # heat's RemoteStack is a plain resource: it takes the stack's id.
            return await super().adopt(ctx, resource_data, properties)
        # heat's StackResource.handle_adopt: the nested stack adopts what its own data
        # (the entry abandon gave this resource) names.
        template, parameters = self.child(ctx, properties)
        return await ctx.nested().create(template, parameters, adopt=resource_data)

    async def adopt_complete(self, ctx: Context, physical_id: str | None,
                             properties: Mapping[str, Any]) -> bool:
        return self.DETACHED or self.settled(ctx, physical_id, ADOPT)

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        if physical_id is None:
            return
        template, parameters = self.child(ctx, new)
        await ctx.nested().update(physical_id, template, parameters)

    async def update_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return physical_id is None or self.settled(ctx, physical_id, UPDATE)

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is not None:
            await ctx.nested().delete(physical_id)

    async def delete_complete(self, ctx: Context, physical_id: str | None,
                              properties: Mapping[str, Any]) -> bool:
        return self.settled(ctx, physical_id, DELETE)




class TemplateResource(StackResource):
    """A type that is a template (heat's ``TemplateResource``); never registered by name:
    the engine serves any type resolving to a template file with it."""

    TYPE = "OS::Heat::TemplateResource"
    # Its properties are its template's parameters: checked against them before any
    # action (engine.nested.check_resources) and by the nested stack's parameters.
    ANY_PROPERTIES: ClassVar[bool] = True

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        from stacklab.orchestration.engine.nested import child_parameters, missing_template

        nested = ctx.nested()
        text = nested.template_text()
        if text is None:
            raise missing_template(nested.template_name() or ctx.resource_name)
        return text, child_parameters(properties)

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        return {**ctx.nested().outputs(physical_id), "OS::stack_id": physical_id}


@register
class Stack(StackResource):
    TYPE = "OS::Heat::Stack"
    DESCRIPTION = ("A Resource representing a stack which can be created using specified "
                   "context.")
    DETACHED: ClassVar[bool] = True
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "context": Property(MAP, "Context for this stack.", schema={
            "region_name": Property(STRING, "Region name in which this stack will be "
                                    "created.")}),
        "template": Property(STRING, "Template that specifies the stack to be created as a "
                             "resource.", required=True, update_allowed=True),
        "timeout": Property(INTEGER, "Number of minutes to wait for this stack creation.",
                            update_allowed=True),
        "parameters": Property(MAP, "Set of parameters passed to this stack.", default={},
                               update_allowed=True),
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "stack_name": Attribute("Name of the stack.", STRING),
        "outputs": Attribute("A dict of key-value pairs output from the stack.", MAP),
    }

    def validate(self, properties: Mapping[str, Any]) -> None:
        from stacklab.orchestration.template import TemplateError, parse

        template = properties.get("template")
        if template is None:
            return
        try:
            parse(template)
        except TemplateError as error:
            raise StackValidationFailed(f"Failed validating stack template: {error}") from None

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        return str(properties["template"]), dict(properties.get("parameters") or {})

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        return {"stack_name": ctx.physical_name(),
                "outputs": ctx.nested().outputs(physical_id)}
