"""``/v2.0/service-providers`` and the extensions that announce what Tempest looks for."""

from __future__ import annotations

from starlette.testclient import TestClient

from support.apiref import assert_shape_like_sample, sample
from unit.network.neutron_client import Neutron, Tenant, member


def test_the_l3_plugin_s_providers_are_listed(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    body = a.neutron.ok("GET", "/v2.0/service-providers")
    # (The OpenAPI spec types "default" as a string; neutron and its sample: a boolean.)
    assert_shape_like_sample(body, sample(
        "neutron", "api-ref/source/v2/samples/service-type-response.json"), allow_extra=False)
    assert [(p["service_type"], p["name"], p["default"]) for p in body["service_providers"]] \
        == [("L3_ROUTER_NAT", name, False) for name in ("dvrha", "dvr", "ha", "single_node")]
    only = a.neutron.ok("GET", "/v2.0/service-providers?name=ha&fields=name")
    assert only == {"service_providers": [{"name": "ha"}]}


def test_a_user_with_no_reader_role_sees_no_provider(client: TestClient,
                                                      admin: Neutron) -> None:
    # get_service_provider is role:reader; a role that implies none sees an empty list.
    other = member(client, admin, "no-reader", role="service")
    assert other.neutron.ok("GET", "/v2.0/service-providers") == {"service_providers": []}


def test_the_extensions_tempest_probes_are_advertised(admin: Neutron) -> None:
    aliases = {e["alias"] for e in admin.ok("GET", "/v2.0/extensions")["extensions"]}
    assert {"metering", "metering_source_and_destination_fields", "service-type",
            "ip-substring-filtering", "standard-attr-tag"} <= aliases
    # neutron's tag plugin announces standard-attr-tag only; the old "tag" (networks only)
    # is gone upstream, and Tempest's TagsTest skips without it, as against neutron.
    assert "tag" not in aliases
    shown = admin.ok("GET", "/v2.0/extensions/metering")["extension"]
    assert (shown["name"], shown["description"]) == ("Neutron Metering",
                                                     "Neutron Metering extension.")
