"""When the nightly run is due, in local time (Europe/Brussels by default), across DST changes.

Why not a celery ``crontab`` at 02:30: on the last Sunday of March 02:30 does not exist in Brussels
and on the last Sunday of October it happens twice.  Beat instead runs ``dispatch_nightly`` every
minute; this module says whether tonight's run is due, and the run's unique ``schedule_key``
(``nightly:<local date>``) makes the dispatch idempotent, so a restarted or duplicated beat never
starts the same night twice.  A nonexistent local time fires at the same instant the clock skips to
(02:30 becomes 03:30 CEST); an ambiguous one fires at its first occurrence.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["nightly_due_at", "due_schedule_key"]


def nightly_due_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the nightly run of local *day*."""
    local = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    return local.astimezone(timezone.utc)


def due_schedule_key(now: datetime, at: time, zone: ZoneInfo, catchup: timedelta = timedelta(hours=12)) -> str | None:
    """``nightly:<date>`` when the run of that local date is due at *now* (and not older than *catchup*)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    for day in (today, today - timedelta(days=1)):
        due = nightly_due_at(day, at, zone)
        if due <= now < due + catchup:
            return f"nightly:{day.isoformat()}"
    return None
