"""How a service declares itself, once, for the cloud to build, mount, catalog and fault.

Each service package has one ``ServiceDeclaration`` (in its ``declaration``
module): its API and where it is mounted, its catalog entry, its policy rules,
how its objects are built from the cloud's shared ``Parts``, what it does at
start, in the background and at stop, and what it does when a node goes down
or comes back. ``stacklab.cloud.SERVICES`` lists the declarations; ``Cloud``
builds whatever is listed, in that order, so a service is built after the ones
it takes from ``Parts``. Adding a service is its package plus one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from stacklab.api.policy import PolicyRule
from stacklab.api.service import ServiceApi
from stacklab.clock import scaled
from stacklab.ha.controlplane import ControlPlane

if TYPE_CHECKING:
    from stacklab.bus.interface import Bus
    from stacklab.clock import Clock
    from stacklab.config import Config
    from stacklab.ids import IdSource
    from stacklab.observability.logging import CentralLogStore
    from stacklab.store.database import Database
    from stacklab.topology import Change, Runtime, Topology

T = TypeVar("T")


class Key(Generic[T]):
    """The typed name of one object the cloud holds (a service, or a part of one)."""

    __slots__ = ("kind", "name")

    def __init__(self, name: str, kind: type[T]) -> None:
        self.name = name
        self.kind = kind

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.kind.__name__})"


# The lab's control plane (VIPs, HAProxy, Galera), built by the cloud itself: the lab's
# API shows it (a name under "stacklab.", so the lab's handlers reach it).
CONTROL_PLANE = Key("stacklab.controlplane", ControlPlane)


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    """A service's entry in keystone's catalog; ``suffix`` follows the cloud's base URL."""

    type: str
    name: str
    description: str
    suffix: str


class Parts:
    """What services are built from: the cloud's shared parts and the objects built so far.

    ``app`` and ``base_url`` are read when called, not when a service is built:
    the ASGI app and the listening address exist only once the cloud serves
    (services calling each other over HTTP reach them through these). ``health``
    too: whether the cloud has started and run its init hooks (the lab API says so).

    ``here(binary, host)``: whether this OS process runs the lab's process ``binary`` on
    ``host`` (a host of None: on every host). The embedded cloud runs them all; one
    process per service (``stacklab up --processes``) runs a few, and a service leaves
    the others' heartbeats, periodic work and recovery to the process that runs them.

    ``scaled_clock`` is the lab's own time, the one clock built from ``[stacklab]
    ha_time_scale``: every timer of the services on the lab's nodes runs on it
    (nova's and neutron's heartbeats and down times, the failover checks,
    keepalived, the hypervisors' steps). ``clock`` is the wall clock: it stamps
    records and tokens, and serves the API's own waits; a service reads a record's
    age on ``scaled_clock`` (``Clock.from_wall``).
    """

    def __init__(self, *, config: Config, clock: Clock, ids: IdSource, db: Database,
                 bus: Bus, topology: Topology, runtime: Runtime,
                 logs: CentralLogStore, app: Callable[[], Any],
                 base_url: Callable[[], str], health: Callable[[], dict[str, Any]],
                 here: Callable[[str, str | None], bool] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.scaled_clock = scaled(clock, config.stacklab.ha_time_scale)
        self.ids = ids
        self.db = db
        self.bus = bus
        self.topology = topology
        self.runtime = runtime
        self.logs = logs
        self.app = app
        self.base_url = base_url
        self.health = health
        self.here: Callable[[str, str | None], bool] = here or (lambda binary, host: True)
        # The operator's commands a service offers the lab's API (``cinder-manage volume
        # update_host`` ...): by name, each takes its options and answers a JSON object.
        self.commands: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {}
        self._built: dict[str, object] = {}

    def provide(self, key: Key[T], value: T) -> T:
        if key.name in self._built:
            raise ValueError(f"{key.name!r} is built twice: two declarations provide it")
        if not isinstance(value, key.kind):
            raise TypeError(f"{key.name!r} must be a {key.kind.__name__}, "
                            f"not a {type(value).__name__}")
        self._built[key.name] = value
        return value

    def get(self, key: Key[T]) -> T:
        try:
            value = self._built[key.name]
        except KeyError:
            raise LookupError(f"{key.name!r} is not built (yet): is its declaration in the "
                              "registry, before the ones that use it?") from None
        assert isinstance(value, key.kind)
        return value

    def has(self, key: Key[Any]) -> bool:
        return key.name in self._built

    def built(self) -> dict[str, object]:
        """Everything built so far, by key name."""
        return dict(self._built)


@dataclass
class Startup:
    """What the cloud's start hands each declaration in turn, and what they tell later ones.

    Identity starts first (the registry's order): it publishes ``catalog`` and
    says whether this store was just bootstrapped and which project owns the
    lab's shared resources.
    """

    base_url: str
    catalog: Sequence[CatalogSpec]
    first_start: bool = False
    admin_project_id: str | None = None
    # A service's own base URL by catalog type, where it is not ``base_url`` (one process
    # per service: each API on its own port, as keystone's :5000 and nova's :8774).
    endpoints: Mapping[str, str] = field(default_factory=dict)
    # Whether this start brought the store to head (each service's db sync): what a db
    # sync makes (cinder's default volume type) is made here. A process of the shape with
    # one process per service finds it made by its supervisor's start, and several API
    # workers starting at once do not race to make it.
    migrated: bool = True

    def url(self, spec: CatalogSpec) -> str:
        """The endpoint URL of a catalog entry."""
        return f"{self.endpoints.get(spec.type, self.base_url)}{spec.suffix}"


PartsHook = Callable[[Parts], None]
NodeHook = Callable[[Parts, str], None]
ChangeHook = Callable[[Parts, "Change"], None]


@dataclass(frozen=True)
class ServiceDeclaration(Generic[T]):
    """One service, as the cloud needs to know it (see the module's docstring).

    ``key``/``build``: the service's main object, what handlers reach; ``build``
    may ``provide`` more parts under other keys (networking's agents). A
    declaration without ``build`` (the lab API) only serves its routes.
    """

    api: ServiceApi
    mount: str
    rules: Sequence[PolicyRule]
    catalog: CatalogSpec | None = None
    # More entries of the same endpoint under other types (cinder's ``block-storage`` is
    # also ``volumev3``, which older clients look for).
    catalog_aliases: Sequence[CatalogSpec] = ()
    key: Key[T] | None = None
    build: Callable[[Parts], T] | None = None
    start: Callable[[Parts, Startup], None] | None = None
    # Runs while the cloud serves: heartbeats, keepalived, periodic checks.
    background: Callable[[Parts], Coroutine[Any, Any, None]] | None = None
    stop: PartsHook | None = None
    # A node of the lab lost power / got it back (by FQDN), after the runtime says so.
    node_down: NodeHook | None = None
    node_up: NodeHook | None = None
    # Any change of the lab's state (``topology.runtime.Change``): one of its processes
    # stopped or started on a node, a node cut off a network or back; after the bus has
    # paused or resumed that process's RPC servers.
    changed: ChangeHook | None = None
    # The topics each of its processes consumes on its own node (binary -> topics): the
    # bus pauses those RPC servers while the process is stopped, as it does all of a
    # powered-off node's.
    process_topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Its [DEFAULT] control_exchange upstream (nova, neutron ...): the exchange of its topics
    # and notifications on a real broker ([DEFAULT] transport_url).
    control_exchange: str | None = None
    # The services its notifications' publisher ids name (``<service>.<host>``) that are
    # neither a catalog type nor a binary of it: cinder's ``volume.<host>``,
    # ``snapshot.<host>``. They go to its control exchange too.
    notification_publishers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.key is None) != (self.build is None):
            raise ValueError(f"{self.name}: a declaration has both a key and build, or neither")

    @property
    def catalog_specs(self) -> tuple[CatalogSpec, ...]:
        """Its catalog entries: the main one, then its aliases."""
        return () if self.catalog is None else (self.catalog, *self.catalog_aliases)

    @property
    def name(self) -> str:
        """The service's one name: its API's, its policy enforcer's, its health entry's."""
        return self.api.name
