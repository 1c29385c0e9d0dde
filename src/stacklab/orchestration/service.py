"""Orchestration (heat) as the cloud builds it: heat-engine on each node running it, the
store the API reads, and the RPC client heat-api uses to reach the engines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from stacklab.api.client import ServiceCallError
from stacklab.bus.interface import Bus, MessagingTimeout, Target
from stacklab.clock import Clock
from stacklab.config import DefaultOptions
from stacklab.ids import IdSource
from stacklab.orchestration import models as m
from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.clients import Clients
from stacklab.orchestration.engine.stack import (
    HTTP_ERRORS,
    StackRun,
    StackSpec,
    service_message,
)
from stacklab.orchestration.engine.store import EngineStore, ResourceState
from stacklab.orchestration.engine.worker import ENGINE_TOPIC, EngineWorker
from stacklab.orchestration.errors import HeatError
from stacklab.orchestration.software import SoftwareStore
from stacklab.store.database import Database
from stacklab.store.sql import json_object_has
from stacklab.topology import Runtime, Topology

ENGINE = "heat-engine"
# heat's [DEFAULT] rpc_response_timeout for heat-api's calls to the engine.
RPC_TIMEOUT = 60.0


class OrchestrationService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, bus: Bus,
                 topology: Topology, runtime: Runtime, clients: Clients, *,
                 lab_clock: Clock | None = None, options: DefaultOptions | None = None,
                 here: Callable[[str, str | None], bool] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.lab_clock = lab_clock or clock
        self.ids = ids.stream("orchestration")
        self.bus = bus
        self.topology = topology
        self.runtime = runtime
        self.clients = clients
        self.store = EngineStore(db, clock, self.ids)
        self.software = SoftwareStore(db, clock, self.ids)
        self.started = False
        # Whether this OS process runs the heat-engine of a node (Parts.here): one process
        # per service runs an engine per node, heat-api none (docs/processes.md).
        self.here: Callable[[str, str | None], bool] = here or (lambda binary, node: True)
        # The engines of the nodes this process runs: none in heat-api's (each of its
        # workers only serves and calls an engine over the bus).
        self.engines = [EngineWorker(node.name, store=self.store, clients=clients, bus=bus,
                                     clock=self.lab_clock, ids=self.ids,
                                     options=options or DefaultOptions())
                        for node in topology.nodes_running(ENGINE)
                        if self.here(ENGINE, node.name)]

    # -- life cycle ------------------------------------------------------------------------

    def running(self, node: str) -> bool:
        if not self.here(ENGINE, node):
            return False  # another process's engine: it starts, resets and dies there
        try:
            return self.runtime.running(node, ENGINE)
        except KeyError:
            return self.runtime.is_up(node)

    def start(self) -> None:
        self.started = True
        for engine in self.engines:
            if self.running(engine.node):
                engine.start()

    def stop(self) -> None:
        self.started = False
        for engine in self.engines:
            if engine.alive:
                engine.stop()

    def process_changed(self, node: str) -> None:
        """A node or its heat-engine went down or came back: the process dies with its
        actions, or starts afresh (a new engine id, then the legacy reset)."""
        if not self.started:
            return  # the cloud has not started its services (nor migrated its store) yet
        for engine in self.engines:
            if engine.node != node:
                continue
            running = self.running(node)
            if engine.alive and not running:
                engine.stop()
            elif running and not engine.alive:
                engine.start()

    # -- heat-api's RPC client -------------------------------------------------------------

    async def rpc(self, method: str, ctxt: Mapping[str, Any], **kwargs: Any) -> Any:
        """One call to any engine (heat's EngineClient); template errors come back as the
        API's 400s with heat's exception names."""
        try:
            return await self.bus.call(Target(ENGINE_TOPIC), method, timeout=RPC_TIMEOUT,
                                       ctxt=dict(ctxt), **kwargs)
        except tpl.TemplateError as error:
            raise HeatError(str(error), status=error.status, kind=error.error_type) from None
        except ServiceCallError as error:
            # keystone refused the trust (or another service a call at create): heat's
            # client plugins raise the service's own error up to the API.
            status = error.status if 400 <= error.status < 500 else 500
            raise HeatError(service_message(error.body) or str(error), status=status,
                            kind=HTTP_ERRORS.get(error.status, "HTTPException")) from None
        except MessagingTimeout:
            raise HeatError("Timed out waiting for a reply from heat-engine", status=504,
                            kind="MessagingTimeout") from None

    # -- reads -----------------------------------------------------------------------------

    def stacks(self, project_id: str | None, *, deleted: bool = False) -> list[m.Stack]:
        with self.store.session() as session:
            query = select(m.Stack)
            if project_id is not None:
                query = query.where(m.Stack.project_id == project_id)
            if not deleted:
                query = query.where(m.Stack.deleted_at.is_(None))
            rows = list(session.scalars(query.order_by(m.Stack.created_at.desc(),
                                                       m.Stack.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def find(self, project_id: str, name_or_id: str) -> m.Stack | None:
        row = self.store.stack(name_or_id)
        if row is not None and row.project_id == project_id and row.deleted_at is None:
            return row
        return self.store.stack_by_name(project_id, name_or_id)

    def resources(self, stack_id: str) -> dict[str, ResourceState]:
        return self.store.resources(stack_id)

    def access_key_owner(self, access_key: str) -> tuple[str, str, str] | None:
        """The stack id, resource name and secret of the EC2 key pair heat made for a
        resource (a server's software config transport), if a live stack holds it and the
        resource is not being (or has been) deleted."""
        with self.store.session() as session:
            found = session.execute(
                select(m.Resource.stack_id, m.Resource.name, m.Resource.data)
                .join(m.Stack, m.Stack.id == m.Resource.stack_id)
                # heat deletes the stack user with the server (its handle_delete).
                .where(m.Stack.deleted_at.is_(None), m.Resource.action != "DELETE",
                       json_object_has(m.Resource.data, "access_key", access_key))).first()
        if found is None:
            return None
        secret = (found.data or {}).get("secret_key")
        return None if secret is None else (found.stack_id, found.name, str(secret))

    def nested_stacks(self, stack_id: str) -> dict[str, m.Stack]:
        """A stack's live nested stacks, by the resource owning each."""
        with self.store.session() as session:
            rows = list(session.scalars(select(m.Stack).where(
                m.Stack.parent_id == stack_id, m.Stack.deleted_at.is_(None))
                .order_by(m.Stack.created_at)))
            for row in rows:
                session.expunge(row)
        return {str(row.owner_resource): row for row in rows if row.owner_resource}

    def events(self, stack_id: str) -> list[m.Event]:
        with self.store.session() as session:
            rows = list(session.scalars(select(m.Event).where(m.Event.stack_id == stack_id)
                                        .order_by(m.Event.seq)))
            for row in rows:
                session.expunge(row)
            return rows

    def parameters(self, row: m.Stack) -> dict[str, Any]:
        try:
            tmpl = StackSpec(dict(row.template), dict(row.files or {}),
                             dict(row.environment or {})).parsed()
            return tmpl.parameters(stack_name=row.name, stack_id=row.id,
                                   project_id=row.project_id).as_shown()
        except tpl.TemplateError:
            return {}

    def description(self, row: m.Stack) -> str:
        value = (row.template or {}).get("description") or (row.template or {}).get(
            "Description")
        return str(value) if value else "No description"

    async def attributes(self, row: m.Stack, res: ResourceState) -> dict[str, Any]:
        """A resource's attributes read back now, with the stack's trust."""
        async def token() -> str:
            if not row.trust_id:
                raise HeatError("no trust", status=403)
            return await self.clients.trust_token(row.trust_id)

        run = StackRun(store=self.store, clients=self.clients, clock=self.lab_clock,
                       ids=self.ids, stack_id=row.id, stack_name=row.name,
                       project_id=row.project_id,
                       spec=StackSpec(dict(row.template), dict(row.files or {}),
                                      dict(row.environment or {})),
                       token=token, timeout_mins=row.timeout_mins,
                       disable_rollback=row.disable_rollback)
        try:
            await run.load_attributes([res.name], run.spec.parsed())
        except (HeatError, tpl.TemplateError):
            return {}
        values = run.attribute_cache.get(res.name)
        return dict(values or {})
