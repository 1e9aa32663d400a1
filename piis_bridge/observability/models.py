"""The alert state table: one row per alert rule and scope (a CPAS, a remote, a certificate setting).

Why a row per condition rather than a log of messages: the cap ("once a day per rule and CPAS") and
the duration conditions ("circuit open longer than 30 minutes") both need to know since when a
condition holds and when it was last told, across processes (beat, CLI) and restarts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from piis_bridge.db import Base
from piis_bridge.pipeline.models import UTCDateTime

__all__ = ["AlertState"]


class AlertState(Base):
    """``first_seen_at`` is set while the condition holds (cleared when it stops); ``last_sent_at`` is
    the last successful delivery (the cap counts from it); ``suppressed`` counts alerts the cap held back
    since then (the next alert says how many)."""

    __tablename__ = "alert_state"

    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    cpas_id: Mapped[str | None] = mapped_column(String(40))  # the cap counts per rule and CPAS
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
