"""Block Storage with the real clients: the volume services of the lab."""

from __future__ import annotations

import pytest

from acceptance.conftest import LiveCloud

pytestmark = pytest.mark.acceptance

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


def test_volume_service_list_shows_the_labs_services(live: LiveCloud) -> None:
    rows = live.openstack_json("volume", "service", "list")
    assert sorted((r["Binary"], r["Host"], r["Zone"], r["Status"], r["State"])
                  for r in rows) == [
        ("cinder-scheduler", C1, "nova", "enabled", "up"),
        ("cinder-scheduler", C2, "nova", "enabled", "up"),
        ("cinder-volume", f"{C1}@lvm", "nova", "enabled", "up"),
        ("cinder-volume", f"{C2}@lvm", "nova", "enabled", "up")]


def test_volume_service_set_disable_and_enable(live: LiveCloud) -> None:
    live.openstack("volume", "service", "set", "--disable", "--disable-reason", "maint",
                   f"{C2}@lvm", "cinder-volume")
    rows = live.openstack_json("volume", "service", "list", "--long",
                               "--service", "cinder-volume")
    row = next(r for r in rows if r["Host"] == f"{C2}@lvm")
    assert (row["Status"], row["Disabled Reason"]) == ("disabled", "maint")
    live.openstack("volume", "service", "set", "--enable", f"{C2}@lvm", "cinder-volume")
    rows = live.openstack_json("volume", "service", "list", "--host", f"{C2}@lvm")
    assert [r["Status"] for r in rows] == ["enabled"]


def test_the_sdk_finds_block_storage(live: LiveCloud) -> None:
    conn = live.connect()
    services = list(conn.block_storage.services())
    assert {(s.binary, s.host) for s in services} >= {("cinder-volume", f"{C1}@lvm")}
    version = conn.block_storage.get_endpoint()
    assert version.rstrip("/").endswith("/volume/v3")
