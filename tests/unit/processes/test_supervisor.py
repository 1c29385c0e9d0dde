"""The supervisor following the lab's faults (processes/supervisor.py): a node powered off
takes its processes with it, a service stopped on its node stops its process, and they
start again when the node is powered on or the service started."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import stacklab.models  # noqa: F401  (every table, for the store)
from stacklab.config import Config, lab_defaults
from stacklab.processes import supervisor as supervisor_module
from stacklab.processes.roles import Role, roles_for
from stacklab.processes.shared import powered_off, stopped_services, write_state
from stacklab.processes.supervisor import (
    Child,
    Hold,
    LabPower,
    NodeFaults,
    Supervisor,
    follow_faults,
)
from stacklab.store.database import Database
from stacklab.topology import Runtime, load_topology

COMPUTE1 = "compute1.openstack.local"
CONTROLLER1 = "controller1.openstack.local"
NETWORK1 = "network1.openstack.local"


def _idle(role: Role, ready_fd: int, powered_on: bool) -> int:
    os.close(ready_fd)
    time.sleep(60)  # killed long before
    return 0


def _children() -> list[Child]:
    return [Child(role, _idle) for role in roles_for(load_topology(None))]


def _down(*nodes: str) -> NodeFaults:
    return NodeFaults(nodes_down=frozenset(nodes))


def _stopped(*pairs: tuple[str, str], down: frozenset[str] = frozenset()) -> NodeFaults:
    return NodeFaults(nodes_down=down, stopped=frozenset(pairs))


def _held(changes: list[tuple[Child, Hold | None]]) -> list[str]:
    return sorted(child.label for child, hold in changes if hold is not None)


def test_a_node_powered_off_takes_its_own_processes_only() -> None:
    children = _children()
    changes = follow_faults(children, _down(COMPUTE1))
    assert _held(changes) == [f"neutron-agents@{COMPUTE1}", f"nova-compute@{COMPUTE1}"]
    assert all(hold == Hold(f"{COMPUTE1} is powered off", power=True)
               for _, hold in changes)
    # A controller's node-bound processes go with it; the shared ones (keystone,
    # nova-conductor, neutron-server ... run on every controller at once) never do.
    assert _held(follow_faults(children, _down(CONTROLLER1))) == [
        f"cinder-backup@{CONTROLLER1}", f"cinder-volume@{CONTROLLER1}",
        f"heat-engine@{CONTROLLER1}"]
    everything = {node.fqdn for node in load_topology(None).nodes.values()}
    stop = {id(child) for child, _ in follow_faults(children, _down(*everything))}
    assert {c.role.name for c in children if id(c) not in stop} == {
        "keystone", "glance", "nova-api", "nova-conductor", "nova-scheduler",
        "neutron-server", "cinder-api", "cinder-scheduler", "heat-api"}
    assert all(c.role.node is None for c in children if id(c) not in stop)


def test_stopped_with_its_node_it_waits_for_the_node_only() -> None:
    children = _children()
    compute1 = [c for c in children if c.role.node == COMPUTE1]
    # One of them had crashed and was waiting for its restart: it goes with the node too.
    compute1[0].due = time.monotonic() + 5
    changes = follow_faults(children, _down(COMPUTE1))
    assert {id(child) for child, _ in changes} == set(map(id, compute1))
    for child, hold in changes:
        child.held = hold
    # Still down: nothing to do; another node down: only its own.
    assert follow_faults(children, _down(COMPUTE1)) == []
    changes = follow_faults(children, _down(COMPUTE1, CONTROLLER1))
    assert {child.role.node for child, hold in changes if hold} == {CONTROLLER1}
    assert len(changes) == 3
    # Back up: started again.
    changes = follow_faults(children, _down())
    assert all(hold is None for _, hold in changes)
    assert {id(child) for child, _ in changes} == set(map(id, compute1))


def test_a_stopped_service_holds_its_node_s_process_and_power_wins() -> None:
    children = _children()
    nova = (COMPUTE1, "nova-compute")
    changes = follow_faults(children, _stopped(nova))
    assert [(child.label, hold) for child, hold in changes] == [
        (f"nova-compute@{COMPUTE1}", Hold(f"nova-compute is stopped on {COMPUTE1}"))]
    changes[0][0].held = changes[0][1]
    # Its node powered off too: the power's hold (a kill, not a stop) for both of its
    # processes, the stopped one included.
    changes = follow_faults(children, _stopped(nova, down=frozenset({COMPUTE1})))
    assert _held(changes) == [f"neutron-agents@{COMPUTE1}", f"nova-compute@{COMPUTE1}"]
    assert all(hold is not None and hold.power for _, hold in changes)
    # A shared role runs for every controller: a controller's stopped conductor (its
    # runtime's to act on) stops no process.
    assert follow_faults(_children(), _stopped(
        (CONTROLLER1, "nova-conductor"), (CONTROLLER1, "keystone"))) == []


def test_a_node_s_neutron_agents_are_stopped_once_every_one_of_them_is() -> None:
    children = _children()
    agents = next(c for c in children if c.label == f"neutron-agents@{NETWORK1}")
    binaries = sorted(agents.role.binaries)
    assert len(binaries) == 5
    every = [(NETWORK1, binary) for binary in binaries]
    assert follow_faults(children, _stopped(*every[:-1])) == []
    changes = follow_faults(children, _stopped(*every))
    assert changes == [(agents, Hold(f"{', '.join(binaries)} are stopped on {NETWORK1}"))]
    agents.held = changes[0][1]
    # One of them started: the process runs again.
    assert follow_faults(children, _stopped(*every[1:])) == [(agents, None)]


def test_only_a_powered_off_node_is_down() -> None:
    runtime = Runtime(load_topology(None))
    runtime.stop_service(COMPUTE1, "nova-compute")
    runtime.detach("compute2.openstack.local", "overlay")
    runtime.partition([["controller1"], ["controller2"]])
    assert powered_off(runtime.faults()) == frozenset()
    assert stopped_services(runtime.faults()) == {(COMPUTE1, "nova-compute")}
    runtime.power_off(CONTROLLER1)
    assert powered_off(runtime.faults()) == {CONTROLLER1}
    assert powered_off({}) == frozenset()
    assert stopped_services({}) == frozenset()


def test_the_supervisor_reads_the_nodes_down_from_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    power = LabPower(url)
    # No table yet (the store cannot be read): None, said once.
    assert power.faults() is None
    assert power.faults() is None
    assert capsys.readouterr().err.count("cannot be read from the store") == 1
    db = Database(url)
    db.upgrade()
    assert power.faults() == NodeFaults()  # no faults were ever written
    runtime = Runtime(load_topology(None))
    runtime.power_off(COMPUTE1)
    runtime.stop_service(CONTROLLER1, "heat-engine")
    write_state(db, runtime.faults())
    assert power.faults() == NodeFaults(frozenset({COMPUTE1}),
                                        frozenset({(CONTROLLER1, "heat-engine")}))
    db.dispose()
    power.close()


class _Power:
    """The lab's faults as the supervisor's watch reads them, round by round; the watch
    stops once they are done."""

    def __init__(self, supervisor: Supervisor, rounds: list[NodeFaults]) -> None:
        self.supervisor = supervisor
        self.rounds = rounds
        self.seen: list[tuple[int | None, bool]] = []

    def faults(self) -> NodeFaults | None:
        child = self.supervisor.children[0]
        self.seen.append((child.pid, child.held is not None))
        if not self.rounds:
            self.supervisor.stopping = True
            return None
        return self.rounds.pop(0)

    def close(self) -> None:
        pass


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _supervisor(monkeypatch: pytest.MonkeyPatch,
                run: Callable[[Role, int, bool], int] = _idle) -> Supervisor:
    """A supervisor whose watch reads the lab at once, watching nova-compute@compute1
    (``run``) and the conductor, both started."""
    monkeypatch.setattr(supervisor_module, "POLL", 0.01)
    monkeypatch.setattr(supervisor_module, "LAB_POLL", 0.0)
    config = lab_defaults(Config())
    config.database.connection = "mysql+pymysql://root@127.0.0.1:3306/unused"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    supervisor = Supervisor(config)
    role = next(r for r in supervisor.roles if r.label == f"nova-compute@{COMPUTE1}")
    shared = next(r for r in supervisor.roles if r.name == "nova-conductor")
    supervisor.children = [Child(role, run), Child(shared, _idle)]
    for child in supervisor.children:
        child.start()
    return supervisor


def test_the_watch_kills_a_node_s_process_and_starts_it_when_the_node_is_back(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    supervisor = _supervisor(monkeypatch)
    first, conductor = (c.pid or 0 for c in supervisor.children)
    down, up = _down(COMPUTE1), _down()
    power = _Power(supervisor, [down] * 5 + [up] * 2)
    supervisor.power = power  # type: ignore[assignment]
    try:
        supervisor._watch()
        compute = supervisor.children[0]
        # Killed at the first round, then left stopped (not started again as a crashed
        # child would be) for as long as its node was down; started once it was back.
        assert power.seen[1] == (first, True)
        assert all(seen == (first, True) for seen in power.seen[1:6])
        assert compute.pid != first and compute.held is None and not compute.power_cut
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


def _stubborn(role: Role, ready_fd: int, powered_on: bool) -> int:
    """A process that does not stop on SIGTERM."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return _idle(role, ready_fd, powered_on)


def _wait_started(child: Child) -> None:
    """Until ``child`` has closed its end of the ready pipe (``_idle``'s first step)."""
    assert child.ready_fd is not None
    while os.read(child.ready_fd, 64):
        pass
    os.close(child.ready_fd)
    child.ready_fd = None


def test_the_watch_stops_a_stopped_service_s_process_and_starts_it_with_the_service(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    supervisor = _supervisor(monkeypatch)
    first, conductor = (c.pid or 0 for c in supervisor.children)
    stopped = _stopped((COMPUTE1, "nova-compute"), (CONTROLLER1, "nova-conductor"))
    power = _Power(supervisor, [stopped] * 4 + [_down()] * 2)
    supervisor.power = power  # type: ignore[assignment]
    try:
        supervisor._watch()
        compute = supervisor.children[0]
        # Stopped at the first round (SIGTERM: it exited at once), left stopped, started
        # once its service was.
        assert all(seen == (first, True) for seen in power.seen[1:5])
        assert compute.pid != first and compute.held is None
        assert not _alive(first) and _alive(compute.pid or 0)
        assert compute.restarts == 0 and compute.due is None
        # Its node kept its power: its guests still run.
        assert not compute.powered_on
        # The conductor, stopped on one controller, serves both.
        assert supervisor.children[1].pid == conductor and _alive(conductor)
        err = capsys.readouterr().err
        assert (f"nova-compute@{COMPUTE1} (pid {first}) stopped: nova-compute is stopped on "
                f"{COMPUTE1}; it starts when its service is started" in err)
        assert err.count(f"nova-compute@{COMPUTE1} started: its service is started on "
                         f"{COMPUTE1}") == 1
        assert f"  process    nova-compute@{COMPUTE1} (pid {compute.pid})" in err
        assert "starting it again" not in err and "conductor" not in err
    finally:
        supervisor._stop_all()


def test_a_stopped_process_that_ignores_sigterm_is_killed_after_the_timeout(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(supervisor_module, "STOP_TIMEOUT", 0.3)
    supervisor = _supervisor(monkeypatch, _stubborn)
    compute = supervisor.children[0]
    first = compute.pid or 0
    _wait_started(compute)
    began = time.monotonic()
    supervisor.follow(_stopped((COMPUTE1, "nova-compute")))
    try:
        assert time.monotonic() - began >= 0.3
        assert not _alive(first) and compute.returncode == -signal.SIGKILL
        assert compute.held == Hold(f"nova-compute is stopped on {COMPUTE1}")
        assert (f"nova-compute@{COMPUTE1} (pid {first}) killed after 0.3 s: nova-compute "
                f"is stopped on {COMPUTE1}" in capsys.readouterr().err)
    finally:
        supervisor._stop_all()


@pytest.mark.parametrize("started_first", [True, False])
def test_a_power_cut_wins_over_a_stopped_service_and_is_told_at_the_start(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        started_first: bool) -> None:
    """Stopped, then its node powered off; then the service started before the power
    came back, or the power back before the service was started: either way its start
    says its guests lost their power."""
    supervisor = _supervisor(monkeypatch)
    compute = supervisor.children[0]
    first = compute.pid or 0
    nova = (COMPUTE1, "nova-compute")
    down = frozenset({COMPUTE1})
    between = _down(COMPUTE1) if started_first else _stopped(nova)
    power = _Power(supervisor, [_stopped(nova), _stopped(nova, down=down), between,
                                between, _down()])
    supervisor.power = power  # type: ignore[assignment]
    try:
        supervisor._watch()
        assert all(seen == (first, True) for seen in power.seen[1:5])
        assert compute.pid != first and compute.held is None and compute.powered_on
        assert _alive(compute.pid or 0)
        err = capsys.readouterr().err
        assert f"nova-compute@{COMPUTE1} stays stopped: {COMPUTE1} is powered off" in err
        if started_first:
            assert f"{COMPUTE1} is powered on: nova-compute@{COMPUTE1} started" in err
        else:
            assert (f"nova-compute@{COMPUTE1} stays stopped: nova-compute is stopped on "
                    f"{COMPUTE1}" in err)
            assert f"nova-compute@{COMPUTE1} started: its service is started" in err
    finally:
        supervisor._stop_all()


def test_a_running_process_whose_service_is_stopped_as_its_node_goes_down_is_killed(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(supervisor_module, "STOP_TIMEOUT", 30.0)
    supervisor = _supervisor(monkeypatch, _stubborn)
    compute = supervisor.children[0]
    first = compute.pid or 0
    _wait_started(compute)
    began = time.monotonic()
    supervisor.follow(_stopped((COMPUTE1, "nova-compute"), down=frozenset({COMPUTE1})))
    try:
        # SIGKILL at once, no SIGTERM's wait.
        assert time.monotonic() - began < 5
        assert not _alive(first) and compute.returncode == -signal.SIGKILL
        assert compute.held is not None and compute.held.power and compute.power_cut
        assert (f"nova-compute@{COMPUTE1} (pid {first}) killed: {COMPUTE1} is powered off"
                in capsys.readouterr().err)
    finally:
        supervisor._stop_all()


def test_the_listing_says_why_a_process_is_stopped(
        capsys: pytest.CaptureFixture[str]) -> None:
    config = lab_defaults(Config())
    config.database.connection = "mysql+pymysql://root@127.0.0.1:3306/unused"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    supervisor = Supervisor(config)
    supervisor.children = [Child(role, _idle) for role in supervisor.roles
                           if role.node == COMPUTE1 or role.name == "keystone"]
    for child in supervisor.children:
        child.pid = 4242
    _, compute, agents = supervisor.children
    compute.held = _down(COMPUTE1).hold(compute.role)
    agents.held = _stopped((COMPUTE1, "neutron-openvswitch-agent")).hold(agents.role)
    supervisor._say_processes()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "  process    keystone (pid 4242)",
        f"  process    nova-compute@{COMPUTE1} (stopped: {COMPUTE1} is powered off)",
        f"  process    neutron-agents@{COMPUTE1} (stopped: neutron-openvswitch-agent is "
        f"stopped on {COMPUTE1})"]
