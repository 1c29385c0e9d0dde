"""neutron's agent scheduling as pure functions: liveness, DHCP, L3/HA, VRIDs, DVR, AZs."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Mapping

import pytest

from stacklab.ha.vrrp import VrrpState
from stacklab.network.scheduling.common import get_vacant_binding_index
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_DHCP,
    AGENT_TYPE_L3,
    AGENT_TYPE_METADATA,
    AGENT_TYPE_OVS,
)
from stacklab.network.scheduling.dhcp import (
    add_network_to_dhcp_agent,
    auto_schedule_networks,
    hosts_with_l2_agent,
    networks_served_by_agent,
    remove_network_from_dhcp_agent,
    remove_networks_from_down_agents,
    schedule_network,
)
from stacklab.network.scheduling.dvr import PortPlacement, namespaces_by_host
from stacklab.network.scheduling.errors import (
    AvailabilityZoneNotFound,
    DVRL3CannotAssignToDvrAgent,
    DVRL3CannotRemoveFromDvrAgent,
    InvalidDHCPAgent,
    InvalidL3Agent,
    NetworkHostedByDHCPAgent,
    NetworkNotHostedByDhcpAgent,
    NoVRIDAvailable,
    RouterHostedByL3Agent,
    RouterL3AgentMismatch,
    RouterReschedulingFailed,
)
from stacklab.network.scheduling.ha import (
    allocate_vr_id,
    ha_interface_name,
    ha_network_spec,
    number_of_agents_for_scheduling,
    primary_vip,
    vrrp_instances,
)
from stacklab.network.scheduling.l3 import (
    add_router_to_l3_agent,
    auto_schedule_routers,
    remove_router_from_l3_agent,
    reschedule_routers_from_down_agents,
    routers_served_by_agent,
    schedule_router,
)
from stacklab.network.scheduling.options import (
    MIN_L3_AGENTS_DEPRECATION,
    ConfigurationError,
    SchedulingOptions,
)
from stacklab.network.scheduling.records import (
    AgentRecord,
    AvailabilityZone,
    DhcpChanges,
    HaPort,
    L3Changes,
    L3State,
    LogRecord,
    NetworkBinding,
    NetworkSpec,
    RouterBinding,
    RouterSpec,
    VrIdAllocation,
    is_agent_down,
)
from stacklab.network.scheduling.zones import (
    availability_zones,
    network_availability_zones,
    router_availability_zones,
    validate_availability_zones,
)

T0 = 1_700_000_000.0
DEFAULTS = SchedulingOptions()
# The lab's neutron.conf: two DHCP agents a network, HA routers, the course's min option.
LAB = SchedulingOptions(dhcp_agents_per_network=2, l3_ha=True, max_l3_agents_per_router=3,
                        min_l3_agents_per_router=2)
NET1, NET2 = "network1.openstack.local", "network2.openstack.local"
CMP1, CMP2 = "compute1.openstack.local", "compute2.openstack.local"


def dhcp(agent_id: str, host: str, heartbeat: float = T0, *, admin_state_up: bool = True,
         availability_zone: str = "nova", started_at: float | None = None) -> AgentRecord:
    return AgentRecord(agent_id, AGENT_TYPE_DHCP, host, heartbeat, admin_state_up=admin_state_up,
                       availability_zone=availability_zone, started_at=started_at)


def l3(agent_id: str, host: str, mode: str = "legacy", heartbeat: float = T0, *,
       admin_state_up: bool = True, availability_zone: str = "nova",
       configurations: Mapping[str, object] | None = None) -> AgentRecord:
    return AgentRecord(agent_id, AGENT_TYPE_L3, host, heartbeat, admin_state_up=admin_state_up,
                       availability_zone=availability_zone,
                       configurations={"agent_mode": mode, **(configurations or {})})


def messages(changes: DhcpChanges | L3Changes, level: int | None = None) -> list[str]:
    return [r.message for r in changes.log if level is None or r.level == level]


def pairs(bindings: Iterable[NetworkBinding | RouterBinding]) -> set[tuple[str, str]]:
    return {(b.network_id if isinstance(b, NetworkBinding) else b.router_id, b.agent_id)
            for b in bindings}


# --------------------------------------------------------------------------- options, liveness


def test_upstream_defaults_are_pinned() -> None:
    o = DEFAULTS
    assert (o.agent_down_time, o.report_interval) == (75, 30.0)
    assert o.dhcp_agents_per_network == 1 and o.network_auto_schedule
    assert o.allow_automatic_dhcp_failover is True
    assert o.enable_services_on_agents_with_admin_state_down is False
    assert o.network_scheduler_driver.endswith("dhcp_agent_scheduler.WeightScheduler")
    assert o.router_scheduler_driver.endswith("l3_agent_scheduler.LeastRoutersScheduler")
    assert (o.l3_ha, o.max_l3_agents_per_router, o.allow_automatic_l3agent_failover) == (
        False, 3, False)
    assert o.l3_ha_net_cidr == "169.254.192.0/18"
    # Failover workers: every max(75 // 2, 1) s, first after 37-74 s, agents dead after 150 s.
    assert (o.status_check_interval, o.status_check_initial_delay, o.agent_dead_limit) == (
        37, (37, 74), 150)


def test_an_agent_is_alive_while_its_heartbeat_is_at_most_agent_down_time_old() -> None:
    agent = dhcp("a", NET1, heartbeat=T0)
    assert agent.is_active(T0 + 75, 75) and not agent.is_down(T0 + 75, 75)
    assert agent.is_down(T0 + 75.001, 75) and not agent.is_active(T0 + 75.001, 75)
    assert is_agent_down(T0, T0 + 76, 75)


def test_options_neutron_refuses() -> None:
    with pytest.raises(ConfigurationError, match=r"cannot be negative\. It must be 1 or greater"):
        SchedulingOptions(max_l3_agents_per_router=-1)
    with pytest.raises(ConfigurationError):
        SchedulingOptions(dhcp_agents_per_network=0)
    with pytest.raises(ConfigurationError, match=(
            r"The HA Network CIDR specified in the configuration file isn't valid; "
            r"169\.254\.192\.1/18\.")):
        SchedulingOptions(l3_ha_net_cidr="169.254.192.1/18")
    with pytest.raises(ConfigurationError):
        SchedulingOptions(router_scheduler_driver="NoSuchScheduler")
    assert SchedulingOptions(network_scheduler_driver="ChanceScheduler")


def test_min_l3_agents_per_router_is_accepted_with_a_deprecation_warning() -> None:
    assert DEFAULTS.deprecation_warnings() == []
    assert LAB.deprecation_warnings() == [MIN_L3_AGENTS_DEPRECATION]
    assert MIN_L3_AGENTS_DEPRECATION.startswith(
        'Option "min_l3_agents_per_router" from group "DEFAULT" is deprecated for removal')
    # ...and ignored, as since Ocata: an HA router is created even with one agent alive.
    changes = schedule_router(RouterSpec("r1", "p1"), [l3("a", NET1)], L3State(), T0, LAB)
    assert pairs(changes.added) == {("r1", "a")} and not changes.errors


# --------------------------------------------------------------------------- DHCP scheduling


def test_weight_scheduler_picks_the_agent_hosting_fewest_networks() -> None:
    agents = [dhcp("a", NET1), dhcp("b", NET2)]
    bindings = [NetworkBinding("n1", "a"), NetworkBinding("n2", "a")]
    changes = schedule_network(NetworkSpec("n3"), agents, bindings, T0, DEFAULTS)
    assert changes.added == (NetworkBinding("n3", "b", 1),)
    assert changes.apply(bindings)[-1] == NetworkBinding("n3", "b", 1)


def test_weight_scheduler_ties_are_deterministic() -> None:
    agents = [dhcp("z", NET2), dhcp("y", NET1)]
    for order in (agents, agents[::-1]):
        changes = schedule_network(NetworkSpec("n1"), order, [], T0, DEFAULTS)
        assert pairs(changes.added) == {("n1", "y")}  # network1 before network2


def test_dhcp_agents_per_network_and_binding_indexes() -> None:
    agents = [dhcp("a", NET1), dhcp("b", NET2), dhcp("c", CMP1)]
    changes = schedule_network(NetworkSpec("n1"), agents, [], T0, LAB)
    # Equal loads: the lower host names first (compute1, then network1).
    assert sorted((b.agent_id, b.binding_index) for b in changes.added) == [("a", 2), ("c", 1)]
    again = schedule_network(NetworkSpec("n1"), agents, changes.added, T0, LAB)
    assert again.added == () and "Network n1 is already hosted by enough agents." in messages(
        again, logging.DEBUG)


def test_dead_and_admin_down_agents_are_not_scheduled() -> None:
    agents = [dhcp("dead", NET1, heartbeat=T0 - 80), dhcp("off", CMP1, admin_state_up=False),
              dhcp("ok", NET2)]
    changes = schedule_network(NetworkSpec("n1"), agents, [], T0, LAB)
    assert pairs(changes.added) == {("n1", "ok")}
    assert any(m.startswith("Agent dead is down. Type: DHCP agent, host: network1.openstack."
                            "local, heartbeat: 2023-11-14 22:12:") for m in messages(changes))
    # enable_services_on_agents_with_admin_state_down never makes automatic scheduling
    # pick an admin-down agent.
    opts = SchedulingOptions(enable_services_on_agents_with_admin_state_down=True,
                             dhcp_agents_per_network=3)
    assert pairs(schedule_network(NetworkSpec("n1"), agents, [], T0, opts).added) == {
        ("n1", "ok")}


def test_an_agent_in_its_start_up_grace_is_eligible() -> None:
    # Heartbeat too old, but restarted 100 s ago: grace is 150 s + 2 s a network.
    starting = dhcp("s", NET1, heartbeat=T0 - 100, started_at=T0 - 100)
    changes = schedule_network(NetworkSpec("n1"), [starting], [], T0, DEFAULTS)
    assert pairs(changes.added) == {("n1", "s")}
    late = dhcp("s", NET1, heartbeat=T0 - 160, started_at=T0 - 160)
    assert schedule_network(NetworkSpec("n1"), [late], [], T0, DEFAULTS).added == ()


def test_dhcp_availability_zone_hints_and_default_zones() -> None:
    agents = [dhcp("a", NET1, availability_zone="az1"), dhcp("b", NET2, availability_zone="az2")]
    bindings = [NetworkBinding("x", "b")] * 3  # b is busier, but the only one in az2
    spec = NetworkSpec("n1", availability_zone_hints=("az2",))
    assert pairs(schedule_network(spec, agents, bindings, T0, DEFAULTS).added) == {("n1", "b")}
    opts = SchedulingOptions(default_availability_zones=("az2",))
    assert pairs(schedule_network(NetworkSpec("n2"), agents, bindings, T0, opts).added) == {
        ("n2", "b")}
    none = schedule_network(NetworkSpec("n3", ("az9",)), agents, [], T0, DEFAULTS)
    assert none.added == () and "No more DHCP agents" in messages(none, logging.WARNING)


def test_az_aware_weight_scheduler_spreads_over_zones() -> None:
    agents = [dhcp("a1", CMP1, availability_zone="az1"), dhcp("a2", NET1, availability_zone="az1"),
              dhcp("b1", NET2, availability_zone="az2")]
    busy_b1 = [NetworkBinding(f"x{i}", "b1") for i in range(5)]
    weight = SchedulingOptions(dhcp_agents_per_network=2)
    assert pairs(schedule_network(NetworkSpec("n"), agents, busy_b1, T0, weight).added) == {
        ("n", "a1"), ("n", "a2")}
    az_aware = SchedulingOptions(dhcp_agents_per_network=2,
                                 network_scheduler_driver="AZAwareWeightScheduler")
    assert pairs(schedule_network(NetworkSpec("n"), agents, busy_b1, T0, az_aware).added) == {
        ("n", "a1"), ("n", "b1")}


def test_network_access_filter_and_chance_scheduler_are_deterministic() -> None:
    agents = [dhcp("a", NET1), dhcp("b", NET2), dhcp("c", CMP1),
              AgentRecord("ovs2", AGENT_TYPE_OVS, NET2, T0)]
    access = hosts_with_l2_agent(agents)
    assert access == {NET2}
    changes = schedule_network(NetworkSpec("n"), agents, [], T0, DEFAULTS,
                               hosts_with_network_access=access)
    assert pairs(changes.added) == {("n", "b")}
    chance = SchedulingOptions(network_scheduler_driver="neutron.scheduler."
                               "dhcp_agent_scheduler.ChanceScheduler")
    first = schedule_network(NetworkSpec("n"), agents, [], T0, chance)
    assert first == schedule_network(NetworkSpec("n"), agents[::-1], [], T0, chance)
    seeded = schedule_network(NetworkSpec("n"), agents, [], T0, chance, rng=random.Random(7))
    assert len(seeded.added) == 1
    off = SchedulingOptions(network_auto_schedule=False)
    assert schedule_network(NetworkSpec("n"), agents, [], T0, off).added == ()


def test_vacant_binding_index() -> None:
    assert get_vacant_binding_index(2, []) == 1
    assert get_vacant_binding_index(3, [1, 3]) == 2
    assert get_vacant_binding_index(2, [1, 2]) == -1
    assert get_vacant_binding_index(2, [1, 2], force_scheduling=True) == 3


def test_auto_schedule_networks_when_an_agent_syncs() -> None:
    agents = [dhcp("a", NET1), dhcp("b", NET2)]
    bindings = [NetworkBinding("n1", "a"), NetworkBinding("n2", "a"), NetworkBinding("n2", "b")]
    nets = [NetworkSpec("n1"), NetworkSpec("n2"), NetworkSpec("n3", ("elsewhere",))]
    changes = auto_schedule_networks(NET2, nets, agents, bindings, T0, LAB)
    assert changes.added == (NetworkBinding("n1", "b", 2),)
    dead = [dhcp("a", NET1), dhcp("b", NET2, heartbeat=T0 - 100)]
    down = auto_schedule_networks(NET2, nets, dead, bindings, T0, LAB)
    assert down.added == () and "DHCP agent b is not active" in messages(down)


# --------------------------------------------------------------------------- DHCP failover


def test_a_dead_agents_network_moves_after_twice_agent_down_time() -> None:
    # a last reported at T0; b reports throughout (a heartbeat later than any "now" here).
    agents = [dhcp("a", NET1, heartbeat=T0), dhcp("b", NET2, heartbeat=T0 + 10_000)]
    bindings = [NetworkBinding("n1", "a")]
    nets = [NetworkSpec("n1")]
    early = remove_networks_from_down_agents(nets, agents, bindings, T0 + 150, DEFAULTS)
    assert (early.added, early.removed) == ((), ())
    moved = remove_networks_from_down_agents(nets, agents, bindings, T0 + 150.5, DEFAULTS)
    assert moved.removed == (NetworkBinding("n1", "a"),)
    assert moved.added == (NetworkBinding("n1", "b", 1),)
    assert ("Removing network n1 from agent a because the agent did not report to the server "
            "in the last 150 seconds.") in messages(moved, logging.WARNING)
    assert "Adding network n1 to agent b on host network2.openstack.local" in messages(moved)


def test_the_worker_running_every_37_s_moves_the_network_within_150_to_187_s() -> None:
    agents = [dhcp("a", NET1, heartbeat=T0), dhcp("b", NET2, heartbeat=T0 + 10_000)]
    bindings = [NetworkBinding("n1", "a")]
    interval = DEFAULTS.status_check_interval
    moved_at = None
    for tick in range(1, 10):
        now = T0 + tick * interval
        changes = remove_networks_from_down_agents([], agents, bindings, now, DEFAULTS,
                                                   last_check=now - interval)
        bindings = changes.apply(bindings)
        if changes.added:
            moved_at = now - T0
            break
    assert moved_at == 185 and bindings == [NetworkBinding("n1", "b", 1)]


def test_dhcp_failover_rules() -> None:
    dead, alive = dhcp("a", NET1, heartbeat=T0 - 200, admin_state_up=False), dhcp("b", NET2)
    bindings = [NetworkBinding("n1", "a")]
    # The admin state of the dead agent does not matter for DHCP.
    assert pairs(remove_networks_from_down_agents([], [dead, alive], bindings, T0,
                                                  DEFAULTS).added) == {("n1", "b")}
    off = SchedulingOptions(allow_automatic_dhcp_failover=False)
    skipped = remove_networks_from_down_agents([], [dead, alive], bindings, T0, off)
    assert (skipped.added, skipped.removed) == ((), ())
    assert messages(skipped) == ["Skipping periodic DHCP agent status check because automatic "
                                 "network rescheduling is disabled."]
    nobody = remove_networks_from_down_agents([], [dead], bindings, T0, DEFAULTS)
    assert nobody.removed == () and "No DHCP agents available, skipping rescheduling" in \
        messages(nobody, logging.WARNING)
    # Restarted 10 s ago with an old heartbeat: still in its start-up grace.
    starting = dhcp("a", NET1, heartbeat=T0 - 200, started_at=T0 - 10)
    assert remove_networks_from_down_agents([], [starting, alive], bindings, T0,
                                            DEFAULTS).removed == ()
    # No auto scheduling: the binding goes, nothing replaces it.
    manual = SchedulingOptions(network_auto_schedule=False)
    only_removed = remove_networks_from_down_agents([], [dead, alive], bindings, T0, manual)
    assert (only_removed.added, len(only_removed.removed)) == ((), 1)


def test_dhcp_failover_in_the_lab_keeps_two_agents_a_network() -> None:
    agents = [dhcp("a", NET1, heartbeat=T0 - 151), dhcp("b", NET2), dhcp("c", CMP1)]
    bindings = [NetworkBinding("n1", "a", 1), NetworkBinding("n1", "b", 2)]
    changes = remove_networks_from_down_agents([NetworkSpec("n1")], agents, bindings, T0, LAB)
    assert changes.apply(bindings) == [NetworkBinding("n1", "b", 2), NetworkBinding("n1", "c", 1)]
    two_nodes = remove_networks_from_down_agents([], agents[:2], bindings, T0, LAB)
    assert two_nodes.apply(bindings) == [NetworkBinding("n1", "b", 2)]


def test_a_clock_jump_makes_the_worker_wait_before_checking() -> None:
    agents = [dhcp("a", NET1, heartbeat=T0 - 500), dhcp("b", NET2)]
    changes = remove_networks_from_down_agents([], agents, [NetworkBinding("n", "a")], T0,
                                               DEFAULTS, last_check=T0 - 76)
    assert changes.removed == () and changes.retry_at == T0 + 150
    assert messages(changes, logging.WARNING)[0].startswith(
        "Time since last DHCP agent reschedule check has exceeded the interval between checks.")


def test_manual_dhcp_bindings_and_admin_state_down() -> None:
    agents = [dhcp("a", NET1), dhcp("off", NET2, admin_state_up=False),
              AgentRecord("m", AGENT_TYPE_METADATA, NET1, T0)]
    bindings = [NetworkBinding("n1", "a")]
    with pytest.raises(InvalidDHCPAgent) as error:
        add_network_to_dhcp_agent("off", "n1", agents, bindings, DEFAULTS)
    assert error.value.status == 404 and error.value.kind == "InvalidDHCPAgent"
    assert error.value.message == "Agent off is not a valid DHCP Agent or has been disabled."
    with pytest.raises(InvalidDHCPAgent):
        add_network_to_dhcp_agent("m", "n1", agents, bindings, DEFAULTS)
    allowed = SchedulingOptions(enable_services_on_agents_with_admin_state_down=True)
    # Beyond dhcp_agents_per_network (1): a forced binding_index.
    assert add_network_to_dhcp_agent("off", "n1", agents, bindings, allowed).added == (
        NetworkBinding("n1", "off", 2),)
    with pytest.raises(NetworkHostedByDHCPAgent, match=re.escape(
            "The network n1 has been already hosted by the DHCP Agent a.")):
        add_network_to_dhcp_agent("a", "n1", agents, bindings, DEFAULTS)
    with pytest.raises(NetworkNotHostedByDhcpAgent) as not_hosted:
        remove_network_from_dhcp_agent("a", "n2", agents, bindings)
    assert not_hosted.value.status == 409
    assert remove_network_from_dhcp_agent("a", "n1", agents, bindings).removed == tuple(bindings)
    off_bound = [NetworkBinding("n1", "off")]
    assert networks_served_by_agent(agents[1], off_bound, DEFAULTS) == []
    assert networks_served_by_agent(agents[1], off_bound, allowed) == ["n1"]


# --------------------------------------------------------------------------- L3 scheduling


def test_least_routers_scheduler_for_a_legacy_router() -> None:
    agents = [l3("a", NET1), l3("b", NET2)]
    state = L3State(bindings=(RouterBinding("r0", "a"),))
    changes = schedule_router(RouterSpec("r1", "p"), agents, state, T0, DEFAULTS)
    assert changes.added == (RouterBinding("r1", "b", 1),)
    state = state.apply(changes)
    assert schedule_router(RouterSpec("r1", "p"), agents, state, T0, DEFAULTS).added == ()
    assert routers_served_by_agent(agents[1], state, DEFAULTS) == ["r1"]
    # ChanceScheduler: random, but repeatable here.
    chance = SchedulingOptions(router_scheduler_driver="ChanceScheduler")
    once = schedule_router(RouterSpec("r9", "p"), agents, L3State(), T0, chance)
    assert once == schedule_router(RouterSpec("r9", "p"), agents[::-1], L3State(), T0, chance)


def test_l3_candidates_follow_agent_mode_and_configuration() -> None:
    agents = [l3("legacy", NET1), l3("snat", NET2, "dvr_snat"), l3("dvr", CMP1, "dvr"),
              l3("internal-no", CMP2, configurations={"handle_internal_only_routers": False})]
    state = L3State(bindings=(RouterBinding("x", "snat"), RouterBinding("y", "snat")))
    dvr_router = RouterSpec("r1", "p", distributed=True, external_network_id="ext")
    # The SNAT part of a distributed router only goes to a dvr_snat agent, however busy.
    assert pairs(schedule_router(dvr_router, agents, state, T0, DEFAULTS).added) == {
        ("r1", "snat")}
    internal = schedule_router(RouterSpec("r2", "p"), agents[3:], L3State(), T0, DEFAULTS)
    assert internal.added == () and "No L3 agents can host the router r2" in messages(internal)
    nobody = schedule_router(RouterSpec("r3", "p"), [l3("a", NET1, heartbeat=T0 - 76)],
                             L3State(), T0, DEFAULTS)
    assert nobody.added == () and "No active L3 agents" in messages(nobody, logging.WARNING)


def test_an_ha_router_gets_up_to_max_agents_ha_ports_and_a_vrid() -> None:
    agents = [l3("a", NET1), l3("b", NET2), l3("c", CMP1), l3("d", CMP2)]
    state = L3State(bindings=(RouterBinding("busy", "c"),))
    changes = schedule_router(RouterSpec("r1", "p1"), agents, state, T0, LAB)
    # c hosts a router already; the others tie and go by host name (compute2 first).
    assert sorted((b.agent_id, b.binding_index) for b in changes.added) == [
        ("a", 2), ("b", 3), ("d", 1)]
    assert changes.added_vr_ids == (VrIdAllocation("p1", "r1", 1),)
    assert sorted(p.ip_address for p in changes.added_ha_ports) == [
        "169.254.192.1", "169.254.192.2", "169.254.192.3"]
    port = changes.added_ha_ports[0]
    assert (port.name, port.device_owner) == ("HA port project p1", "network:router_ha_interface")
    # l3_ha off: the same router is a legacy router on one agent, unless asked --ha.
    assert len(schedule_router(RouterSpec("r1", "p1"), agents, state, T0, DEFAULTS).added) == 1
    assert len(schedule_router(RouterSpec("r1", "p1", ha=True), agents, state, T0,
                               DEFAULTS).added) == 3
    every = SchedulingOptions(l3_ha=True, max_l3_agents_per_router=0)
    assert len(schedule_router(RouterSpec("r1", "p1"), agents, state, T0, every).added) == 4


def test_an_ha_router_with_one_agent_alive_degrades_then_gains_replicas() -> None:
    agents = [l3("a", NET1), l3("b", NET2, heartbeat=T0 - 100)]
    changes = schedule_router(RouterSpec("r1", "p1"), agents, L3State(), T0, LAB)
    assert pairs(changes.added) == {("r1", "a")} and not changes.errors
    assert ("Number of active agents lower than max_l3_agents_per_router. L3 agents "
            "available: 1") in messages(changes, logging.INFO)
    assert number_of_agents_for_scheduling(agents, T0, LAB)[0] == 1
    state = L3State().apply(changes)
    # network2's agent comes back and syncs: the router gets its second replica.
    revived = [agents[0], l3("b", NET2, heartbeat=T0 + 30)]
    more = auto_schedule_routers(NET2, [RouterSpec("r1", "p1")], revived, state, T0 + 30, LAB)
    assert more.added == (RouterBinding("r1", "b", 2),)
    assert more.added_vr_ids == () and [p.ip_address for p in more.added_ha_ports] == [
        "169.254.192.2"]
    state = state.apply(more)
    assert auto_schedule_routers(NET2, [RouterSpec("r1", "p1")], revived, state, T0 + 30,
                                 LAB).added == ()


def test_vrids_are_per_project_and_the_255th_ha_router_fails_as_upstream() -> None:
    agents = [l3("a", NET1)]
    state = L3State()
    for n in range(254):
        changes = schedule_router(RouterSpec(f"r{n}", "p1"), agents, state, T0, LAB)
        assert not changes.errors
        state = state.apply(changes)
    assert state.vr_id_of("r0") == 1 and state.vr_id_of("r253") == 254
    other = schedule_router(RouterSpec("q0", "p2"), agents, state, T0, LAB)
    assert other.added_vr_ids == (VrIdAllocation("p2", "q0", 1),)
    assert other.added_ha_ports[0].ip_address == "169.254.192.1"  # its own HA network

    full = schedule_router(RouterSpec("r254", "p1"), agents, state, T0, LAB)
    assert full.router_status == {"r254": "ERROR"}
    (error,) = full.errors
    assert isinstance(error, NoVRIDAvailable) and error.status == 409
    assert error.kind == "NoVRIDAvailable"
    assert error.message == ("No more Virtual Router Identifier (VRID) available when creating "
                             "router r254. The limit of number of HA Routers per project is 254.")
    assert LogRecord(logging.WARNING, f"No more VRIDs for router: {error.message}") in full.log
    # As upstream, the first binding was written before the VRID failed; no port, no VRID.
    assert pairs(full.added) == {("r254", "a")}
    assert (full.added_vr_ids, full.added_ha_ports) == ((), ())


def test_vrid_allocation_and_ha_network_details() -> None:
    assert allocate_vr_id("r", []) == 1
    assert allocate_vr_id("r", {1, 2, 4}) == 3
    with pytest.raises(NoVRIDAvailable):
        allocate_vr_id("r", set(range(1, 255)))
    spec = ha_network_spec("p1", LAB)
    assert (spec.network_name, spec.subnet_name, spec.cidr) == (
        "HA network project p1", "HA subnet project p1", "169.254.192.0/18")
    assert (spec.owner_project_id, spec.enable_dhcp, spec.gateway_ip) == ("", False, None)
    assert ha_interface_name("0123456789abcdef") == "ha-0123456789a"
    assert primary_vip(5, LAB) == "169.254.0.5/24"
    assert primary_vip(5, SchedulingOptions(l3_ha_net_cidr="169.254.0.0/18")) == \
        "169.254.128.5/24"


def test_each_hosting_agent_runs_a_vrrp_instance() -> None:
    agents = [l3("a", NET1), l3("b", NET2)]
    router = RouterSpec("r1", "p1")
    state = L3State().apply(schedule_router(router, agents, L3State(), T0, LAB))
    instances = vrrp_instances(router, agents, state, LAB)
    assert [(i.host, i.vr_id, i.ha_ip_address, i.interface) for i in instances] == [
        (NET1, 1, "169.254.192.1", None), (NET2, 1, "169.254.192.2", None)]
    config = instances[0].config
    assert (config.initial_state, config.priority, config.nopreempt, config.advert_int) == (
        VrrpState.BACKUP, 50, True, 2.0)
    assert instances[0].primary_vip == "169.254.0.1/24" and instances[0].name == "VR_1"
    with_ids = L3State(bindings=state.bindings, vr_ids=state.vr_ids, ha_ports=tuple(
        HaPort(p.router_id, p.agent_id, p.project_id, p.ip_address, port_id=f"port-{p.agent_id}")
        for p in state.ha_ports))
    assert [i.interface for i in vrrp_instances(router, agents, with_ids, LAB)] == [
        "ha-port-a", "ha-port-b"]
    assert vrrp_instances(RouterSpec("r1", "p1", ha=False), agents, state, LAB) == []


# --------------------------------------------------------------------------- L3 failover


def test_legacy_routers_stay_on_a_dead_agent_by_default() -> None:
    agents = [l3("a", NET1, heartbeat=T0 - 1000), l3("b", NET2)]
    state = L3State(bindings=(RouterBinding("r1", "a"),))
    changes = reschedule_routers_from_down_agents([RouterSpec("r1", "p")], agents, state, T0,
                                                  DEFAULTS)
    assert (changes.added, changes.removed) == ((), ())
    assert messages(changes) == ["Skipping period L3 agent status check because automatic "
                                 "router rescheduling is disabled."]


def test_automatic_l3agent_failover_moves_a_legacy_router_after_150_s() -> None:
    on = SchedulingOptions(allow_automatic_l3agent_failover=True)
    agents = [l3("a", NET1, heartbeat=T0), l3("b", NET2, heartbeat=T0 + 10_000)]
    state = L3State(bindings=(RouterBinding("r1", "a"),))
    routers = [RouterSpec("r1", "p")]
    assert reschedule_routers_from_down_agents(routers, agents, state, T0 + 150, on) == L3Changes()
    changes = reschedule_routers_from_down_agents(routers, agents, state, T0 + 151, on)
    assert changes.removed == (RouterBinding("r1", "a"),)
    assert changes.added == (RouterBinding("r1", "b"),)
    assert ("Rescheduling router r1 from agent a because the agent did not report to the server "
            "in the last 150 seconds.") in messages(changes, logging.WARNING)
    # An admin-down dead agent keeps its routers.
    off_agents = [l3("a", NET1, heartbeat=T0, admin_state_up=False), agents[1]]
    assert reschedule_routers_from_down_agents(routers, off_agents, state, T0 + 151,
                                               on).added == ()


def test_failed_rescheduling_is_rolled_back() -> None:
    on = SchedulingOptions(allow_automatic_l3agent_failover=True)
    agents = [l3("a", NET1, heartbeat=T0 - 151)]
    state = L3State(bindings=(RouterBinding("r1", "a"),))
    changes = reschedule_routers_from_down_agents([RouterSpec("r1", "p")], agents, state, T0, on)
    assert (changes.added, changes.removed) == ((), ())
    (error,) = changes.errors
    assert isinstance(error, RouterReschedulingFailed)
    assert error.message == "Failed rescheduling router r1: no eligible l3 agent found."
    assert "Failed to reschedule router r1" in messages(changes, logging.ERROR)


def test_ha_routers_are_rescheduled_too_to_restore_redundancy() -> None:
    on = SchedulingOptions(l3_ha=True, allow_automatic_l3agent_failover=True)
    agents = [l3("a", NET1), l3("b", NET2), l3("c", CMP1), l3("d", CMP2)]
    router = RouterSpec("r1", "p1")
    state = L3State().apply(schedule_router(router, agents[:3], L3State(), T0, on))
    later = T0 + 200
    alive = [l3("a", NET1, heartbeat=T0)] + [l3(a.id, a.host, heartbeat=later) for a in agents[1:]]
    changes = reschedule_routers_from_down_agents([router], alive, state, later, on)
    after = state.apply(changes)
    assert {b.agent_id for b in after.bindings_of("r1")} == {"b", "c", "d"}
    assert after.vr_id_of("r1") == 1 and changes.added_vr_ids == ()
    assert [(p.agent_id, p.ip_address) for p in changes.added_ha_ports] == [
        ("d", "169.254.192.4")]
    assert changes.removed_ha_ports == ()  # upstream leaves the dead agent's port


def test_manual_router_scheduling_rules() -> None:
    agents = [l3("leg", NET1), l3("snat", NET2, "dvr_snat"), l3("dvr", CMP1, "dvr"),
              l3("off", CMP2, admin_state_up=False), dhcp("dh", NET1)]
    legacy, dvr_router = RouterSpec("r1", "p", ha=False), RouterSpec("r2", "p", distributed=True)
    with pytest.raises(DVRL3CannotAssignToDvrAgent):
        add_router_to_l3_agent("dvr", legacy, agents, L3State(), T0, DEFAULTS)
    with pytest.raises(RouterL3AgentMismatch, match=re.escape(
            "Cannot host distributed router r2 on legacy L3 agent leg.")):
        add_router_to_l3_agent("leg", dvr_router, agents, L3State(), T0, DEFAULTS)
    with pytest.raises(InvalidL3Agent, match="Agent dh is not a L3 Agent or has been disabled"):
        add_router_to_l3_agent("dh", legacy, agents, L3State(), T0, DEFAULTS)
    with pytest.raises(InvalidL3Agent):
        add_router_to_l3_agent("off", legacy, agents, L3State(), T0, DEFAULTS)
    allowed = SchedulingOptions(enable_services_on_agents_with_admin_state_down=True)
    assert pairs(add_router_to_l3_agent("off", legacy, agents, L3State(), T0,
                                        allowed).added) == {("r1", "off")}
    hosted = L3State(bindings=(RouterBinding("r1", "leg"),))
    with pytest.raises(RouterHostedByL3Agent) as error:
        add_router_to_l3_agent("snat", legacy, agents, hosted, T0, DEFAULTS)
    assert error.value.message == "The router r1 has been already hosted by the L3 Agent leg."
    assert add_router_to_l3_agent("leg", legacy, agents, hosted, T0, DEFAULTS).added == ()
    with pytest.raises(DVRL3CannotRemoveFromDvrAgent):
        remove_router_from_l3_agent("dvr", legacy, agents, hosted, DEFAULTS)


def test_manual_replica_of_an_ha_router_and_its_removal() -> None:
    agents = [l3("a", NET1), l3("b", NET2), l3("c", CMP1), l3("d", CMP2)]
    router = RouterSpec("r1", "p1")
    state = L3State().apply(schedule_router(router, agents, L3State(), T0, LAB))
    bound = {b.agent_id for b in state.bindings_of("r1")}
    (spare,) = [a.id for a in agents if a.id not in bound]
    added = add_router_to_l3_agent(spare, router, agents, state, T0, LAB)
    assert [(b.agent_id, b.binding_index) for b in added.added] == [(spare, 4)]
    state = state.apply(added)
    removed = remove_router_from_l3_agent(spare, router, agents, state, LAB)
    assert pairs(removed.removed) == {("r1", spare)}
    assert [p.agent_id for p in removed.removed_ha_ports] == [spare]
    assert len(state.apply(removed).ha_ports) == 3


# --------------------------------------------------------------------------- DVR


def test_dvr_namespaces_follow_port_bindings() -> None:
    agents = [l3("snat1", NET1, "dvr_snat"), l3("snat2", NET2, "dvr_snat"),
              l3("dvr1", CMP1, "dvr"), l3("dvr2", CMP2, "dvr"),
              dhcp("dhcp2", NET2)]
    router = RouterSpec("r1", "p", distributed=True, external_network_id="ext",
                        interface_subnet_ids=("s1",))
    state = L3State().apply(schedule_router(router, agents, L3State(), T0, DEFAULTS))
    assert pairs(state.bindings) == {("r1", "snat1")}
    ports = [PortPlacement("vm1", CMP1, "compute:nova", ("s1",)),
             PortPlacement("vm2", CMP2, "compute:nova", ("s9",)),
             PortPlacement("dhcp", NET2, "network:dhcp", ("s1",))]
    hosts = namespaces_by_host([router], agents, state, ports, DEFAULTS,
                               network_bindings=[NetworkBinding("n1", "dhcp2")])
    # Every host running the router's qrouter- is wired to the fip- namespace (the router
    # has a gateway), floating IPs or not.
    assert hosts == {
        CMP1: ["fip-ext", "qrouter-r1"],
        NET1: ["fip-ext", "qrouter-r1", "snat-r1"],
        NET2: ["fip-ext", "qdhcp-n1", "qrouter-r1"],
    }
    no_dhcp_dvr = SchedulingOptions(host_dvr_for_dhcp=False)
    assert namespaces_by_host([router], agents, state, ports, no_dhcp_dvr) == {
        CMP1: ["fip-ext", "qrouter-r1"], NET1: ["fip-ext", "qrouter-r1", "snat-r1"]}
    # Without a gateway: no snat-, no fip-; a dvr_no_external host has no fip- at all.
    internal = RouterSpec("r1", "p", distributed=True, interface_subnet_ids=("s1",))
    assert namespaces_by_host([internal], agents, state, ports, no_dhcp_dvr) == {
        CMP1: ["qrouter-r1"], NET1: ["qrouter-r1"]}
    no_external = [l3("snat1", NET1, "dvr_snat"), l3("dvr1", CMP1, "dvr_no_external")]
    assert namespaces_by_host([router], no_external, state, ports, DEFAULTS) == {
        CMP1: ["qrouter-r1"], NET1: ["fip-ext", "qrouter-r1", "snat-r1"]}
    # A legacy HA router: a qrouter- on each hosting agent, nothing else.
    ha = RouterSpec("r2", "p", ha=True)
    legacy_agents = [l3("a", NET1), l3("b", NET2)]
    ha_state = L3State().apply(schedule_router(ha, legacy_agents, L3State(), T0, DEFAULTS))
    assert namespaces_by_host([ha], legacy_agents, ha_state, [], DEFAULTS) == {
        NET1: ["qrouter-r2"], NET2: ["qrouter-r2"]}


# --------------------------------------------------------------------------- availability zones


def test_availability_zones_derive_from_bindings() -> None:
    agents = [dhcp("d1", NET1, availability_zone="az1"), dhcp("d2", NET2, availability_zone="az2"),
              l3("l1", NET1, availability_zone="az1"),
              l3("l2", NET2, availability_zone="az2", admin_state_up=False),
              AgentRecord("ovs", AGENT_TYPE_OVS, CMP1, T0)]
    bindings = [NetworkBinding("n1", "d1"), NetworkBinding("n1", "d2")]
    assert network_availability_zones("n1", agents, bindings) == ["az1", "az2"]
    state = L3State(bindings=(RouterBinding("r1", "l1"),))
    assert router_availability_zones("r1", agents, state) == ["az1"]
    assert availability_zones(agents) == [
        AvailabilityZone("az1", "network", "available"),
        AvailabilityZone("az1", "router", "available"),
        AvailabilityZone("az2", "network", "available"),
        AvailabilityZone("az2", "router", "unavailable")]
    validate_availability_zones("network", ["az1"], agents)
    with pytest.raises(AvailabilityZoneNotFound, match="AvailabilityZone az9 could not be found"):
        validate_availability_zones("router", ["az1", "az9"], agents)


def test_router_az_hints_need_the_az_aware_scheduler() -> None:
    agents = [l3("a1", CMP1, availability_zone="az1"), l3("a2", NET1, availability_zone="az1"),
              l3("b1", NET2, availability_zone="az2")]
    busy = L3State(bindings=(RouterBinding("x", "b1"),))
    hinted = RouterSpec("r1", "p", ha=False, availability_zone_hints=("az2",))
    # LeastRoutersScheduler ignores router hints (upstream): the least busy agent wins.
    assert pairs(schedule_router(hinted, agents, busy, T0, DEFAULTS).added) == {("r1", "a1")}
    az = SchedulingOptions(router_scheduler_driver="AZLeastRoutersScheduler",
                           max_l3_agents_per_router=2)
    assert pairs(schedule_router(hinted, agents, busy, T0, az).added) == {("r1", "b1")}
    # An HA router is spread over the zones before doubling up in one.
    ha = RouterSpec("r2", "p", ha=True)
    assert pairs(schedule_router(ha, agents, busy, T0, az).added) == {("r2", "a1"), ("r2", "b1")}
    assert pairs(schedule_router(ha, agents, busy, T0, SchedulingOptions(
        max_l3_agents_per_router=2)).added) == {("r2", "a1"), ("r2", "a2")}
