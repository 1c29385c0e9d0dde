"""heat's default policy rules, as data for oslo.policy (docs/policies/orchestration.md).

Read from openstack/heat master (heat/policies/{base,actions,build_info,cloudformation,
events,resource,software_configs,software_deployments,
stacks}.py): the names and check strings of the rules the served routes
ask, scope ``project`` as upstream registers them. ``stacks:global_index`` denies everybody
by default, so ``global_tenant=True`` is refused unless an operator's policy file allows it.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

SYSTEM_ADMIN = "role:admin and system_scope:all"
PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
PROJECT_STACK_USER = "role:heat_stack_user and project_id:%(project_id)s"
PROJECT_READER_OR_STACK_USER = f"({PROJECT_READER}) or ({PROJECT_STACK_USER})"
_P = ("project",)


def _rules(root: str, table: dict[str, str]) -> tuple[PolicyRule, ...]:
    return tuple(PolicyRule(root % name, check, _P) for name, check in table.items())


RULES: tuple[PolicyRule, ...] = (
    # heat/policies/base.py
    PolicyRule("context_is_admin", f"(role:admin and is_admin_project:True) OR ({SYSTEM_ADMIN})"),
    PolicyRule("project_admin", "role:admin"),
    PolicyRule("deny_stack_user", "not role:heat_stack_user"),
    PolicyRule("deny_everybody", "!"),
    PolicyRule("allow_everybody", ""),
    # heat/policies/actions.py
    *_rules("actions:%s", {
        "action": PROJECT_MEMBER, "snapshot": PROJECT_MEMBER, "suspend": PROJECT_MEMBER,
        "resume": PROJECT_MEMBER, "check": PROJECT_READER, "cancel_update": PROJECT_MEMBER,
        "cancel_without_rollback": PROJECT_MEMBER}),
    # heat/policies/build_info.py
    PolicyRule("build_info:build_info", PROJECT_READER, _P),
    # heat/policies/cloudformation.py
    *_rules("cloudformation:%s", {
        "ListStacks": PROJECT_READER, "CreateStack": PROJECT_MEMBER,
        "DescribeStacks": PROJECT_READER, "DeleteStack": PROJECT_MEMBER,
        "UpdateStack": PROJECT_MEMBER, "CancelUpdateStack": PROJECT_MEMBER,
        "DescribeStackEvents": PROJECT_READER, "ValidateTemplate": PROJECT_READER,
        "GetTemplate": PROJECT_READER, "EstimateTemplateCost": PROJECT_READER,
        "DescribeStackResource": PROJECT_READER_OR_STACK_USER,
        "DescribeStackResources": PROJECT_READER, "ListStackResources": PROJECT_READER}),
    # heat/policies/events.py
    *_rules("events:%s", {"index": PROJECT_READER, "show": PROJECT_READER}),
    # heat/policies/resource.py
    *_rules("resource:%s", {
        "index": PROJECT_READER, "metadata": PROJECT_READER_OR_STACK_USER,
        "signal": PROJECT_READER_OR_STACK_USER, "mark_unhealthy": PROJECT_MEMBER,
        "show": PROJECT_READER}),
    # heat/policies/stacks.py
    *_rules("stacks:%s", {
        "abandon": PROJECT_MEMBER, "create": PROJECT_MEMBER, "delete": PROJECT_MEMBER,
        "detail": PROJECT_READER, "export": PROJECT_MEMBER,
        "generate_template": PROJECT_MEMBER, "index": PROJECT_READER,
        "list_resource_types": PROJECT_READER, "list_template_versions": PROJECT_READER,
        "list_template_functions": PROJECT_READER, "lookup": PROJECT_READER_OR_STACK_USER,
        "preview": PROJECT_READER, "resource_schema": PROJECT_READER, "show": PROJECT_READER,
        "template": PROJECT_READER, "environment": PROJECT_READER, "files": PROJECT_READER,
        "update": PROJECT_MEMBER, "update_patch": PROJECT_MEMBER,
        "preview_update": PROJECT_MEMBER, "preview_update_patch": PROJECT_MEMBER,
        "validate_template": PROJECT_MEMBER, "snapshot": PROJECT_MEMBER,
        "show_snapshot": PROJECT_READER, "delete_snapshot": PROJECT_MEMBER,
        "list_snapshots": PROJECT_READER, "restore_snapshot": PROJECT_MEMBER,
        "list_outputs": PROJECT_READER, "show_output": PROJECT_READER}),
    PolicyRule("stacks:global_index", "rule:deny_everybody"),
    # heat/policies/software_configs.py, software_deployments.py
    *_rules("software_configs:%s", {
        "index": PROJECT_READER, "create": PROJECT_MEMBER, "show": PROJECT_READER,
        "delete": PROJECT_MEMBER}),
    PolicyRule("software_configs:global_index", "rule:deny_everybody"),
    *_rules("software_deployments:%s", {
        "index": PROJECT_READER, "create": PROJECT_MEMBER, "show": PROJECT_READER,
        "update": PROJECT_MEMBER, "delete": PROJECT_MEMBER,
        "metadata": PROJECT_READER_OR_STACK_USER}),
    PolicyRule("stacks:update_no_change", "rule:stacks:update_patch", _P),
)
