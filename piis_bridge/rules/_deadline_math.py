"""Month-window helpers for the subsidy schedule and the agenda (on top of D1/D2 of ``calendar``).

The date conventions themselves (D1 ``add_months``, D2 ``first_day_of_month_after``) live in
``piis_bridge.rules.calendar``; this module only turns months into integers so a 12-month subsidy
window or an agenda window is a plain integer range.
"""

from __future__ import annotations

from datetime import date, timedelta

from piis_bridge.rules.calendar import add_months, first_day_of_month_after

__all__ = [
    "MONTH_SPANS",
    "add_months",
    "first_day_of_month_after",
    "month_from_index",
    "month_index",
    "month_span",
    "months_between",
    "one_day",
]

one_day = timedelta(days=1)


def month_index(day: date) -> int:
    """A month as one integer (year * 12 + month - 1)."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> date:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


MONTH_SPANS: dict[int, tuple[date, date, str]] = {}
"""``month_span`` results by month index: loops that walk months read this dict first (a dict lookup
costs a fraction of a function call) and call :func:`month_span` on a miss."""
_MAX_SPANS = 12 * 400  # four centuries of months: far more than any caseload touches


def month_span(index: int) -> tuple[date, date, str]:
    """First day, last day and ISO first day of month *index*: the subsidy schedule walks 12-60
    months per contract, 100,000 contracts a night, over a few hundred distinct months."""
    span = MONTH_SPANS.get(index)
    if span is None:
        if len(MONTH_SPANS) >= _MAX_SPANS:
            MONTH_SPANS.clear()
        first = month_from_index(index)
        span = MONTH_SPANS[index] = (
            first,
            month_from_index(index + 1) - one_day,
            first.isoformat(),
        )
    return span


def months_between(first: date, last: date) -> list[date]:
    """The first days of every calendar month from *first*'s month to *last*'s month, inclusive."""
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]
