"""An HA router's keepalived split across OS processes (``stacklab up --processes``): each
network node's agents process holds its own instance only, and the adverts between them
travel the bus (``BusAdverts``), still only along the paths the lab says there are."""

from __future__ import annotations

import asyncio

from stacklab.bus.inprocess import InProcessBus
from stacklab.clock import VirtualClock
from stacklab.ha.vrrp import VrrpConfig, VrrpState, master_down_interval
from stacklab.network.keepalived import BusAdverts, Keepalived, spec_from_wire, spec_to_wire
from stacklab.network.scheduling.records import VrrpInstanceSpec

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
ROUTER = "r1"
ELECTION = master_down_interval(50, 2.0)


def spec(host: str, address: str) -> VrrpInstanceSpec:
    return VrrpInstanceSpec(ROUTER, f"agent-{host}", host, address, "ha-1",
                            "169.254.0.1/24", VrrpConfig.neutron_ha_router(1))


class Lab:
    """Two nodes' processes on one bus (a broker's fanout), on one virtual clock."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.bus = InProcessBus(self.clock)
        self.powered = {NETWORK1: True, NETWORK2: True}
        self.linked = True
        self.processes: dict[str, Keepalived] = {}
        for host, address in ((NETWORK1, "169.254.192.1"), (NETWORK2, "169.254.192.2")):
            transport = BusAdverts(self.bus, [host])
            keepalived = Keepalived(self.clock, self.powered.__getitem__,
                                    reachable=lambda a, b: self.linked, transport=transport)
            transport.start(keepalived)
            # What the host's L3 agent does with the server's answer to sync_routers.
            keepalived.configure(ROUTER, [spec_from_wire(spec_to_wire(spec(host, address)))])
            self.processes[host] = keepalived

    def states(self) -> dict[str, VrrpState | None]:
        return {host: k.state(ROUTER, host) for host, k in self.processes.items()}

    def masters(self) -> list[str]:
        return [host for host, state in self.states().items() if state is VrrpState.MASTER]


def test_a_spec_crosses_the_wire_unchanged() -> None:
    found = spec(NETWORK1, "169.254.192.1")
    assert spec_from_wire(spec_to_wire(found)) == found


def test_each_process_holds_its_own_instance_and_they_elect_one_master_over_the_bus() -> None:
    async def test() -> None:
        lab = Lab()
        for host, keepalived in lab.processes.items():
            assert [i.node for i in keepalived.segments[ROUTER].instances()] == [host]
            assert keepalived.ensure(ROUTER, host)
        await lab.clock.run_for(ELECTION + 1)
        assert len(lab.masters()) == 1
        # Held for many adverts: the backup hears its master across processes.
        await lab.clock.run_for(10 * ELECTION)
        (master,) = lab.masters()
        backup = NETWORK2 if master == NETWORK1 else NETWORK1
        assert lab.states()[backup] is VrrpState.BACKUP
        # The master's node loses power (its process is killed): no goodbye; the other
        # takes over once it has missed three adverts (the last one came up to an advert
        # interval before).
        lab.powered[master] = False
        lab.processes[master].host_down(master)
        await lab.clock.run_for(ELECTION - 2.0 - 0.1)
        assert lab.masters() == []
        await lab.clock.run_for(2.2)
        assert lab.masters() == [backup]

    asyncio.run(test())


def test_the_lab_s_paths_decide_whether_an_advert_gets_through() -> None:
    async def test() -> None:
        lab = Lab()
        for host, keepalived in lab.processes.items():
            keepalived.ensure(ROUTER, host)
        await lab.clock.run_for(ELECTION + 1)
        assert len(lab.masters()) == 1
        # Cut off each other (a partition of the overlay): each side becomes MASTER.
        lab.linked = False
        await lab.clock.run_for(ELECTION + 1)
        assert sorted(lab.masters()) == [NETWORK1, NETWORK2]
        # Healed: one master again (keepalived answers a lower advert at once).
        lab.linked = True
        await lab.clock.run_for(2 * 2.0 + 1)
        assert len(lab.masters()) == 1

    asyncio.run(test())


def test_a_stopped_instance_says_goodbye_to_the_other_process() -> None:
    async def test() -> None:
        lab = Lab()
        for host, keepalived in lab.processes.items():
            keepalived.ensure(ROUTER, host)
        await lab.clock.run_for(ELECTION + 1)
        (master,) = lab.masters()
        # Its L3 agent is told the router is no longer its own: priority 0 goes out and
        # the other takes over after its skew time, well before three adverts are missed.
        lab.processes[master].configure(ROUTER, [])
        await lab.clock.run_for(1)
        assert lab.masters() == [NETWORK2 if master == NETWORK1 else NETWORK1]

    asyncio.run(test())
