"""Whose skip: reasons Tempest gives, sorted into the gate's and stacklab's."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import skips
from conformance.skips import GATE, OURS, UNKNOWN, verdict


def test_a_guest_or_a_console_is_the_gate_s() -> None:
    assert verdict("Instance validation tests are disabled.")[0] == GATE
    assert verdict("VNC Console feature is disabled.")[0] == GATE
    assert verdict("Skipped until bug: https://launchpad.net/bugs/1161411 is resolved.")[0] \
        == GATE


def test_a_missing_service_or_version_is_ours() -> None:
    assert verdict("AttachVolumeTestJSON skipped as Cinder is not available")[0] == OURS
    assert verdict("The microversion range[2.100 - latest] of this test is out of the "
                   "configuration range[2.1 - 2.96].")[0] == OURS
    assert verdict("Trusts aren't enabled")[0] == OURS


def test_an_unknown_reason_is_said_to_be_unknown() -> None:
    assert verdict("the moon is full") == (UNKNOWN, "")


def test_what_devstack_s_default_job_skips_too_is_the_gate_s() -> None:
    # neutron advertises standard-attr-tag, not the old "tag" alias Tempest asks for.
    assert verdict("tag extension not enabled.")[0] == GATE
    # A single glance store: /v2/info/stores is not found, so Tempest sees no store.
    assert verdict("No stores configured []")[0] == GATE
    # devstack leaves [compute] fixed_network_name unset with neutron.
    assert verdict("Environment has no known-for-sure existing network.")[0] == GATE
    assert verdict("Need distinct images to run this test")[0] == GATE


def test_what_image_format_enforcement_skips_is_the_gate_s() -> None:
    for reason in ("Image format enforcement prevents testing with bogus image data",
                   "Unable to test compute image formats if glance does not allow them to "
                   "be uploaded",
                   "Glance does not currently reject unusable images on upload",
                   "GPT not configured and glance is too old to support it",
                   "Format qed not allowed by config",
                   "Import image_conversion not enabled"):
        assert verdict(reason)[0] == GATE, reason
    # Without the sample images the harness could not make: ours.
    assert verdict("Image format testing is not configured")[0] == OURS


def test_neutron_extensions_devstack_lists_stay_ours() -> None:
    assert verdict("ip-substring-filtering extension not enabled.")[0] == OURS
    assert verdict("service-type extension not enabled.")[0] == OURS


def test_block_storage_s_flags_are_the_gate_s_only_where_devstack_s_lvm_job_skips() -> None:
    # One LVM backend, no encrypted extend: off in devstack's default job too.
    assert verdict("Cinder multi-backend feature disabled")[0] == GATE
    assert verdict("Attached encrypted volume extend is disabled.")[0] == GATE
    # devstack runs c-bak and turns manage and in-use extend on for LVM: stacklab's gaps.
    assert verdict("Cinder backup feature disabled")[0] == OURS
    assert verdict("Manage volume tests are disabled")[0] == OURS
    assert verdict("Attached volume extend is disabled.")[0] == OURS
    assert verdict("Swapping volumes is not supported.")[0] == OURS
    assert verdict("Volume multi-attach is not available.")[0] == OURS


def test_tests_that_need_a_guest_are_left_out_by_exact_id() -> None:
    from conformance import run

    pattern = re.compile(skips.exclude_regex())
    rebuild = ("tempest.api.compute.servers.test_server_actions.ServerActionsV293TestJSON."
               "test_rebuild_volume_backed_server[id-1,volume]")
    assert pattern.search(rebuild)
    assert not pattern.search(rebuild.replace("V293", "V2"))
    args = run.parse_args(["compute"])
    chosen, described = run.selection(args, {"compute"}, Path("/tmp"))
    assert chosen[chosen.index("--exclude-regex") + 1] == skips.exclude_regex()
    assert "need SSH into a guest" in described
