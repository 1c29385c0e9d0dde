"""OS::Heat::AutoScalingGroup and OS::Heat::ScalingPolicy, after heat's
``heat/engine/resources/openstack/heat/{autoscaling_group,scaling_policy}.py``.

The group's members live in a nested stack (the group's physical id is its id), each a
resource of the group's ``resource`` definition named by a short random id; the
capacity is ``desired_capacity`` (else ``min_size``) at create. A policy signalled
(its pre-signed ``alarm_url`` at heat-api-cfn, or ``stack resource signal``) asks the
engine to adjust the group it names: the new capacity by ``adjustment_type`` kept within
``min_size`` and ``max_size`` (heat's ``calculate_new_capacity``), nothing done during
the policy's ``cooldown`` nor the group's (the policy's, else the group's own, from the
last change of size, on the engine's clock) nor when the capacity would not change.
Scaling down removes failed members first, then the oldest, as heat does; a rolling
update replaces them in that order too. A changed
``resource`` definition reaches the members ``rolling_updates.max_batch_size`` at a time,
``pause_time`` apart, ``min_in_service`` kept by making new members first (heat's
``heat/scaling/rolling_update.py``).
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping
from typing import Any, ClassVar

from stacklab.orchestration.resources.base import Context, ResourcePlugin
from stacklab.orchestration.resources.plugins.group import GroupResource, batched_steps
from stacklab.orchestration.resources.properties import (
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Attribute,
    Property,
)
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.resources.scaling import member_definitions, scaling_batches
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import AllowedValues, Range

ADJUSTMENT_TYPES = (CHANGE_IN_CAPACITY, EXACT_CAPACITY, PERCENT_CHANGE_IN_CAPACITY) = (
    "change_in_capacity", "exact_capacity", "percent_change_in_capacity")
MEMBER_TEMPLATE_VERSION = "2015-04-30"


def new_capacity(current: int, adjustment: float, adjustment_type: str,
                 min_adjustment_step: int | None, minimum: int, maximum: int) -> int:
    """heat's ``scalingutil.calculate_new_capacity``."""
    if adjustment_type == CHANGE_IN_CAPACITY:
        capacity = current + int(adjustment)
    elif adjustment_type == EXACT_CAPACITY:
        capacity = int(adjustment)
    else:
        delta = current * adjustment / 100.0
        if math.fabs(delta) < 1.0:
            rounded = int(math.ceil(delta) if delta > 0.0 else math.floor(delta))
        else:
            rounded = int(math.floor(delta) if delta > 0.0 else math.ceil(delta))
        if min_adjustment_step and min_adjustment_step > abs(rounded):
            rounded = min_adjustment_step if rounded > 0 else -min_adjustment_step
        capacity = current + rounded
    return max(minimum, min(maximum, capacity))


@register
class AutoScalingGroup(GroupResource):
    TYPE = "OS::Heat::AutoScalingGroup"
    DESCRIPTION = ("An autoscaling group that can scale arbitrary resources. An autoscaling "
                   "group allows the creation of a desired count of similar resources, "
                   "which are defined with the resource property in HOT format.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "resource": Property(MAP, "Resource definition for the resources in the group, in "
                             "HOT format. The value of this property is the definition of "
                             "a resource just as if it had been declared in the template "
                             "itself.", required=True, update_allowed=True),
        "max_size": Property(INTEGER, "Maximum number of resources in the group.",
                             required=True, update_allowed=True,
                             constraints=(Range(0, None),)),
        "min_size": Property(INTEGER, "Minimum number of resources in the group.",
                             required=True, update_allowed=True,
                             constraints=(Range(0, None),)),
        "cooldown": Property(INTEGER, "Cooldown period, in seconds.", update_allowed=True),
        "desired_capacity": Property(INTEGER, "Desired initial number of resources.",
                                     update_allowed=True),
        "rolling_updates": Property(
            MAP, "Policy for rolling updates for this scaling group.", update_allowed=True,
            default={"min_in_service": 0, "max_batch_size": 1, "pause_time": 0}, schema={
                "min_in_service": Property(INTEGER, "The minimum number of resources in "
                                           "service while rolling updates are being "
                                           "executed.", default=0,
                                           constraints=(Range(0, None),)),
                "max_batch_size": Property(INTEGER, "The maximum number of resources to "
                                           "replace at once.", default=1,
                                           constraints=(Range(1, None),)),
                "pause_time": Property(NUMBER, "The number of seconds to wait between "
                                       "batches of updates.", default=0,
                                       constraints=(Range(0, None),))}),
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "outputs": Attribute("A map of resource names to the specified attribute of each "
                             "individual resource that is part of the AutoScalingGroup. "
                             "This map specifies output parameters that are available once "
                             "the AutoScalingGroup has been instantiated.", MAP),
        "outputs_list": Attribute("A list of the specified attribute of each individual "
                                  "resource that is part of the AutoScalingGroup. This list "
                                  "of attributes is available as an output once the "
                                  "AutoScalingGroup has been instantiated.", LIST),
        "current_size": Attribute("The current size of AutoscalingResourceGroup.", INTEGER),
        "refs": Attribute("A list of resource IDs for the resources in the group.", LIST),
        "refs_map": Attribute("A map of resource names to IDs for the resources in the "
                              "group.", MAP),
    }

    def validate(self, properties: Mapping[str, Any]) -> None:
        low, high = int(properties["min_size"]), int(properties["max_size"])
        if high < low:
            raise StackValidationFailed("MinSize can not be greater than MaxSize")
        desired = properties.get("desired_capacity")
        if desired is not None and not low <= int(desired) <= high:
            raise StackValidationFailed("DesiredCapacity must be between MinSize and MaxSize")

    def validation_template(self, properties: Mapping[str, Any]
                            ) -> Mapping[str, Any] | None:
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": {"member": self._definition(properties)}}

    @staticmethod
    def _definition(properties: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in dict(properties["resource"]).items()
                if k in ("type", "properties", "metadata", "depends_on", "update_policy",
                         "deletion_policy")}

    # -- the nested stack ------------------------------------------------------------

    @staticmethod
    def members(ctx: Context) -> list[str]:
        found: list[str] = json.loads(ctx.data.get("members", "[]"))
        return found

    def step_template(self, ctx: Context, physical_id: str | None,
                      properties: Mapping[str, Any], size: int, new: int
                      ) -> dict[str, Any]:
        """heat's ``_create_template(size, new)``: failed members go first, then the
        oldest (removed when shrinking, the first to take the new definition), by their
        resources' creation (a replaced member is a new one), as heat's ``grouputils``
        orders them; new ones, named by short random ids, take the new definition."""
        old: list[tuple[str, Any]] = []
        if physical_id is not None:
            held = ctx.nested().definitions(physical_id)
            failed = ctx.nested().failed(physical_id)
            old = sorted(((n, held[n]) for n in ctx.nested().resources(physical_id)
                          if n in held), key=lambda member: member[0] not in failed)
        definition = self._definition(properties)
        members = member_definitions(
            old, lambda _: definition, size, new,
            lambda: ctx.random_string(12, string.ascii_lowercase + string.digits))
        ctx.data["members"] = json.dumps([n for n, _ in members])
        return {"heat_template_version": MEMBER_TEMPLATE_VERSION,
                "resources": dict(members)}

    def child(self, ctx: Context, properties: Mapping[str, Any]
              ) -> tuple[Mapping[str, Any] | str, dict[str, Any]]:
        desired = properties.get("desired_capacity")
        size = int(desired if desired is not None else properties["min_size"])
        size = max(int(properties["min_size"]), min(int(properties["max_size"]), size))
        ctx.data.pop("batches", None)
        return self.step_template(ctx, None, properties, size, size), {}

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        """heat's ``handle_update``: a new ``resource`` definition first rolls through the
        members (``rolling_updates``: ``max_batch_size`` at a time, ``min_in_service``
        kept by making new members first, ``pause_time`` between batches), then the
        group is resized to its new capacity."""
        if physical_id is None:
            return
        current = len(self.members(ctx))
        capacity = current
        if "desired_capacity" in changed and new.get("desired_capacity") is not None:
            capacity = int(new["desired_capacity"])
        capacity = max(int(new["min_size"]), min(int(new["max_size"]), capacity))
        steps: list[tuple[int, int, float]] = []
        if "resource" in changed and self._definition(old) != self._definition(new):
            policy = new.get("rolling_updates") or {}
            steps = batched_steps(scaling_batches(
                min(capacity or current, current), current,
                int(policy.get("max_batch_size") or 1), int(policy.get("min_in_service") or 0)),
                float(policy.get("pause_time") or 0))
        if not steps or steps[-1][0] != capacity:
            steps.append((capacity, 0, 0.0))
        await self.run_steps(ctx, physical_id, new, steps)

    async def adjust(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
        """A policy's adjustment (heat's ``adjust``): False when nothing changes."""
        if physical_id is None or ctx.now() < float(ctx.data.get("cooldown_end", "0")):
            return False
        current = len(self.members(ctx))
        capacity = new_capacity(current, float(request["adjustment"]),
                                str(request["adjustment_type"]),
                                request.get("min_adjustment_step"),
                                int(properties["min_size"]), int(properties["max_size"]))
        if capacity == current:
            return False
        ctx.data.pop("batches", None)
        await ctx.nested().update(
            physical_id, self.step_template(ctx, physical_id, properties, capacity, 0), {})
        # The group's cooldown: the policy's when it has one, else the group's own.
        cooldown = request.get("cooldown")
        if cooldown is None:
            cooldown = properties.get("cooldown")
        ctx.data["cooldown_end"] = str(ctx.now() + float(cooldown or 0))
        return True

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        members = await self.members_of(ctx, physical_id, self.members(ctx))
        return {
            "current_size": len(members.names), "refs": members.refs,
            "refs_map": dict(zip(members.names, members.refs, strict=True)),
            # get_attr [group, outputs, <attribute>] / [group, outputs_list, <attribute>]
            "outputs": {k: members.by_member(k) for k in members.keys},
            "outputs_list": {k: members.in_order(k) for k in members.keys},
        }


@register
class ScalingPolicy(ResourcePlugin):
    TYPE = "OS::Heat::ScalingPolicy"
    SIGNALS = True
    DESCRIPTION = ("A resource to manage scaling of `OS::Heat::AutoScalingGroup`. **Note** "
                   "while it may incidentally support `AWS::AutoScaling::AutoScalingGroup` "
                   "for now, please don't use it for that purpose and use "
                   "`AWS::AutoScaling::ScalingPolicy` instead.")
    PROPERTIES: ClassVar[Mapping[str, Property]] = {
        "auto_scaling_group_id": Property(STRING, "AutoScaling group ID to apply policy to.",
                                          required=True),
        "scaling_adjustment": Property(NUMBER, "Size of adjustment.", required=True,
                                       update_allowed=True),
        "adjustment_type": Property(STRING, "Type of adjustment (absolute or percentage).",
                                    required=True, update_allowed=True,
                                    constraints=(AllowedValues(list(ADJUSTMENT_TYPES)),)),
        "cooldown": Property(NUMBER, "Cooldown period, in seconds.", update_allowed=True),
        "min_adjustment_step": Property(INTEGER, "Minimum number of resources that are "
                                        "added or removed when the AutoScaling group scales "
                                        "up or down. This can be used only when specifying "
                                        "percent_change_in_capacity for the adjustment_type "
                                        "property.", update_allowed=True,
                                        constraints=(Range(0, None),)),
    }
    ATTRIBUTES: ClassVar[Mapping[str, Attribute]] = {
        "alarm_url": Attribute("A signed url to handle the alarm.", STRING),
        "signal_url": Attribute("A url to handle the alarm using native API.", STRING),
    }

    def validate(self, properties: Mapping[str, Any]) -> None:
        if (properties.get("min_adjustment_step") is not None
                and properties.get("adjustment_type") != PERCENT_CHANGE_IN_CAPACITY):
            raise StackValidationFailed(
                "min_adjustment_step property should only be specified for adjustment_type "
                f"with value {PERCENT_CHANGE_IN_CAPACITY}.")

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str | None:
        ctx.signal_url()  # its secret made now, kept in the resource's data
        return ctx.physical_name()

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        """Its new properties apply to the next signal."""

    async def handle_signal(self, ctx: Context, physical_id: str | None,
                            properties: Mapping[str, Any], details: Any
                            ) -> Mapping[str, Any] | None:
        """The adjustment a signal asks of the group, or None during the policy's cooldown
        (heat's ``NoActionRequired``)."""
        if ctx.now() < float(ctx.data.get("cooldown_end", "0")):
            return None
        return {"group": properties["auto_scaling_group_id"],
                "adjustment": properties["scaling_adjustment"],
                "adjustment_type": properties["adjustment_type"],
                "min_adjustment_step": properties.get("min_adjustment_step"),
                "cooldown": properties.get("cooldown")}

    async def scaled(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        """The group changed size: the policy's cooldown starts (heat's
        ``_finished_scaling``)."""
        ctx.data["cooldown_end"] = str(ctx.now() + float(properties.get("cooldown") or 0))

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        alarm = ctx.signal_url().replace("/waitcondition/", "/signal/", 1)
        native = alarm.split("?", 1)[0]
        base = native.split("/heat-api-cfn/", 1)[0]
        return {"alarm_url": alarm,
                "signal_url": (f"{base}/heat-api/v1/{ctx.project_id}/stacks/"
                               f"{ctx.stack_name}/{ctx.stack_id}/resources/"
                               f"{ctx.resource_name}/signal")}
