"""Date conventions D1-D5 of rules.md 2.0: months, working days, calendar days, age.

Why a module of its own: every deadline of the PIIS law is one of these four kinds of
arithmetic, and a naive Monday-Friday count (or ``timedelta(days=90)`` for "3 months") gives
wrong dates around holidays and month ends.  Rules never compute dates themselves; they call
these functions, so a legal-review decision on Q-01/Q-14 changes one place.

The Belgian legal holidays come from the ``holidays`` package, restricted to the 10 legal
public holidays of Appendix A: the package also lists Easter Sunday and Whit Sunday, which are
not legal holidays of their own (they are Sundays anyway, but a holiday list must say exactly
what the law says).  Per-CPAS closure days (11 July, 27 September, 15 November, 26 December...)
are added on top (Q-14).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays as _holidays
from dateutil.easter import easter as _easter

__all__ = [
    "BELGIAN_CALENDAR",
    "LEGAL_HOLIDAY_COUNT",
    "WorkingCalendar",
    "add_calendar_days",
    "add_months",
    "age_on",
    "belgian_legal_holidays",
    "first_day_of_month_after",
    "month_deadline",
]

LEGAL_HOLIDAY_COUNT = 10
_ONE_DAY = timedelta(days=1)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: date, months: int) -> date:
    """D1: the same day-of-month *months* later (negative: earlier), clamped to the month's end.

    30 Nov 2025 + 3 = 28 Feb 2026; 30 Nov 2027 + 3 = 29 Feb 2028.  A deadline "within 3 months of
    D" is ``add_months(D, 3)`` with that day included (Q-01).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    dom = day.day
    if dom > 28:  # only the last days of a month can need clamping
        last = (
            _DAYS_IN_MONTH[month0] if month0 != 1 else (29 if _stdlib_calendar.isleap(year) else 28)
        )
        dom = min(dom, last)
    return date(year, month0 + 1, dom)


def month_deadline(
    day: date, months: int, *, clamp_to_month_end: bool = True, end_included: bool = True
) -> date:
    """The last allowed day of a deadline "within *months* months of *day*" (Q-01).

    Default (D1): same day-of-month, clamped to the month's end, that day included.  The
    legal-review alternatives: a day that does not exist rolls over to the 1st of the next month
    (``clamp_to_month_end=False``: 30 Nov + 3 months -> 1 March), and/or the end day is excluded
    (``end_included=False``: the day before).
    """
    due = add_months(day, months)
    if not clamp_to_month_end and due.day < day.day:
        due += _ONE_DAY
    return due if end_included else due - _ONE_DAY


def first_day_of_month_after(day: date, k: int) -> date:
    """D2: first day of calendar month ``month(day) + k`` (June 2003, k=2 -> 1 August 2003)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + k, 12)
    return date(year, month0 + 1, 1)


def add_calendar_days(day: date, days: int) -> date:
    """D4: calendar days (only the reflection period uses them)."""
    return day + timedelta(days=days)


def age_on(birth_date: date, day: date) -> int:
    """D5: age in completed years on *day*.

    Someone born on 29 February turns a year older on 1 March in common years (the same
    convention as ``Person.age_on`` of the model).
    """
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


@lru_cache(maxsize=512)
def belgian_legal_holidays(year: int) -> dict[date, str]:
    """The 10 Belgian legal public holidays of *year* (Appendix A), with English names.

    Taken from the ``holidays`` package and reduced to the legal ones: Easter Sunday and Whit
    Sunday are dropped because they are not separate legal holidays.
    """
    sunday = _easter(year)
    not_legal = {sunday, sunday + timedelta(days=49)}
    found = {
        d: name
        for d, name in _holidays.country_holidays("BE", years=year).items()
        if d not in not_legal
    }
    # Two holidays can fall on one date (1 May and Ascension in 2008): count the names.
    if (
        sum(len(name.split("; ")) for name in found.values()) != LEGAL_HOLIDAY_COUNT
    ):  # pragma: no cover - guards a future change of the package
        raise RuntimeError(
            f"the holidays package gives {len(found)} Belgian legal holidays for {year}, expected "
            f"{LEGAL_HOLIDAY_COUNT}; check rules.md Appendix A before upgrading it"
        )
    return found


class WorkingCalendar:
    """D3: working days = Monday to Friday minus Belgian legal holidays and the CPAS's closure days.

    *extra_closure_days* are fixed dates (a bridge day decided by the council); *recurring_closure*
    are ``(month, day)`` pairs closed every year (11 July for a Flemish CPAS, 27 September for a
    French-Community one, 15 November, 26 December).
    """

    __slots__ = ("_closed_by_year", "add_working_days", "extra_closure_days", "recurring_closure")

    def __init__(
        self,
        extra_closure_days: Iterable[date] = (),
        recurring_closure: Iterable[tuple[int, int]] = (),
    ) -> None:
        self.extra_closure_days = frozenset(extra_closure_days)
        self.recurring_closure = frozenset(recurring_closure)
        self._closed_by_year: dict[int, frozenset[date]] = {}
        # Remembered: the same deadlines (5 and 7 working days after the same days) recur across a
        # caseload, and walking the days costs ~15 us against ~0.3 us for a hit (measured).
        self.add_working_days = lru_cache(maxsize=50_000)(self._add_working_days)

    def _closed(self, year: int) -> frozenset[date]:
        closed = self._closed_by_year.get(year)
        if closed is None:
            days = set(belgian_legal_holidays(year))
            days.update(d for d in self.extra_closure_days if d.year == year)
            for month, dom in self.recurring_closure:
                if dom <= _stdlib_calendar.monthrange(year, month)[1]:
                    days.add(date(year, month, dom))
            closed = self._closed_by_year[year] = frozenset(days)
        return closed

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._closed(day.year)

    def _add_working_days(self, trigger: date, n: int) -> date:
        """``add_working_days(trigger, n)``: the *n*-th working day after *trigger* (counting starts
        the day after; that day is the last allowed day).  ``n == 0`` returns *trigger* itself."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = trigger
        left = n
        while left:
            day += _ONE_DAY
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]`` (0 when *end* <= *start*)."""
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def closed_days(self, year: int) -> frozenset[date]:
        """Holidays and closure days of *year* (weekends not included)."""
        return self._closed(year)


BELGIAN_CALENDAR = WorkingCalendar()
"""The calendar with the legal holidays only (no CPAS closure days)."""
