"""``/v2.0/agents``, which agents host a network (DHCP) or a router (L3, with HA state), and
the availability zones the agents make. Agents belong to no project: each route's rule is
asked of the caller's own (admins only, by default)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network.api.base import list_response, network
from stacklab.network.api.networks import render_network_row
from stacklab.network.api.resource import (
    Condition,
    Resource,
    Row,
    always_null,
    assign,
    guarded,
    serve,
    shown,
)
from stacklab.network.api.routers import ROUTER
from stacklab.network.scheduling.zones import availability_zones

# How neutron prints an agent's times: Python's str() of a naive UTC datetime.
_PRINTED = "%Y-%m-%d %H:%M:%S"


def _time(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).replace(tzinfo=None,
                                                                 microsecond=0).strftime(_PRINTED)


def _alive_since(call: Call) -> float:
    """The oldest heartbeat of a live agent now: neutron's agent is down once its heartbeat
    is more than ``agent_down_time`` old. The list's filter and every body read this one
    instant, so that what ``alive=True`` finds shows ``alive: true``."""
    return network(call).agents.alive_since()


def _body(agent: Row, alive_since: float) -> dict[str, Any]:
    return {
        "id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary,
        "topic": agent.topic, "host": agent.host, "admin_state_up": agent.admin_state_up,
        "alive": agent.heartbeat_timestamp >= alive_since,
        "created_at": _time(agent.created_at), "started_at": _time(agent.started_at),
        "heartbeat_timestamp": _time(agent.heartbeat_timestamp),
        "description": agent.description, "availability_zone": agent.availability_zone,
        "configurations": dict(agent.configurations), "resources_synced": None,
    }


def _render(call: Call, agent: m.Agent) -> dict[str, Any]:
    """An agent's body where another resource lists its agents."""
    return _body(agent, _alive_since(call))


def _not_found(agent_id: str) -> ApiError:
    return ApiError(f"Agent {agent_id} could not be found.", status=404, kind="AgentNotFound")


def _agent(call: Call, session: Session) -> m.Agent:
    agent = session.get(m.Agent, call.params["agent_id"])
    if agent is None:
        raise _not_found(call.params["agent_id"])
    return agent


def _by_type(table: Any, wanted: list[str]) -> Condition:
    # neutron compares filters in SQL, and its reference deployment's MySQL collation
    # ignores case: Tempest's DHCP scheduler tests find their agents with
    # agent_type="DHCP Agent" (the type is "DHCP agent"), and skip themselves when none
    # matches.
    return func.lower(table.c.agent_type).in_([w.lower() for w in wanted])


def _printed_time(name: str) -> Any:
    """A filter on a time as the body prints it (to the second)."""

    def condition(table: Any, wanted: list[str]) -> Condition:
        moments = []
        for text in wanted:
            try:
                moments.append(dt.datetime.strptime(text, _PRINTED).replace(
                    tzinfo=dt.UTC).timestamp())
            except ValueError:
                continue
        column = table.c[name]
        return or_(false(), *(and_(column >= t, column < t + 1) for t in moments))

    return condition


def _alive(alive_since: float, table: Any, wanted: list[str]) -> Condition:
    spelled = {w.lower() for w in wanted}
    beat = table.c.heartbeat_timestamp
    return or_(false(), *([beat >= alive_since] if "true" in spelled else []),
               *([beat < alive_since] if "false" in spelled else []))


def _unbound(session: Session, rows: Sequence[Row]) -> list[dict[str, Any]]:
    raise RuntimeError("agents are rendered by the resource bound to a call")


def _bind(call: Call, resource: Resource) -> Resource:
    since = _alive_since(call)
    return dataclasses.replace(
        resource, render=lambda session, rows: [_body(r, since) for r in rows],
        computed={**resource.computed,
                  "alive": lambda table, wanted: _alive(since, table, wanted)})


AGENT = Resource(
    "agent", "agents", m.Agent,
    response=("id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive",
              "created_at", "started_at", "heartbeat_timestamp", "description",
              "availability_zone", "configurations", "resources_synced"),
    render=_unbound, not_found=_not_found, target_keys=(), ownerless=True, bind=_bind,
    # A few agents a node, listed by node, then by kind, unless sorted otherwise.
    tiebreak=("host", "agent_type", "id"), scalar_lists=frozenset(),
    computed={"agent_type": _by_type, "created_at": _printed_time("created_at"),
              "started_at": _printed_time("started_at"),
              "heartbeat_timestamp": _printed_time("heartbeat_timestamp"),
              "resources_synced": always_null})


def _update(call: Call, session: Session, agent: m.Agent, fields: dict[str, Any],
            parent: Any) -> None:
    assign(call, session, agent, fields, parent, resource="agent")


def _remove(call: Call, session: Session, agent: m.Agent) -> None:
    session.delete(agent)


# Agents have a table: listed, shown, updated and deleted by the generic controller, their
# filters, sorting and pages in SQL. Availability zones and service providers have none (a
# zone is made of its agents, the providers are configuration): they are listed in memory.
serve(AGENT, apply=_update, remove=_remove)


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
