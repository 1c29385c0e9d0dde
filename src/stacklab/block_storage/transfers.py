"""Volume transfers as cinder-api handles them (cinder/transfer/api.py and the transfer
rows of cinder/db): a project offers a volume, another takes it with the auth key.

The key is shown once, at creation; only its salted HMAC is kept. While offered the
volume is ``awaiting-transfer`` (so it cannot be deleted, attached or offered again);
accepting moves it, and its snapshots unless ``no_snapshots``, to the new project. An
accepted or deleted transfer stays as a deleted row (the history 3.57 shows).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.quotas import Quotas
from stacklab.block_storage.volumes import Caller, Volumes, invalid_volume
from stacklab.clock import Clock
from stacklab.ids import IdSource

# cinder's [DEFAULT] volume_transfer_salt_length and volume_transfer_key_length.
SALT_LENGTH = 8
KEY_LENGTH = 16


def transfer_not_found(ident: str) -> NotFound:
    return NotFound(f"Transfer {ident} could not be found.")


def crypt_hash(salt: str, auth_key: str) -> str:
    return hmac.new(salt.encode(), auth_key.encode(), hashlib.sha1).hexdigest()


class Transfers:
    def __init__(self, clock: Clock, ids: IdSource, quotas: Quotas,
                 volumes: Volumes) -> None:
        self.clock = clock
        self.ids = ids
        self.quotas = quotas
        self.volumes = volumes

    def _random(self, length: int) -> str:
        return self.ids.randbytes((length + 1) // 2).hex()[:length]

    @staticmethod
    def get(session: Session, ident: str, caller: Caller | None) -> m.Transfer:
        """A live transfer; with a caller, only one of a volume of the caller's project
        (accepting looks it up for anyone: the key is the check)."""
        found = session.get(m.Transfer, ident)
        if found is None or found.deleted:
            raise transfer_not_found(ident)
        if caller is not None and not caller.admin:
            volume = session.get(m.Volume, found.volume_id)
            if volume is None or volume.project_id != caller.project_id:
                raise transfer_not_found(ident)
        return found

    @staticmethod
    def listed(session: Session, project_id: str | None) -> list[m.Transfer]:
        statement = select(m.Transfer).where(m.Transfer.deleted.is_(False))
        found = list(session.scalars(statement))
        if project_id is None:
            return found
        owners = {v.id: v.project_id for v in session.scalars(select(m.Volume).where(
            m.Volume.id.in_([t.volume_id for t in found])))}
        return [t for t in found if owners.get(t.volume_id) == project_id]

    def create(self, session: Session, volume: m.Volume, name: str | None, *,
               no_snapshots: bool) -> tuple[m.Transfer, str]:
        if volume.status != "available":
            raise invalid_volume("status must be available")
        if volume.encryption_key_id is not None:
            raise invalid_volume("transferring encrypted volume is not supported")
        if not no_snapshots:
            for snapshot in session.scalars(select(m.Snapshot).where(
                    m.Snapshot.volume_id == volume.id)):
                if snapshot.status != "available":
                    raise BadRequest(f"Invalid snapshot: snapshot: {snapshot.id} status "
                                     "must be available")
        salt = self._random(SALT_LENGTH)
        auth_key = self._random(KEY_LENGTH)
        now = self.clock.now()
        transfer = m.Transfer(
            id=self.ids.uuid(), volume_id=volume.id, name=name, salt=salt,
            crypt_hash=crypt_hash(salt, auth_key), source_project_id=volume.project_id,
            destination_project_id=None, accepted=False, no_snapshots=no_snapshots,
            deleted=False, created_at=now)
        session.add(transfer)
        volume.status = "awaiting-transfer"
        volume.updated_at = now
        session.flush()
        return transfer, auth_key

    def delete(self, session: Session, transfer: m.Transfer) -> None:
        volume = session.get(m.Volume, transfer.volume_id)
        now = self.clock.now()
        if volume is not None and volume.status == "awaiting-transfer":
            volume.status = "available"
            volume.updated_at = now
        transfer.deleted = True
        transfer.updated_at = now

    def accept(self, session: Session, caller: Caller, transfer: m.Transfer,
               auth_key: Any) -> m.Volume:
        if crypt_hash(transfer.salt, str(auth_key)) != transfer.crypt_hash:
            raise BadRequest(f"Invalid auth key: Attempt to transfer {transfer.id} with "
                             "invalid auth key.")
        volume = session.get(m.Volume, transfer.volume_id)
        if volume is None:
            raise transfer_not_found(transfer.id)
        if volume.group_id:
            raise invalid_volume(f"Volume {volume.id} must not be part of a consistency "
                                 "group.")
        if volume.status == "maintenance":
            raise invalid_volume("The volume cannot accept transfer in maintenance mode.")
        if volume.status != "awaiting-transfer":
            raise invalid_volume(f"Transfer {transfer.id}: Volume id {volume.id} in "
                                 f"unexpected state {volume.status}, expected "
                                 "awaiting-transfer")
        self.quotas.check_size(session, caller.project_id, volume.size)
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        self.quotas.check_volume(session, caller.project_id, volume.size,
                                 volume_type.name if volume_type is not None else None)
        now = self.clock.now()
        volume.project_id = caller.project_id
        volume.user_id = caller.user_id
        volume.status = "available"
        volume.updated_at = now
        if not transfer.no_snapshots:
            for snapshot in session.scalars(select(m.Snapshot).where(
                    m.Snapshot.volume_id == volume.id)):
                snapshot.project_id = caller.project_id
                snapshot.user_id = caller.user_id
                snapshot.updated_at = now
        transfer.accepted = True
        transfer.destination_project_id = caller.project_id
        transfer.deleted = True
        transfer.updated_at = now
        return volume
