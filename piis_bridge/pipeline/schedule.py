"""When the nightly run is due, in local time (Europe/Brussels by default), across DST changes.

Why not a celery ``crontab`` at 02:30: on the last Sunday of March 02:30 does not exist in Brussels
and on the last Sunday of October it happens twice.  Beat instead runs ``dispatch_nightly`` every
minute; this module says whether tonight's run is due, and the run's unique ``schedule_key``
(``nightly:<local date>``) makes the dispatch idempotent, so a restarted or duplicated beat never
starts the same night twice.  A nonexistent local time fires at the same instant the clock skips to
(02:30 becomes 03:30 CEST); an ambiguous one fires at its first occurrence.

The monthly statement of month M is produced by the federal side on the first Sunday of M+1
(shared/spec/federal.md, 5.1): beat runs ``dispatch_statement`` every few minutes, and from the
Monday after that Sunday at ``statement_time`` (local) the run with the unique key
``statement:<M as YYYY-MM>`` is due, for the rest of month M+1 (a beat that was down catches up).
That run asks until the statement is available (:mod:`piis_bridge.pipeline.statement`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "NIGHTLY_WINDOW",
    "due_schedule_key",
    "due_statement_key",
    "nightly_due_at",
    "nightly_window",
    "previous_month",
    "statement_due_at",
]


def nightly_due_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the nightly run of local *day*."""
    local = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC)


def due_schedule_key(
    now: datetime, at: time, zone: ZoneInfo, catchup: timedelta = timedelta(hours=12)
) -> str | None:
    """``nightly:<date>`` when the run of that local date is due at *now* (and not older than *catchup*)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(zone).date()
    for day in (today, today - timedelta(days=1)):
        due = nightly_due_at(day, at, zone)
        if due <= now < due + catchup:
            return f"nightly:{day.isoformat()}"
    return None


NIGHTLY_WINDOW = timedelta(minutes=15)


def nightly_window(catchup: bool, catchup_hours: float) -> timedelta:
    """How long after its time a night's run may still start.

    Without ``nightly_catchup`` (the default) a quarter of an hour: beat ticks every minute, so a
    short restart does not lose the night, but a beat started on install day at 10:00 does not start
    "last night's" run at once.  With it, ``catchup_hours`` (``PIIS_PIPELINE_NIGHTLY_CATCHUP_HOURS``).
    """
    return timedelta(hours=catchup_hours) if catchup else NIGHTLY_WINDOW


def previous_month(day: date) -> date:
    """The first day of the month before *day*'s month."""
    first = day.replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def statement_due_at(month: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant from which the statement of *month* is fetched: the Monday after the first
    Sunday of the next month, at *at* local time."""
    following = (month.replace(day=1) + timedelta(days=32)).replace(day=1)
    first_sunday = following + timedelta(days=(6 - following.weekday()) % 7)
    return nightly_due_at(first_sunday + timedelta(days=1), at, zone)


def due_statement_key(now: datetime, at: time, zone: ZoneInfo) -> str | None:
    """``statement:<YYYY-MM>`` when the previous month's statement is due at *now* (local month)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    month = previous_month(now.astimezone(zone).date())
    if now >= statement_due_at(month, at, zone):
        return f"statement:{month.isoformat()[:7]}"
    return None
