"""The lab's tables: the Ceph cluster's objects (the storage nodes' disks), which every
process of the cloud reads and writes (``ha.cephstore``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import BYTES, Base


class CephObject(Base):
    """An object of a pool, as numbered pieces (store.base.pieces: a row must fit one
    database packet)."""

    __tablename__ = "ceph_object"
    pool: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The whole object's length, on every piece: the catalog reads piece 0's only.
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(BYTES)


class CephMissing(Base):
    """An object an OSD holds an outdated copy of, or none at all (it was down or out
    when the object was written), until recovery brings it the latest."""

    __tablename__ = "ceph_missing"
    osd: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pool: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
