"""tempest.conf for a stacklab cloud: every option set here, with why.

Feature flags are on for what stacklab implements. A flag is off only for one of two reasons,
which the docs keep apart: ``GATE`` where upstream's own gate (devstack's tempest.conf for the
default jobs) has it off too, or the feature needs a real guest or hypervisor; ``OURS`` where
stacklab lacks the feature (its skips are work to do, not conformance).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conformance.cloud import ADMIN, DEVSTACK_FILTERS, Facts

GATE = "gate"   # off upstream too, or needs a real guest or hypervisor
OURS = "ours"   # stacklab lacks it
ON = "on"       # stacklab implements it


@dataclass(frozen=True)
class Option:
    section: str
    name: str
    value: str
    why: str
    kind: str = ON


def _bool(value: bool) -> str:
    return "true" if value else "false"


# Features that do not depend on the cloud's answers.
FEATURES: tuple[Option, ...] = (
    # Identity
    Option("identity-feature-enabled", "trust", "true",
           "keystone's OS-TRUST: trusts and trust-scoped tokens"),
    Option("identity-feature-enabled", "security_compliance", "false",
           "keystone's [security_compliance] is off by default, and in the gate", GATE),
    Option("identity-feature-enabled", "domain_specific_drivers", "false",
           "needs per-domain LDAP/SQL drivers; off in the gate", GATE),
    Option("identity-feature-enabled", "access_rules", "true",
           "application credential access rules"),
    Option("identity-feature-enabled", "api_extensions", "all", "every identity extension"),
    # Compute
    Option("compute-feature-enabled", "resize", "true", "resize, confirm, revert"),
    Option("compute-feature-enabled", "cold_migration", "true", "migrate between compute1/2"),
    Option("compute-feature-enabled", "can_migrate_between_any_hosts", "true",
           "the lab's two compute nodes are alike"),
    Option("compute-feature-enabled", "pause", "true", "pause/unpause"),
    Option("compute-feature-enabled", "suspend", "true", "suspend/resume"),
    Option("compute-feature-enabled", "shelve", "true", "shelve, shelve offload, unshelve"),
    Option("compute-feature-enabled", "rescue", "true", "rescue/unrescue"),
    Option("compute-feature-enabled", "console_output", "true", "os-getConsoleOutput"),
    Option("compute-feature-enabled", "interface_attach", "true", "os-interface"),
    Option("compute-feature-enabled", "snapshot", "true", "createImage into glance"),
    Option("compute-feature-enabled", "disk_config", "true", "OS-DCF:diskConfig"),
    Option("compute-feature-enabled", "config_drive", "true", "config_drive on create"),
    Option("compute-feature-enabled", "enable_instance_password", "true",
           "adminPass in create/rebuild/rescue responses"),
    Option("compute-feature-enabled", "hostname_fqdn_sanitization", "true",
           "nova since Wallaby"),
    Option("compute-feature-enabled", "change_password", "false",
           "changePassword needs a guest agent; devstack sets it false", GATE),
    Option("compute-feature-enabled", "live_migration", "true", "os-migrateLive"),
    Option("compute-feature-enabled", "personality", "false",
           "file injection, removed at 2.57; devstack leaves it false", GATE),
    # The console tests speak RFB/websocket through a proxy to a hypervisor's console: the
    # issue accepts these skips (devstack turns noVNC on).
    Option("compute-feature-enabled", "vnc_console", "false",
           "a real hypervisor console through noVNC's proxy", GATE),
    Option("compute-feature-enabled", "spice_console", "false",
           "a real hypervisor console; off in devstack", GATE),
    Option("compute-feature-enabled", "serial_console", "false",
           "a real hypervisor console; off in devstack", GATE),
    # devstack's libvirt jobs set these two, so a skip would hide a gap.
    Option("compute-feature-enabled", "stable_rescue", "true",
           "rescue keeping the server's disks (2.87), as devstack's libvirt jobs"),
    Option("compute-feature-enabled", "shelve_migrate", "true",
           "unshelve onto another host, as devstack's libvirt jobs"),
    Option("compute-feature-enabled", "nova_policy_roles", "admin,manager,member,reader,service",
           "nova's default roles since 2025.2 (stacklab's policies have manager)"),
    Option("compute-feature-enabled", "scheduler_enabled_filters", ",".join(DEVSTACK_FILTERS),
           "the cloud's [filter_scheduler] enabled_filters, which the harness sets to "
           "devstack's list (nova's defaults, SameHostFilter, DifferentHostFilter)"),
    Option("compute-feature-enabled", "live_migrate_back_and_forth", "false",
           "set only by the grenade (upgrade) job", GATE),
    Option("compute-feature-enabled", "block_migration_for_live_migration", "false",
           "devstack's default (shared-storage style live migration)", GATE),
    Option("compute-feature-enabled", "swap_volume", "true",
           "nova's swap volume and cinder's migration of an attached volume"),
    Option("compute-feature-enabled", "volume_backed_live_migration", "true",
           "live migration of a volume-backed server (its attachments move)"),
    Option("compute-feature-enabled", "attach_encrypted_volume", "false",
           "needs Block Storage", OURS),
    Option("compute-feature-enabled", "unified_limits", "false",
           "nova's legacy quotas, as in the default job", GATE),
    # Image
    Option("image-feature-enabled", "import_image", "true", "interoperable import"),
    Option("image-feature-enabled", "os_glance_reserved", "true", "os_glance_* reserved"),
    Option("image-feature-enabled", "do_secure_hash", "true", "os_hash_algo/os_hash_value"),
    Option("image-feature-enabled", "image_format_enforcement", "true",
           "glance's [image_format] require_image_format_match: stacklab inspects uploaded "
           "data as glance does, so the tests that upload bogus data skip, as in devstack"),
    Option("image-feature-enabled", "manage_locations", "false",
           "needs show_multiple_locations and an http store; off in the gate", GATE),
    Option("image-feature-enabled", "http_store_enabled", "false",
           "an http store fetches from the internet; off in the gate", GATE),
    Option("image-feature-enabled", "image_conversion", "false",
           "qemu-img conversion on import; off in the default job", GATE),
    # Networking
    Option("network-feature-enabled", "ipv6", "true", "IPv6 subnets"),
    Option("network-feature-enabled", "ipv6_subnet_attributes", "true",
           "ipv6_ra_mode and ipv6_address_mode"),
    Option("network-feature-enabled", "port_admin_state_change", "true",
           "admin_state_up of a port"),
    Option("network-feature-enabled", "port_security", "true", "port_security_enabled"),
    Option("network-feature-enabled", "floating_ips", "true", "floating IPs"),
    Option("network-feature-enabled", "available_features", "all", "every feature"),
    # stacklab enforces scope and the new defaults, as devstack now does for every service:
    # Tempest then uses system-scoped admins and the reader/manager personas where it should.
    Option("enforce_scope", "keystone", "true", "[oslo_policy] enforce_scope/new defaults"),
    Option("enforce_scope", "nova", "true", "[oslo_policy] enforce_scope/new defaults"),
    Option("enforce_scope", "glance", "true", "[oslo_policy] enforce_scope/new defaults"),
    Option("enforce_scope", "neutron", "true", "[oslo_policy] enforce_scope/new defaults"),
    # No guest to reach: nothing boots, nothing answers SSH or ping.
    Option("validation", "run_validation", "false",
           "SSH and ping into guests: no guest runs in a simulated lab", GATE),
    Option("service_available", "swift", "false", "no Object Storage in stacklab", OURS),
    Option("service_available", "horizon", "false", "no dashboard", GATE),
)


def options(facts: Facts, workspace: Path, *, volume: bool = False) -> Iterator[Option]:
    """Every option of the run's tempest.conf, in file order."""
    yield Option("DEFAULT", "log_file", str(workspace / "tempest.log"), "Tempest's own log")
    yield Option("DEFAULT", "debug", "false",
                 "INFO keeps each request's status line (the failure causes) in the subunit "
                 "stream without every body")
    yield Option("oslo_concurrency", "lock_path", str(workspace / "locks"), "the run's own")
    yield Option("auth", "use_dynamic_credentials", "true",
                 "a project and users per test class, made with the admin credentials")
    yield Option("auth", "create_isolated_networks", "true",
                 "a network, subnet and router per project, as in the gate")
    yield Option("auth", "admin_username", ADMIN["username"], "stacklab up's admin")
    yield Option("auth", "admin_password", ADMIN["password"], "stacklab up's default")
    yield Option("auth", "admin_project_name", ADMIN["project"], "stacklab up's admin")
    yield Option("auth", "admin_domain_name", ADMIN["domain"], "stacklab up's admin")
    yield Option("identity", "uri_v3", facts.auth_url, "the cloud's Identity v3")
    yield Option("identity", "region", "RegionOne", "the catalog's only region")
    yield Option("compute", "image_ref", facts.image_id, "the CirrOS stand-in")
    if facts.image_alt_id:
        yield Option("compute", "image_ref_alt", facts.image_alt_id,
                     "a public copy of it the harness uploads: the tests that need two "
                     "distinct images run (devstack, with one image, skips them)")
    else:
        yield Option("compute", "image_ref_alt", facts.image_id,
                     "the same image, as devstack when it has one")
    yield Option("compute", "flavor_ref", facts.flavor_id, "m1.nano, made as devstack does")
    yield Option("compute", "flavor_ref_alt", facts.flavor_alt_id,
                 "m1.micro: larger than flavor_ref, for the resize tests")
    yield Option("compute", "min_microversion", facts.compute_min_microversion,
                 "the cloud's advertised minimum")
    yield Option("compute", "max_microversion", facts.compute_max_microversion,
                 "the cloud's advertised maximum")
    yield Option("compute", "min_compute_nodes", "2", "the lab's compute1 and compute2")
    # stacklab's fast boot profile builds a server in milliseconds: a minute is ample and
    # a hung wait costs a minute, not devstack's 196 s.
    for section in ("compute", "image", "network"):
        yield Option(section, "build_timeout", "60", "servers go ACTIVE in milliseconds")
    yield Option("network", "public_network_id", facts.public_network_id,
                 f"the external network {facts.public_network_name!r}")
    yield Option("network", "floating_network_name", facts.public_network_name,
                 "floating IPs come from the external network")
    for name in ("http_image", "http_qcow2_image"):
        if facts.http_image:
            yield Option("image", name, facts.http_image,
                         "the run's own loopback file server (the CirrOS image's bytes): "
                         "stacklab's web-download fetches from loopback hosts only, and a "
                         "run never reaches outside the machine")
    if facts.images_manifest:
        yield Option("image", "images_manifest_file", facts.images_manifest,
                     "os-test-images' sample images, which the harness makes "
                     "(conformance/format_images.py) as devstack has them made")
    yield Option("network", "project_networks_reachable", "false",
                 "no guest traffic from the test host")
    yield Option("network-feature-enabled", "api_extensions",
                 ",".join(facts.network_extensions) or "none",
                 "exactly the extensions the cloud lists at /v2.0/extensions")
    yield from FEATURES
    # Block Storage's tests run once tempest.api.volume passes (VOLUME_TESTS_PASS), or when a
    # run asks for them (``./dev tempest volume``, ``--volume``).
    cinder = (VOLUME_TESTS_PASS or volume) and bool(facts.volume_catalog_type)
    if cinder:
        yield from volume_options(facts)
    if cinder and facts.volume_type_multiattach:
        yield Option("compute-feature-enabled", "volume_multiattach", "true",
                     "a volume on two servers, as Tempest's jobs (ENABLE_VOLUME_MULTIATTACH)")
    else:
        yield Option("compute-feature-enabled", "volume_multiattach", "false",
                     "needs Block Storage and its multiattach type", OURS)
    heat = "orchestration" in facts.services
    yield Option("service_available", "nova", "true", "in the catalog")
    yield Option("service_available", "glance", "true", "in the catalog")
    yield Option("service_available", "neutron", "true", "in the catalog")
    yield Option("service_available", "cinder", _bool(cinder),
                 "in the catalog" if cinder else
                 "Block Storage is not in the catalog, or tempest.api.volume is not "
                 "passing yet",
                 ON if cinder else OURS)
    yield Option("service_available", "heat", _bool(heat),
                 "in the catalog" if heat else "no Orchestration in the catalog",
                 ON if heat else OURS)
    if heat:
        yield from heat_options(facts)


def heat_options(facts: Facts) -> Iterator[Option]:
    """heat-tempest-plugin's [heat_plugin]: it authenticates by itself (keystoneauth from
    these options, not Tempest's credentials), already while listing the tests, as
    devstack's lib/tempest for heat sets it."""
    yield Option("heat_plugin", "auth_url", facts.auth_url, "the cloud's Identity v3")
    yield Option("heat_plugin", "auth_version", "3", "Identity v3 only")
    yield Option("heat_plugin", "region", "RegionOne", "the catalog's only region")
    yield Option("heat_plugin", "catalog_type", "orchestration", "in the catalog")
    # The API tests act in one project; the admin's own is the only one stacklab up makes.
    for prefix in ("", "admin_"):
        yield Option("heat_plugin", f"{prefix}username", ADMIN["username"], "stacklab up's admin")
        yield Option("heat_plugin", f"{prefix}password", ADMIN["password"],
                     "stacklab up's default")
    yield Option("heat_plugin", "project_name", ADMIN["project"], "stacklab up's admin")
    yield Option("heat_plugin", "admin_project_name", ADMIN["project"], "stacklab up's admin")
    yield Option("heat_plugin", "user_domain_name", ADMIN["domain"], "the admin's domain")
    yield Option("heat_plugin", "project_domain_name", ADMIN["domain"], "the admin's domain")
    yield Option("heat_plugin", "image_ref", facts.image_id, "the CirrOS stand-in")
    yield Option("heat_plugin", "minimal_image_ref", facts.image_id, "the CirrOS stand-in")
    yield Option("heat_plugin", "instance_type", facts.flavor_alt_id, "m1.micro")
    yield Option("heat_plugin", "minimal_instance_type", facts.flavor_id, "m1.nano")
    yield Option("heat_plugin", "floating_network_name", facts.public_network_name,
                 "the external network")
    yield Option("heat_plugin", "build_timeout", "60",
                 "stacks of the API tests complete in well under a second")


# Whether stacklab's Block Storage passes tempest.api.volume (see options()): every test
# but the gate's skips since branch tempest-vol3 (docs/conformance.md).
VOLUME_TESTS_PASS = True


def volume_options(facts: Facts) -> Iterator[Option]:
    """Block Storage's options: devstack's tempest.conf for its LVM backend (lib/tempest),
    save where stacklab lacks a feature the gate tests."""
    yield Option("volume", "catalog_type", facts.volume_catalog_type, "in the catalog")
    yield Option("volume", "min_microversion", facts.volume_min_microversion,
                 "the cloud's advertised minimum")
    yield Option("volume", "max_microversion", facts.volume_max_microversion,
                 "the cloud's advertised maximum (devstack: latest)")
    yield Option("volume", "build_timeout", "60", "volumes go available in milliseconds")
    if facts.volume_type_multiattach:
        yield Option("volume", "volume_type_multiattach", facts.volume_type_multiattach,
                     "the multiattach type the harness made, as devstack's lib/cinder")
    yield Option("volume-feature-enabled", "api_extensions", "all", "devstack's default")
    yield Option("volume-feature-enabled", "snapshot", "true", "snapshots")
    yield Option("volume-feature-enabled", "clone", "true", "a volume from a volume")
    if facts.volume_backups:
        yield Option("volume-feature-enabled", "backup", "true", "GET /v3/backups answers")
    else:
        yield Option("volume-feature-enabled", "backup", "false",
                     "no cinder-backup behind the API (GET /v3/backups does not answer); "
                     "devstack's default job runs c-bak", OURS)
    yield Option("volume-feature-enabled", "multi_backend", "false",
                 "devstack's default job has one backend (lvmdriver-1)", GATE)
    yield Option("volume-feature-enabled", "replication", "false",
                 "no replication in devstack's default job", GATE)
    yield Option("volume-feature-enabled", "manage_volume", "true",
                 "cinder's manageable volumes, as devstack for LVM")
    yield Option("volume-feature-enabled", "manage_snapshot", "true",
                 "cinder's manageable snapshots, as devstack for LVM")
    yield Option("volume-feature-enabled", "extend_attached_volume", "true",
                 "extending an in-use volume (3.42), as devstack for LVM with libvirt")
    yield Option("volume-feature-enabled", "extend_attached_encrypted_volume", "false",
                 "devstack leaves it off", GATE)


def render(facts: Facts, workspace: Path, *, volume: bool = False) -> str:
    """The ini text, by section, each option after a comment saying why; ``volume`` turns
    Block Storage's tests on before VOLUME_TESTS_PASS does."""
    sections: dict[str, list[Option]] = {}
    for option in options(facts, workspace, volume=volume):
        sections.setdefault(option.section, []).append(option)
    lines = ["# Written by ./dev tempest (conformance/tempest_conf.py) for one run."]
    for section, opts in sections.items():
        lines += ["", f"[{section}]"]
        for option in opts:
            tag = "" if option.kind == ON else f" [{option.kind}]"
            lines += [f"#{tag} {option.why}", f"{option.name} = {option.value}"]
    return "\n".join(lines) + "\n"
