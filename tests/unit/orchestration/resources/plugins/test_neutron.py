"""OS::Neutron::* plugins driven as heat-engine drives them, against the lab's real neutron."""

from __future__ import annotations

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourceFailure, UpdateReplace
from stacklab.orchestration.template.errors import StackValidationFailed
from unit.orchestration.resources.plugins.conftest import Lab, run

NET = "/networking/v2.0"


def plugin(name: str):  # type: ignore[no-untyped-def]
    found = registry.get(name)
    assert found is not None, name
    return found()


def test_a_network_is_made_named_renamed_and_removed() -> None:
    async def scenario(lab: Lab) -> None:
        net = plugin("OS::Neutron::Net")
        ctx = await lab.context("net")
        physical_id, props = await lab.create(net, ctx, {"tags": ["web"]})
        shown = (await lab.get(f"{NET}/networks/{physical_id}"))["network"]
        # No name given: heat's physical name, <stack>-<resource>-<12 random>.
        assert shown["name"] == ctx.physical_name() and shown["name"].startswith("stack-net-")
        assert len(shown["name"]) == len("stack-net-") + 12
        assert shown["tags"] == ["web"] and shown["project_id"] == ctx.project_id

        props = await lab.update(net, ctx, physical_id, props, {"name": "front",
                                                                "tags": ["web", "v2"]})
        shown = (await lab.get(f"{NET}/networks/{physical_id}"))["network"]
        assert shown["name"] == "front" and sorted(shown["tags"]) == ["v2", "web"]

        attributes = await net.attributes(ctx, physical_id, props)
        assert attributes["name"] == "front" and attributes["status"] == "ACTIVE"
        assert attributes["show"]["id"] == physical_id and attributes["subnets"] == []
        assert attributes["segments"][0]["network_id"] == physical_id

        await lab.delete(net, ctx, physical_id, props)
        await lab.get(f"{NET}/networks/{physical_id}", expect=404)
        # Deleting what is gone already is a success (heat's ignore_not_found).
        await lab.delete(net, ctx, physical_id, props)

    run(scenario)


def test_a_change_that_is_not_update_allowed_replaces() -> None:
    async def scenario(lab: Lab) -> None:
        net = plugin("OS::Neutron::Net")
        ctx = await lab.context("net")
        physical_id, props = await lab.create(net, ctx, {"name": "n"})
        with pytest.raises(UpdateReplace):
            await lab.update(net, ctx, physical_id, props, {"name": "n",
                                                            "availability_zone_hints": ["x"]})

    run(scenario)


def test_subnet_router_gateway_interface_port_and_floating_ip() -> None:
    async def scenario(lab: Lab) -> None:
        ctx = await lab.context("net")
        net_id, net_props = await lab.create(plugin("OS::Neutron::Net"), ctx, {"name": "n"})

        subnet = plugin("OS::Neutron::Subnet")
        sctx = await lab.context("subnet")
        # The network named, not numbered: heat resolves it as neutronclient does.
        subnet_id, subnet_props = await lab.create(subnet, sctx, {
            "network": "n", "cidr": "10.8.0.0/24", "dns_nameservers": ["8.8.8.8"]})
        shown = (await lab.get(f"{NET}/subnets/{subnet_id}"))["subnet"]
        assert (shown["network_id"], shown["cidr"], shown["gateway_ip"]) == (
            net_id, "10.8.0.0/24", "10.8.0.1")
        # A subnet's name changes in place.
        subnet_props = await lab.update(subnet, sctx, subnet_id, subnet_props, {
            "network": "n", "cidr": "10.8.0.0/24", "dns_nameservers": ["8.8.8.8"],
            "name": "renamed"})
        assert (await lab.get(f"{NET}/subnets/{subnet_id}"))["subnet"]["name"] == "renamed"
        attributes = await subnet.attributes(sctx, subnet_id, subnet_props)
        assert attributes["cidr"] == "10.8.0.0/24" and attributes["network_id"] == net_id

        router = plugin("OS::Neutron::Router")
        rctx = await lab.context("router")
        router_id, router_props = await lab.create(router, rctx, {
            "external_gateway_info": {"network": "public"}})
        gateway = (await lab.get(f"{NET}/routers/{router_id}"))["router"][
            "external_gateway_info"]
        public = (await lab.get(f"{NET}/networks?name=public"))["networks"][0]["id"]
        assert gateway["network_id"] == public
        attributes = await router.attributes(rctx, router_id, router_props)
        assert attributes["external_gateway_info"]["network_id"] == public

        interface = plugin("OS::Neutron::RouterInterface")
        ictx = await lab.context("interface")
        interface_id, interface_props = await lab.create(interface, ictx, {
            "router": router_id, "subnet": subnet_id})
        assert interface_id == f"{router_id}:subnet_id={subnet_id}"
        ports = (await lab.get(f"{NET}/ports?device_id={router_id}"))["ports"]
        assert any(p["fixed_ips"][0]["subnet_id"] == subnet_id for p in ports)

        port = plugin("OS::Neutron::Port")
        pctx = await lab.context("port")
        port_id, port_props = await lab.create(port, pctx, {
            "network": net_id, "fixed_ips": [{"subnet": subnet_id, "ip_address": "10.8.0.20"}]})
        shown = (await lab.get(f"{NET}/ports/{port_id}"))["port"]
        assert shown["fixed_ips"] == [{"subnet_id": subnet_id, "ip_address": "10.8.0.20"}]
        attributes = await port.attributes(pctx, port_id, port_props)
        assert attributes["network"]["id"] == net_id
        assert [s["id"] for s in attributes["subnets"]] == [subnet_id]

        fip = plugin("OS::Neutron::FloatingIP")
        fctx = await lab.context("fip")
        fip_id, fip_props = await lab.create(fip, fctx, {"floating_network": "public"})
        assoc = plugin("OS::Neutron::FloatingIPAssociation")
        actx = await lab.context("assoc")
        assoc_id, assoc_props = await lab.create(assoc, actx, {
            "floatingip_id": fip_id, "port_id": port_id})
        shown = (await lab.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]
        assert (shown["port_id"], shown["fixed_ip_address"]) == (port_id, "10.8.0.20")
        attributes = await fip.attributes(fctx, fip_id, fip_props)
        assert attributes["port_id"] == port_id and attributes["router_id"] == router_id

        # Everything removed in reverse order leaves nothing of the project behind.
        await lab.delete(assoc, actx, assoc_id, assoc_props)
        assert (await lab.get(f"{NET}/floatingips/{fip_id}"))["floatingip"]["port_id"] is None
        await lab.delete(fip, fctx, fip_id, fip_props)
        await lab.delete(port, pctx, port_id, port_props)
        await lab.delete(interface, ictx, interface_id, interface_props)
        await lab.delete(router, rctx, router_id, router_props)
        await lab.delete(subnet, sctx, subnet_id, subnet_props)
        await lab.delete(plugin("OS::Neutron::Net"), ctx, net_id, net_props)
        for collection in ("networks", "subnets", "ports", "routers", "floatingips"):
            left = (await lab.get(f"{NET}/{collection}?project_id={ctx.project_id}"))
            assert left[collection] == [], (collection, left)

    run(scenario)


def test_security_group_with_rules_and_a_rule_apart() -> None:
    async def scenario(lab: Lab) -> None:
        group = plugin("OS::Neutron::SecurityGroup")
        ctx = await lab.context("sg")
        group_id, props = await lab.create(group, ctx, {"name": "web", "rules": [
            {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
             "remote_ip_prefix": "0.0.0.0/0"},
            {"protocol": "icmp"}]})
        rules = (await lab.get(f"{NET}/security-groups/{group_id}"))["security_group"][
            "security_group_rules"]
        ingress = sorted((r["protocol"], r["port_range_min"]) for r in rules
                         if r["direction"] == "ingress")
        assert ingress == [("icmp", None), ("tcp", 22)]
        # No egress rule in the template: neutron's default egress rules stay.
        assert {r["ethertype"] for r in rules if r["direction"] == "egress"} == {"IPv4", "IPv6"}

        rule = plugin("OS::Neutron::SecurityGroupRule")
        rctx = await lab.context("rule")
        rule_id, rule_props = await lab.create(rule, rctx, {
            "security_group": "web", "port_range_min": 80, "port_range_max": 80})
        shown = (await lab.get(f"{NET}/security-group-rules/{rule_id}"))[
            "security_group_rule"]
        assert (shown["security_group_id"], shown["protocol"], shown["port_range_max"]) == (
            group_id, "tcp", 80)
        await lab.delete(rule, rctx, rule_id, rule_props)

        props = await lab.update(group, ctx, group_id, props, {"name": "web", "rules": [
            {"protocol": "tcp", "port_range_min": 443, "port_range_max": 443}]})
        rules = (await lab.get(f"{NET}/security-groups/{group_id}"))["security_group"][
            "security_group_rules"]
        assert [(r["protocol"], r["port_range_min"]) for r in rules
                if r["direction"] == "ingress"] == [("tcp", 443)]
        await lab.delete(group, ctx, group_id, props)
        await lab.get(f"{NET}/security-groups/{group_id}", expect=404)

    run(scenario)


def test_a_provider_network_is_made_by_the_admin_and_its_type_replaces() -> None:
    async def scenario(lab: Lab) -> None:
        provider = plugin("OS::Neutron::ProviderNet")
        ctx = await lab.admin_context("provider")
        net_id, props = await lab.create(provider, ctx, {
            "network_type": "vxlan", "segmentation_id": "1234"})
        shown = (await lab.get(f"{NET}/networks/{net_id}"))["network"]
        assert (shown["provider:network_type"], shown["provider:segmentation_id"],
                shown["shared"]) == ("vxlan", 1234, True)
        attributes = await provider.attributes(ctx, net_id, props)
        assert attributes["segments"][0]["segmentation_id"] == 1234
        # Being external and a new segmentation id change in place; a new type (ML2
        # will not change one) makes a new network.
        props = await lab.update(provider, ctx, net_id, props, {
            "network_type": "vxlan", "segmentation_id": "1235", "router_external": True})
        shown = (await lab.get(f"{NET}/networks/{net_id}"))["network"]
        assert shown["router:external"] and shown["provider:segmentation_id"] == 1235
        with pytest.raises(UpdateReplace):
            await lab.update(provider, ctx, net_id, props, {"network_type": "vlan",
                                                            "physical_network": "physnet1"})
        await lab.delete(provider, ctx, net_id, props)

    run(scenario)


def test_another_projects_network_is_not_found() -> None:
    async def scenario(lab: Lab) -> None:
        other = await lab.context("net", project="other")
        net_id, _ = await lab.create(plugin("OS::Neutron::Net"), other, {"name": "private"})
        ctx = await lab.context("subnet")
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(plugin("OS::Neutron::Subnet"), ctx, {
                "network": net_id, "cidr": "10.9.0.0/24"})
        assert str(caught.value) == f"Unable to find network with name or id '{net_id}'"
        # heat-engine names neutronclient's exception in the status reason.
        assert getattr(caught.value, "error_type", None) == "NotFound"

    run(scenario)


@pytest.mark.parametrize(("kind", "values", "message"), [
    ("OS::Neutron::Subnet", {"network": "n"},
     "At least one of the following properties must be specified: subnetpool, cidr."),
    ("OS::Neutron::Subnet", {"network": "n", "cidr": "10.0.0.0/24", "ipv6_ra_mode": "slaac"},
     "ipv6_ra_mode and ipv6_address_mode are not supported for ipv4."),
    ("OS::Neutron::RouterInterface", {"router": "r"},
     "At least one of the following properties must be specified: subnet, port."),
    ("OS::Neutron::RouterInterface", {"router": "r", "subnet": "s", "port": "p"},
     "Cannot define the following properties at the same time: subnet, port."),
    ("OS::Neutron::Net", {"value_specs": {"shared": True}}, "shared not allowed in value_specs"),
    ("OS::Neutron::SecurityGroup", {"name": "default"},
     'Security groups cannot be assigned the name "default".'),
])
def test_heats_own_checks(kind: str, values: dict[str, object], message: str) -> None:
    from stacklab.orchestration.resources.properties import check_properties

    found = plugin(kind)
    properties = check_properties(type(found).PROPERTIES, values, path=["resources", "r"],
                                  custom=lambda name, value: True)
    with pytest.raises(StackValidationFailed) as caught:
        found.validate(properties)
    assert str(caught.value) == message


@pytest.mark.parametrize(("values", "message"), [
    ({"network": "n", "cidr": "10.0.0.300/24"}, "Property error: resources.subnet.properties"
     ".cidr: Error validating value '10.0.0.300/24': Invalid net cidr"),
    ({"network": "n", "cidr": "10.0.0.0/24", "allocation_pools": [
        {"start": "10.0.0.5", "end": "nope"}]},
     "Property error: resources.subnet.properties.allocation_pools[0].end: Error validating "
     "value 'nope': Invalid IP address"),
])
def test_addresses_are_checked_without_asking_a_service(values: dict[str, object],
                                                        message: str) -> None:
    from stacklab.orchestration.resources.properties import check_properties

    # As heat-engine checks them: no custom check of its own for these names.
    with pytest.raises(StackValidationFailed) as caught:
        check_properties(type(plugin("OS::Neutron::Subnet")).PROPERTIES, values,
                         path=["resources", "subnet", "properties"])
    assert str(caught.value) == message
