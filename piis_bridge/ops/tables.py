"""Tables of the operations side: the configuration each run was started with and each worker runs with.

Why: a worker started before a configuration change keeps the old one (a CPAS it does not know, an
old endpoint).  The run records the fingerprint of the configuration it was started with, each
worker records its own when it starts; a worker that picks up a task of a run with another
fingerprint fails the run at once with "restart the workers" instead of a ``KeyError`` in its log
and a run that hangs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from piis_bridge.db import Base

__all__ = ["RunConfig", "WorkerConfig"]


def _now() -> datetime:
    return datetime.now(UTC)


class RunConfig(Base):
    """The configuration fingerprint a run was started with (written before it is enqueued)."""

    __tablename__ = "ops_run_config"

    run_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WorkerConfig(Base):
    """The configuration fingerprint of a worker node, written when it starts."""

    __tablename__ = "ops_worker_config"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
