"""OS-OAUTH1 consumers. Request and access tokens (the signed OAuth 1.0a exchange) are not
served yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.identity import models as m
from stacklab.identity.rows import row_or_404
from stacklab.identity.state import IdentityState


class Consumers:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def get_consumer(self, session: Session, consumer_id: str) -> m.OAuthConsumer:
        return row_or_404(session, m.OAuthConsumer, consumer_id, "consumer")

    def list_consumers(self, session: Session,
                       filters: Mapping[str, Any]) -> list[m.OAuthConsumer]:
        return list(session.scalars(select(m.OAuthConsumer).order_by(m.OAuthConsumer.id)))

    def create_consumer(self, session: Session, fields: Mapping[str, Any]) -> m.OAuthConsumer:
        consumer = m.OAuthConsumer(
            id=self.state.new_id(), description=fields.get("description"),
            secret=self.state.ids.hex_id(),
            extra={k: v for k, v in fields.items() if k not in ("id", "description", "secret")})
        session.add(consumer)
        return consumer

    def update_consumer(self, session: Session, consumer_id: str,
                        fields: Mapping[str, Any]) -> m.OAuthConsumer:
        consumer = self.get_consumer(session, consumer_id)
        if "description" in fields:
            consumer.description = fields["description"]
        extra = {k: v for k, v in fields.items() if k not in ("id", "description")}
        if extra:
            consumer.extra = {**consumer.extra, **extra}
        return consumer

    def delete_consumer(self, session: Session, consumer_id: str) -> None:
        session.delete(self.get_consumer(session, consumer_id))
