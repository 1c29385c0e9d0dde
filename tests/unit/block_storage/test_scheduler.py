"""cinder's filter scheduler as pure functions: filters, the capacity weigher, the log."""

from __future__ import annotations

from dataclasses import replace

from stacklab.block_storage.scheduler import (
    PoolState,
    Request,
    capacity_passes,
    schedule,
    spec_matches,
    virtual_free,
)

A = PoolState(host="a@lvm", pool="lvm", zone="nova", up=True, disabled=False,
              total_capacity_gb=100, free_capacity_gb=100, provisioned_capacity_gb=0,
              max_over_subscription_ratio=20.0, reserved_percentage=0,
              thin_provisioning_support=True,
              capabilities={"volume_backend_name": "lvm", "multiattach": True,
                            "storage_protocol": "iSCSI", "total_capacity_gb": 100})
B = replace(A, host="b@lvm")


def test_the_most_virtual_free_space_wins_and_ties_go_by_name() -> None:
    request = Request(1, "nova", {})
    assert schedule([B, A], request).chosen == A
    busy = replace(A, provisioned_capacity_gb=50)
    assert schedule([busy, B], request).chosen == B
    assert virtual_free(busy, request) == 100 * 20 - 50


def test_down_and_disabled_backends_are_not_candidates() -> None:
    decision = schedule([replace(A, up=False), replace(B, disabled=True)], Request(1, None, {}))
    assert decision.chosen is None
    assert decision.log == ["volume service is down. (host: a@lvm)",
                            "No valid backend was found. No weighed backends available"]


def test_thin_capacity_allows_over_subscription_up_to_the_ratio() -> None:
    log: list[str] = []
    assert capacity_passes(A, Request(1500, None, {}), log)
    assert not capacity_passes(A, Request(2001, None, {}), log)
    assert "maximum over subscription ratio 20.00" in log[-1]
    # Thick provisioning asked by the type: only the real free space counts.
    thick = {"provisioning:type": "thick"}
    assert capacity_passes(A, Request(100, None, thick), log)
    assert not capacity_passes(A, Request(101, None, thick), log)
    reserved = replace(A, reserved_percentage=10, thin_provisioning_support=False)
    assert not capacity_passes(reserved, Request(91, None, {}), log)


def test_capabilities_and_zones_filter() -> None:
    wanted = Request(1, None, {"volume_backend_name": "lvm", "multiattach": "<is> True"})
    assert schedule([A], wanted).chosen == A
    assert schedule([A], Request(1, None, {"volume_backend_name": "ceph"})).chosen is None
    # Keys of other scopes are not capabilities; capabilities: scoped ones are.
    assert schedule([A], Request(1, None, {"qos:iops": "5"})).chosen == A
    assert schedule([A], Request(1, None, {"capabilities:storage_protocol":
                                           "<in> iSCSI"})).chosen == A
    assert schedule([A], Request(1, None, {"tier": "gold"})).chosen is None
    assert schedule([A], Request(1, "other", {})).chosen is None
    assert schedule([A], Request(1, None, {"RESKEY:availability_zones": "az1, az2"})
                    ).chosen is None


def test_a_copy_stays_on_its_sources_backend() -> None:
    assert schedule([A, B], Request(1, None, {}, resource_backend="b@lvm")).chosen == B
    assert schedule([replace(A, up=False), B],
                    Request(1, None, {}, resource_backend="a@lvm")).chosen is None


def test_extra_spec_operators() -> None:
    assert spec_matches(True, "<is> True") and not spec_matches(False, "<is> True")
    assert spec_matches(100, ">= 50") and not spec_matches(10, ">= 50")
    assert spec_matches(100, "= 50")  # cinder's "=" is "at least"
    assert spec_matches("b", "<or> a <or> b") and not spec_matches("c", "<or> a <or> b")
    assert spec_matches("lvm", "lvm") and spec_matches("abc", "s== abc")
    assert not spec_matches("x", ">= 5")
