"""What heat-engine keeps: stacks, resources, events and stack locks (short transactions,
one per state change, so another engine or the API sees each step as it happens)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.orchestration import models as m
from stacklab.store.database import Database
from stacklab.store.errors import DBDuplicateEntry

# (action, status) as heat names them.
CREATE, UPDATE, DELETE, ROLLBACK, SUSPEND, RESUME, CHECK, ADOPT, INIT = (
    "CREATE", "UPDATE", "DELETE", "ROLLBACK", "SUSPEND", "RESUME", "CHECK", "ADOPT", "INIT")
SNAPSHOT, RESTORE = "SNAPSHOT", "RESTORE"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
STACK_EVENT_TYPE = "OS::Heat::Stack"


@dataclass
class ResourceState:
    """One resource as the engine works on it (saved after each change)."""

    id: str
    name: str
    type: str
    action: str = INIT
    status: str = COMPLETE
    status_reason: str = ""
    physical_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    requires: list[str] = field(default_factory=list)
    description: str = ""
    created_at: float = 0.0
    updated_at: float | None = None

    @classmethod
    def of(cls, row: m.Resource) -> ResourceState:
        return cls(row.id, row.name, row.type, row.action, row.status, row.status_reason,
                   row.physical_id, dict(row.properties or {}), dict(row.data or {}),
                   dict(row.metadata_ or {}), dict(row.attributes or {}),
                   list(row.requires or []), row.description or "", row.created_at,
                   row.updated_at)


class EngineStore:
    def __init__(self, db: Database, clock: Clock, ids: IdSource) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    # -- stacks ----------------------------------------------------------------------

    def stack(self, stack_id: str) -> m.Stack | None:
        with self.session() as session:
            row = session.get(m.Stack, stack_id)
            if row is not None:
                session.expunge(row)
            return row

    def stack_by_name(self, project_id: str, name: str) -> m.Stack | None:
        with self.session() as session:
            row = session.scalar(select(m.Stack).where(
                m.Stack.project_id == project_id, m.Stack.name == name,
                m.Stack.deleted_at.is_(None)))
            if row is not None:
                session.expunge(row)
            return row

    def set_stack_state(self, stack_id: str, action: str, status: str, reason: str, *,
                        event: bool = True, **fields: Any) -> None:
        now = self.clock.now()
        with self.session() as session:
            row = session.get(m.Stack, stack_id)
            if row is None:
                return
            row.action, row.status, row.status_reason = action, status, reason
            for key, value in fields.items():
                setattr(row, key, value)
            if event:
                # heat records the stack's own changes as events named after the stack.
                session.add(m.Event(id=self.ids.uuid(), stack_id=stack_id,
                                    resource_name=row.name, physical_id=stack_id,
                                    resource_type=STACK_EVENT_TYPE, action=action,
                                    status=status, reason=reason, properties={},
                                    created_at=now))

    def launcher_of(self, stack_id: str) -> str | None:
        """The stack whose resource made this stack without nesting it (an
        OS::Heat::Stack: its physical id is the stack), if any."""
        with self.session() as session:
            return session.scalar(select(m.Resource.stack_id).where(
                m.Resource.physical_id == stack_id, m.Resource.type == "OS::Heat::Stack")
                .limit(1))

    # -- resources -------------------------------------------------------------------

    def resources(self, stack_id: str) -> dict[str, ResourceState]:
        with self.session() as session:
            rows = session.scalars(select(m.Resource).where(m.Resource.stack_id == stack_id)
                                   .order_by(m.Resource.created_at, m.Resource.name))
            return {row.name: ResourceState.of(row) for row in rows}

    def save_resource(self, stack_id: str, res: ResourceState, *, event: bool = False,
                      properties: dict[str, Any] | None = None) -> None:
        """The resource as it is now, and an event of its state when asked."""
        now = self.clock.now()
        with self.session() as session:
            row = session.get(m.Resource, res.id)
            if row is None:
                row = m.Resource(id=res.id, stack_id=stack_id, name=res.name,
                                 created_at=res.created_at or now)
                session.add(row)
            row.type, row.physical_id = res.type, res.physical_id
            row.action, row.status, row.status_reason = res.action, res.status, res.status_reason
            row.properties, row.data = dict(res.properties), dict(res.data)
            row.metadata_, row.attributes = dict(res.metadata), dict(res.attributes)
            row.requires, row.description = list(res.requires), res.description
            row.updated_at = res.updated_at
            if event:
                session.add(m.Event(id=self.ids.uuid(), stack_id=stack_id,
                                    resource_name=res.name, physical_id=res.physical_id,
                                    resource_type=res.type, action=res.action,
                                    status=res.status, reason=res.status_reason,
                                    properties=dict(properties or res.properties),
                                    created_at=now))

    def add_event(self, stack_id: str, res: ResourceState, action: str, status: str,
                  reason: str) -> None:
        """An event of a resource that leaves its state as it is (heat's SIGNAL events)."""
        with self.session() as session:
            session.add(m.Event(id=self.ids.uuid(), stack_id=stack_id, resource_name=res.name,
                                physical_id=res.physical_id, resource_type=res.type,
                                action=action, status=status, reason=reason,
                                properties=dict(res.properties), created_at=self.clock.now()))

    # -- hooks (a resource's data holds ``<hook>: "True"`` while it is paused there) ----

    def hook_set(self, resource_id: str, hook: str) -> bool:
        with self.session() as session:
            row = session.get(m.Resource, resource_id)
            return row is not None and (row.data or {}).get(hook) == "True"

    def clear_hook(self, resource_id: str, hook: str) -> bool:
        """Whether the hook was set (and is now cleared)."""
        with self.session() as session:
            row = session.get(m.Resource, resource_id)
            if row is None or (row.data or {}).get(hook) != "True":
                return False
            row.data = {k: v for k, v in (row.data or {}).items() if k != hook}
            return True

    def drop_resource(self, resource_id: str) -> None:
        with self.session() as session:
            session.execute(delete(m.Resource).where(m.Resource.id == resource_id))

    # -- snapshots -------------------------------------------------------------------

    def snapshots(self, stack_id: str) -> list[m.Snapshot]:
        with self.session() as session:
            rows = list(session.scalars(select(m.Snapshot).where(
                m.Snapshot.stack_id == stack_id).order_by(m.Snapshot.created_at,
                                                          m.Snapshot.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def snapshot(self, snapshot_id: str) -> m.Snapshot | None:
        with self.session() as session:
            row = session.get(m.Snapshot, snapshot_id)
            if row is not None:
                session.expunge(row)
            return row

    def add_snapshot(self, stack_id: str, project_id: str, name: str | None) -> m.Snapshot:
        row = m.Snapshot(id=self.ids.uuid(), stack_id=stack_id, project_id=project_id,
                         name=name, action=CREATE, status=IN_PROGRESS, status_reason=None,
                         data=None, created_at=self.clock.now())
        with self.session() as session:
            session.add(row)
        found = self.snapshot(row.id)
        assert found is not None
        return found

    def set_snapshot(self, snapshot_id: str, **fields: Any) -> None:
        with self.session() as session:
            row = session.get(m.Snapshot, snapshot_id)
            if row is not None:
                for key, value in fields.items():
                    setattr(row, key, value)
                row.updated_at = self.clock.now()

    def drop_snapshot(self, snapshot_id: str) -> None:
        with self.session() as session:
            session.execute(delete(m.Snapshot).where(m.Snapshot.id == snapshot_id))

    # -- locks (heat's stack_lock_create / steal / release) ----------------------------

    def lock_holder(self, stack_id: str) -> str | None:
        with self.session() as session:
            row = session.get(m.StackLock, stack_id)
            return None if row is None else row.engine_id

    def try_lock(self, stack_id: str, engine_id: str) -> str | None:
        """None once ``engine_id`` holds the lock, else the engine that holds it.

        The lock is the row (its key the stack's id): when two engines (processes) take it
        at once, the second insert is refused by the store and that engine reads who won,
        as heat's ``stack_lock_create`` relies on the primary key."""
        for _ in range(3):
            try:
                with self.session() as session:
                    row = session.get(m.StackLock, stack_id)
                    if row is None:
                        session.add(m.StackLock(stack_id=stack_id, engine_id=engine_id,
                                                created_at=self.clock.now()))
                        return None
                    return None if row.engine_id == engine_id else row.engine_id
            except (DBDuplicateEntry, IntegrityError):
                continue  # taken meanwhile: read the holder (released since: try again)
        holder = self.lock_holder(stack_id)
        return None if holder == engine_id else holder or ""

    def steal_lock(self, stack_id: str, old: str, new: str) -> bool:
        with self.session() as session:
            done = session.execute(update(m.StackLock).where(
                m.StackLock.stack_id == stack_id, m.StackLock.engine_id == old)
                .values(engine_id=new))
            return bool(getattr(done, "rowcount", 0))

    def release_lock(self, stack_id: str, engine_id: str) -> None:
        with self.session() as session:
            session.execute(delete(m.StackLock).where(m.StackLock.stack_id == stack_id,
                                                      m.StackLock.engine_id == engine_id))

    def in_progress_stacks(self) -> list[str]:
        with self.session() as session:
            return list(session.scalars(select(m.Stack.id).where(
                m.Stack.status == IN_PROGRESS, m.Stack.deleted_at.is_(None))))
