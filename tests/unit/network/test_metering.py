"""neutron's metering labels and rules: the plugin's checks of a rule (no HTTP), then the routes
on the generic controller, their policy (a project's manager or an admin) and bodies checked
against neutron's API reference."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.api.errors import ApiError
from stacklab.network import metering
from stacklab.network.service import NetworkService
from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.network.neutron_client import Neutron, Tenant, expect_error

LABELS = "/v2.0/metering/metering-labels"
RULES = "/v2.0/metering/metering-label-rules"
SAMPLES = "api-ref/source/v2/samples/metering"


# -- the domain ----------------------------------------------------------------------------------


def test_a_rule_s_prefixes_are_stored_as_networks() -> None:
    assert metering.check_rule({"remote_ip_prefix": "10.0.0.7/24"}) == {
        "remote_ip_prefix": "10.0.0.0/24", "source_ip_prefix": None,
        "destination_ip_prefix": None}
    assert metering.check_rule({"source_ip_prefix": "fd02::1/64",
                                "destination_ip_prefix": "192.168.0.0/16"}) == {
        "remote_ip_prefix": None, "source_ip_prefix": "fd02::/64",
        "destination_ip_prefix": "192.168.0.0/16"}


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "You must define at least one of the following parameters 'remote_ip_prefix', or "
         "'source_ip_prefix' or 'destination_ip_prefix'."),
    ({"remote_ip_prefix": "10.0.0.0/24", "source_ip_prefix": "10.1.0.0/24"},
     "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or "
     "'destination-ip-prefix'."),
])
def test_a_rule_needs_one_kind_of_prefix(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as refused:
        metering.check_rule(fields)
    assert (refused.value.status, refused.value.kind, refused.value.message) == (
        400, "Invalid", message)


def test_a_prefix_that_is_no_address_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        metering.check_rule({"destination_ip_prefix": "10.0.0.300/24"})
    assert refused.value.status == 400
    assert refused.value.message.startswith("destination_ip_prefix: 10.0.0.300/24 is invalid [")


def test_overlapping_remote_prefixes_conflict_within_label_direction_and_exclusion(
        service: NetworkService) -> None:
    with service.db.session() as session:
        label = service.metering.add_label(session, "p1", {"name": "l"})
        session.flush()
        service.metering.add_rule(session, label, {"direction": "ingress",
                                                   "remote_ip_prefix": "10.0.0.0/16"})
        session.flush()
        with pytest.raises(ApiError) as refused:
            service.metering.add_rule(session, label, {"direction": "ingress",
                                                       "remote_ip_prefix": "10.0.3.0/24"})
        assert (refused.value.status, refused.value.kind, refused.value.message) == (
            409, "MeteringLabelRuleOverlaps",
            "Metering label rule with remote_ip_prefix '10.0.3.0/24' overlaps another.")
        # Another direction, an exclusion or another family is no overlap.
        service.metering.add_rule(session, label, {"direction": "egress",
                                                   "remote_ip_prefix": "10.0.3.0/24"})
        service.metering.add_rule(session, label, {"direction": "ingress", "excluded": True,
                                                   "remote_ip_prefix": "10.0.3.0/24"})
        service.metering.add_rule(session, label, {"direction": "ingress",
                                                   "remote_ip_prefix": "fd00::/8"})


# -- the routes ----------------------------------------------------------------------------------


def _without_nulls(node: Any) -> Any:
    # The spec types the prefixes a rule leaves unset as strings; neutron shows them null.
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(item) for item in node]
    return node


def _spec(body: Any, path: str, method: str, status: int) -> None:
    assert_valid(_without_nulls(body),
                 openapi_response_schema("network", path, method, str(status)),
                 where=f"{method} {path}")


def test_an_admin_creates_lists_shows_and_deletes_labels_and_rules(admin: Neutron) -> None:
    request = sample("neutron", f"{SAMPLES}/metering-label-create-request.json")
    label = admin.ok("POST", LABELS, request, 201)
    _spec(label, LABELS, "post", 201)
    assert_shape_like_sample(label, sample(
        "neutron", f"{SAMPLES}/metering-label-create-response.json"), allow_extra=False)
    label = label["metering_label"]
    assert (label["name"], label["shared"]) == ("label1", False)

    rule_request = sample("neutron", f"{SAMPLES}/metering-label-rule-create-request.json")
    rule_request["metering_label_rule"]["metering_label_id"] = label["id"]
    rule = admin.ok("POST", RULES, rule_request, 201)
    _spec(rule, RULES, "post", 201)
    assert_shape_like_sample(rule, sample(
        "neutron", f"{SAMPLES}/metering-label-rule-create-response.json"))
    rule = rule["metering_label_rule"]
    assert (rule["remote_ip_prefix"], rule["direction"], rule["excluded"]) == (
        "10.0.1.0/24", "ingress", False)

    labels = admin.ok("GET", f"{LABELS}?id={label['id']}")
    _spec(labels, LABELS, "get", 200)
    assert [x["id"] for x in labels["metering_labels"]] == [label["id"]]
    assert admin.ok("GET", f"{LABELS}?id=33")["metering_labels"] == []
    rules = admin.ok("GET", f"{RULES}?metering_label_id={label['id']}")
    _spec(rules, RULES, "get", 200)
    assert [x["id"] for x in rules["metering_label_rules"]] == [rule["id"]]
    shown = admin.ok("GET", f"{RULES}/{rule['id']}")
    _spec(shown, f"{RULES}/{{id}}", "get", 200)
    assert shown["metering_label_rule"] == rule

    # A label goes with its rules.
    admin.ok("DELETE", f"{LABELS}/{label['id']}", status=204)
    expect_error(admin.call("GET", f"{RULES}/{rule['id']}"), 404, "MeteringLabelRuleNotFound",
                 f"Metering label rule '{rule['id']}' does not exist.")
    expect_error(admin.call("DELETE", f"{LABELS}/{label['id']}"), 404, "MeteringLabelNotFound",
                 f"Metering label '{label['id']}' does not exist.")


def test_labels_and_rules_are_never_updated(admin: Neutron) -> None:
    label = admin.create("metering/metering-labels", "metering_label", name="l")
    response = admin.call("PUT", f"{LABELS}/{label['id']}", {"metering_label": {"name": "x"}})
    assert response.status_code == 405


def test_a_rule_in_a_missing_label_is_not_found(admin: Neutron) -> None:
    missing = "7c1c6ab9-3a52-4a8e-9d2b-1f0c2b0f4e11"
    expect_error(admin.call("POST", RULES, {"metering_label_rule": {
        "metering_label_id": missing, "direction": "ingress",
        "remote_ip_prefix": "10.0.0.0/24"}}), 404, "MeteringLabelNotFound")


def test_a_member_may_not_meter_but_a_manager_may(
        client: Any, admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    from unit.network.neutron_client import member

    a = tenants[0]
    expect_error(a.neutron.call("POST", LABELS, {"metering_label": {"name": "l"}}), 403,
                 "PolicyNotAuthorized", "rule:create_metering_label is disallowed by policy")
    manager = member(client, admin, "proj-m", role="manager")
    label = manager.neutron.create("metering/metering-labels", "metering_label", name="mine")
    assert label["project_id"] == manager.project_id
    manager.neutron.create("metering/metering-label-rules", "metering_label_rule",
                           metering_label_id=label["id"], direction="egress",
                           destination_ip_prefix="0.0.0.0/0")
    # Another project sees neither the label nor its rules.
    assert a.neutron.ok("GET", LABELS)["metering_labels"] == []
    assert a.neutron.ok("GET", RULES)["metering_label_rules"] == []
    expect_error(a.neutron.call("POST", RULES, {"metering_label_rule": {
        "metering_label_id": label["id"], "direction": "ingress",
        "remote_ip_prefix": "10.0.0.0/24"}}), 404, "MeteringLabelNotFound")
