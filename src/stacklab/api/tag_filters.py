"""The tag filters nova, neutron and keystone share (``tags``, ``tags-any``, ``not-tags``,
``not-tags-any``, each a comma-separated list), asked of a JSON list column in SQL or of a
collection of tags in memory.

``tags`` wants every name, ``tags-any`` at least one (none given: nothing matches),
``not-tags`` refuses what has every name, ``not-tags-any`` what has any; an empty
``tags``, ``not-tags`` or ``not-tags-any`` asks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, exists, false, func, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles

from stacklab.api.pagination import getlist

Condition = ColumnElement[bool]
PARAMETERS = ("tags", "tags-any", "not-tags", "not-tags-any")


class _HasAny(ColumnElement[bool]):
    """A JSON list column holding any of some strings, compiled per engine: SQLite's
    ``json_each``, MariaDB's ``JSON_CONTAINS`` (it has no ``json_each``), PostgreSQL's
    ``json_array_elements_text``."""

    type = Boolean()
    # Its strings are not part of a cache key: a statement holding it is compiled anew.
    inherit_cache = False

    def __init__(self, column: Any, wanted: Sequence[str]) -> None:
        self.column = column
        self.wanted = list(wanted)


@compiles(_HasAny)
def _has_any_sqlite(element: _HasAny, compiler: Any, **kw: Any) -> str:
    each = func.json_each(element.column).table_valued("value")
    return str(compiler.process(exists(select(1).select_from(each).where(
        each.c.value.in_(element.wanted))), **kw))


@compiles(_HasAny, "mysql", "mariadb")
def _has_any_mysql(element: _HasAny, compiler: Any, **kw: Any) -> str:
    if not element.wanted:
        return str(compiler.process(false(), **kw))
    # The candidate is the JSON text the column's own serializer wrote (json.dumps, its
    # \u escapes included): MariaDB compares a string's escapes as text ("\u00fc" is not
    # "ü" to it). Grouped: the element stands as one operand (``NOT (... OR ...)``).
    return "(" + str(compiler.process(or_(*(
        func.json_contains(element.column, literal(json.dumps(name))) == 1
        for name in element.wanted)), **kw)) + ")"


@compiles(_HasAny, "postgresql")
def _has_any_postgresql(element: _HasAny, compiler: Any, **kw: Any) -> str:
    each = func.json_array_elements_text(element.column).table_valued("value")
    return str(compiler.process(exists(select(1).select_from(each).where(
        each.c.value.in_(element.wanted))), **kw))


def has_any(column: Any, wanted: Sequence[str]) -> Condition:
    """A JSON list column holding any of ``wanted``."""
    return _HasAny(column, wanted)


def _names(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(t for value in values for t in value.split(",") if t)


@dataclass(frozen=True)
class TagFilter:
    """The tag filters of one request (None: that parameter was not given)."""

    all_of: tuple[str, ...] | None = None
    any_of: tuple[str, ...] | None = None
    not_all_of: tuple[str, ...] | None = None
    not_any_of: tuple[str, ...] | None = None

    @classmethod
    def read(cls, query: Any, *, repeatable: bool) -> TagFilter:
        """neutron reads every repeat of a parameter (``repeatable``); nova the last."""
        def names(key: str) -> tuple[str, ...] | None:
            if key not in query:
                return None
            return _names(getlist(query, key) if repeatable else [query[key]])
        return cls(*(names(key) for key in PARAMETERS))

    @property
    def wants_tags(self) -> bool:
        """Whether only tagged items can match (``tags`` or ``tags-any`` given)."""
        return self.all_of is not None or self.any_of is not None

    def __bool__(self) -> bool:
        return any(v is not None for v in
                   (self.all_of, self.any_of, self.not_all_of, self.not_any_of))

    def matches(self, tags: Collection[str]) -> bool:
        have = set(tags)
        if self.all_of is not None and not set(self.all_of) <= have:
            return False
        if self.any_of is not None and not set(self.any_of) & have:
            return False
        if self.not_all_of and set(self.not_all_of) <= have:
            return False
        return not (self.not_any_of and set(self.not_any_of) & have)

    def conditions(self, column: Any) -> list[Condition]:
        """The same questions of a JSON list column, as SQL."""
        where: list[Condition] = [has_any(column, [t]) for t in self.all_of or ()]
        if self.any_of is not None:
            where.append(has_any(column, self.any_of) if self.any_of else false())
        if self.not_all_of:
            where.append(not_(and_(*(has_any(column, [t]) for t in self.not_all_of))))
        if self.not_any_of:
            where.append(not_(has_any(column, self.not_any_of)))
        return where
