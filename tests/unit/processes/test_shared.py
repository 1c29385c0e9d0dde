"""The lab across processes (processes/shared.py): every process's runtime made the lab's,
and every process's logs in the lab API's central store."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import stacklab.models  # noqa: F401  (every table, for the store)
from stacklab.bus.inprocess import InProcessBus
from stacklab.bus.interface import Target
from stacklab.clock import RealClock
from stacklab.observability.logging import CentralLogStore, ContextFilter, bind_request
from stacklab.processes.shared import (
    LogShipper,
    SharedLab,
    clear_state,
    read_state,
)
from stacklab.store.database import Database
from stacklab.topology import Follower, Runtime, default_lab_data, topology_from_data

COMPUTE1 = "compute1.openstack.local"
NETWORK1 = "network1.openstack.local"


def _runtime() -> Runtime:
    return Runtime(topology_from_data(default_lab_data()))


def _store() -> Database:
    db = Database("sqlite://")
    db.upgrade()
    return db


def test_a_fault_in_the_lab_api_s_process_reaches_every_process_and_a_later_one() -> None:
    async def scenario() -> None:
        db, bus = _store(), InProcessBus(RealClock())
        keystone, compute = _runtime(), _runtime()
        SharedLab(keystone, db, bus, writes=True)
        compute_lab = SharedLab(compute, db, bus, writes=False)
        downs: list[str] = []
        compute.subscribe(Follower("nova-compute", down=downs.append))

        keystone.power_off(COMPUTE1)
        keystone.stop_service(NETWORK1, "neutron-l3-agent")
        await asyncio.sleep(0.05)  # the fanout's turn
        assert downs == [COMPUTE1]
        assert compute.faults() == keystone.faults()
        assert read_state(db) == (2, keystone.faults())

        # A process's own change is not the lab's (only the lab API's processes write),
        # and a process started later begins in the lab's faults.
        compute.power_on(COMPUTE1)
        assert read_state(db)[0] == 2
        later = _runtime()
        assert SharedLab(later, db, bus, writes=False).catch_up() is True
        assert later.faults() == keystone.faults()

        keystone.heal()
        await asyncio.sleep(0.05)
        assert compute.faults() == later.faults() == keystone.faults()
        assert not keystone.faults()["nodes_down"]
        assert compute_lab.catch_up() is False  # the casts brought it all
        clear_state(db)
        assert read_state(db) == (0, {})

    asyncio.run(scenario())


def test_a_store_that_cannot_be_written_keeps_the_change_this_process_s() -> None:
    runtime = _runtime()
    SharedLab(runtime, Database("sqlite://"), InProcessBus(RealClock()), writes=True)
    heard: list[str] = []
    runtime.subscribe(Follower("after", changed=lambda change: heard.append(change.kind)))
    assert runtime.power_off(COMPUTE1) is True  # no table: the write failed, logged
    assert heard == ["power"]


def test_an_older_version_changes_nothing() -> None:
    runtime = _runtime()
    shared = SharedLab(runtime, _store(), InProcessBus(RealClock()), writes=False)
    assert shared.apply(3, {"nodes_down": [COMPUTE1]}) is True
    assert shared.apply(2, {"nodes_down": []}) is False
    assert not runtime.is_up(COMPUTE1)


def _log(store: CentralLogStore, message: str, request_id: str) -> None:
    logger = logging.Logger("nova.compute.manager")
    store.addFilter(ContextFilter())
    logger.addHandler(store)
    bind_request(request_id, None, COMPUTE1)
    logger.info(message)


def test_every_process_s_records_reach_the_lab_api_s_store_tagged() -> None:
    async def scenario() -> None:
        bus = InProcessBus(RealClock())
        central, compute = CentralLogStore(), CentralLogStore()
        LogShipper(central, bus, process="keystone", sender="keystone#1", collects=True)
        shipper = LogShipper(compute, bus, process=f"nova-compute@{COMPUTE1}",
                             sender="nova-compute#2", collects=False)
        _log(compute, "Instance spawned", "req-1")
        _log(central, "Token issued", "req-2")
        await shipper.ship()
        await asyncio.sleep(0.05)
        found = central.search(request_id="req-1")
        assert [(r["message"], r["process"]) for r in found] == [
            ("Instance spawned", f"nova-compute@{COMPUTE1}")]
        assert central.search(process="keystone")[0]["message"] == "Token issued"
        assert shipper.sent == 1 and shipper.dropped == 0

    asyncio.run(scenario())


def test_the_control_plane_s_own_lines_stay_in_their_process() -> None:
    """Every process runs the lab's control plane: its lines would be there once per
    process. A request's line (HAProxy's) is shipped."""
    store = CentralLogStore()
    shipper = LogShipper(store, InProcessBus(RealClock()), process="nova-api",
                         sender="nova-api#1", collects=False)
    shipper.offer({"logger": "stacklab.ha.keepalived", "request_id": None, "message": "x"})
    shipper.offer({"logger": "stacklab.ha.haproxy", "request_id": "req-1", "message": "y"})
    shipper.offer({"logger": "nova.compute.manager", "request_id": None, "message": "z"})
    assert [r["message"] for r in shipper.outbox] == ["y", "z"]


class _AwayBroker(InProcessBus):
    """A bus whose broker does not answer: a cast never completes."""

    async def cast(self, target: Target, method: str, *, ctxt: Any = None,
                   **kwargs: Any) -> None:
        await asyncio.Event().wait()


def test_shipping_never_blocks_and_drops_what_the_broker_does_not_take() -> None:
    async def scenario() -> None:
        store = CentralLogStore()
        shipper = LogShipper(store, _AwayBroker(RealClock()), process="nova-api",
                             sender="nova-api#1", collects=False)
        shipper.CAPACITY = 2
        shipper.SEND_TIMEOUT = 0.01
        for index in range(3):
            _log(store, f"line {index}", "req-1")  # the handler never waits
        assert len(shipper.outbox) == 2 and shipper.dropped == 1
        await shipper.ship()
        assert shipper.dropped == 3 and shipper.sent == 0 and not shipper.outbox
        assert len(store.records) == 3  # the process's own store keeps them

    asyncio.run(scenario())


def test_one_process_ships_nothing() -> None:
    store = CentralLogStore()
    _log(store, "Instance spawned", "req-1")
    assert "process" not in store.records[0] and store.forward is None
