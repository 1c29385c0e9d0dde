"""The lab's own table: the faults in force, for the processes of one cloud to share.

In one process the lab's runtime (``topology.runtime``) is in memory only. With one
process per service (docs/processes.md) each process has its own runtime, so the
faults the lab's API applied are kept here too: a process that starts later reads them,
and the others are told over the bus (``processes.labstate``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


class LabState(Base):
    """One row (id 1): the faults in force as ``Runtime.faults`` shows them, and how many
    times they were written (a process applies a newer version only)."""

    __tablename__ = "stacklab_lab_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    faults: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[float] = mapped_column(Float)
