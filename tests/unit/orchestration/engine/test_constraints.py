"""heat's custom constraints answered by the engine: local ones at once, the services' ones
asked with the caller's token between two passes of the synchronous check, so a missing
flavor or another project's network is refused with heat's 400 at create, preview,
update and validate."""

from __future__ import annotations

import asyncio
from typing import Any

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.engine.constraints import ConstraintChecker, LookupContext
from unit.orchestration.heat_calls import Heat, run_heat

V = "2018-08-31"


def _lookups(known: dict[str, Any]) -> tuple[LookupContext, list[str]]:
    asked: list[str] = []

    async def call(service: str, method: str, path: str, **_: Any) -> Any:
        asked.append(path)
        if path in known:
            return known[path]
        if path.startswith("/v2.0/") and "?" not in path and path.count("/") == 2:
            return {path.split("/")[2]: []}
        raise ServiceCallError(404, {"message": "not found"})

    return LookupContext(call, "p"), asked


def test_local_constraints_are_answered_at_once_and_unknown_names_are_not() -> None:
    check = ConstraintChecker()
    assert check("ip_addr", "10.0.0.1") is True
    assert check("ip_addr", "10.0.0") == "Error validating value '10.0.0': Invalid IP address"
    assert check("mac_addr", "fa:16:3e:00:00:01") is True
    assert check("iso_8601", "nope") == "Error validating value 'nope'"
    assert check("ip_addr", ["10.0.0.1", "x"]) == "Error validating value 'x': Invalid IP address"
    assert check("cron_expression", "* * * * *") is True  # known to heat, not checked here
    assert check("no.such", "x") is None
    assert not check.pending


def test_service_constraints_pass_first_and_are_answered_once_looked_up() -> None:
    check = ConstraintChecker()
    assert check("nova.flavor", "huge") is True
    assert check("neutron.network", "net-a") is True
    assert check.pending == {("nova.flavor", "huge"), ("neutron.network", "net-a")}
    ctx, asked = _lookups({"/v2.0/networks/net-a": {"network": {"id": "net-a"}},
                           "/flavors": {"flavors": [{"id": "1", "name": "m1.tiny"}]}})
    asyncio.run(check.resolve(ctx))
    assert not check.pending and "/v2.0/networks/net-a" in asked
    assert check("neutron.network", "net-a") is True
    assert check("nova.flavor", "huge") == (
        "Error validating value 'huge': The Flavor (huge) could not be found.")


def _missing_flavor_template() -> dict[str, Any]:
    return {"heat_template_version": V,
            "parameters": {"flavor": {"type": "string",
                                      "constraints": [{"custom_constraint": "nova.flavor"}]}},
            "resources": {"v": {"type": "OS::Heat::Value",
                                "properties": {"value": {"get_param": "flavor"}}}}}


def _port_template(network: str) -> dict[str, Any]:
    return {"heat_template_version": V, "resources": {
        "port": {"type": "OS::Neutron::Port", "properties": {"network": network}}}}


async def _refused(heat: Heat, method: str, path: str, body: Any, message: str, *,
                   token: str | None = None, project: str | None = None) -> None:
    answer = await heat.request(method, path, body, token=token, project=project)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"] == message


def test_a_parameter_naming_a_missing_flavor_is_refused_as_heat_does() -> None:
    async def scenario(heat: Heat) -> None:
        tmpl = _missing_flavor_template()
        message = ("Parameter 'flavor' is invalid: Error validating value 'm1.huge-nope': "
                   "The Flavor (m1.huge-nope) could not be found.")
        body = {"stack_name": "f", "template": tmpl, "parameters": {"flavor": "m1.huge-nope"}}
        await _refused(heat, "POST", "/stacks", body, message)
        await _refused(heat, "POST", "/stacks/preview", body, message)
        # A flavor nova shows, by name or id, is taken.
        made = await heat.create("f", tmpl, parameters={"flavor": "m1.tiny"})
        stack_id = made["stack"]["id"]
        await heat.until("f", stack_id, "CREATE_COMPLETE")
        await _refused(heat, "PUT", f"/stacks/f/{stack_id}",
                       {"template": tmpl, "parameters": {"flavor": "m1.huge-nope"}}, message)

    run_heat(scenario)


def test_a_property_naming_another_projects_network_is_refused() -> None:
    async def scenario(heat: Heat) -> None:
        alice, _ = await heat.member("alice")
        bob, bob_project = await heat.member("bob")
        answer = await heat.client.post("/networking/v2.0/networks",
                                        headers={"X-Auth-Token": alice},
                                        json={"network": {"name": "alices"}})
        assert answer.status_code == 201, answer.text
        net_id = answer.json()["network"]["id"]
        message = (f"Property error: resources.port.properties.network: Error validating "
                   f"value '{net_id}': Unable to find network with name or id '{net_id}'")
        await _refused(heat, "POST", "/stacks", {"stack_name": "p",
                                                 "template": _port_template(net_id)},
                       message, token=bob, project=bob_project)
        await _refused(heat, "POST", "/validate", {"template": _port_template(net_id)},
                       message, token=bob, project=bob_project)
        # Its owner may use it: the check passes and the port is made.
        made = await heat.create("p", _port_template("alices"))
        assert made["stack"]["id"]

    run_heat(scenario)


def test_a_local_constraint_on_a_parameter_is_checked_without_a_service() -> None:
    async def scenario(heat: Heat) -> None:
        tmpl = {"heat_template_version": V,
                "parameters": {"ip": {"type": "string",
                                      "constraints": [{"custom_constraint": "ip_addr"}]}},
                "resources": {}}
        await _refused(heat, "POST", "/stacks",
                       {"stack_name": "ip", "template": tmpl, "parameters": {"ip": "10.0.0"}},
                       "Parameter 'ip' is invalid: Error validating value '10.0.0': "
                       "Invalid IP address")
        made = await heat.create("ip", tmpl, parameters={"ip": "10.0.0.7"})
        await heat.until("ip", made["stack"]["id"], "CREATE_COMPLETE")

    run_heat(scenario)
