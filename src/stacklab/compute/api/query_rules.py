"""The query parameters nova's operations take, strictly, from the version each rule starts.

nova validates a request's query string against a schema per operation; from 2.75
(servers, key pairs, quotas and more), and for every API from 2.102, those schemas
allow no parameter they do not name, and an unknown one is 400. Each rule here is one
such schema's names (and its name prefixes: a servers filter starting with ``_``),
keyed by method and path (parameters written ``{}``); an operation nova checks
loosely has none and takes anything. The rules are set on the operations once all
are declared, so an operation another module adds later still gets its own.
"""

from __future__ import annotations

import re

from stacklab.api.microversion import Version
from stacklab.api.service import QueryRule, ServiceApi

# What a server list may filter, sort and page by (nova's servers index_query_v275).
_SERVER_FILTERS = (
    "access_ip_v4", "access_ip_v6", "all_tenants", "auto_disk_config", "availability_zone",
    "block_device_mapping", "changes-before", "changes-since", "config_drive", "created_at",
    "deleted", "description", "display_description", "display_name", "flavor", "host",
    "hostname", "image", "image_ref", "info_cache", "ip", "ip6", "kernel_id", "key_name",
    "launch_index", "launched_at", "limit", "locked", "locked_by", "marker", "metadata", "name",
    "node", "not-tags", "not-tags-any", "pci_devices", "power_state", "progress", "project_id",
    "ramdisk_id", "reservation_id", "root_device_name", "security_groups", "services",
    "soft_deleted", "sort_dir", "sort_key", "status", "system_metadata", "tags", "tags-any",
    "task_state", "tenant_id", "terminated_at", "user_id", "uuid", "vm_state",
)



def _rule(method: str, path: str, start: str, names: tuple[str, ...],
          prefixes: tuple[str, ...] = ()) -> tuple[tuple[str, str], QueryRule]:
    return (method, path), QueryRule(Version.parse(start), frozenset(names), prefixes)


RULES: tuple[tuple[tuple[str, str], QueryRule], ...] = (
    _rule("GET", "/extensions", "2.102", ()),
    _rule("GET", "/extensions/{}", "2.102", ()),
    _rule("GET", "/flavors", "2.75",
          ("is_public", "limit", "marker", "minDisk", "minRam", "sort_dir", "sort_key")),
    _rule("GET", "/flavors", "2.102",
          ("is_public", "limit", "marker", "minDisk", "minRam", "name", "sort_dir", "sort_key")),
    _rule("GET", "/flavors/detail", "2.75",
          ("is_public", "limit", "marker", "minDisk", "minRam", "sort_dir", "sort_key")),
    _rule("GET", "/flavors/detail", "2.102",
          ("is_public", "limit", "marker", "minDisk", "minRam", "name", "sort_dir", "sort_key")),
    _rule("GET", "/flavors/{}", "2.102", ()),
    _rule("GET", "/flavors/{}/os-extra_specs", "2.102", ()),
    _rule("GET", "/flavors/{}/os-extra_specs/{}", "2.102", ()),
    _rule("GET", "/flavors/{}/os-flavor-access", "2.102", ()),
    _rule("GET", "/limits", "2.75", ("tenant_id",)),
    _rule("GET", "/os-aggregates", "2.102", ()),
    _rule("GET", "/os-aggregates/{}", "2.102", ()),
    _rule("DELETE", "/os-assisted-volume-snapshots/{}", "2.75", ("delete_info",)),
    _rule("GET", "/os-availability-zone", "2.102", ()),
    _rule("GET", "/os-availability-zone/detail", "2.102", ()),
    _rule("GET", "/os-console-auth-tokens/{}", "2.99", ()),
    _rule("GET", "/os-hypervisors", "2.53",
          ("hypervisor_hostname_pattern", "limit", "marker", "with_servers")),
    _rule("GET", "/os-hypervisors/detail", "2.53",
          ("hypervisor_hostname_pattern", "limit", "marker", "with_servers")),
    _rule("GET", "/os-hypervisors/{}", "2.53", ("with_servers",)),
    _rule("GET", "/os-instance_usage_audit_log", "2.102", ()),
    _rule("GET", "/os-instance_usage_audit_log/{}", "2.102", ()),
    _rule("GET", "/os-keypairs", "2.75", ("limit", "marker", "user_id")),
    _rule("GET", "/os-keypairs/{}", "2.75", ("user_id",)),
    _rule("DELETE", "/os-keypairs/{}", "2.75", ("user_id",)),
    _rule("GET", "/os-migrations", "2.59",
          ("changes-since", "hidden", "host", "instance_uuid", "limit", "marker", "migration_type",
           "source_compute", "status")),
    _rule("GET", "/os-migrations", "2.66",
          ("changes-before", "changes-since", "hidden", "host", "instance_uuid", "limit", "marker",
           "migration_type", "source_compute", "status")),
    _rule("GET", "/os-migrations", "2.80",
          ("changes-before", "changes-since", "hidden", "host", "instance_uuid", "limit", "marker",
           "migration_type", "project_id", "source_compute", "status", "user_id")),
    _rule("GET", "/os-quota-class-sets/{}", "2.102", ()),
    _rule("GET", "/os-quota-sets/{}", "2.75", ("user_id",)),
    _rule("PUT", "/os-quota-sets/{}", "2.75", ("user_id",)),
    _rule("DELETE", "/os-quota-sets/{}", "2.75", ("user_id",)),
    _rule("GET", "/os-quota-sets/{}/detail", "2.75", ("user_id",)),
    _rule("GET", "/os-server-groups", "2.75", ("all_projects", "limit", "offset")),
    _rule("GET", "/os-server-groups/{}", "2.102", ()),
    _rule("GET", "/os-services", "2.75", ("binary", "host")),
    _rule("GET", "/os-simple-tenant-usage", "2.75",
          ("detailed", "end", "limit", "marker", "start")),
    _rule("GET", "/os-simple-tenant-usage/{}", "2.75", ("end", "limit", "marker", "start")),
    _rule("GET", "/os-volumes_boot", "2.75", _SERVER_FILTERS, ("_",)),
    _rule("GET", "/os-volumes_boot/detail", "2.75", _SERVER_FILTERS, ("_",)),
    _rule("GET", "/os-volumes_boot/{}", "2.102", ()),
    _rule("GET", "/servers", "2.75", _SERVER_FILTERS, ("_",)),
    _rule("GET", "/servers/detail", "2.75", _SERVER_FILTERS, ("_",)),
    _rule("GET", "/servers/{}", "2.102", ()),
    _rule("GET", "/servers/{}/diagnostics", "2.102", ()),
    _rule("GET", "/servers/{}/ips", "2.102", ()),
    _rule("GET", "/servers/{}/ips/{}", "2.102", ()),
    _rule("GET", "/servers/{}/metadata", "2.102", ()),
    _rule("GET", "/servers/{}/metadata/{}", "2.102", ()),
    _rule("GET", "/servers/{}/migrations", "2.102", ()),
    _rule("GET", "/servers/{}/migrations/{}", "2.102", ()),
    _rule("GET", "/servers/{}/os-instance-actions", "2.58", ("changes-since", "limit", "marker")),
    _rule("GET", "/servers/{}/os-instance-actions", "2.66",
          ("changes-before", "changes-since", "limit", "marker")),
    _rule("GET", "/servers/{}/os-instance-actions/{}", "2.102", ()),
    _rule("GET", "/servers/{}/os-interface", "2.102", ()),
    _rule("GET", "/servers/{}/os-interface/{}", "2.102", ()),
    _rule("GET", "/servers/{}/os-server-password", "2.102", ()),
    _rule("GET", "/servers/{}/os-volume_attachments", "2.75", ("limit", "offset")),
    _rule("GET", "/servers/{}/os-security-groups", "2.102", ()),
    _rule("GET", "/servers/{}/shares", "2.1", ()),
    _rule("GET", "/servers/{}/shares/{}", "2.1", ()),
    _rule("GET", "/servers/{}/topology", "2.102", ()),
)


def route_key(method: str, path: str) -> tuple[str, str]:
    """An operation's method and path as the rules name it (no /v2.1, parameters ``{}``)."""
    return method, re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/v2.1"))


def apply(api: ServiceApi) -> None:
    """Give each declared operation the rules nova's schemas set on it."""
    table: dict[tuple[str, str], list[QueryRule]] = {}
    for key, rule in RULES:
        table.setdefault(key, []).append(rule)
    for operation in api.operations:
        rules = table.get(route_key(operation.method, operation.path))
        if rules:
            operation.query_rules = tuple(rules)
