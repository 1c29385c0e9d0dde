"""Whose skip is it: upstream's gate skips it too, or stacklab lacks something.

The issue's rule: a skip is acceptable only where upstream's own gate (devstack's default
jobs) skips the test too, or the test needs a real guest (SSH, ping, ACPI) or a real
hypervisor console. Everything else is a gap to close. The first pattern matching a skip's
reason decides; a reason no pattern matches is reported as unclassified, to be sorted here.
"""

from __future__ import annotations

import re

GATE = "gate"   # acceptable: skipped upstream too, or needs a real guest or console
OURS = "ours"   # a gap in stacklab
UNKNOWN = "unclassified"

VERDICTS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), verdict, note) for pattern, verdict, note in (
        (r"[Vv]alidation (tests are disabled|must be enabled|should be enabled)", GATE,
         "needs SSH/ping into a guest"),
        (r"Marked as unstable|Skipped until bug", GATE,
         "skipped by upstream's own bug decorator"),
        (r"VNC Console|Serial console|SPICE|[Ss]pice", GATE, "needs a real hypervisor console"),
        (r"personality", GATE, "devstack leaves file injection off"),
        (r"Change password", GATE, "devstack sets change_password false"),
        (r"Block Live migration", GATE, "devstack's default: no block live migration"),
        (r"barbican-tempest-plugin|vTPM", GATE, "needs barbican's plugin and vTPM"),
        (r"Neutron (allows|does not check)", GATE,
         "checks of nova-network's security groups: skipped whenever neutron serves them"),
        (r"nova-network is not available", GATE, "nova-network is gone upstream"),
        (r"certified_image_ref", GATE, "devstack configures no signed image"),
        (r"Security compliance", GATE, "keystone's [security_compliance] is off in the gate"),
        (r"glance-download|image_remote", GATE, "needs a second region's glance"),
        (r"only one store is (configured|available)|multistore|store weight|http store|"
         r"show_multiple_locations|glance caching", GATE,
         "needs several stores, an http store, image locations or the cache: off in the "
         "default job"),
        (r"do_secure_hash is enabled", GATE,
         "the variant for glance with do_secure_hash off; the default job runs the other"),
        (r"Image format enforcement prevents|Unable to test compute image formats", GATE,
         "glance inspects uploads (image_format_enforcement), as devstack's does: bogus or "
         "unsafe data never gets in, for glance's list tests or for nova"),
        (r"Glance does not currently reject unusable images on upload", GATE,
         "Tempest skips the upload test of every unusable sample image, whatever the cloud"),
        (r"GPT not configured|Format \w+ not allowed by config", GATE,
         "a sample image of a format outside Tempest's [image] disk_formats (gpt, qed), "
         "which glance's default disk_formats leaves out too"),
        (r"Import image_conversion not enabled", GATE,
         "glance's image conversion on import is off in the default job"),
        (r"Need distinct images", GATE,
         "devstack, with one image, sets image_ref_alt to image_ref too"),
        (r"No stores configured", GATE,
         "glance's /v2/info/stores answers only with several stores (multistore): off in "
         "the default job"),
        (r"Environment has no known-for-sure existing network", GATE,
         "devstack sets [compute] fixed_network_name only without neutron (lib/tempest)"),
        (r"\btag extension not enabled", GATE,
         "neutron lists standard-attr-tag and tag-creation, not the old 'tag' alias"),
        (r"metering extension", GATE, "metering is not one of devstack's default plugins"),
        (r"multi-backend feature disabled", GATE,
         "devstack's default job has one Cinder backend (lvmdriver-1)"),
        (r"[Aa]ttached encrypted volume extend is disabled", GATE,
         "devstack leaves extend_attached_encrypted_volume off"),
        (r"backup feature disabled", OURS,
         "cinder-backup: no GET /v3/backups yet (devstack's default job runs c-bak)"),
        (r"Manage (snapshot|volume) tests are disabled", OURS,
         "cinder's manageable volumes and snapshots (devstack turns them on for LVM; so "
         "does the harness)"),
        (r"Swapping volumes is not supported", OURS,
         "nova's swap volume (devstack's libvirt jobs turn swap_volume on); it is cinder's "
         "migration step, and stacklab's cinder migrates no volume"),
        (r"Volume multi-attach is not available", OURS,
         "Tempest's jobs set ENABLE_VOLUME_MULTIATTACH: the harness makes devstack's "
         "multiattach volume type and turns volume_multiattach on, unless it could not"),
        (r"hw_scsi_model=virtio-scsi not set on image", GATE,
         "devstack's CirrOS image has no hw_scsi_model property, nor has stacklab's"),
        (r"Attached volume extend is disabled", OURS,
         "extending an in-use volume (devstack turns it on for LVM with libvirt)"),
        (r"[Cc]inder|[Vv]olume service|Volume-backed|range\[3\.", OURS,
         "needs Block Storage, which stacklab does not serve yet"),
        (r"microversion range\[2\.", OURS, "above stacklab's maximum compute microversion"),
        (r"Trusts", OURS, "keystone's OS-TRUST"),
        (r"SameHostFilter|DifferentHostFilter", OURS,
         "devstack enables these filters; stacklab has them but no enabled_filters option"),
        (r"auto-allocated-topology", OURS, "neutron's auto-allocated topology"),
        (r"web-download", OURS, "glance's web-download import (a default import method)"),
        (r"v2\.17", OURS, "glance's image API 2.17 (the new locations API)"),
        (r"Image format testing is not configured", OURS,
         "the harness could not make os-test-images' sample images: it needs qemu-img, "
         "mkisofs and parted (Debian's qemu-utils, genisoimage, parted; conformance.venv "
         "installs them where it may run apt-get)"),
        (r"ip-substring-filtering|service-type extension", OURS,
         "a neutron extension devstack's neutron lists"),
        (r"DHCP agent is required", OURS,
         "Tempest filters agents by agent_type 'DHCP Agent': neutron's MySQL compares "
         "case-insensitively and finds 'DHCP agent', stacklab does not"),
    ))


def verdict(reason: str) -> tuple[str, str]:
    """GATE or OURS (or UNKNOWN) for a skip's reason, and why."""
    for pattern, kind, note in VERDICTS:
        if pattern.search(reason):
            return kind, note
    return UNKNOWN, ""


# Tests that log into their guest over SSH whatever ``[validation] run_validation`` says
# (Tempest guards most such steps with it; these reach RemoteClient unguarded), so in a lab
# with no guest they can only fail. The rule counts SSH into a guest among the
# acceptable skips: they are left out of the run and listed in its summary.
NEEDS_A_GUEST: dict[str, str] = {
    "tempest.api.compute.servers.test_server_actions.ServerActionsV293TestJSON."
    "test_rebuild_volume_backed_server":
        "writes a file in the guest over SSH before the rebuild and looks for it after",
}


def exclude_regex() -> str:
    """``tempest run --exclude-regex`` for ``NEEDS_A_GUEST``."""
    return "|".join(f"^{re.escape(test)}" for test in NEEDS_A_GUEST)
