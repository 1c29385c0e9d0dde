"""nova's admin APIs with the real CLI: aggregates and the zones they make, hypervisor
show (which reads aggregates), usage, and the default quota class."""

from __future__ import annotations

import uuid

import pytest

from acceptance.conftest import LiveCloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_cli_aggregate_puts_a_host_in_a_zone(live: LiveCloud) -> None:
    name, zone = unique("agg"), unique("az")
    host = "compute2.openstack.local"
    created = live.openstack_json("aggregate", "create", "--zone", zone, name)
    assert created["availability_zone"] == zone
    try:
        live.openstack("aggregate", "add", "host", name, host)
        live.openstack("aggregate", "set", "--property", "ssd=true", name)
        shown = live.openstack_json("aggregate", "show", name)
        assert shown["hosts"] == [host]
        assert shown["properties"] == {"ssd": "true"}
        # An admin's listing is the detailed one, the services' internal zone included.
        zones = live.openstack_json("availability", "zone", "list", "--compute")
        assert {(z["Zone Name"], z["Zone Status"]) for z in zones} == {
            (zone, "available"), ("nova", "available"), ("internal", "available")}
        long = live.openstack_json("availability", "zone", "list", "--compute", "--long")
        assert {z["Host Name"] for z in long if z["Zone Name"] == zone} == {host}
        hypervisor = live.openstack_json("hypervisor", "show", host)
        assert hypervisor["aggregates"] == [name]
        image = live.openstack_json("image", "list")[0]["ID"]
        live.openstack("--os-compute-api-version", "2.81", "aggregate", "cache", "image",
                       name, image)
        other = unique("agg")
        live.openstack("aggregate", "create", "--zone", unique("az"), other)
        refused = live.openstack("aggregate", "add", "host", other, host, check=False)
        assert refused.returncode != 0 and "409" in refused.stderr
        live.openstack("aggregate", "delete", other)
    finally:
        live.openstack("aggregate", "remove", "host", name, host, check=False)
        live.openstack("aggregate", "delete", name, check=False)
    assert name not in {a["Name"] for a in live.openstack_json("aggregate", "list")}
    zones = live.openstack_json("availability", "zone", "list", "--compute")
    assert {z["Zone Name"] for z in zones} == {"nova", "internal"}


def test_cli_host_list_and_show(live: LiveCloud) -> None:
    hosts = live.openstack_json("host", "list")
    assert {(h["Host Name"], h["Service"], h["Zone"]) for h in hosts} >= {
        ("compute1.openstack.local", "compute", "nova"),
        ("controller1.openstack.local", "scheduler", "internal")}
    shown = live.openstack_json("host", "show", "compute1.openstack.local")
    assert [row["Project"] for row in shown][:3] == ["(total)", "(used_now)", "(used_max)"]


def test_cli_hypervisor_show_and_usage_list(live: LiveCloud) -> None:
    shown = live.openstack_json("hypervisor", "show", "compute1.openstack.local")
    assert shown["hypervisor_hostname"] == "compute1.openstack.local"
    assert shown["aggregates"] == []
    assert isinstance(live.openstack_json("usage", "list"), list)
    mine = live.openstack_json("usage", "show", "--project", "admin")
    assert set(mine) >= {"Servers", "RAM MB-Hours", "CPU Hours", "Disk GB-Hours"}


def test_cli_default_quota_class_is_every_projects_default(live: LiveCloud) -> None:
    # This client has no "quota show --class"; the defaults it shows are the class's.
    def defaults() -> dict[str, int]:
        rows = live.openstack_json("quota", "show", "--default", "--compute")
        return {row["Resource"]: row["Limit"] for row in rows}

    before = defaults()["key-pairs"]
    live.openstack("quota", "set", "--class", "--key-pairs", "77", "default")
    try:
        assert defaults()["key-pairs"] == 77
    finally:
        live.openstack("quota", "set", "--class", "--key-pairs", str(before), "default")
