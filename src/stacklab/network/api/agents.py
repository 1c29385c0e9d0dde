"""``/v2.0/agents``, which agents host a network (DHCP) or a router (L3, with HA state), and
the availability zones the agents make. Agents belong to no project: each route's rule is
asked of the caller's own (admins only, by default)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network.api.base import (
    api,
    list_response,
    network,
    only_fields,
    request_body,
)
from stacklab.network.api.networks import render_network_row
from stacklab.network.api.resource import guarded, own_project, shown
from stacklab.network.api.routers import ROUTER
from stacklab.network.scheduling.zones import availability_zones


def _time(moment: float) -> str:
    """neutron prints agent times as Python's str() of a naive UTC datetime."""
    return str(dt.datetime.fromtimestamp(moment, tz=dt.UTC).replace(tzinfo=None, microsecond=0))


def _render(call: Call, agent: m.Agent) -> dict[str, Any]:
    return {
        "id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary,
        "topic": agent.topic, "host": agent.host, "admin_state_up": agent.admin_state_up,
        "alive": network(call).agents.alive(agent), "created_at": _time(agent.created_at),
        "started_at": _time(agent.started_at),
        "heartbeat_timestamp": _time(agent.heartbeat_timestamp),
        "description": agent.description, "availability_zone": agent.availability_zone,
        "configurations": dict(agent.configurations), "resources_synced": None,
    }


def _agent(call: Call, session: Session) -> m.Agent:
    agent = session.get(m.Agent, call.params["agent_id"])
    if agent is None:
        raise ApiError(f"Agent {call.params['agent_id']} could not be found.", status=404,
                       kind="AgentNotFound")
    return agent


# neutron compares filters in SQL, and its reference deployment's MySQL collation ignores
# case: Tempest's DHCP scheduler tests find their agents with agent_type="DHCP Agent" (the
# type is "DHCP agent"), and skip themselves when none matches.
_CASE_INSENSITIVE = frozenset({"agent_type"})


@api.route("GET", "/v2.0/agents")
async def list_agents(call: Call) -> dict[str, Any]:
    # As neutron's list controller: what policy hides is left out, not refused.
    if not call.allows("get_agent", own_project(call)):
        return list_response(call, "agents", [])
    with network(call).db.session() as session:
        rows = list(session.scalars(select(m.Agent).order_by(m.Agent.host,
                                                             m.Agent.agent_type)))
        items = [_render(call, a) for a in rows]
    return list_response(call, "agents", items, folded=_CASE_INSENSITIVE)


@guarded("GET", "/v2.0/agents/{agent_id}", "get_agent")
async def show_agent(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        return {"agent": only_fields(call, _render(call, _agent(call, session)))}


@guarded("PUT", "/v2.0/agents/{agent_id}", "update_agent")
async def update_agent(call: Call) -> dict[str, Any]:
    fields = request_body(call, "agent", create=False)
    with network(call).db.session() as session:
        agent = _agent(call, session)
        for name, value in fields.items():
            setattr(agent, name, value)
        return {"agent": _render(call, agent)}


@guarded("DELETE", "/v2.0/agents/{agent_id}", "delete_agent", status=204)
async def delete_agent(call: Call) -> None:
    with network(call).db.session() as session:
        session.delete(_agent(call, session))


@guarded("GET", "/v2.0/availability_zones", "get_availability_zone")
async def list_availability_zones(call: Call) -> dict[str, Any]:
    """A zone per resource kind its agents serve, available while one is admin-up."""
    with network(call).db.session() as session:
        zones = availability_zones(network(call).agents.records(session))
    items = [{"name": z.name, "resource": z.resource, "state": z.state} for z in zones]
    return list_response(call, "availability_zones", items)


@guarded("GET", "/v2.0/networks/{network_id}/dhcp-agents", "get_dhcp-agents")
async def network_dhcp_agents(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        network(call).get_network(session, call.params["network_id"])
        ids = [b.agent_id for b in session.scalars(select(m.DhcpBinding).where(
            m.DhcpBinding.network_id == call.params["network_id"]).order_by(
            m.DhcpBinding.binding_index))]
        rows = [session.get(m.Agent, i) for i in ids]
        return {"agents": [_render(call, a) for a in rows if a is not None]}


@guarded("GET", "/v2.0/routers/{router_id}/l3-agents", "get_l3-agents")
async def router_l3_agents(call: Call) -> dict[str, Any]:
    service = network(call)
    with service.db.session() as session:
        router = service.routing.get_router(session, call.params["router_id"])
        bindings = list(session.scalars(select(m.RouterBinding).where(
            m.RouterBinding.router_id == router.id).order_by(m.RouterBinding.binding_index)))
        states = service.agents.ha_states(session, router.id)
        result = []
        for binding in bindings:
            agent = session.get(m.Agent, binding.agent_id)
            if agent is None:
                continue
            body = _render(call, agent)
            body["ha_state"] = states.get(agent.id, "standby") if router.ha else None
            result.append(body)
        return {"agents": result}


@guarded("GET", "/v2.0/agents/{agent_id}/dhcp-networks", "get_dhcp-networks")
async def agent_networks(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        agent = _agent(call, session)
        ids = [b.network_id for b in session.scalars(select(m.DhcpBinding).where(
            m.DhcpBinding.agent_id == agent.id))]
        rows = [session.get(m.Network, i) for i in ids]
        return {"networks": [render_network_row(session, n) for n in rows if n is not None]}


@guarded("POST", "/v2.0/agents/{agent_id}/dhcp-networks", "create_dhcp-network",
         status=201)
async def add_network_to_agent(call: Call) -> Response:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("network_id"), str):
        raise BadRequest("Invalid input for network_id. Reason: a network_id is required.")
    with network(call).db.session() as session:
        network(call).agents.add_network_to_agent(session, call.params["agent_id"],
                                                  body["network_id"])
    # neutron's controller answers what the plugin returned: nothing, as JSON.
    return Response(b"null", status_code=201, media_type="application/json")


@guarded("DELETE", "/v2.0/agents/{agent_id}/dhcp-networks/{network_id}",
         "delete_dhcp-network", status=204)
async def remove_network_from_agent(call: Call) -> None:
    with network(call).db.session() as session:
        network(call).agents.remove_network_from_agent(session, call.params["agent_id"],
                                                       call.params["network_id"])


@guarded("GET", "/v2.0/agents/{agent_id}/l3-routers", "get_l3-routers")
async def agent_routers(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        agent = _agent(call, session)
        ids = [b.router_id for b in session.scalars(select(m.RouterBinding).where(
            m.RouterBinding.agent_id == agent.id))]
        rows = [session.get(m.Router, i) for i in ids]
        return {"routers": [shown(call, session, ROUTER, r, {}) for r in rows if r is not None]}
