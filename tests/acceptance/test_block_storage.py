"""Block Storage with the real clients: the volume services of the lab."""

from __future__ import annotations

from typing import Any

import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample

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


def _get(conn: Any, path: str, version: str = "3.70") -> Any:
    response = conn.block_storage.get(path, microversion=version)
    assert response.status_code == 200, response.text
    return response.json()


def test_volume_types_with_the_cli(live: LiveCloud) -> None:
    made = live.openstack_json("volume", "type", "create", "--private", "--property",
                               "volume_backend_name=lvm", "--description", "cli type",
                               "acc-gold")
    assert made["name"] == "acc-gold" and made["is_public"] is False
    live.openstack("volume", "type", "set", "--property", "tier=1", "acc-gold")
    live.openstack("volume", "type", "set", "--project", "admin", "acc-gold")
    shown = live.openstack_json("volume", "type", "show", "acc-gold")
    assert shown["properties"] == {"volume_backend_name": "lvm", "tier": "1"}
    assert shown["access_project_ids"]
    listed = live.openstack_json("volume", "type", "list", "--long")
    assert "acc-gold" in [row["Name"] for row in listed]
    conn = live.connect()
    body = _get(conn, f"/types/{made['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/types/{id}", "get"))
    assert_shape_like_sample(body, sample(
        "cinder", "api-ref/source/v3/samples/volume_type/volume-type-show-response.json"),
        ignore={"$.volume_type.extra_specs"})
    listing = _get(conn, "/types?is_public=none")
    assert_valid(listing, openapi_response_schema("block-storage", "/v3/types", "get"))
    live.openstack("volume", "type", "unset", "--property", "tier", "acc-gold")
    live.openstack("volume", "type", "delete", "acc-gold")
    assert live.openstack("volume", "type", "show", "acc-gold", check=False).returncode != 0


def test_qos_specs_with_the_cli(live: LiveCloud) -> None:
    qos = live.openstack_json("volume", "qos", "create", "--consumer", "front-end",
                              "--property", "total_iops_sec=500", "acc-qos")
    assert qos["consumer"] == "front-end"
    live.openstack("volume", "type", "create", "acc-qos-type")
    live.openstack("volume", "qos", "associate", "acc-qos", "acc-qos-type")
    shown = live.openstack_json("volume", "qos", "show", "acc-qos")
    assert shown["associations"] == ["acc-qos-type"] or "acc-qos-type" in str(
        shown["associations"])
    conn = live.connect()
    body = _get(conn, f"/qos-specs/{qos['id']}")
    assert_valid(body, openapi_response_schema("block-storage", "/v3/qos-specs/{id}", "get"))
    live.openstack("volume", "qos", "disassociate", "--all", "acc-qos")
    live.openstack("volume", "qos", "delete", "acc-qos")
    live.openstack("volume", "type", "delete", "acc-qos-type")


def test_availability_zones_list_the_volume_zone(live: LiveCloud) -> None:
    rows = live.openstack_json("availability", "zone", "list", "--volume")
    assert [(r["Zone Name"], r["Zone Status"]) for r in rows] == [("nova", "available")]
