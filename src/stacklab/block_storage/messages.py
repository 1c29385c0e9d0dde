"""User messages (cinder/message/api.py, message_field.py): a record, for the user, of
an asynchronous step that failed after the request had its 2xx (no backend could take the
volume, its upload to an image failed).

A message names its event by ids, never by the failure's own text (which could say
more than a user may know): ``VOLUME_<resource>_<action>_<detail>``, and the API spells
the action and the detail out as cinder's fixed phrases. It is kept at least
``[DEFAULT] message_ttl`` seconds (its ``guaranteed_until``); cinder's scheduler reaps
the expired ones once a day (``message_reap_interval``), which stacklab does not do yet:
an expired message stays until deleted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stacklab.api.errors import NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.volumes import Caller
from stacklab.clock import Clock
from stacklab.ids import IdSource

# message_field.Resource.
VOLUME = "VOLUME"
# message_field.Action: the ids stacklab records, with cinder's words for them.
SCHEDULE_ALLOCATE_VOLUME = "001"
COPY_VOLUME_TO_IMAGE = "003"
ACTIONS = {SCHEDULE_ALLOCATE_VOLUME: "schedule allocate volume",
           COPY_VOLUME_TO_IMAGE: "copy volume to image"}
# message_field.Detail.
UNKNOWN_ERROR = "001"
NO_BACKEND_AVAILABLE = "003"
FAILED_TO_UPLOAD_VOLUME = "004"
DETAILS = {UNKNOWN_ERROR: "An unknown error occurred.",
           NO_BACKEND_AVAILABLE: "Could not find any available weighted backend.",
           FAILED_TO_UPLOAD_VOLUME: "Failed to upload volume to image at backend."}


def message_not_found(ident: str) -> NotFound:
    return NotFound(f"Message {ident} could not be found.")


def user_message(row: m.Message) -> str:
    """cinder's ``action:detail`` phrase (an unknown id reads as cinder reads it)."""
    action = ACTIONS.get(row.action_id or "", "unknown action")
    return f"{action}:{DETAILS.get(row.detail_id or '', DETAILS[UNKNOWN_ERROR])}"


class Messages:
    def __init__(self, clock: Clock, ids: IdSource, ttl: int) -> None:
        self.clock = clock
        self.ids = ids
        self.ttl = ttl

    def record(self, session: Session, *, project_id: str, request_id: str | None,
               action: str, detail: str, resource_uuid: str | None,
               resource_type: str = VOLUME, level: str = "ERROR") -> m.Message:
        now = self.clock.now()
        row = m.Message(
            id=self.ids.uuid(), project_id=project_id, message_level=level,
            # Every cinder context has a request id, an internal one its own.
            request_id=request_id or f"req-{self.ids.uuid()}",
            resource_type=resource_type, resource_uuid=resource_uuid,
            event_id=f"VOLUME_{resource_type}_{action}_{detail}", detail_id=detail,
            action_id=action, created_at=now, expires_at=now + self.ttl)
        session.add(row)
        return row

    @staticmethod
    def get(session: Session, ident: str, caller: Caller) -> m.Message:
        """A message of the caller's project (an admin's: any), else 404."""
        found = session.get(m.Message, ident)
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise message_not_found(ident)
        return found
