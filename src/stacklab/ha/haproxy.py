"""HAProxy on a proxy node: its ``listen`` blocks, each server's health, how a request
finds a server, and what it costs when the chosen one is dead.

The configuration is the OpenStack HA guide's (HAG doc/source/control-plane-stateless.rst)
and kolla's (ansible/roles/loadbalancer/templates/haproxy/haproxy_main.cfg.j2,
ansible/roles/haproxy-config/defaults/main.yml): ``retries 3``, ``option redispatch``,
``timeout connect 10s``, ``timeout check 10s``, and on every server line ``check inter
2000 rise 2 fall 5``. API listen blocks balance ``roundrobin`` over the controllers
(kolla's ``haproxy_defaults_balance``; the HA guide's ``balance source`` would pin a
lab whose every client is 127.0.0.1 to one controller); the Galera block has the first
controller active and the others ``backup``, checked by clustercheck on port 9200.

What the proxy knows of a server is only what its checks told it (``checks``); what a
connection to it meets is the truth, which the caller (the control plane) decides:
``CONNECTED``, ``REFUSED`` (a live host whose process is down answers RST) or
``TIMEOUT`` (a dead or cut-off host answers nothing). ``Dispatch`` then walks one
request through HAProxy's retries (HAP doc/configuration.txt ``retries``, ``option
redispatch``): the same server again after a refusal, after a turn-around of
min(timeout connect, 1 s); the last retry redispatched to another server; a connect
timeout lasts ``timeout connect`` each time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stacklab.clock import Clock
from stacklab.ha.checks import PeriodicCheck, Probe

# HAProxy's own answer when no server can take a request (HAP src/http.c, http_err_msgs:
# the 503 body, sent with no-cache as text/html).
NO_SERVER_STATUS = 503
NO_SERVER_BODY = (b"<html><body><h1>503 Service Unavailable</h1>\n"
                  b"No server is available to handle this request.\n</body></html>\n")
NO_SERVER_HEADERS = ((b"content-type", b"text/html"), (b"cache-control", b"no-cache"))
# HAProxy's pages (src/http.c) when the server took the request and then died: its
# connection reset (502, termination SH) or silent until `timeout server` (504, sH).
BAD_GATEWAY_STATUS = 502
BAD_GATEWAY_BODY = (b"<html><body><h1>502 Bad Gateway</h1>\n"
                    b"The server returned an invalid or incomplete response.\n</body></html>\n")
GATEWAY_TIMEOUT_STATUS = 504
GATEWAY_TIMEOUT_BODY = (b"<html><body><h1>504 Gateway Time-out</h1>\n"
                        b"The server didn't respond in time.\n</body></html>\n")


@dataclass(frozen=True, slots=True)
class HaproxyOptions:
    """The ``defaults`` section and the server lines' check options."""

    retries: int = 3  # HAP CONN_RETRIES; HAG and kolla `retries 3`
    redispatch: bool = True  # HAG and kolla `option redispatch`
    timeout_connect: float = 10.0  # HAG `timeout connect 10s`; kolla haproxy_connect_timeout
    timeout_check: float = 10.0  # HAG `timeout check 10s`; kolla haproxy_check_timeout
    timeout_server: float = 60.0  # HAG `timeout server 1m`; kolla haproxy_server_timeout
    inter: float = 2.0  # `check inter 2000` (HAG; kolla haproxy_health_check)
    rise: int = 2  # `rise 2`
    fall: int = 5  # `fall 5` (HAProxy's own default is 3)

    @property
    def check_connect_timeout(self) -> float:
        # HAP configuration.txt, "timeout check": with it set, a check's connect waits
        # min("timeout connect", "inter").
        return min(self.timeout_connect, self.inter)

    @property
    def turnaround(self) -> float:
        # HAP configuration.txt, "retries": "a turn-around timer of min("timeout connect",
        # one second) is applied before a retry occurs on the same server".
        return min(self.timeout_connect, 1.0)


@dataclass(frozen=True, slots=True)
class ServerLine:
    """``server controller1 10.10.10.51:5000 check ... [backup]``."""

    name: str
    node: str  # the node's FQDN
    address: str
    backup: bool = False


@dataclass(frozen=True, slots=True)
class Listen:
    """One ``listen`` block: its name, how it balances, its servers in order."""

    name: str
    port: int
    servers: tuple[ServerLine, ...]
    mode: str = "http"
    balance: str = "roundrobin"


class Outcome(enum.StrEnum):
    """What one connection attempt to a server meets."""

    CONNECTED = "connected"
    REFUSED = "refused"  # RST: termination state SC
    TIMEOUT = "timeout"  # no answer within `timeout connect`: termination state sC


class Server:
    def __init__(self, line: ServerLine) -> None:
        self.line = line
        self.check: PeriodicCheck | None = None

    @property
    def name(self) -> str:
        return self.line.name

    @property
    def up(self) -> bool:
        """Whether the proxy sends it traffic: UP, or only transitionally going DOWN."""
        return self.check is not None and self.check.up

    def status(self) -> dict[str, Any]:
        check = self.check
        return {"server": self.line.name, "node": self.line.node, "backup": self.line.backup,
                "status": check.describe() if check is not None else "DOWN",
                "check_status": check.last_status if check is not None else "",
                "health": check.health if check is not None else 0}


class Backend:
    def __init__(self, listen: Listen) -> None:
        self.listen = listen
        self.servers = [Server(line) for line in listen.servers]
        self._next = 0  # roundrobin's position

    @property
    def name(self) -> str:
        return self.listen.name

    def available(self) -> bool:
        return any(server.up for server in self.servers)

    def pick(self, avoid: str | None = None) -> Server | None:
        """The server for a new connection: the next UP active server in turn, else the
        first UP backup (HAP "backup": "only the first operational backup server is used");
        ``avoid`` (a redispatch) is skipped when any other can serve."""
        active = [s for s in self.servers if not s.line.backup and s.up]
        chosen = self._in_turn(active, avoid)
        if chosen is None:
            backups = [s for s in self.servers if s.line.backup and s.up]
            chosen = next((s for s in backups if s.name != avoid), None) or \
                next(iter(backups), None)
        return chosen

    def _in_turn(self, active: list[Server], avoid: str | None) -> Server | None:
        if not active:
            return None
        if self.listen.balance != "roundrobin":
            # `balance source` hashes the client's address; the lab has one client (the
            # loopback), so it is always the same server: the first.
            preferred = [s for s in active if s.name != avoid]
            return (preferred or active)[0]
        count = len(self.servers)
        fallback: Server | None = None
        for step in range(count):
            server = self.servers[(self._next + step) % count]
            if server in active:
                if server.name == avoid and len(active) > 1:
                    fallback = fallback or server
                    continue
                self._next = (self.servers.index(server) + 1) % count
                return server
        return fallback

    def status(self) -> dict[str, Any]:
        return {"backend": self.listen.name, "port": self.listen.port,
                "balance": self.listen.balance,
                "servers": [server.status() for server in self.servers]}


# What a check from ``node``'s haproxy of ``listen``'s ``server`` concludes.
ProbeFor = Callable[[str, Listen, ServerLine], Probe]


class Haproxy:
    """The haproxy process of one proxy node."""

    def __init__(self, node: str, listens: Sequence[Listen], options: HaproxyOptions,
                 clock: Clock, probe: ProbeFor,
                 on_change: Callable[[str, Server, bool], None] | None = None) -> None:
        self.node = node
        self.options = options
        self.clock = clock
        self.probe = probe
        self.on_change = on_change
        self.backends = {listen.name: Backend(listen) for listen in listens}
        self.running = False

    def start(self, *, settled: bool = False) -> None:
        """(Re)start: every server "up, but will fall down at first failure" (HAP server.c
        sets health to rise at start); ``settled``: a lab that has run a while, every server
        fully UP."""
        options = self.options
        self.running = True
        for backend in self.backends.values():
            for server in backend.servers:
                if server.check is not None:
                    server.check.stop()
                server.check = PeriodicCheck(
                    self.clock, self._probe_of(backend.listen, server.line),
                    interval=options.inter, rise=options.rise, fall=options.fall,
                    health=None if settled else options.rise,
                    on_change=self._changed(backend.name, server))

    def stop(self) -> None:
        """The process is gone (stopped, or its node lost power): no checks, no traffic."""
        self.running = False
        for backend in self.backends.values():
            for server in backend.servers:
                if server.check is not None:
                    server.check.stop()
                server.check = None

    def poke(self) -> None:
        for backend in self.backends.values():
            for server in backend.servers:
                if server.check is not None:
                    server.check.poke()

    def backend(self, name: str) -> Backend:
        return self.backends[name]

    def status(self) -> dict[str, Any]:
        return {"node": self.node, "running": self.running,
                "backends": [backend.status() for backend in self.backends.values()]}

    def _probe_of(self, listen: Listen, line: ServerLine) -> Callable[[], Probe]:
        return lambda: self.probe(self.node, listen, line)

    def _changed(self, backend: str, server: Server) -> Callable[[bool], None]:
        def changed(up: bool) -> None:
            if self.on_change is not None:
                self.on_change(backend, server, up)
        return changed


@dataclass(frozen=True, slots=True)
class Retry:
    """Wait ``wait`` seconds (the failed attempt's own duration plus any turn-around), then
    connect to ``server``, or, when None, to whichever server the backend picks then
    (a redispatch, avoiding ``avoid``)."""

    wait: float
    server: Server | None
    avoid: str | None = None


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Retries spent: after ``wait`` seconds the proxy answers 503 (HAP §1.3: "503 when no
    server was available to handle the request")."""

    wait: float


class Dispatch:
    """One request's way through a backend, attempt by attempt."""

    def __init__(self, backend: Backend, options: HaproxyOptions) -> None:
        self.backend = backend
        self.options = options
        self.retries_left = options.retries
        self.attempts: list[tuple[str, Outcome]] = []

    def first(self) -> Server | None:
        """The server the balancer picks; None: no server is UP, answer 503 at once."""
        return self.backend.pick()

    def after(self, server: Server, outcome: Outcome) -> Retry | GiveUp:
        """What follows a failed attempt on ``server``."""
        self.attempts.append((server.name, outcome))
        elapsed = self.options.timeout_connect if outcome is Outcome.TIMEOUT else 0.0
        if self.retries_left == 0:
            return GiveUp(elapsed)
        self.retries_left -= 1
        if self.options.redispatch and self.retries_left == 0:
            # `option redispatch` (default -1): the last retry goes to another server.
            return Retry(elapsed, None, avoid=server.name)
        turnaround = self.options.turnaround if outcome is Outcome.REFUSED else 0.0
        return Retry(elapsed + turnaround, server)

    def resolve(self, retry: Retry) -> Server | None:
        """The server a retry connects to, picked when it happens (None: nobody is left)."""
        server = retry.server
        if server is not None and (server.up or not self.options.redispatch):
            return server
        # A server marked DOWN while the request waited to retry it is given up for another,
        # as `option redispatch` lets HAProxy do.
        return self.backend.pick(avoid=retry.avoid or (server.name if server else None))
