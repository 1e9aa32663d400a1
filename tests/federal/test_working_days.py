"""Working days and Belgian legal holidays in the simulator's day counts (federal.md 8, 10.5.15): the
reception date of a form, the end of the forfeiture delay, configurable closure days.  Over real HTTP."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from piis_connectors.federal import dis

from .conftest import KBO, b_fields, niss

SSIN = niss()


@pytest.fixture
def integrated(sim, client):
    client.manage_access(SSIN, "REGISTER", date(2020, 1, 1))
    return client


def _send(client, ref: str, **over):
    [result] = client.submit_online("B", [dis.build_form("B", b_fields(ref, SSIN, **over))])
    return result


@pytest.mark.parametrize(
    "sent, received",
    [
        (datetime(2025, 5, 31, 14, 5), "2025-06-02T00:00:00"),  # Saturday -> Monday
        (
            datetime(2025, 4, 21, 10, 0),
            "2025-04-22T00:00:00",
        ),  # Easter Monday (legal holiday) -> Tuesday
        (
            datetime(2025, 12, 25, 8, 0),
            "2025-12-26T00:00:00",
        ),  # Christmas -> 26 December (not a legal holiday)
        (datetime(2025, 6, 3, 16, 30), "2025-06-03T16:30:00"),  # a working day: as it is
    ],
)
def test_a_form_received_on_a_non_working_day_counts_from_the_next_working_day(
    sim, integrated, sent, received
) -> None:
    sim.admin.set_clock(sent)
    result = _send(integrated, "b-1")
    assert result.evaluation == "ACCEPTED" and result.received_at == received


def test_the_reception_date_decides_the_statement_month(sim, integrated) -> None:
    sim.admin.set_clock(
        datetime(2025, 5, 31, 14, 0)
    )  # Saturday 31 May: deemed received on Monday 2 June
    _send(integrated, "b-1", entry=date(2025, 5, 1))
    sim.admin.set_clock(datetime(2025, 7, 6))  # first Sunday of July: May and June statements exist
    may = sim.admin.ebox_reception(KBO, "2025-05").splitlines()
    june = sim.admin.ebox_reception(KBO, "2025-06").splitlines()
    assert len(may) == 1 and len(june) == 2 and june[1].endswith(";2025-06-02T00:00:00")


def test_the_forfeiture_delay_ends_on_the_next_working_day(sim, integrated) -> None:
    # EntryDate in Q4 2022: 12 months after 31/12/2022 is Sunday 31/12/2023; 1 January is a legal holiday,
    # so the last day is Tuesday 2 January 2024
    entry = date(2022, 11, 1)
    sim.admin.set_clock(datetime(2024, 1, 1, 10))  # the holiday itself: received on 2 January
    assert _send(integrated, "b-1", entry=entry).evaluation == "ACCEPTED"
    sim.admin.set_clock(datetime(2024, 1, 3, 9))
    late = _send(integrated, "b-2", entry=date(2022, 12, 1))
    assert late.evaluation == "REFUSED" and [e.code for e in late.errors] == ["B00005"]


def test_closure_days_are_configurable(sim, integrated) -> None:
    sim.admin.configure(closure_days=["2024-01-02"])  # e.g. a replacement day (federal.md 8)
    sim.admin.set_clock(datetime(2024, 1, 3, 9))
    assert _send(integrated, "b-1", entry=date(2022, 12, 1)).evaluation == "ACCEPTED"
    sim.admin.set_clock(datetime(2024, 1, 2, 9))  # now closed: deemed received on 3 January
    assert (
        _send(integrated, "b-2", entry=date(2022, 11, 1), dossier="D-0002").received_at
        == "2024-01-03T00:00:00"
    )


def test_reception_on_the_day_itself_when_configured(sim, integrated) -> None:
    sim.admin.configure(reception_next_working_day=False)
    sim.admin.set_clock(datetime(2025, 5, 31, 14, 5))
    assert _send(integrated, "b-1").received_at == "2025-05-31T14:05:00"
