"""Reading and changing servers in the store, as nova's Instance object and its action log.

Every state change goes through ``Instances.save``, which checks the task
state the caller expects (nova's ``instance.save(expected_task_state=...)``):
if a user deleted the server, or another operation took it, meanwhile, the
change is refused instead of overwriting theirs. Each change is announced as
a ``compute.instance.update`` notification on the bus, which is how tests and
observers see the task states pass even when they pass in no time.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import Conflict
from stacklab.bus.interface import Bus, current_host
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.compute import notification_objects as objects
from stacklab.compute import states
from stacklab.compute.notifications import Notifier, info_from_instance
from stacklab.store.database import Database
from stacklab.store.sql import update_returning

_ANY: Any = object()
# What a server's update or rebuild may change: the API's field and the column it sets.
_EDITABLE = (("name", "name"), ("description", "description"), ("hostname", "hostname"),
             ("accessIPv4", "access_ipv4"), ("accessIPv6", "access_ipv6"),
             ("OS-DCF:diskConfig", "disk_config"), ("user_data", "user_data"))
_SNAPSHOT = (m.Instance.vm_state, m.Instance.task_state, m.Instance.power_state,
             m.Instance.host, m.Instance.flavor)


def access_ip(value: str | None) -> str:
    """An access IP as nova stores it: its IP field keeps netaddr's form (``::babe:202:202``
    for ``0000:0000::BABE:202:0202``); none (null or empty) is ""."""
    if not value:
        return ""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value  # the schema's format check let it through: keep what was sent


class InstanceGone(Exception):
    """The server was deleted (or is being deleted) while an operation was under way."""


class UnexpectedTaskState(Exception):
    def __init__(self, uuid: str, expected: Iterable[str | None], actual: str | None) -> None:
        super().__init__(f"Unexpected task state: expecting {sorted(map(str, expected))} "
                         f"but the actual state is {actual} (instance {uuid})")
        self.actual = actual


def bus_context(context: RequestContext) -> dict[str, Any]:
    """What a request's context becomes on the bus (nova's serialized RequestContext)."""
    return {"request_id": context.request_id, "global_request_id": context.global_request_id,
            "user_id": context.user_id, "project_id": context.project_id,
            "is_admin": context.is_admin}


def request_context(ctxt: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a bus context the action log needs."""
    return {key: ctxt.get(key) for key in ("request_id", "user_id", "project_id")}


class Instances:
    def __init__(self, db: Database, clock: Clock, bus: Bus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        # nova's notifiers: which of its notifications go out, and where ([notifications]).
        self.notifier = Notifier(bus)
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        # Seconds between reads of the store while waiting for servers to settle, when
        # their work runs in other processes; None: the wake-up comes in memory.
        self.poll_interval: float | None = None
        # (instance, request id) -> action row id; (action id, event) -> event row id.
        self._actions: dict[tuple[str, str], int] = {}
        self._events: dict[tuple[int, str], int] = {}

    async def wait_settled(self, uuids: list[str], timeout: float) -> None:
        """Wait (at most ``timeout`` real seconds) until each server has no task under way.

        Only the fast profile uses it: nova-api then answers once the work it
        cast is done, so a client's first poll (``--wait``) already sees the
        result instead of sleeping its poll interval.
        """
        loop = asyncio.get_running_loop()
        futures = []
        for uuid in uuids:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(uuid, []).append(future)
            futures.append(future)
        # The work may have finished before we started listening.
        self._wake_settled(uuids)
        try:
            if self.poll_interval is None:
                await asyncio.wait(futures, timeout=timeout)
                return
            # The work is another process's (one process per service): its wake-up
            # cannot reach this one, so the store is read again now and then.
            deadline = self.clock.monotonic() + timeout
            pending = [future for future in futures if not future.done()]
            while pending:
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    break
                await asyncio.wait(pending, timeout=min(left, self.poll_interval))
                self._wake_settled([uuid for uuid, future in zip(uuids, futures, strict=True)
                                    if not future.done()])
                pending = [future for future in futures if not future.done()]
        finally:
            for uuid, future in zip(uuids, futures, strict=False):
                waiting = self._waiters.get(uuid, [])
                if future in waiting:
                    waiting.remove(future)
                if not waiting:
                    self._waiters.pop(uuid, None)

    def _wake_settled(self, uuids: list[str]) -> None:
        """Wake the waiters of the servers the store shows with no task under way."""
        if not uuids:
            return
        with self.db.session() as session:
            rows = session.execute(select(m.Instance.uuid, m.Instance.vm_state,
                                          m.Instance.task_state, m.Instance.deleted)
                                   .where(m.Instance.uuid.in_(list(uuids))))
            for uuid, vm_state, task_state, deleted in rows:
                # (A resized server has no task while its confirmation is on its way.)
                if deleted or (task_state is None
                               and vm_state not in (states.BUILDING, states.RESIZED)):
                    self.wake(uuid)

    def wake(self, uuid: str) -> None:
        for future in self._waiters.pop(uuid, []):
            if not future.done():
                future.set_result(None)

    def edit(self, instance: m.Instance, fields: Mapping[str, Any]) -> None:
        """Apply the fields an update or a rebuild names (a null access IP clears it)."""
        for name, column in _EDITABLE:
            if name in fields:
                value = fields[name]
                setattr(instance, column,
                        access_ip(value) if column.startswith("access") else value)
        instance.updated_at = self.clock.now()

    @staticmethod
    def pin_zone(instance: m.Instance, wanted: str | None) -> None:
        """Unpin a server from its zone (None), or pin it to the zone it is in (2.104).

        A pinned server is unpinned before it is pinned elsewhere, and only to where
        it is (nova's 409 otherwise); asking for what is already so changes nothing.
        """
        pinned = instance.requested_zone
        if wanted is None or wanted == pinned:
            instance.requested_zone = wanted
            return
        if pinned is not None:
            raise Conflict("Cannot change pinned availability zone directly. Unpin first by "
                           "setting pinned_availability_zone to null.")
        current = instance.availability_zone
        if wanted != current:
            raise Conflict(f"Server can only be pinned to its current availability zone "
                           f"'{current}', but '{wanted}' was requested.")
        instance.requested_zone = wanted

    @staticmethod
    def find(session: Session, uuid: str) -> m.Instance | None:
        return session.scalar(select(m.Instance).where(m.Instance.uuid == uuid))

    async def save(self, uuid: str, *, expected_task_state: Any = _ANY,
                   publisher: str = "nova-compute", **changes: Any) -> dict[str, Any]:
        """Apply ``changes`` if the server still exists and is in the expected task state.

        Returns the changed columns' new values together with the server's
        vm_state, task_state, host and flavor, for the caller's next step.
        """
        # Two plain statements instead of loading the whole row: a build saves five times.
        values = dict(changes, updated_at=self.clock.now())
        if "flavor" in changes:
            values["vcpus"] = int(changes["flavor"]["vcpus"])
            values["memory_mb"] = int(changes["flavor"]["memory_mb"])
        single = expected_task_state is not _ANY and not isinstance(expected_task_state, tuple)
        versioned = self.notifier.versioned_enabled
        with self.db.engine.begin() as conn:
            row = None
            # instance.update's state_update names the vm_state before (read only for it).
            old_state = (conn.scalar(select(m.Instance.vm_state).where(m.Instance.uuid == uuid))
                         if versioned else None)
            if single:
                # The usual case, one statement: the update happens only in that task state.
                old_task = expected_task_state
                task_matches = (m.Instance.task_state.is_(None) if old_task is None
                                else m.Instance.task_state == old_task)
                row = update_returning(
                    conn, update(m.Instance).where(m.Instance.uuid == uuid,
                                                   m.Instance.deleted.is_(False), task_matches)
                    .values(**values), _SNAPSHOT, m.Instance.uuid == uuid)
            if row is None:
                current = conn.execute(select(m.Instance.task_state, m.Instance.deleted)
                                          .where(m.Instance.uuid == uuid)).first()
                if current is None or current.deleted:
                    raise InstanceGone(uuid)
                old_task = current.task_state
                if expected_task_state is not _ANY:
                    expected = (expected_task_state if isinstance(expected_task_state, tuple)
                                else (expected_task_state,))
                    if old_task not in expected:
                        if old_task == states.DELETING:
                            raise InstanceGone(uuid)
                        raise UnexpectedTaskState(uuid, expected, old_task)
                row = update_returning(
                    conn, update(m.Instance).where(m.Instance.uuid == uuid).values(**values),
                    _SNAPSHOT, m.Instance.uuid == uuid)
                assert row is not None  # found just above, in this transaction
            snapshot = {"uuid": uuid, "vm_state": row.vm_state, "task_state": row.task_state,
                        "old_task_state": old_task, "power_state": row.power_state,
                        "host": row.host, "flavor": dict(row.flavor)}
        await self.notifier.legacy(publisher, "compute.instance.update", snapshot)
        if versioned:
            await self._versioned_update(uuid, publisher, old_state or row.vm_state, old_task)
        if snapshot["task_state"] is None and snapshot["vm_state"] != states.BUILDING:
            self.wake(uuid)
        return snapshot

    async def _versioned_update(self, uuid: str, binary: str, old_state: str,
                                old_task_state: str | None) -> None:
        with self.db.session() as session:
            instance = self.find(session, uuid)
            if instance is None:
                return
            payload = objects.update_payload(instance, {}, old_state=old_state,
                                             old_task_state=old_task_state,
                                             now=self.clock.now())
            host = current_host() or instance.host
        await self.notifier.versioned(binary, host, "instance.update", payload)

    async def notify(self, uuid: str, event: str, host: str | None, *,
                     ctxt: Mapping[str, Any] | None = None,
                     new_flavor: Mapping[str, Any] | None = None,
                     versioned_event: str | None = None, **extra: Any) -> None:
        """nova's notifications of ``event`` (``create.end``, ``power_off.start`` ...) of a
        server, in the request's context, each as ``[notifications] notification_format``
        says: the legacy ``compute.instance.<event>`` from ``compute.<host>`` (``extra``
        joins its payload, as ``message`` on a create's end) and the versioned
        ``instance.<event>`` from ``nova-compute:<host>`` (a create's InstanceCreatePayload,
        a resize_prep's with ``new_flavor``, else InstanceActionPayload); where nova names
        the two differently, ``versioned_event`` is the versioned one's."""
        notifier = self.notifier
        context = dict(ctxt or {})
        with self.db.session() as session:
            instance = self.find(session, uuid)
            if instance is None:
                return
            legacy = info_from_instance(instance, **extra) if notifier.legacy_enabled else None
            versioned = None
            if notifier.versioned_enabled:
                if event.startswith("create."):
                    keypairs = list(session.scalars(select(m.KeyPair).where(
                        m.KeyPair.user_id == instance.user_id,
                        m.KeyPair.name == instance.key_name))) if instance.key_name else []
                    versioned = objects.create_payload(instance, context, keypairs)
                elif new_flavor is not None:
                    versioned = objects.resize_prep_payload(instance, context, new_flavor)
                else:
                    versioned = objects.action_payload(instance, context)
        if legacy is not None:
            await notifier.legacy(f"compute.{host}" if host else "nova-compute",
                                  f"compute.instance.{event}", legacy, ctxt=context)
        if versioned is not None:
            await notifier.versioned("nova-compute", host,
                                     f"instance.{versioned_event or event}", versioned,
                                     ctxt=context)

    def start_action(self, session: Session, instance: m.Instance, action: str,
                     ctxt: Mapping[str, Any]) -> m.InstanceAction:
        record = m.InstanceAction(
            instance_uuid=instance.uuid, action=action,
            request_id=str(ctxt.get("request_id") or ""),
            project_id=str(ctxt.get("project_id") or instance.project_id),
            user_id=str(ctxt.get("user_id") or instance.user_id),
            start_time=self.clock.now(), updated_at=self.clock.now())
        session.add(record)
        return record

    def event(self, uuid: str, request_id: str | None, event: str, host: str | None,
              *, result: str | None = None, details: str | None = None) -> None:
        """Start an event of the action ``request_id`` started, or finish it with ``result``."""
        now = self.clock.now()
        with self.db.engine.begin() as conn:
            key = (uuid, request_id or "")
            action_id = self._actions.get(key)
            if action_id is None:
                action_id = conn.scalar(
                    select(m.InstanceAction.id).where(m.InstanceAction.instance_uuid == uuid,
                                                      m.InstanceAction.request_id == key[1])
                    .order_by(m.InstanceAction.id.desc()).limit(1))
                if action_id is None:
                    return
                self._remember(self._actions, key, action_id)
            finished: dict[str, Any] = {"updated_at": now}
            if result is None:
                event_id = conn.execute(insert(m.InstanceActionEvent).values(
                    action_id=action_id, event=event, host=host, start_time=now)
                    .returning(m.InstanceActionEvent.id)).scalar_one()
                self._remember(self._events, (action_id, event), event_id)
            else:
                event_id = self._events.pop((action_id, event), 0)
                ended = {"finish_time": now, "result": result, "details": details}
                located = m.InstanceActionEvent.id == event_id
                updated = update_returning(
                    conn, update(m.InstanceActionEvent).where(located).values(**ended),
                    [m.InstanceActionEvent.id], located) if event_id else None
                if updated is None:
                    conn.execute(insert(m.InstanceActionEvent).values(
                        action_id=action_id, event=event, host=host, start_time=now, **ended))
                finished["finish_time"] = now
                if result == "Error":
                    finished["message"] = "Error"
            conn.execute(update(m.InstanceAction).where(m.InstanceAction.id == action_id)
                            .values(**finished))

    @staticmethod
    def _remember(table: dict[Any, int], key: Any, value: int, keep: int = 10_000) -> None:
        """A bounded memo: the oldest entries go first (they are long finished)."""
        if len(table) >= keep:
            for old in list(table)[: keep // 10]:
                del table[old]
        table[key] = value

    def fault(self, message: str, code: int = 500, details: str = "") -> dict[str, Any]:
        return {"code": code, "message": message, "details": details, "created": self.clock.now()}
