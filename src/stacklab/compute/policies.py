"""nova's default policy rules, as data for oslo.policy.

Read from openstack/nova master at commit 00a030403f672b975364c855b7d25b40ef83e757
(2026-08-21): all 214 rules, with the names and check strings nova registers, since
operators override them by name. What the check strings read, and what nova puts in the
target of each family of calls, is in docs/policies/compute.md.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

PROJECT_SCOPE = ("project",)

# The personas nova's API rules are written in; each names a base rule below,
# so an operator redefining e.g. project_reader_api changes every reader API.
ADMIN = "rule:context_is_admin"
PROJECT_MANAGER_OR_ADMIN = "rule:project_manager_or_admin"
PROJECT_MEMBER_OR_ADMIN = "rule:project_member_or_admin"
PROJECT_READER_OR_ADMIN = "rule:project_reader_or_admin"
SERVICE_OR_ADMIN = "rule:service_or_admin"
ANYONE = "@"
NOBODY = "!"
# nova wraps the admin alias in parentheses here; kept so the string compares equal.
KEYPAIR_OWNER_OR_ADMIN = f"({ADMIN}) or user_id:%(user_id)s"

_IN_TARGET_PROJECT = "project_id:%(project_id)s"

BASE_RULES: list[PolicyRule] = [
    PolicyRule("context_is_admin", "role:admin", (),
               "Who counts as an administrator (nova's is_admin)."),
    # Legacy aliases, deprecated since nova 21.0.0 and used by no default;
    # still registered so old policy files that refer to them keep parsing.
    PolicyRule("admin_or_owner", f"is_admin:True or {_IN_TARGET_PROJECT}", (),
               "Deprecated: an admin or anyone in the target's project."),
    PolicyRule("admin_api", "is_admin:True", (), "Deprecated: an admin."),
    PolicyRule("project_manager_api", f"role:manager and {_IN_TARGET_PROJECT}", (),
               "A manager of the target's project."),
    PolicyRule("project_member_api", f"role:member and {_IN_TARGET_PROJECT}", (),
               "A member of the target's project."),
    PolicyRule("project_reader_api", f"role:reader and {_IN_TARGET_PROJECT}", (),
               "A reader of the target's project."),
    PolicyRule("service_api", "role:service", (), "Another OpenStack service."),
    PolicyRule("project_manager_or_admin", "rule:project_manager_api or rule:context_is_admin",
               (), "A project manager, or an admin."),
    PolicyRule("project_member_or_admin", "rule:project_member_api or rule:context_is_admin",
               (), "A project member, or an admin."),
    PolicyRule("project_reader_or_admin", "rule:project_reader_api or rule:context_is_admin",
               (), "A project reader, or an admin."),
    PolicyRule("service_or_admin", "rule:service_api or rule:context_is_admin", (),
               "Another service, or an admin."),
]


def _family(prefix: str, entries: list[tuple[str, str, str]]) -> list[PolicyRule]:
    """Project-scoped rules named ``prefix + suffix`` (an empty suffix names ``prefix``)."""
    return [PolicyRule(prefix + suffix, check, PROJECT_SCOPE, description)
            for suffix, check, description in entries]


SERVER_RULES = (
    _family("os_compute_api:servers:", [
        ("index", PROJECT_READER_OR_ADMIN, "List one's project's servers."),
        ("detail", PROJECT_READER_OR_ADMIN, "List one's project's servers with details."),
        ("index:get_all_tenants", ADMIN, "List servers of every project."),
        ("detail:get_all_tenants", ADMIN, "List servers of every project, with details."),
        ("allow_all_filters", ADMIN, "Filter server lists by any field."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a server."),
        ("show:flavor-extra-specs", PROJECT_READER_OR_ADMIN,
         "See the flavor's extra specs inside a server (2.47+)."),
        ("show:host_status", ADMIN, "See the host_status of a server (2.16+)."),
        ("show:host_status:unknown-only", ADMIN,
         "See host_status only when it is UNKNOWN (if show:host_status is denied)."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Create a server."),
        ("create:forced_host", ADMIN, "Create a server on a named host or node."),
        ("create:attach_volume", PROJECT_MEMBER_OR_ADMIN,
         "Create a server with block device mappings."),
        ("create:attach_network", PROJECT_MEMBER_OR_ADMIN, "Create a server on given networks."),
        ("create:trusted_certs", PROJECT_MEMBER_OR_ADMIN,
         "Create a server with trusted image certificates."),
        ("create:zero_disk_flavor", ADMIN,
         "Boot from an image with a flavor whose root disk is 0."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Delete a server."),
        ("update", PROJECT_MEMBER_OR_ADMIN, "Update a server's name or description."),
        ("confirm_resize", PROJECT_MEMBER_OR_ADMIN, "Confirm a resize."),
        ("revert_resize", PROJECT_MEMBER_OR_ADMIN, "Revert a resize."),
        ("reboot", PROJECT_MEMBER_OR_ADMIN, "Reboot a server."),
        ("resize", PROJECT_MEMBER_OR_ADMIN, "Resize a server to another flavor."),
        ("rebuild", PROJECT_MEMBER_OR_ADMIN, "Rebuild a server."),
        ("rebuild:trusted_certs", PROJECT_MEMBER_OR_ADMIN,
         "Rebuild a server with trusted image certificates."),
        ("create_image", PROJECT_MEMBER_OR_ADMIN, "Snapshot a server to an image."),
        ("create_image:allow_volume_backed", PROJECT_MEMBER_OR_ADMIN,
         "Snapshot a volume-backed server."),
        ("start", PROJECT_MEMBER_OR_ADMIN, "Start a stopped server."),
        ("stop", PROJECT_MEMBER_OR_ADMIN, "Stop a server."),
        ("trigger_crash_dump", PROJECT_MEMBER_OR_ADMIN, "Make a server dump its memory (2.17+)."),
        ("migrations:index", PROJECT_MANAGER_OR_ADMIN, "List a server's in-progress migrations."),
        ("migrations:index:host", ADMIN, "See hosts in a server's migrations."),
        ("migrations:show", ADMIN, "Show one migration of a server."),
        ("migrations:force_complete", PROJECT_MANAGER_OR_ADMIN,
         "Force a live migration to complete."),
        ("migrations:delete", PROJECT_MANAGER_OR_ADMIN, "Abort a server's migration."),
    ])
    # The newer server checks carry a ``compute:``/``network:`` prefix in nova.
    + _family("compute:servers:", [
        ("create:requested_destination", ADMIN,
         "Ask the scheduler for a host or node at creation (2.74+)."),
        # Disabled by default upstream: resizes stay within a cell.
        ("resize:cross_cell", NOBODY, "Resize a server across cells."),
    ])
    + _family("network:", [
        ("attach_external_network", ADMIN, "Attach a server to an external network."),
    ])
    + _family("compute:server:topology:", [
        ("index", PROJECT_READER_OR_ADMIN, "Show a server's NUMA topology."),
        ("host:index", ADMIN, "See host NUMA details in a server's topology."),
    ])
    + _family("os_compute_api:", [
        ("os-extended-server-attributes", ADMIN, "See the OS-EXT-SRV-ATTR fields of servers."),
    ])
)

SERVER_SUBRESOURCE_RULES = (
    _family("os_compute_api:server-metadata:", [
        ("index", PROJECT_READER_OR_ADMIN, "List a server's metadata."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one metadata item of a server."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Add metadata items to a server."),
        ("update_all", PROJECT_MEMBER_OR_ADMIN, "Replace all of a server's metadata."),
        ("update", PROJECT_MEMBER_OR_ADMIN, "Set one metadata item of a server."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Remove one metadata item of a server."),
    ])
    + _family("os_compute_api:os-server-tags:", [
        ("index", PROJECT_READER_OR_ADMIN, "List a server's tags."),
        ("show", PROJECT_READER_OR_ADMIN, "Check a tag on a server."),
        ("update", PROJECT_MEMBER_OR_ADMIN, "Add one tag to a server."),
        ("update_all", PROJECT_MEMBER_OR_ADMIN, "Replace all of a server's tags."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Remove one tag from a server."),
        ("delete_all", PROJECT_MEMBER_OR_ADMIN, "Remove every tag from a server."),
    ])
    + _family("os_compute_api:ips:", [
        ("index", PROJECT_READER_OR_ADMIN, "List a server's addresses."),
        ("show", PROJECT_READER_OR_ADMIN, "List a server's addresses on one network."),
    ])
    + _family("os_compute_api:os-attach-interfaces:", [
        ("list", PROJECT_READER_OR_ADMIN, "List a server's ports."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one port of a server."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Attach a port or network to a server."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Detach a port from a server."),
    ])
    + _family("os_compute_api:os-volumes-attachments:", [
        ("index", PROJECT_READER_OR_ADMIN, "List a server's volume attachments."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one volume attachment of a server."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Attach a volume to a server."),
        ("update", PROJECT_MEMBER_OR_ADMIN,
         "Update an attachment's delete_on_termination (2.85+)."),
        # Swapping the attached volume is what cinder calls during a retype.
        ("swap", SERVICE_OR_ADMIN, "Swap the volume behind an attachment."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Detach a volume from a server."),
    ])
    + _family("os_compute_api:os-instance-actions:", [
        ("list", PROJECT_READER_OR_ADMIN, "List the actions taken on a server."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one action taken on a server."),
        ("events", ADMIN, "See the events of an action."),
        ("events:details", ADMIN, "See event host and details (2.84+)."),
    ])
    + _family("os_compute_api:os-server-password:", [
        ("show", PROJECT_READER_OR_ADMIN, "Read a server's encrypted password."),
        ("clear", PROJECT_MEMBER_OR_ADMIN, "Clear a server's encrypted password."),
    ])
    + _family("os_compute_api:os-server-shares:", [
        ("index", PROJECT_READER_OR_ADMIN, "List the shares attached to a server."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a share attached to a server."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Attach a share to a server."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Detach a share from a server."),
    ])
)

SERVER_ACTION_RULES = (
    _family("os_compute_api:", [
        ("os-console-output", PROJECT_MEMBER_OR_ADMIN, "Read a server's console log."),
        ("os-remote-consoles", PROJECT_MEMBER_OR_ADMIN,
         "Get a remote console on a server."),
        ("os-create-backup", PROJECT_MEMBER_OR_ADMIN, "Back up a server to an image."),
        ("os-admin-password", PROJECT_MEMBER_OR_ADMIN, "Change a server's admin password."),
        ("os-rescue", PROJECT_MEMBER_OR_ADMIN, "Boot a server in rescue mode."),
        ("os-unrescue", PROJECT_MEMBER_OR_ADMIN, "Leave rescue mode."),
        ("os-evacuate", ADMIN, "Rebuild a server of a failed host elsewhere."),
        ("os-server-diagnostics", ADMIN, "Read a server's hypervisor diagnostics."),
    ])
    + _family("os_compute_api:os-lock-server:", [
        ("lock", PROJECT_MEMBER_OR_ADMIN, "Lock a server against changes."),
        ("unlock", PROJECT_MEMBER_OR_ADMIN, "Unlock a server one locked oneself."),
        ("unlock:unlock_override", ADMIN, "Unlock a server someone else locked."),
    ])
    + _family("os_compute_api:os-pause-server:", [
        ("pause", PROJECT_MEMBER_OR_ADMIN, "Pause a server."),
        ("unpause", PROJECT_MEMBER_OR_ADMIN, "Unpause a server."),
    ])
    + _family("os_compute_api:os-suspend-server:", [
        ("suspend", PROJECT_MEMBER_OR_ADMIN, "Suspend a server."),
        ("resume", PROJECT_MEMBER_OR_ADMIN, "Resume a suspended server."),
    ])
    + _family("os_compute_api:os-shelve:", [
        ("shelve", PROJECT_MEMBER_OR_ADMIN, "Shelve a server."),
        ("unshelve", PROJECT_MEMBER_OR_ADMIN, "Unshelve a server."),
        ("unshelve_to_host", ADMIN, "Unshelve an offloaded server onto a named host (2.91+)."),
        ("shelve_offload", ADMIN, "Free the host of a shelved server."),
    ])
    + _family("os_compute_api:os-migrate-server:", [
        ("migrate", PROJECT_MANAGER_OR_ADMIN, "Cold-migrate a server."),
        ("migrate:host", ADMIN, "Cold-migrate a server to a named host."),
        ("migrate_live", PROJECT_MANAGER_OR_ADMIN, "Live-migrate a server."),
        ("migrate_live:host", ADMIN, "Live-migrate a server to a named host."),
    ])
    + _family("os_compute_api:os-admin-actions:", [
        ("reset_state", ADMIN, "Force a server's vm_state."),
        ("inject_network_info", ADMIN, "Push network info into a server."),
    ])
    + _family("os_compute_api:os-deferred-delete:", [
        ("restore", PROJECT_MEMBER_OR_ADMIN, "Restore a soft-deleted server."),
        ("force", PROJECT_MEMBER_OR_ADMIN, "Delete a soft-deleted server at once."),
    ])
    + _family("os_compute_api:os-multinic:", [
        ("add", PROJECT_MEMBER_OR_ADMIN, "Add a fixed IP to a server (nova-network era)."),
        ("remove", PROJECT_MEMBER_OR_ADMIN, "Remove a fixed IP from a server."),
    ])
)

FLAVOR_RULES = (
    _family("os_compute_api:os-flavor-manage:", [
        ("create", ADMIN, "Create a flavor."),
        ("update", ADMIN, "Update a flavor's description (2.55+)."),
        ("delete", ADMIN, "Delete a flavor."),
    ])
    + _family("os_compute_api:os-flavor-access", [
        ("", ADMIN, "List the projects a private flavor is shared with."),
        (":add_tenant_access", ADMIN, "Share a private flavor with a project."),
        (":remove_tenant_access", ADMIN, "Stop sharing a private flavor with a project."),
    ])
    + _family("os_compute_api:os-flavor-extra-specs:", [
        # Also decides whether flavor views include extra_specs (2.61+).
        ("index", PROJECT_READER_OR_ADMIN, "List a flavor's extra specs."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one extra spec of a flavor."),
        ("create", ADMIN, "Add extra specs to a flavor."),
        ("update", ADMIN, "Set one extra spec of a flavor."),
        ("delete", ADMIN, "Remove one extra spec of a flavor."),
    ])
)

KEYPAIR_RULES = _family("os_compute_api:os-keypairs:", [
    ("index", KEYPAIR_OWNER_OR_ADMIN, "List a user's key pairs."),
    ("create", KEYPAIR_OWNER_OR_ADMIN, "Create or import a key pair for a user."),
    ("show", KEYPAIR_OWNER_OR_ADMIN, "Show a user's key pair."),
    ("delete", KEYPAIR_OWNER_OR_ADMIN, "Delete a user's key pair."),
])

PROJECT_RESOURCE_RULES = (
    _family("os_compute_api:limits", [
        ("", ANYONE, "Show one's own project's limits and usage."),
        (":other_project", ADMIN, "Show another project's limits (tenant_id=)."),
    ])
    + _family("os_compute_api:os-quota-sets:", [
        ("show", PROJECT_READER_OR_ADMIN, "Show a project's quotas."),
        ("detail", PROJECT_READER_OR_ADMIN, "Show a project's quotas with usage."),
        ("defaults", ANYONE, "Show the default quotas."),
        ("update", ADMIN, "Set a project's quotas."),
        ("delete", ADMIN, "Reset a project's quotas to the defaults."),
    ])
    + _family("os_compute_api:os-quota-class-sets:", [
        ("show", ADMIN, "Show a quota class."),
        ("update", ADMIN, "Update a quota class."),
    ])
    + _family("os_compute_api:os-server-groups:", [
        ("index", PROJECT_READER_OR_ADMIN, "List one's project's server groups."),
        ("index:all_projects", ADMIN, "List server groups of every project."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a server group."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Create a server group."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Delete a server group."),
    ])
    + _family("os_compute_api:os-simple-tenant-usage:", [
        ("show", PROJECT_READER_OR_ADMIN, "Show one project's usage over a period."),
        ("list", ADMIN, "Show every project's usage over a period."),
    ])
    + _family("os_compute_api:os-migrations:", [
        ("index", PROJECT_MANAGER_OR_ADMIN, "List migrations."),
        ("index:all_projects", ADMIN, "List migrations of every project."),
        ("index:host", ADMIN, "See hosts in the migrations list."),
    ])
    + _family("os_compute_api:", [
        ("extensions", ANYONE, "List the (frozen) API extensions."),
        ("os-floating-ip-pools", ANYONE, "List floating IP pools (proxy to neutron)."),
    ])
)

INFRASTRUCTURE_RULES = (
    _family("os_compute_api:os-availability-zone:", [
        ("list", ANYONE, "List availability zones."),
        ("detail", ADMIN, "List availability zones with their hosts and services."),
    ])
    + _family("os_compute_api:os-hypervisors:", [
        ("list", ADMIN, "List hypervisors."),
        ("list-detail", ADMIN, "List hypervisors with details."),
        ("statistics", ADMIN, "Show hypervisor totals (before 2.88)."),
        ("show", ADMIN, "Show a hypervisor."),
        ("uptime", ADMIN, "Show a hypervisor's uptime."),
        ("search", ADMIN, "Search hypervisors by host name."),
        ("servers", ADMIN, "List the servers on hypervisors."),
    ])
    + _family("os_compute_api:os-services:", [
        ("list", ADMIN, "List compute services."),
        ("update", ADMIN, "Enable, disable or force down a compute service."),
        ("delete", ADMIN, "Delete a compute service."),
    ])
    + _family("os_compute_api:os-aggregates:", [
        ("index", ADMIN, "List host aggregates."),
        ("create", ADMIN, "Create a host aggregate."),
        ("show", ADMIN, "Show a host aggregate."),
        ("update", ADMIN, "Rename or re-zone a host aggregate."),
        ("delete", ADMIN, "Delete a host aggregate."),
        ("add_host", ADMIN, "Add a host to an aggregate."),
        ("remove_host", ADMIN, "Remove a host from an aggregate."),
        ("set_metadata", ADMIN, "Set an aggregate's metadata."),
    ])
    + _family("compute:aggregates:", [
        ("images", ADMIN, "Pre-cache images on an aggregate's hosts (2.81+)."),
    ])
    + _family("os_compute_api:os-hosts:", [
        ("list", ADMIN, "List hosts (before 2.43)."),
        ("show", ADMIN, "Show a host's resources."),
        ("update", ADMIN, "Change a host's status or maintenance mode."),
        ("reboot", ADMIN, "Reboot a host."),
        ("shutdown", ADMIN, "Shut down a host."),
        ("start", ADMIN, "Start a host."),
    ])
    + _family("os_compute_api:os-baremetal-nodes:", [
        ("list", ADMIN, "List bare metal nodes (proxy to ironic)."),
        ("show", ADMIN, "Show a bare metal node."),
    ])
    + _family("os_compute_api:os-instance-usage-audit-log:", [
        ("list", ADMIN, "List instance usage audit logs."),
        ("show", ADMIN, "Show the instance usage audit log before a time."),
    ])
    + _family("os_compute_api:", [
        ("os-console-auth-tokens", ADMIN, "Look up the server behind a console token."),
    ])
)

SERVICE_RULES = (
    _family("os_compute_api:", [
        ("os-server-external-events:create", SERVICE_OR_ADMIN,
         "Deliver external events (neutron, cinder, ...) to servers."),
    ])
    + _family("os_compute_api:os-assisted-volume-snapshots:", [
        ("create", SERVICE_OR_ADMIN, "Snapshot a volume through nova (cinder's call)."),
        ("delete", SERVICE_OR_ADMIN, "Delete such a snapshot (cinder's call)."),
    ])
)

# Proxies to neutron and cinder, deprecated in nova since 2.36 but still registered.
PROXY_RULES = (
    _family("os_compute_api:os-security-groups:", [
        ("get", PROJECT_READER_OR_ADMIN, "List security groups."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a security group."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Create a security group."),
        ("update", PROJECT_MEMBER_OR_ADMIN, "Update a security group."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Delete a security group."),
        ("rule:create", PROJECT_MEMBER_OR_ADMIN, "Add a security group rule."),
        ("rule:delete", PROJECT_MEMBER_OR_ADMIN, "Remove a security group rule."),
        ("list", PROJECT_READER_OR_ADMIN, "List a server's security groups."),
        ("add", PROJECT_MEMBER_OR_ADMIN, "Add a security group to a server."),
        ("remove", PROJECT_MEMBER_OR_ADMIN, "Remove a security group from a server."),
    ])
    + _family("os_compute_api:os-floating-ips:", [
        ("list", PROJECT_READER_OR_ADMIN, "List floating IPs."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a floating IP."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Allocate a floating IP."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Release a floating IP."),
        ("add", PROJECT_MEMBER_OR_ADMIN, "Associate a floating IP with a server."),
        ("remove", PROJECT_MEMBER_OR_ADMIN, "Disassociate a floating IP from a server."),
    ])
    + _family("os_compute_api:os-networks:", [
        ("list", PROJECT_READER_OR_ADMIN, "List networks."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a network."),
    ])
    + _family("os_compute_api:os-tenant-networks:", [
        ("list", PROJECT_READER_OR_ADMIN, "List the project's networks."),
        ("show", PROJECT_READER_OR_ADMIN, "Show one of the project's networks."),
    ])
    + _family("os_compute_api:os-volumes:", [
        ("list", PROJECT_READER_OR_ADMIN, "List volumes."),
        ("detail", PROJECT_READER_OR_ADMIN, "List volumes with details."),
        ("show", PROJECT_READER_OR_ADMIN, "Show a volume."),
        ("create", PROJECT_MEMBER_OR_ADMIN, "Create a volume."),
        ("delete", PROJECT_MEMBER_OR_ADMIN, "Delete a volume."),
        ("snapshots:list", PROJECT_READER_OR_ADMIN, "List volume snapshots."),
        ("snapshots:detail", PROJECT_READER_OR_ADMIN, "List volume snapshots with details."),
        ("snapshots:show", PROJECT_READER_OR_ADMIN, "Show a volume snapshot."),
        ("snapshots:create", PROJECT_MEMBER_OR_ADMIN, "Create a volume snapshot."),
        ("snapshots:delete", PROJECT_MEMBER_OR_ADMIN, "Delete a volume snapshot."),
    ])
)

RULES: list[PolicyRule] = (
    BASE_RULES + SERVER_RULES + SERVER_SUBRESOURCE_RULES + SERVER_ACTION_RULES + FLAVOR_RULES
    + KEYPAIR_RULES + PROJECT_RESOURCE_RULES + INFRASTRUCTURE_RULES + SERVICE_RULES
    + PROXY_RULES
)
RULES_BY_NAME: dict[str, PolicyRule] = {rule.name: rule for rule in RULES}
