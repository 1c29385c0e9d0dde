"""glance's tasks: the record of each import, and the legacy ``/v2/tasks`` API's.

An import (``POST /v2/images/{id}/import``) is an ``api_image_import`` task; a task
created through ``/v2/tasks`` (deprecated upstream, admin-only by glance's default
policy) is an ``import``. A task goes pending, processing, then success or failure; a
finished one expires after ``[task] task_time_to_live`` (48 hours) and is then no
longer listed, as glance stops showing it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import NotFound
from stacklab.api.pagination import Dialect, PageRequest, Window, page_query
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.image import models as m

TASK_TIME_TO_LIVE = 48 * 3600.0
STATUSES = ("pending", "processing", "success", "failure")
TYPES = ("import", "api_image_import", "location_import")


def config_list(raw: str) -> tuple[str, ...]:
    """An oslo.config list option as written: ``a,b`` or ``[a, 'b']``."""
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return tuple(item.strip().strip("'\"") for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class ImportFilter:
    """``[import_filtering_opts]``, applied as glance's ``validate_import_uri``: an allow
    list, when set, wins over its deny list; a URI with no scheme or host never passes."""

    allowed_schemes: tuple[str, ...] = ("http", "https")
    disallowed_schemes: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "::1")
    disallowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = ()
    disallowed_ports: tuple[int, ...] = ()

    def allows(self, uri: str | None) -> bool:
        if not uri:
            return False
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            return False
        scheme, host = parts.scheme, _normalized_host(parts.hostname)
        if not scheme or (self.allowed_schemes and scheme not in self.allowed_schemes) or \
                (not self.allowed_schemes and scheme in self.disallowed_schemes):
            return False
        if not host or (self.allowed_hosts and host not in self.allowed_hosts) or \
                (not self.allowed_hosts and host in self.disallowed_hosts):
            return False
        if port is not None:
            if self.allowed_ports and port not in self.allowed_ports:
                return False
            if not self.allowed_ports and port in self.disallowed_ports:
                return False
        return True


def _normalized_host(host: str | None) -> str | None:
    """An address in its one standard spelling; encoded forms (``2130706433``,
    ``0x7f000001``) are not addresses to ``ipaddress`` and stay names, so they match no
    allowed address."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


class Tasks:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    def create(self, session: Session, context: RequestContext, task_type: str,
               task_input: Mapping[str, Any], image_id: str | None = None) -> m.ImageTask:
        now = self.clock.now()
        task = m.ImageTask(id=self.ids.uuid(), type=task_type, status="pending",
                           owner=context.project_id, input=dict(task_input), result=None,
                           message="", image_id=image_id, request_id=context.request_id,
                           user_id=context.user_id, expires_at=None, created_at=now,
                           updated_at=now)
        session.add(task)
        return task

    def begin(self, task: m.ImageTask) -> None:
        task.status = "processing"
        task.updated_at = self.clock.now()

    def succeed(self, task: m.ImageTask, result: Mapping[str, Any] | None = None) -> None:
        self._finish(task, "success", "", result)

    def fail(self, task: m.ImageTask, message: str) -> None:
        self._finish(task, "failure", message, None)

    def _finish(self, task: m.ImageTask, status: str, message: str,
                result: Mapping[str, Any] | None) -> None:
        now = self.clock.now()
        task.status, task.message = status, message
        task.result = dict(result) if result is not None else None
        task.updated_at = now
        task.expires_at = now + TASK_TIME_TO_LIVE

    @staticmethod
    def visible(context: RequestContext, task: m.ImageTask) -> bool:
        return context.is_admin or (task.owner is not None and task.owner == context.project_id)

    def _live(self) -> Any:
        return or_(m.ImageTask.expires_at.is_(None), m.ImageTask.expires_at >= self.clock.now())

    def get(self, session: Session, context: RequestContext, task_id: str) -> m.ImageTask:
        task = session.get(m.ImageTask, task_id)
        if task is None or not self.visible(context, task) or (
                task.expires_at is not None and task.expires_at < self.clock.now()):
            raise NotFound(f"Task with the given id {task_id} not found")
        return task

    def _tasks(self, context: RequestContext, filters: Mapping[str, str | None]) -> Select[Any]:
        """The live tasks the caller sees (``visible``, as SQL) that ``filters`` keep."""
        task = m.ImageTask
        query = select(task).where(self._live())
        for name in ("status", "type"):
            if filters.get(name):
                query = query.where(getattr(task, name) == filters[name])
        if not context.is_admin:
            query = query.where(false() if context.project_id is None else
                                task.owner == context.project_id)
        return query

    def list_tasks(self, session: Session, context: RequestContext,
                   filters: Mapping[str, str | None]) -> list[m.ImageTask]:
        return list(session.scalars(self._tasks(context, filters).order_by(
            m.ImageTask.created_at, m.ImageTask.id)))

    def list_page(self, session: Session, context: RequestContext,
                  filters: Mapping[str, str | None], request: PageRequest,
                  dialect: Dialect) -> Window[Any]:
        """One page of them (rows of one ``ImageTask``), cut in SQL; ties go by creation,
        then by id, in the first key's direction (as glance's task list)."""
        task = m.ImageTask
        first = request.sort[0][1] if request.sort else "desc"
        order = [_ordered(getattr(task, key), direction) for key, direction in request.sort]
        return page_query(session, self._tasks(context, filters), id_column=task.id,
                          request=request, dialect=dialect,
                          order=[*order, _ordered(task.created_at, first),
                                 _ordered(task.id, first)])

    def for_image(self, session: Session, context: RequestContext,
                  image_id: str) -> list[m.ImageTask]:
        query = select(m.ImageTask).where(m.ImageTask.image_id == image_id, self._live()) \
            .order_by(m.ImageTask.created_at)
        return [t for t in session.scalars(query) if self.visible(context, t)]


def _ordered(column: Any, direction: str) -> Any:
    return column.desc() if direction == "desc" else column.asc()
