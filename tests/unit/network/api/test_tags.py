"""Tags given in a body: ``POST /v2.0/<collection>/<id>/tags`` (neutron's tag-creation, which
adds), and a port's ``tags`` in its create body (tag-ports-during-bulk-creation), one port or
a bulk; every other resource refuses ``tags`` on create, as upstream's attribute map does."""

from __future__ import annotations

from typing import Any

import pytest

from unit.network.neutron_client import Neutron, Tenant, expect_error


@pytest.fixture
def taggable(admin: Neutron) -> dict[str, str]:
    """One resource of each kind the tag routes serve: collection path -> id."""
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]["id"]
    network = admin.create("networks", "network", name="tagged")
    subnet = admin.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                          cidr="10.3.0.0/24")
    port = admin.create("ports", "port", network_id=network["id"])
    router = admin.create("routers", "router", name="tagged")
    fip = admin.create("floatingips", "floatingip", floating_network_id=public)
    group = admin.create("security-groups", "security_group", name="tagged")
    pool = admin.create("subnetpools", "subnetpool", name="tagged", prefixes=["10.201.0.0/16"])
    return {"networks": network["id"], "subnets": subnet["id"], "ports": port["id"],
            "routers": router["id"], "floatingips": fip["id"],
            "security-groups": group["id"], "subnetpools": pool["id"]}


def test_tag_creation_is_advertised(admin: Neutron) -> None:
    aliases = {e["alias"] for e in admin.ok("GET", "/v2.0/extensions")["extensions"]}
    assert {"standard-attr-tag", "tag-creation", "tag-ports-during-bulk-creation"} <= aliases
    shown = admin.ok("GET", "/v2.0/extensions/tag-creation")["extension"]
    assert shown["name"] == "Tag creation extension"


@pytest.mark.parametrize("collection", ["networks", "subnets", "ports", "routers",
                                        "floatingips", "security-groups", "subnetpools"])
def test_post_adds_tags_to_each_taggable_resource(admin: Neutron, taggable: dict[str, str],
                                                  collection: str) -> None:
    member = f"/v2.0/{collection}/{taggable[collection]}"
    admin.ok("PUT", f"{member}/tags/old", status=201)
    before = admin.ok("GET", member)
    body = admin.ok("POST", f"{member}/tags", {"tags": ["a/b", "c,d", "old"]}, 201)
    # The answer is the body's tags; the resource keeps its own and gains the new ones.
    assert body == {"tags": ["a/b", "c,d", "old"]}
    assert admin.ok("GET", f"{member}/tags")["tags"] == ["old", "a/b", "c,d"]
    after = admin.ok("GET", member)
    key = next(iter(after))
    assert after[key]["tags"] == ["old", "a/b", "c,d"]
    assert after[key]["revision_number"] == before[key]["revision_number"] + 1


def test_post_of_tags_already_there_changes_nothing(admin: Neutron,
                                                    taggable: dict[str, str]) -> None:
    member = f"/v2.0/networks/{taggable['networks']}"
    admin.ok("POST", f"{member}/tags", {"tags": ["x", "y"]}, 201)
    revision = admin.ok("GET", member)["network"]["revision_number"]
    assert admin.ok("POST", f"{member}/tags", {"tags": ["y"]}, 201) == {"tags": ["y"]}
    network = admin.ok("GET", member)["network"]
    assert network["tags"] == ["x", "y"]
    assert network["revision_number"] == revision
    assert admin.ok("POST", f"{member}/tags", {"tags": []}, 201) == {"tags": []}
    assert admin.ok("GET", f"{member}/tags")["tags"] == ["x", "y"]


@pytest.mark.parametrize(("body", "message"), [
    ({}, "Invalid input for operation: Invalid tags body."),
    ({"tag": ["a"]}, "Invalid input for operation: Invalid tags body."),
    ({"tags": "a"}, "Invalid input for operation: 'a' is not a list."),
    ({"tags": ["a", "a"]}, "Invalid input for operation: Duplicate items in the list: 'a'."),
    ({"tags": ["a", 7]}, "Invalid input for operation: '7' is not a valid string."),
    ({"tags": ["x" * 256]}, f"Invalid input for operation: '{'x' * 256}' exceeds maximum "
                            "length of 255."),
])
def test_post_refuses_what_neutron_refuses(admin: Neutron, taggable: dict[str, str],
                                           body: Any, message: str) -> None:
    member = f"/v2.0/networks/{taggable['networks']}"
    expect_error(admin.call("POST", f"{member}/tags", body), 400, "InvalidInput", message)
    assert admin.ok("GET", f"{member}/tags")["tags"] == []


def test_post_counts_the_bodys_tags_against_the_limit(admin: Neutron,
                                                      taggable: dict[str, str]) -> None:
    fifty_one = [f"t{n}" for n in range(51)]
    for collection, name in (("networks", "networks"), ("security-groups", "security_groups")):
        member = f"/v2.0/{collection}/{taggable[collection]}"
        expect_error(admin.call("POST", f"{member}/tags", {"tags": fifty_one}), 400,
                     "BadRequest", f"Bad {name} request: The number of tags exceed the "
                     "per-resource limit of 50.")
        assert admin.ok("GET", f"{member}/tags")["tags"] == []
    member = f"/v2.0/ports/{taggable['ports']}"
    admin.ok("POST", f"{member}/tags", {"tags": fifty_one[:50]}, 201)
    assert len(admin.ok("GET", f"{member}/tags")["tags"]) == 50


def test_post_on_what_the_caller_cannot_see_is_its_404(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant],
        taggable: dict[str, str]) -> None:
    a, b, _ = tenants
    own = a.neutron.create("networks", "network", name="a-net")
    response = b.neutron.call("POST", f"/v2.0/networks/{own['id']}/tags", {"tags": ["x"]})
    expect_error(response, 404, "NetworkNotFound")
    expect_error(admin.call("POST", "/v2.0/widgets/x/tags", {"tags": ["x"]}), 404,
                 "HTTPNotFound")
    assert a.neutron.ok("POST", f"/v2.0/networks/{own['id']}/tags", {"tags": ["x"]}, 201)
    assert admin.ok("GET", f"/v2.0/networks/{own['id']}")["network"]["tags"] == ["x"]


def test_a_port_takes_its_tags_on_create(admin: Neutron, taggable: dict[str, str]) -> None:
    network = taggable["networks"]
    port = admin.create("ports", "port", network_id=network, tags=["red", "a,b/c"])
    assert port["tags"] == ["red", "a,b/c"]
    assert admin.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["tags"] == ["red", "a,b/c"]
    assert admin.ok("GET", "/v2.0/ports?tags=red")["ports"][0]["id"] == port["id"]
    assert admin.create("ports", "port", network_id=network, tags=[])["tags"] == []
    assert admin.create("ports", "port", network_id=network)["tags"] == []


def test_a_bulk_of_ports_each_with_its_tags(admin: Neutron, taggable: dict[str, str]) -> None:
    network = taggable["networks"]
    made = admin.ok("POST", "/v2.0/ports", {"ports": [
        {"network_id": network, "name": "b0", "tags": ["one"]},
        {"port": {"network_id": network, "name": "b1", "tags": ["two", "three"]}},
        {"network_id": network, "name": "b2"}]}, 201)["ports"]
    assert [(p["name"], p["tags"]) for p in made] == [
        ("b0", ["one"]), ("b1", ["two", "three"]), ("b2", [])]


def test_a_bulk_with_one_bad_tag_list_makes_no_port(admin: Neutron,
                                                    taggable: dict[str, str]) -> None:
    network = taggable["networks"]
    count = len(admin.ok("GET", "/v2.0/ports")["ports"])
    response = admin.call("POST", "/v2.0/ports", {"ports": [
        {"network_id": network, "tags": ["fine"]},
        {"network_id": network, "tags": ["dup", "dup"]}]})
    expect_error(response, 400, "HTTPBadRequest",
                 "Invalid input for tags. Reason: Duplicate items in the list: 'dup'.")
    assert len(admin.ok("GET", "/v2.0/ports")["ports"]) == count


@pytest.mark.parametrize(("tags", "reason"), [
    ("red", "'red' is not a list"),
    ([["red"]], "'['red']' is not a valid string"),
    (["y" * 256], f"'{'y' * 256}' exceeds maximum length of 255"),
])
def test_a_ports_tags_are_checked_by_the_attribute_map(admin: Neutron, taggable: dict[str, str],
                                                       tags: Any, reason: str) -> None:
    response = admin.call("POST", "/v2.0/ports", {"port": {
        "network_id": taggable["networks"], "tags": tags}})
    expect_error(response, 400, "HTTPBadRequest", f"Invalid input for tags. Reason: {reason}.")


def test_a_ports_tags_change_only_through_its_tags(admin: Neutron,
                                                   taggable: dict[str, str]) -> None:
    port = f"/v2.0/ports/{taggable['ports']}"
    expect_error(admin.call("PUT", port, {"port": {"tags": ["x"]}}), 400, "HTTPBadRequest",
                 "Cannot update read-only attribute tags")


@pytest.mark.parametrize(("collection", "member", "fields"), [
    ("networks", "network", {"name": "n"}),
    ("routers", "router", {"name": "r"}),
    ("security-groups", "security_group", {"name": "g"}),
])
def test_other_resources_refuse_tags_on_create(admin: Neutron, collection: str, member: str,
                                               fields: dict[str, Any]) -> None:
    # Only ports have tag-ports-during-bulk-creation; the others' tags go through /tags.
    response = admin.call("POST", f"/v2.0/{collection}", {member: {**fields, "tags": ["x"]}})
    expect_error(response, 400, "HTTPBadRequest", "Unrecognized attribute(s) 'tags'")
