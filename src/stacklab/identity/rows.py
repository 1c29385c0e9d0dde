"""What every identity backend does with its rows: fetch one (keystone's 404) and list some."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from stacklab.identity.errors import not_found

Row = TypeVar("Row")


def row_or_404(session: Session, model: type[Row], ident: str, kind: str) -> Row:
    """The row with this id, or keystone's "Could not find <kind>: <id>."."""
    row = session.get(model, ident)
    if row is None:
        raise not_found(kind, ident)
    return row


def filtered(session: Session, model: type[Row], filters: Mapping[str, Any],
             keys: tuple[str, ...], *order: Any,
             where: Sequence[ColumnElement[bool]] = ()) -> list[Row]:
    """The rows whose columns equal each of ``keys`` the filters give (None: not filtered)
    and that meet the ``where`` conditions."""
    query = select(model).where(*where).order_by(*order)
    for key in keys:
        if filters.get(key) is not None:
            query = query.where(getattr(model, key) == filters[key])
    return list(session.scalars(query))
