"""Date conventions D1-D5 of rules.md 2.0 (R-DL-*, R-SAN-08, R-EVA-*): boundaries and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.rules.calendar import (
    BELGIAN_CALENDAR,
    WorkingCalendar,
    add_calendar_days,
    add_months,
    age_on,
    belgian_legal_holidays,
    first_day_of_month_after,
)

# Appendix A of rules.md, verbatim.
APPENDIX_A = {
    2025: [
        "01-01",
        "04-21",
        "05-01",
        "05-29",
        "06-09",
        "07-21",
        "08-15",
        "11-01",
        "11-11",
        "12-25",
    ],
    2026: [
        "01-01",
        "04-06",
        "05-01",
        "05-14",
        "05-25",
        "07-21",
        "08-15",
        "11-01",
        "11-11",
        "12-25",
    ],
}


@pytest.mark.parametrize("year", sorted(APPENDIX_A))
def test_d3_belgian_holidays_are_exactly_appendix_a(year: int) -> None:
    expected = {date.fromisoformat(f"{year}-{md}") for md in APPENDIX_A[year]}
    assert set(belgian_legal_holidays(year)) == expected


@pytest.mark.parametrize("year", range(2000, 2041))
def test_d3_ten_legal_holidays_every_year_without_easter_or_whit_sunday(year: int) -> None:
    days = belgian_legal_holidays(year)
    names = [n for name in days.values() for n in name.split("; ")]
    assert len(names) == 10
    assert len(days) in (9, 10)  # 1 May and Ascension coincide in some years (2008, 2035)
    # Easter Sunday and Whit Sunday (which the holidays package lists) are not legal holidays.
    assert all(d.weekday() != 6 or d.month in (1, 5, 7, 8, 11, 12) for d in days)
    assert date(year, 7, 21) in days and date(year, 11, 11) in days and date(year, 12, 25) in days


# --- D1 add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 11, 30), 3, date(2026, 2, 28)),  # the rules.md example
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # leap year
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 6, 15), 3, date(2026, 9, 15)),
        (date(2025, 10, 31), 3, date(2026, 1, 31)),
        (date(2016, 11, 1), 12, date(2017, 11, 1)),
        (date(2026, 5, 10), -3, date(2026, 2, 10)),
    ],
)
def test_d1_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(-240, 240))
def test_d1_properties(day: date, n: int) -> None:
    result = add_months(day, n)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == n
    assert result.day == day.day or (result.day < day.day and (result + timedelta(days=1)).day == 1)
    if n > 0:
        assert result > day
    # months are monotonic: adding one more month never goes back
    assert add_months(day, n + 1) > result


# --- D2 --------------------------------------------------------------------------------------------


def test_d2_first_day_of_kth_month_model_a_example() -> None:
    # Model A: a June 2003 decision -> suspended from August 2003 (k=2) [004 L5425-5429]
    assert first_day_of_month_after(date(2003, 6, 30), 2) == date(2003, 8, 1)
    assert first_day_of_month_after(date(2025, 12, 1), 3) == date(2026, 3, 1)
    assert first_day_of_month_after(date(2026, 10, 31), 6) == date(2027, 4, 1)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 60))
def test_d2_properties(day: date, k: int) -> None:
    result = first_day_of_month_after(day, k)
    assert result.day == 1
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == k


# --- D3 working days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "n", "expected"),
    [
        # Labour day 2026 is a Friday: request Mon 27 April -> 28, 29, 30 Apr, 4, 5 May
        (date(2026, 4, 27), 5, date(2026, 5, 5)),
        # Ascension Thu 14 May 2026: request Mon 11 May -> 12, 13, 15, 18, 19
        (date(2026, 5, 11), 5, date(2026, 5, 19)),
        # Armistice Wed 11 Nov 2026: request Mon 9 Nov -> 10, 12, 13, 16, 17
        (date(2026, 11, 9), 5, date(2026, 11, 17)),
        # Christmas Fri 25 Dec 2026 + New Year Fri 1 Jan 2027: request Wed 23 Dec -> 24, 28, 29, 30, 31
        (date(2026, 12, 23), 5, date(2026, 12, 31)),
        (date(2026, 12, 23), 7, date(2027, 1, 5)),
        # Whit Monday 25 May 2026 and a request on a Saturday
        (date(2026, 5, 23), 5, date(2026, 6, 1)),
        # 1 May 2025 (Thursday) + Ascension 29 May 2025
        (date(2025, 4, 30), 5, date(2025, 5, 8)),
        (date(2025, 5, 28), 5, date(2025, 6, 5)),
        # Easter Monday 6 April 2026
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        # 0 working days: the trigger itself
        (date(2026, 4, 4), 0, date(2026, 4, 4)),
    ],
)
def test_d3_add_working_days_across_holidays(trigger: date, n: int, expected: date) -> None:
    assert BELGIAN_CALENDAR.add_working_days(trigger, n) == expected


def test_d3_counting_starts_the_day_after_the_trigger() -> None:
    # Trigger on a Monday working day: the 1st working day is Tuesday, not the Monday itself.
    assert BELGIAN_CALENDAR.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    # Trigger on a holiday (Labour Day, Friday): the 1st working day is Monday 4 May.
    assert BELGIAN_CALENDAR.add_working_days(date(2026, 5, 1), 1) == date(2026, 5, 4)


def test_d3_per_cpas_closure_days_move_the_deadline() -> None:
    # 11 July 2025 (Friday, Flemish Community) + 21 July (National Day, legal)
    flemish = WorkingCalendar(recurring_closure=[(7, 11)])
    assert BELGIAN_CALENDAR.add_working_days(date(2025, 7, 8), 5) == date(2025, 7, 15)
    assert flemish.add_working_days(date(2025, 7, 8), 5) == date(2025, 7, 16)
    # 26 December as a one-off closure day
    closed = WorkingCalendar(extra_closure_days=[date(2025, 12, 26)])
    assert BELGIAN_CALENDAR.add_working_days(date(2025, 12, 22), 5) == date(2025, 12, 30)
    assert closed.add_working_days(date(2025, 12, 22), 5) == date(2025, 12, 31)
    # 27 September 2026 is a Sunday: a French-Community closure changes nothing that year
    french = WorkingCalendar(recurring_closure=[(9, 27)])
    assert french.add_working_days(date(2026, 9, 24), 2) == BELGIAN_CALENDAR.add_working_days(
        date(2026, 9, 24), 2
    )


def test_d3_recurring_29_february_only_in_leap_years() -> None:
    cal = WorkingCalendar(recurring_closure=[(2, 29)])
    assert not cal.is_working_day(date(2028, 2, 29))
    assert cal.is_working_day(date(2028, 2, 28))
    assert cal.add_working_days(date(2027, 2, 26), 1) == date(2027, 3, 1)


def test_d3_naive_weekday_count_would_be_wrong() -> None:
    naive = date(2026, 11, 9)
    left = 5
    while left:
        naive += timedelta(days=1)
        if naive.weekday() < 5:
            left -= 1
    assert naive == date(2026, 11, 16)
    assert BELGIAN_CALENDAR.add_working_days(date(2026, 11, 9), 5) == date(2026, 11, 17)


def test_d3_negative_count_is_refused() -> None:
    with pytest.raises(ValueError):
        BELGIAN_CALENDAR.add_working_days(date(2026, 1, 5), -1)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)), st.integers(0, 40))
def test_d3_properties(trigger: date, n: int) -> None:
    cal = BELGIAN_CALENDAR
    result = cal.add_working_days(trigger, n)
    assert cal.working_days_between(trigger, result) == n
    if n:
        assert cal.is_working_day(result)
        assert result > trigger
        # the day before the result leaves one working day short
        assert cal.working_days_between(trigger, result - timedelta(days=1)) == n - 1
    # n working days never take fewer than n calendar days, nor more than n*7/5 + 10 holiday days
    assert n <= (result - trigger).days <= n * 7 // 5 + 12


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)))
def test_d3_no_weekend_or_holiday_is_a_working_day(day: date) -> None:
    if day.weekday() >= 5 or day in belgian_legal_holidays(day.year):
        assert not BELGIAN_CALENDAR.is_working_day(day)
    else:
        assert BELGIAN_CALENDAR.is_working_day(day)


# --- D4 / D5 ------------------------------------------------------------------------------------


def test_d4_calendar_days_ignore_holidays_and_month_ends() -> None:
    assert add_calendar_days(date(2026, 12, 28), 5) == date(2027, 1, 2)
    assert add_calendar_days(date(2028, 2, 26), 5) == date(2028, 3, 2)
    assert add_calendar_days(date(2027, 2, 26), 5) == date(2027, 3, 3)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2001, 6, 15), date(2026, 6, 14), 24),  # day before the 25th birthday
        (date(2001, 6, 15), date(2026, 6, 15), 25),  # the birthday
        (date(2001, 6, 15), date(2026, 6, 16), 25),
        (
            date(2000, 2, 29),
            date(2025, 2, 28),
            24,
        ),  # leap-day birth: older on 1 March in common years
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(2004, 2, 29), date(2029, 2, 28), 24),
        (date(2004, 2, 29), date(2028, 2, 29), 24),
    ],
)
def test_d5_age_in_completed_years(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


@pytest.mark.parametrize(
    ("start", "clamp", "included", "expected"),
    [
        (date(2025, 11, 30), True, True, date(2026, 2, 28)),  # D1 default
        (date(2025, 11, 30), False, True, date(2026, 3, 1)),  # roll over to the 1st
        (date(2025, 11, 30), True, False, date(2026, 2, 27)),  # end day excluded
        (date(2026, 6, 15), False, True, date(2026, 9, 15)),  # no effect when the day exists
        (
            date(2027, 11, 30),
            False,
            True,
            date(2028, 3, 1),
        ),  # leap year: 29 Feb exists, 30 does not
    ],
)
def test_q01_month_deadline_variants(
    start: date, clamp: bool, included: bool, expected: date
) -> None:
    from piis_bridge.rules.calendar import month_deadline

    assert month_deadline(start, 3, clamp_to_month_end=clamp, end_included=included) == expected
