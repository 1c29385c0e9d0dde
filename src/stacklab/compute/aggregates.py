"""Host aggregates, and the availability zones they make (nova's ``AggregateAPI``).

An aggregate whose metadata has ``availability_zone`` puts its hosts in that zone;
a compute host in no such aggregate is in ``[DEFAULT] default_availability_zone``.
nova's rules, each checked where nova checks it:

* a host is in at most one zone: giving an aggregate a zone that one of its hosts
  already has from another aggregate, or adding a host to an aggregate whose zone
  differs from the host's, is refused;
* a zone may not change under a server: renaming the zone of an aggregate whose
  hosts hold servers, or adding (removing) a host with servers to (from) an
  aggregate so that its zone changes, is refused;
* a zone may not be empty, and an aggregate with hosts may not be deleted.

Where nova answers 400 and where 409 differs by call (an add_host conflict is a
409, the same conflict on update or set_metadata a 400), so each refusal is raised
as the error the API answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest, Conflict, NotFound
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.ids import IdSource
from stacklab.store.base import fits_bigint

ZONE_KEY = "availability_zone"
# [DEFAULT] internal_service_availability_zone: where every service but nova-compute is.
INTERNAL_ZONE = "internal"

# nova's InvalidAggregateAction* wordings, by what was being done.
_ADD = "Cannot add host to aggregate"
_REMOVE = "Cannot remove host from aggregate"
_UPDATE = "Cannot update aggregate"
_UPDATE_META = "Cannot update metadata of aggregate"


def refusal(action: str, aggregate_id: int, reason: str, error: type[ApiError]) -> ApiError:
    return error(f"{action} {aggregate_id}. Reason: {reason}.")


def parse_id(ident: str) -> int:
    """nova's ``validate_integer(id, 'id')``: an aggregate id that is not a number is a 400."""
    try:
        return int(ident)
    except ValueError:
        raise BadRequest("Invalid input received: id must be an integer") from None


@dataclass(frozen=True, slots=True)
class AggregateView:
    """What the scheduler and the zone listing need of one aggregate (no ORM object)."""

    id: int
    hosts: tuple[str, ...]
    metadata: Mapping[str, str]

    @property
    def zone(self) -> str | None:
        return self.metadata.get(ZONE_KEY)


def host_zone(aggregates: Iterable[AggregateView], host: str, default: str) -> str:
    """The zone of ``host``: its first zoned aggregate's (nova's
    ``get_host_availability_zone``), else the default."""
    for aggregate in aggregates:
        if host in aggregate.hosts and aggregate.zone:
            return aggregate.zone
    return default


def host_metadata(aggregates: Iterable[AggregateView], host: str) -> dict[str, set[str]]:
    """Every metadata key of the host's aggregates with each value it takes, comma-separated
    values split (nova's ``aggregate_metadata_get_by_host``, which the aggregate filters
    read)."""
    merged: dict[str, set[str]] = {}
    for aggregate in aggregates:
        if host in aggregate.hosts:
            for key, value in aggregate.metadata.items():
                merged.setdefault(key, set()).update(v.strip() for v in value.split(","))
    return merged


class Aggregates:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    # -- reading --------------------------------------------------------------------

    @staticmethod
    def all(session: Session) -> list[m.Aggregate]:
        return list(session.scalars(select(m.Aggregate).order_by(m.Aggregate.id)))

    @staticmethod
    def views(session: Session) -> list[AggregateView]:
        return [AggregateView(a.id, tuple(a.hosts or ()), dict(a.metadata_ or {}))
                for a in Aggregates.all(session)]

    @staticmethod
    def get(session: Session, aggregate_id: int) -> m.Aggregate:
        aggregate = (session.get(m.Aggregate, aggregate_id) if fits_bigint(aggregate_id)
                     else None)
        if aggregate is None:
            raise NotFound(f"Aggregate {aggregate_id} could not be found.")
        return aggregate

    # -- writing --------------------------------------------------------------------

    def create(self, session: Session, name: str, zone: str | None) -> m.Aggregate:
        self._check_name_free(session, name)
        aggregate = m.Aggregate(uuid=self.ids.uuid(), name=name, hosts=[],
                                metadata_={ZONE_KEY: zone} if zone else {},
                                created_at=self.clock.now(), updated_at=None)
        session.add(aggregate)
        session.flush()
        return aggregate

    def update(self, session: Session, aggregate: m.Aggregate, *, name: str | None = None,
               zone_given: bool = False, zone: str | None = None) -> m.Aggregate:
        """Rename and/or re-zone (``PUT /os-aggregates/{id}``); a bad zone is a 400."""
        if name is not None and name != aggregate.name:
            self._check_name_free(session, name)
            aggregate.name = name
            aggregate.updated_at = self.clock.now()
        if zone_given:
            self._check_zone_change(session, aggregate, {ZONE_KEY: zone}, list(aggregate.hosts),
                                    _UPDATE, BadRequest, check_servers=True)
            self._apply_metadata(aggregate, {ZONE_KEY: zone})
        return aggregate

    def set_metadata(self, session: Session, aggregate: m.Aggregate,
                     metadata: Mapping[str, str | None]) -> m.Aggregate:
        """Merge ``metadata`` into the aggregate's (a None value removes its key)."""
        self._check_zone_change(session, aggregate, metadata, list(aggregate.hosts),
                                _UPDATE_META, BadRequest, check_servers=True)
        self._apply_metadata(aggregate, metadata)
        return aggregate

    def delete(self, session: Session, aggregate: m.Aggregate) -> None:
        if aggregate.hosts:
            raise refusal(_REMOVE, aggregate.id, "Host aggregate is not empty", BadRequest)
        session.delete(aggregate)

    def add_host(self, session: Session, aggregate_id: int, host: str) -> m.Aggregate:
        self._check_compute_host(session, host)
        aggregate = self.get(session, aggregate_id)
        self._check_zone_change(session, aggregate, dict(aggregate.metadata_ or {}), [host],
                                _ADD, Conflict, check_servers=False)
        new_zone = (aggregate.metadata_ or {}).get(ZONE_KEY)
        servers = _servers_on(session, host)
        if servers and new_zone:
            old_zone = next((a.zone for a in self.views(session)
                             if host in a.hosts and a.zone), None)
            if old_zone != new_zone:
                raise refusal(_ADD, aggregate.id, _moving_zone(old_zone, new_zone, servers),
                              Conflict)
        if host in aggregate.hosts:
            raise Conflict(f"Aggregate {aggregate.id} already has host {host}.")
        aggregate.hosts = [*aggregate.hosts, host]
        return aggregate

    def remove_host(self, session: Session, aggregate_id: int, host: str) -> m.Aggregate:
        # nova words every "not found" of this call alike.
        not_found = NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}")
        try:
            self._check_compute_host(session, host)
            aggregate = self.get(session, aggregate_id)
        except NotFound:
            raise not_found from None
        current = (aggregate.metadata_ or {}).get(ZONE_KEY)
        servers = _servers_on(session, host)
        if servers and current:
            new_zone = next((a.zone for a in self.views(session)
                             if a.id != aggregate.id and host in a.hosts and a.zone), None)
            if current != new_zone:
                raise refusal(_REMOVE, aggregate.id, _moving_zone(current, new_zone, servers),
                              Conflict)
        if host not in aggregate.hosts:
            raise not_found
        aggregate.hosts = [h for h in aggregate.hosts if h != host]
        return aggregate

    # -- rules ----------------------------------------------------------------------

    @staticmethod
    def _check_name_free(session: Session, name: str) -> None:
        if session.scalar(select(m.Aggregate.id).where(m.Aggregate.name == name)) is not None:
            raise Conflict(f"Aggregate {name} already exists.")

    @staticmethod
    def _check_compute_host(session: Session, host: str) -> None:
        found = session.scalar(select(m.ServiceRecord.id).where(
            m.ServiceRecord.binary == "nova-compute", m.ServiceRecord.host == host))
        if found is None:
            raise NotFound(f"Compute host {host} could not be found.")

    def _check_zone_change(self, session: Session, aggregate: m.Aggregate,
                           metadata: Mapping[str, str | None], hosts: list[str], action: str,
                           error: type[ApiError], *, check_servers: bool) -> None:
        """nova's ``is_safe_to_update_az``: only when ``metadata`` names a zone."""
        if ZONE_KEY not in metadata:
            return
        zone = metadata[ZONE_KEY]
        if not zone:
            raise refusal(action, aggregate.id, f"Aggregate {aggregate.name} does not support "
                          "empty named availability zone", error)
        conflicting = [a.zone for a in self.views(session)
                       if a.zone and a.id != aggregate.id and a.zone != zone
                       and any(h in a.hosts for h in hosts)]
        if conflicting:
            raise refusal(action, aggregate.id, "One or more hosts already in availability "
                          f"zone(s) {_python_list(conflicting)}", error)
        current = (aggregate.metadata_ or {}).get(ZONE_KEY)
        if check_servers and current != zone and any(_servers_on(session, h) for h in hosts):
            raise refusal(action, aggregate.id,
                          "One or more hosts contain instances in this zone", error)

    def _apply_metadata(self, aggregate: m.Aggregate, changes: Mapping[str, str | None]) -> None:
        metadata = dict(aggregate.metadata_ or {})
        for key, value in changes.items():
            if value is None:
                metadata.pop(key, None)
            else:
                metadata[key] = value
        aggregate.metadata_ = metadata
        aggregate.updated_at = self.clock.now()


def _servers_on(session: Session, host: str) -> int:
    return session.scalar(select(func.count()).select_from(m.Instance).where(
        m.Instance.host == host, m.Instance.deleted.is_(False))) or 0


def _moving_zone(old: str | None, new: str | None, servers: int) -> str:
    return (f"The host cannot be moved from availability zone '{old}' to '{new}' while "
            f"it holds {servers} instance(s): move them away first (shelve offload and "
            "unshelve move a server between zones)")


def _python_list(values: list[str]) -> str:
    # nova formats the Python list itself: ['az1', 'az2'].
    return "[" + ", ".join(repr(v) for v in values) + "]"
