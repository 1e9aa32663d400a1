"""Month-window helpers for the subsidy schedule and the agenda (on top of D1/D2 of ``calendar``).

The date conventions themselves (D1 ``add_months``, D2 ``first_day_of_month_after``) live in
``piis_bridge.rules.calendar``; this module only turns months into integers so a 12-month subsidy
window or an agenda window is a plain integer range.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from piis_bridge.rules.calendar import add_months, first_day_of_month_after

__all__ = [
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


@lru_cache(maxsize=12 * 400)  # a schedule walks 12-60 months; a hit saves ~2 us a month (measured)
def month_span(index: int) -> tuple[date, date, str]:
    """First day, last day and ISO first day of month *index*."""
    first = month_from_index(index)
    return first, month_from_index(index + 1) - one_day, first.isoformat()


def months_between(first: date, last: date) -> list[date]:
    """The first days of every calendar month from *first*'s month to *last*'s month, inclusive."""
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]
