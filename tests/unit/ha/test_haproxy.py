"""HAProxy's backends in virtual time: roundrobin over UP servers, the first UP backup only
when no active server is left, servers marked DOWN by their checks, and the retries and
redispatch a request goes through when its server is dead (ha-semantics §2)."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.ha.checks import L4CON, L4TOUT, L7OK, Probe
from stacklab.ha.haproxy import (
    Backend,
    Dispatch,
    GiveUp,
    Haproxy,
    HaproxyOptions,
    Listen,
    Outcome,
    Retry,
    ServerLine,
)

C1, C2, C3 = (ServerLine(f"controller{n}", f"controller{n}.lab", f"10.0.0.{n}:5000")
              for n in (1, 2, 3))
API = Listen("keystone_public_internal_cluster", 5000, (C1, C2))
DB = Listen("galera_cluster", 3306, (C1, ServerLine("controller2", "controller2.lab",
                                                     "10.0.0.2:3306", backup=True),
                                     ServerLine("controller3", "controller3.lab",
                                                "10.0.0.3:3306", backup=True)),
            mode="tcp", balance="source")
OPTIONS = HaproxyOptions()


def picked(backend: Backend) -> str:
    server = backend.pick()
    assert server is not None
    return server.name


class Proxy:
    def __init__(self, *, settled: bool = True) -> None:
        self.clock = VirtualClock(start=0.0)
        self.dead: dict[str, Probe] = {}
        self.changes: list[tuple[float, str, str, bool]] = []
        self.haproxy = Haproxy("proxy1", [API, DB], OPTIONS, self.clock, self.probe,
                               on_change=lambda backend, server, up: self.changes.append(
                                   (self.clock.now(), backend, server.name, up)))
        self.haproxy.start(settled=settled)

    def probe(self, node: str, listen: Listen, line: ServerLine) -> Probe:
        return self.dead.get(line.name, Probe(True, 0.0, L7OK))

    def kill(self, name: str, probe: Probe) -> None:
        self.dead[name] = probe
        self.haproxy.poke()


def test_the_options_are_the_ha_guides() -> None:
    assert (OPTIONS.inter, OPTIONS.rise, OPTIONS.fall) == (2.0, 2, 5)
    assert (OPTIONS.retries, OPTIONS.redispatch, OPTIONS.timeout_connect) == (3, True, 10.0)
    assert OPTIONS.check_connect_timeout == 2.0 and OPTIONS.turnaround == 1.0


def test_roundrobin_takes_turns_and_skips_a_down_server() -> None:
    proxy = Proxy()
    backend = proxy.haproxy.backend(API.name)
    assert [picked(backend) for _ in range(4)] == [
        "controller1", "controller2", "controller1", "controller2"]
    proxy.kill("controller1", Probe(False, 0.0, L4CON))
    proxy.clock.advance(11.0)
    assert [c for c in proxy.changes if c[1] == API.name] == [
        (10.0, API.name, "controller1", False)]
    assert {picked(backend) for _ in range(4)} == {"controller2"}


def test_the_galera_block_uses_its_first_up_backup_only_when_the_active_server_is_down() -> None:
    proxy = Proxy()
    backend = proxy.haproxy.backend(DB.name)
    assert picked(backend) == "controller1"
    proxy.kill("controller1", Probe(False, 2.0, L4TOUT))
    proxy.clock.advance(19.0)
    assert picked(backend) == "controller1"  # still UP 4/5
    proxy.clock.advance(1.0)
    assert picked(backend) == "controller2"
    assert [s["status"] for s in backend.status()["servers"]] == ["DOWN", "UP", "UP"]


def test_a_restarted_haproxy_marks_a_dead_server_down_at_its_first_failed_check() -> None:
    proxy = Proxy()
    proxy.dead["controller2"] = Probe(False, 0.0, L4CON)
    proxy.haproxy.stop()
    assert not proxy.haproxy.backend(API.name).available()
    proxy.haproxy.start()
    proxy.clock.advance(2.0)
    assert [s["status"] for s in proxy.haproxy.backend(API.name).status()["servers"]] == [
        "UP", "DOWN"]


def test_a_refusing_server_costs_three_turnarounds_then_the_last_retry_goes_elsewhere() -> None:
    proxy = Proxy()
    dispatch = Dispatch(proxy.haproxy.backend(API.name), OPTIONS)
    server = dispatch.first()
    assert server is not None and server.name == "controller1"
    waited = 0.0
    for _ in range(3):
        step = dispatch.after(server, Outcome.REFUSED)
        assert isinstance(step, Retry)
        waited += step.wait
        server = dispatch.resolve(step)
        assert server is not None
    assert waited == 2.0 and server.name == "controller2"  # two turn-arounds, then redispatch
    assert dispatch.attempts == [("controller1", Outcome.REFUSED)] * 3


def test_a_silent_server_costs_timeout_connect_per_attempt() -> None:
    proxy = Proxy()
    dispatch = Dispatch(proxy.haproxy.backend(API.name), OPTIONS)
    server = dispatch.first()
    assert server is not None
    steps = []
    for _ in range(3):
        step = dispatch.after(server, Outcome.TIMEOUT)
        assert isinstance(step, Retry)
        steps.append(step.wait)
        server = dispatch.resolve(step)
        assert server is not None
    assert steps == [10.0, 10.0, 10.0] and server.name == "controller2"
    # That one fails too: the retries are spent, the proxy answers 503.
    assert dispatch.after(server, Outcome.TIMEOUT) == GiveUp(10.0)


def test_a_server_marked_down_while_the_request_waits_is_given_up_for_another() -> None:
    proxy = Proxy()
    backend = proxy.haproxy.backend(API.name)
    dispatch = Dispatch(backend, OPTIONS)
    server = dispatch.first()
    assert server is not None and server.name == "controller1"
    step = dispatch.after(server, Outcome.TIMEOUT)
    assert isinstance(step, Retry) and step.server is server
    proxy.kill("controller1", Probe(False, 0.0, L4CON))
    proxy.clock.advance(step.wait)
    resolved = dispatch.resolve(step)
    assert resolved is not None and resolved.name == "controller2"


def test_no_server_up_means_no_first_server() -> None:
    proxy = Proxy()
    proxy.kill("controller1", Probe(False, 0.0, L4CON))
    proxy.kill("controller2", Probe(False, 0.0, L4CON))
    proxy.clock.advance(10.0)
    assert Dispatch(proxy.haproxy.backend(API.name), OPTIONS).first() is None
