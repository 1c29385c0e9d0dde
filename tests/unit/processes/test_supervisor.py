"""The supervisor following the lab's power (processes/supervisor.py): a node powered off
takes its processes with it, and they start again when it is powered on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import stacklab.models  # noqa: F401  (every table, for the store)
from stacklab.config import Config, lab_defaults
from stacklab.processes import supervisor as supervisor_module
from stacklab.processes.roles import Role, roles_for
from stacklab.processes.shared import powered_off, write_state
from stacklab.processes.supervisor import Child, LabPower, Supervisor, follow_power
from stacklab.store.database import Database
from stacklab.topology import Runtime, load_topology

COMPUTE1 = "compute1.openstack.local"
CONTROLLER1 = "controller1.openstack.local"


def _idle(role: Role, ready_fd: int, powered_on: bool) -> int:
    os.close(ready_fd)
    time.sleep(60)  # killed long before
    return 0


def _children() -> list[Child]:
    return [Child(role, _idle) for role in roles_for(load_topology(None))]


def test_a_node_powered_off_takes_its_own_processes_only() -> None:
    children = _children()
    stop, start = follow_power(children, {COMPUTE1})
    assert sorted(c.label for c in stop) == [
        f"neutron-agents@{COMPUTE1}", f"nova-compute@{COMPUTE1}"]
    assert start == []
    # A controller's node-bound processes go with it; the shared ones (keystone,
    # nova-conductor, neutron-server ... run on every controller at once) never do.
    stop, _ = follow_power(children, {CONTROLLER1})
    assert sorted(c.label for c in stop) == [
        f"cinder-backup@{CONTROLLER1}", f"cinder-volume@{CONTROLLER1}",
        f"heat-engine@{CONTROLLER1}"]
    everything = {node.fqdn for node in load_topology(None).nodes.values()}
    stop, _ = follow_power(children, everything)
    assert {c.role.name for c in children if c not in stop} == {
        "keystone", "glance", "nova-api", "nova-conductor", "nova-scheduler",
        "neutron-server", "cinder-api", "cinder-scheduler", "heat-api"}
    assert all(c.role.node is None for c in children if c not in stop)


def test_stopped_with_its_node_it_waits_for_the_node_only() -> None:
    children = _children()
    compute1 = [c for c in children if c.role.node == COMPUTE1]
    # One of them had crashed and was waiting for its restart: it goes with the node too.
    compute1[0].due = time.monotonic() + 5
    stop, _ = follow_power(children, {COMPUTE1})
    assert set(map(id, stop)) == set(map(id, compute1))
    for child in stop:
        child.node_down = True
    # Still down: nothing to do; another node down: only its own.
    assert follow_power(children, {COMPUTE1}) == ([], [])
    stop, start = follow_power(children, {COMPUTE1, CONTROLLER1})
    assert start == [] and {c.role.node for c in stop} == {CONTROLLER1}
    # Back up: started again.
    stop, start = follow_power(children, set())
    assert stop == [] and set(map(id, start)) == set(map(id, compute1))


def test_only_a_powered_off_node_is_down() -> None:
    runtime = Runtime(load_topology(None))
    runtime.stop_service(COMPUTE1, "nova-compute")
    runtime.detach("compute2.openstack.local", "overlay")
    runtime.partition([["controller1"], ["controller2"]])
    assert powered_off(runtime.faults()) == frozenset()
    runtime.power_off(CONTROLLER1)
    assert powered_off(runtime.faults()) == {CONTROLLER1}
    assert powered_off({}) == frozenset()


def test_the_supervisor_reads_the_nodes_down_from_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    power = LabPower(url)
    # No table yet (the store cannot be read): None, said once.
    assert power.nodes_down() is None
    assert power.nodes_down() is None
    assert capsys.readouterr().err.count("cannot be read from the store") == 1
    db = Database(url)
    db.upgrade()
    assert power.nodes_down() == frozenset()  # no faults were ever written
    runtime = Runtime(load_topology(None))
    runtime.power_off(COMPUTE1)
    write_state(db, runtime.faults())
    assert power.nodes_down() == {COMPUTE1}
    db.dispose()
    power.close()


class _Power:
    """The lab's power as the supervisor's watch reads it, round by round; the watch
    stops once they are done."""

    def __init__(self, supervisor: Supervisor, rounds: list[frozenset[str]]) -> None:
        self.supervisor = supervisor
        self.rounds = rounds
        self.seen: list[tuple[int | None, bool]] = []

    def nodes_down(self) -> frozenset[str] | None:
        child = self.supervisor.children[0]
        self.seen.append((child.pid, child.node_down))
        if not self.rounds:
            self.supervisor.stopping = True
            return None
        return self.rounds.pop(0)

    def close(self) -> None:
        pass


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_the_watch_kills_a_node_s_process_and_starts_it_when_the_node_is_back(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(supervisor_module, "POLL", 0.01)
    monkeypatch.setattr(supervisor_module, "LAB_POLL", 0.0)
    config = lab_defaults(Config())
    config.database.connection = "mysql+pymysql://root@127.0.0.1:3306/unused"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    supervisor = Supervisor(config)
    role = next(r for r in supervisor.roles if r.label == f"nova-compute@{COMPUTE1}")
    shared = next(r for r in supervisor.roles if r.name == "nova-conductor")
    supervisor.children = [Child(role, _idle), Child(shared, _idle)]
    for child in supervisor.children:
        child.start()
    first, conductor = (c.pid or 0 for c in supervisor.children)
    down, up = frozenset({COMPUTE1}), frozenset()
    power = _Power(supervisor, [down] * 5 + [up] * 2)
    supervisor.power = power  # type: ignore[assignment]
    try:
        supervisor._watch()
        compute = supervisor.children[0]
        # Killed at the first round, then left stopped (not started again as a crashed
        # child would be) for as long as its node was down; started once it was back.
        assert power.seen[1] == (first, True)
        assert all(seen == (first, True) for seen in power.seen[1:6])
        assert compute.pid != first and not compute.node_down
        assert not _alive(first) and _alive(compute.pid or 0)
        assert compute.restarts == 0 and compute.due is None
        # Its start says its node lost its power meanwhile (its guests are off).
        assert compute.powered_on and not supervisor.children[1].powered_on
        # The shared process never noticed.
        assert supervisor.children[1].pid == conductor and _alive(conductor)
        err = capsys.readouterr().err
        assert (f"nova-compute@{COMPUTE1} (pid {first}) killed: {COMPUTE1} is powered off"
                in err)
        assert err.count(f"{COMPUTE1} is powered on: nova-compute@{COMPUTE1} started") == 1
        assert f"  process    nova-compute@{COMPUTE1} (pid {compute.pid})" in err
        assert "starting it again" not in err
    finally:
        supervisor._stop_all()


def test_the_listing_says_a_process_is_stopped_with_its_node(
        capsys: pytest.CaptureFixture[str]) -> None:
    config = lab_defaults(Config())
    config.database.connection = "mysql+pymysql://root@127.0.0.1:3306/unused"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    supervisor = Supervisor(config)
    supervisor.children = [Child(role, _idle) for role in supervisor.roles
                           if role.node == COMPUTE1 or role.name == "keystone"]
    for child in supervisor.children:
        child.pid = 4242
    supervisor.children[1].node_down = True
    supervisor._say_processes()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "  process    keystone (pid 4242)"
    assert lines[1] == (f"  process    {supervisor.children[1].label} "
                        f"(stopped: {COMPUTE1} is powered off)")
