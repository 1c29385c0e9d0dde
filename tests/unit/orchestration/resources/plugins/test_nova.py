"""OS::Nova::* plugins driven as heat-engine drives them, against the lab's real nova."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourceFailure, UpdateReplace
from stacklab.orchestration.template.errors import StackValidationFailed
from unit.orchestration.resources.plugins.conftest import Lab, LabContext, run

NET = "/networking/v2.0"
NOVA = "/compute/v2.1"


def plugin(name: str) -> Any:
    found = registry.get(name)
    assert found is not None, name
    return found()


async def network(lab: Lab, cidr: str = "10.20.0.0/24") -> tuple[str, str]:
    """A demo network named "private" with one subnet: (network, subnet)."""
    net_id, _ = await lab.create(plugin("OS::Neutron::Net"), await lab.context("net"),
                                 {"name": "private"})
    subnet_id, _ = await lab.create(plugin("OS::Neutron::Subnet"),
                                    await lab.context("subnet"),
                                    {"network": net_id, "cidr": cidr, "name": "private-a"})
    return str(net_id), str(subnet_id)


async def image(lab: Lab) -> dict[str, Any]:
    images: list[dict[str, Any]] = (await lab.get("/image/v2/images"))["images"]
    return images[0]


async def server_show(lab: Lab, server_id: str, expect: int = 200) -> Any:
    shown = await lab.get(f"{NOVA}/servers/{server_id}", expect=expect)
    return shown["server"] if shown and expect == 200 else shown


def test_a_server_boots_on_a_network_resizes_renames_and_goes() -> None:
    async def scenario(lab: Lab) -> None:
        net_id, subnet_id = await network(lab)
        booted_from = await image(lab)
        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        # Flavor and image by name, the network by name with a fixed IP, a subnet entry
        # (heat makes that port itself) and metadata that is not all strings.
        server_id, props = await lab.create(server, ctx, {
            "flavor": "m1.tiny", "image": booted_from["name"], "user_data_format": "RAW",
            "user_data": "#!/bin/sh\necho hi\n", "metadata": {"role": "web", "n": 2},
            "networks": [{"network": "private", "fixed_ip": "10.20.0.10"},
                         {"subnet": subnet_id}]})
        shown = await server_show(lab, server_id)
        assert shown["status"] == "ACTIVE" and shown["name"] == ctx.physical_name()
        assert shown["flavor"]["id"] == "1"  # m1.tiny (nova 2.1 shows the flavor's id)
        assert shown["metadata"] == {"role": "web", "n": "2"}
        ports = (await lab.get(f"{NET}/ports?device_id={server_id}"))["ports"]
        addresses = sorted(p["fixed_ips"][0]["ip_address"] for p in ports)
        assert len(ports) == 2 and "10.20.0.10" in addresses
        internal = [p for p in ports if p["name"] == "server-port-1"]
        assert len(internal) == 1 and internal[0]["fixed_ips"][0]["subnet_id"] == subnet_id

        attributes = await server.attributes(ctx, server_id, props)
        assert attributes["name"] == ctx.physical_name()
        assert attributes["first_address"] in addresses
        assert sorted(attributes["networks"]["private"]) == addresses
        assert attributes["networks"][net_id] == attributes["networks"]["private"]
        assert {a["OS-EXT-IPS:type"] for a in attributes["addresses"]["private"]} == {"fixed"}
        assert attributes["addresses"]["private"][0]["network"]["id"] == net_id
        assert attributes["console_urls"]["novnc"].startswith("http")
        assert attributes["console_urls"]["rdp-html5"].startswith("Cannot get console url: ")
        assert attributes["show"]["id"] == server_id

        # A name changes in place; a flavor by resize, then confirmed (RESIZE policy).
        props = await lab.update(server, ctx, server_id, props, {
            **_given(props), "name": "web-1", "flavor": "m1.small"})
        shown = await server_show(lab, server_id)
        assert (shown["name"], shown["status"]) == ("web-1", "ACTIVE")
        assert shown["flavor"]["id"] == "2"  # m1.small
        migrations = (await lab.get(f"{NOVA}/os-migrations?instance_uuid={server_id}"))
        assert [m["status"] for m in migrations["migrations"]] == ["confirmed"]

        # A new image rebuilds the server where it is.
        props = await lab.update(server, ctx, server_id, props, {
            **_given(props), "image": booted_from["id"], "metadata": {"role": "db"}})
        shown = await server_show(lab, server_id)
        assert shown["status"] == "ACTIVE" and shown["metadata"] == {"role": "db"}

        # A key pair cannot be added in place: the engine replaces the server.
        with pytest.raises(UpdateReplace):
            await lab.update(server, ctx, server_id, props, {**_given(props),
                                                             "key_name": "k"})

        await lab.delete(server, ctx, server_id, props)
        await server_show(lab, server_id, expect=404)
        # heat's own port went with the server; nova's port on "private" too.
        assert (await lab.get(f"{NET}/ports?device_id={server_id}"))["ports"] == []
        assert (await lab.get(f"{NET}/ports/{internal[0]['id']}", expect=404))

    run(scenario)


def _given(props: dict[str, Any]) -> dict[str, Any]:
    """The properties a template gave (defaults of None left out)."""
    return {k: v for k, v in props.items() if v is not None}


def test_flavor_update_policy_replace_replaces() -> None:
    async def scenario(lab: Lab) -> None:
        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        server_id, props = await lab.create(server, ctx, {
            "flavor": "1", "image": (await image(lab))["id"],
            "networks": [{"allocate_network": "none"}], "flavor_update_policy": "REPLACE"})
        with pytest.raises(UpdateReplace):
            await lab.update(server, ctx, server_id, props, {**_given(props), "flavor": "2"})
        await lab.delete(server, ctx, server_id, props)

    run(scenario)


def test_a_server_in_error_fails_with_heats_reason() -> None:
    async def scenario(lab: Lab) -> None:
        admin = await lab.admin_context("flavor")
        flavor = plugin("OS::Nova::Flavor")
        # No hypervisor of the lab has this much memory: nova's scheduler finds no host.
        flavor_id, flavor_props = await lab.create(flavor, admin, {
            "name": "huge", "ram": 50_000, "vcpus": 1, "disk": 1, "extra_specs": {"hw:a": "b"}})
        attributes = await flavor.attributes(admin, flavor_id, flavor_props)
        assert attributes["is_public"] is True and attributes["extra_specs"] == {"hw:a": "b"}

        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(server, ctx, {"flavor": "huge", "image": (await image(lab))["id"],
                                           "networks": [{"allocate_network": "none"}]})
        assert str(caught.value).startswith(
            'Went to status ERROR due to "Message: No valid host was found.')
        assert str(caught.value).endswith(', Code: 500"')

        missing = plugin("OS::Nova::Server")
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(missing, ctx, {"flavor": "no-such", "image": "cirros"})
        assert str(caught.value) == "The Flavor (no-such) could not be found."
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(missing, ctx, {"flavor": "1", "image": "no-such-image"})
        assert str(caught.value) == "The Image (no-such-image) could not be found."
        await lab.delete(flavor, admin, flavor_id, flavor_props)
        await lab.get(f"{NOVA}/flavors/{flavor_id}", expect=404)

    run(scenario)


def test_a_server_on_a_port_and_another_projects_network() -> None:
    async def scenario(lab: Lab) -> None:
        net_id, _ = await network(lab)
        port_id, _ = await lab.create(
            plugin("OS::Neutron::Port"), await lab.context("port"), {"network": net_id})
        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        server_id, props = await lab.create(server, ctx, {
            "flavor": "1", "image": (await image(lab))["id"], "networks": [{"port": port_id}]})
        assert (await lab.get(f"{NET}/ports/{port_id}"))["port"]["device_id"] == server_id
        await lab.delete(server, ctx, server_id, props)
        # A port the template made apart stays, unbound, for its own resource to delete.
        assert (await lab.get(f"{NET}/ports/{port_id}"))["port"]["device_id"] == ""

        other: LabContext = await lab.context("server", project="other")
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(server, other, {"flavor": "1", "image": (await image(lab))["id"],
                                             "networks": [{"network": net_id}]})
        assert str(caught.value) == f"Unable to find network with name or id '{net_id}'"

    run(scenario)


def test_keypair_generated_and_kept_and_server_group() -> None:
    async def scenario(lab: Lab) -> None:
        keypair = plugin("OS::Nova::KeyPair")
        ctx = await lab.context("key")
        name, props = await lab.create(keypair, ctx, {"name": "k1", "save_private_key": True})
        attributes = await keypair.attributes(ctx, name, props)
        assert attributes["public_key"].startswith("ssh-")
        assert "PRIVATE KEY" in attributes["private_key"]
        assert ctx.data["private_key"] == attributes["private_key"]
        await lab.delete(keypair, ctx, name, props)

        group = plugin("OS::Nova::ServerGroup")
        gctx = await lab.context("group")
        group_id, group_props = await lab.create(group, gctx, {
            "policies": ["anti-affinity"], "rules": {"max_server_per_host": 2}})
        shown = (await group.attributes(gctx, group_id, group_props))["show"]
        assert (shown["policy"], shown["rules"], shown["name"]) == (
            "anti-affinity", {"max_server_per_host": 2}, gctx.physical_name())
        await lab.delete(group, gctx, group_id, group_props)

    run(scenario)


def test_a_server_without_an_image_or_a_network_entry_without_a_network() -> None:
    async def scenario(lab: Lab) -> None:
        ctx = await lab.context("web")
        with pytest.raises(StackValidationFailed) as caught:
            await lab.create(plugin("OS::Nova::Server"), ctx, {"flavor": "1"})
        assert str(caught.value) == "Neither image nor bootable volume is specified for " \
                                    "instance web"

    run(scenario)


def test_a_servers_networks_change_in_place() -> None:
    async def scenario(lab: Lab) -> None:
        first, _ = await network(lab)
        second, second_subnet = await network(lab, "10.21.0.0/24")
        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        server_id, props = await lab.create(server, ctx, {
            "flavor": "1", "image": (await image(lab))["id"], "networks": [{"network": first}]})
        # An interface on a second network (heat's own port, on a named subnet) is attached;
        # the first network's is detached; nothing is replaced.
        props = await lab.update(server, ctx, server_id, props, {
            **_given(props), "networks": [{"network": first}, {"subnet": second_subnet}]})
        ports = (await lab.get(f"{NET}/ports?device_id={server_id}"))["ports"]
        assert sorted(p["network_id"] for p in ports) == sorted([first, second])
        props = await lab.update(server, ctx, server_id, props, {
            **_given(props), "networks": [{"subnet": second_subnet}]})
        ports = (await lab.get(f"{NET}/ports?device_id={server_id}"))["ports"]
        assert [p["network_id"] for p in ports] == [second]
        # heat's port outlives no server: detached with it, then gone with it.
        await lab.delete(server, ctx, server_id, props)
        left = (await lab.get(f"{NET}/ports?network_id={second}"))["ports"]
        assert [p for p in left if p["name"].startswith("server-port-")] == []
        assert ctx.data["internal_ports"] == "[]"

    run(scenario)


def test_a_servers_snapshot_is_an_image_and_its_deletion_policy_snapshot_keeps_one() -> None:
    async def scenario(lab: Lab) -> None:
        server = plugin("OS::Nova::Server")
        ctx = await lab.context("server")
        server_id, props = await lab.create(server, ctx, {
            "flavor": "1", "image": (await image(lab))["id"],
            "networks": [{"allocate_network": "none"}]})
        await server.snapshot(ctx, server_id, props)
        await lab.until(lambda: server.snapshot_complete(ctx, server_id, props),
                        server.POLL_INTERVAL)
        image_id = ctx.data["snapshot_image_id"]
        made = await lab.get(f"/image/v2/images/{image_id}")
        assert (made["status"], made["name"]) == ("active", ctx.physical_name())
        # heat's handle_restore: the server rebuilt from the snapshot's image.
        restored = server.restore_properties(props, dict(ctx.data))
        assert restored["image"] == image_id
        assert restored["networks"] == [{"allocate_network": "none"}]
        await server.delete_snapshot(ctx, {"snapshot_image_id": image_id})
        await lab.get(f"/image/v2/images/{image_id}", expect=404)

        await server.delete_with_snapshot(ctx, server_id, props, failed=False)
        kept = ctx.data["deletion_image_id"]
        await lab.until(lambda: server.delete_complete(ctx, server_id, props),
                        server.POLL_INTERVAL)
        await lab.get(f"{NOVA}/servers/{server_id}", expect=404)
        assert (await lab.get(f"/image/v2/images/{kept}"))["status"] == "active"

    run(scenario)


def test_a_private_flavors_extra_specs_and_tenants_are_replaced_by_an_update() -> None:
    async def scenario(lab: Lab) -> None:
        admin = await lab.admin_context("flavor")
        first, _ = await lab.project("first")
        second, _ = await lab.project("second")
        flavor = plugin("OS::Nova::Flavor")
        flavor_id, props = await lab.create(flavor, admin, {
            "name": "private", "ram": 64, "vcpus": 1, "disk": 1, "is_public": False,
            "extra_specs": {"hw:a": "1", "hw:b": "2"}, "tenants": [first]})
        access = await lab.get(f"{NOVA}/flavors/{flavor_id}/os-flavor-access")
        assert [e["tenant_id"] for e in access["flavor_access"]] == [first]

        await lab.update(flavor, admin, flavor_id, props, {
            **_given(props), "extra_specs": {"hw:c": 3}, "tenants": [second]})
        # Exactly the new specs (the old keys deleted, values as strings) and tenants.
        assert (await flavor.attributes(admin, flavor_id, props))["extra_specs"] == {
            "hw:c": "3"}
        access = await lab.get(f"{NOVA}/flavors/{flavor_id}/os-flavor-access")
        assert [e["tenant_id"] for e in access["flavor_access"]] == [second]

    run(scenario)
