"""The agenda (legal dates across many contracts) and the `rules agenda` / `rules subsidy` commands."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.model import dump_file
from piis_bridge.rules.agenda import AGENDA_FORMAT, agenda, iter_agenda, nth_birthday
from piis_bridge.rules.calendar import age_on
from piis_bridge.rules.settings import RuleSettings
from tests.rules._part2 import build, d, niss_for, raw

LGE = "u25-employment-project"
NAMES = ("community-service", "sanction-history", "social-insertion-third-party", "studies", LGE)


def rows(items):
    return [(i.date.isoformat(), i.contract_id, i.rule_id) for i in items]


def test_examples_agenda_is_sorted_and_cited():
    items = agenda([build(n) for n in NAMES], d("2025-01-01"), d("2028-12-31"))
    assert items == sorted(items) and len(items) > 10
    assert all(i.citation.startswith("[") for i in items)
    assert [i.date for i in items] == sorted(i.date for i in items)


@pytest.mark.parametrize(
    "start, end, included",
    [
        ("2026-01-01", "2026-01-01", True),  # the day itself, both bounds included
        ("2025-12-31", "2025-12-31", False),  # the day before
        ("2026-01-02", "2026-01-31", False),  # from the day after
    ],
)
def test_window_bounds_are_inclusive(start, end, included):
    items = agenda([build("sanction-history")], d(start), d(end))
    assert (("2026-01-01", "CHA-2025-0410", "R-SAN-10") in rows(items)) is included


def test_window_must_not_be_reversed():
    with pytest.raises(ValueError):
        list(iter_agenda([], d("2026-02-01"), d("2026-01-31")))


def unsigned(decision: str):
    def change(data):
        data.update(signatures=[], status="OFFERED")
        data["decision"].update(decision_date=decision, request_date=None)

    return change


@pytest.mark.parametrize(
    "decision, deadline",
    [
        ("2025-11-30", "2026-02-28"),  # month end clamped (D1)
        ("2027-11-30", "2028-02-29"),  # leap year
        ("2026-06-15", "2026-09-15"),
    ],
)
def test_signature_deadline_of_an_unsigned_mandatory_piis(decision, deadline):
    c = build(LGE, unsigned(decision))
    items = [i for i in agenda([c], d("2025-01-01"), d("2029-01-01")) if i.rule_id == "R-DL-01"]
    assert [(i.date, i.kind) for i in items] == [(d(deadline), "deadline")]


def test_signed_contract_has_no_signature_deadline():
    assert not [
        i for i in agenda([build(LGE)], d("2026-01-01"), d("2028-01-01")) if i.rule_id == "R-DL-01"
    ]


@pytest.mark.parametrize(
    "requested, due",
    [
        (
            "2026-04-02",
            "2026-04-10",
        ),  # Thursday before Easter: Easter Monday 6 April is not a working day
        ("2026-07-14", "2026-07-22"),  # across the National Day (21 July)
        ("2026-12-23", "2026-12-31"),  # across Christmas
        ("2026-11-05", "2026-11-13"),  # across the Armistice (11 November)
    ],
)
def test_interview_deadline_across_belgian_holidays(requested, due):
    c = build(LGE, lambda data: data.update(interview_requests=[{"requested_date": requested}]))
    items = [i for i in agenda([c], d("2026-01-01"), d("2027-12-31")) if i.rule_id == "R-DL-05"]
    assert [i.date for i in items] == [d(due)]


def test_cpas_closure_days_shift_the_interview_deadline():
    c = build(LGE, lambda data: data.update(interview_requests=[{"requested_date": "2026-07-07"}]))
    flemish = RuleSettings(
        recurring_closure_days=((7, 11),)
    )  # 11 July 2026 is a Saturday: no effect
    assert [
        i.date
        for i in agenda([c], d("2026-07-01"), d("2026-07-31"), settings=flemish)
        if i.rule_id == "R-DL-05"
    ] == [d("2026-07-14")]
    bridge = RuleSettings(extra_closure_days=(d("2026-07-13"),))
    assert [
        i.date
        for i in agenda([c], d("2026-07-01"), d("2026-07-31"), settings_for=lambda _: bridge)
        if i.rule_id == "R-DL-05"
    ] == [d("2026-07-15")]


def test_interview_asked_by_the_cpas_has_no_legal_deadline():
    c = build(
        LGE,
        lambda data: data.update(
            interview_requests=[{"requested_date": "2026-04-02", "requested_by": "CPAS"}]
        ),
    )
    assert not [i for i in agenda([c], d("2026-01-01"), d("2027-01-01")) if i.rule_id == "R-DL-05"]


def test_held_interview_leaves_the_agenda():
    c = build(
        LGE,
        lambda data: data.update(
            interview_requests=[{"requested_date": "2026-04-02", "held_date": "2026-04-07"}]
        ),
    )
    assert not [i for i in agenda([c], d("2026-01-01"), d("2027-01-01")) if i.rule_id == "R-DL-05"]


@pytest.mark.parametrize(
    "available, due", [("2026-07-03", "2026-07-14"), ("2026-07-15", "2026-07-27")]
)
def test_exam_results_deadline(available, due):
    def change(data):
        data["studies"]["academic_years"][0].update(
            results_available_date=available, results_communicated_date=None
        )

    items = [
        i
        for i in agenda([build("studies", change)], d("2026-07-01"), d("2026-08-31"))
        if i.rule_id == "R-DL-06"
    ]
    assert [i.date for i in items] == [d(due)]


def test_25th_birthday_during_the_contract():
    birth = "2001-09-01"  # 24 at the decision of 2026-06-15, 25 on 2026-09-01 during the contract

    def change(data):
        data["beneficiary"].update(birth_date=birth, niss=niss_for(birth))

    items = [
        i
        for i in agenda([build(LGE, change)], d("2026-01-01"), d("2027-12-31"))
        if i.rule_id == "R-OBL-02"
    ]
    assert [i.date for i in items] == [d("2026-09-01")]


@pytest.mark.parametrize(
    "birth, years, day",
    [
        ("2004-02-29", 25, "2029-03-01"),  # born on a leap day: 1 March in a common year (D5)
        ("2004-02-29", 24, "2028-02-29"),
        ("2001-12-31", 25, "2026-12-31"),
    ],
)
def test_nth_birthday(birth, years, day):
    assert nth_birthday(d(birth), years) == d(day)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2060, 12, 31)), st.integers(1, 40))
def test_property_birthday_agrees_with_age_on(birth, years):
    day = nth_birthday(birth, years)
    assert age_on(birth, day) == years
    assert age_on(birth, day - timedelta(days=1)) == years - 1


def test_evaluation_year_end_when_short():
    items = [
        i
        for i in agenda([build("community-service")], d("2027-01-01"), d("2027-12-31"))
        if i.rule_id == "R-EVA-01" and i.kind == "deadline"
    ]
    assert [(i.date, i.label) for i in items] == [
        (d("2027-03-08"), "evaluation year 1 ends: 2 of 3 evaluations held, 1 of 2 in person")
    ]


def test_move_and_running_sanction_on_the_agenda():
    def change(data):
        data["transfer"] = {
            "transfer_id": "T2",
            "residence_change_date": "2026-02-16",
            "from_cpas_ins": "52011",
            "to_cpas_ins": "52012",
            "consent": "GIVEN",
        }

    found = rows(agenda([build("sanction-history", change)], d("2026-02-01"), d("2026-02-28")))
    assert ("2026-02-16", "CHA-2025-0410", "R-TRF-01") in found
    assert ("2026-02-28", "CHA-2025-0410", "R-TRF-07") in found


def test_streams_contract_by_contract():
    seen = []

    def source():
        for n in NAMES:
            seen.append(n)
            yield build(n)

    stream = iter_agenda(source(), d("2025-01-01"), d("2028-12-31"))
    first = next(stream)
    assert first.contract_id == "NAM-2026-0033" and seen == ["community-service"]


def test_limit_keeps_the_first_items():
    contracts = [build(n) for n in NAMES]
    full = agenda(contracts, d("2025-01-01"), d("2028-12-31"))
    assert agenda(contracts, d("2025-01-01"), d("2028-12-31"), limit=4) == full[:4]


# --- the commands ------------------------------------------------------------------------------------

runner = CliRunner()


def _file(tmp_path, name, contracts):
    path = tmp_path / name
    path.write_text(dump_file(contracts), encoding="utf-8")
    return path


def test_cli_agenda_json(tmp_path):
    a = _file(tmp_path, "a.json", [build(n) for n in NAMES[:2]])
    b = _file(tmp_path, "b.json", [build(n) for n in NAMES[2:]])
    result = runner.invoke(
        build_app(),
        ["rules", "agenda", str(a), str(b), "--from", "2026-11-01", "--to", "2027-03-31", "--json"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (
        body["format"] == AGENDA_FORMAT
        and body["version"] == 1
        and body["count"] == len(body["items"]) == 6
    )
    assert set(body["items"][0]) == {
        "date",
        "contract_id",
        "cpas_ins",
        "rule_id",
        "kind",
        "label",
        "citation",
    }
    assert [x["date"] for x in body["items"]] == sorted(x["date"] for x in body["items"])
    for name in NAMES:
        assert raw(name)["beneficiary"]["niss"] not in result.stdout


def test_cli_agenda_table_and_bad_records(tmp_path):
    good = build(LGE)
    broken = json.loads(dump_file([good]))
    broken["contracts"].append(
        {**broken["contracts"][0], "contract_id": "BAD-1", "end_date": "not a date"}
    )
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    result = runner.invoke(
        build_app(), ["rules", "agenda", str(path), "--from", "2027-01-01", "--to", "2027-01-31"]
    )
    assert result.exit_code == 1
    assert "LGE-2026-0142" in result.stdout and "R-EVA-01" in result.stdout
    assert "BAD-1" in result.stderr and "end_date" in result.stderr
    assert raw(LGE)["beneficiary"]["niss"] not in result.stdout + result.stderr


def test_cli_agenda_rejects_bad_dates(tmp_path):
    path = _file(tmp_path, "a.json", [build(LGE)])
    result = runner.invoke(
        build_app(), ["rules", "agenda", str(path), "--from", "2027-02-30", "--to", "2027-03-01"]
    )
    assert result.exit_code == 2
    result = runner.invoke(
        build_app(), ["rules", "agenda", str(path), "--from", "2027-03-01", "--to", "2027-02-01"]
    )
    assert result.exit_code == 2


def test_cli_subsidy(tmp_path):
    path = _file(tmp_path, "s.json", [build(n) for n in NAMES])
    result = runner.invoke(build_app(), ["rules", "subsidy", str(path), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["format"] == "piis-bridge/subsidy-schedule" and body["rounding"].startswith(
        "half-up"
    )
    lge = next(p for p in body["plans"] if p["contract_id"] == "LGE-2026-0142")
    assert lge["type"] == "FIRST" and lge["total_cents"] == 5 * 8761
    assert set(lge["months"][0]) == {
        "month",
        "subsidy_type",
        "covered_by_piis",
        "project_running",
        "ri_amount_cents",
        "subsidy_cents",
        "excluded_reason",
    }
    table = runner.invoke(build_app(), ["rules", "subsidy", str(path)])
    assert table.exit_code == 0 and "438.05" in table.stdout and "87.61" in table.stdout
    for name in NAMES:
        assert raw(name)["beneficiary"]["niss"] not in result.stdout + table.stdout


@pytest.mark.parametrize(
    "start, end",
    [
        ("2025-01-01", "2028-12-31"),
        ("2026-09-01", "2026-09-01"),
        ("2027-02-01", "2027-03-31"),
        ("2026-03-31", "2026-03-31"),
    ],
)
def test_window_pruning_never_changes_the_result(start, end):
    from piis_bridge.rules.agenda import contract_dues

    birth = "2001-09-01"
    contracts = [build(n) for n in NAMES] + [
        build(LGE, unsigned("2025-11-30")),
        build(LGE, lambda data: data["beneficiary"].update(birth_date=birth, niss=niss_for(birth))),
    ]
    lo, hi = d(start), d(end)
    unpruned = sorted(
        (due.day, c.contract_id, due.rule_id, due.label)
        for c in contracts
        for due in contract_dues(c)
        if lo <= due.day <= hi
    )
    assert [
        (i.date, i.contract_id, i.rule_id, i.label) for i in agenda(contracts, lo, hi)
    ] == unpruned


def test_overdue_deadlines_before_the_window():
    c = build(LGE, unsigned("2025-11-30"))  # signature deadline 2026-02-28, never signed
    assert not [i for i in agenda([c], d("2026-03-01"), d("2026-03-31")) if i.rule_id == "R-DL-01"]
    late = [
        i
        for i in agenda([c], d("2026-03-01"), d("2026-03-31"), overdue=True)
        if i.rule_id == "R-DL-01"
    ]
    assert [(i.date, i.kind) for i in late] == [(d("2026-02-28"), "overdue")]
    on_the_day = [
        i
        for i in agenda([c], d("2026-02-28"), d("2026-03-31"), overdue=True)
        if i.rule_id == "R-DL-01"
    ]
    assert [i.kind for i in on_the_day] == ["deadline"]
    # Events before the window never come back as overdue.
    assert all(i.kind != "overdue" or i.date < d("2026-03-01") for i in late)
    past_events = agenda(
        [build("sanction-history")], d("2027-01-01"), d("2027-01-31"), overdue=True
    )
    assert not [i for i in past_events if i.rule_id in ("R-SAN-10", "R-SAN-13")]


def test_cli_agenda_overdue(tmp_path):
    path = _file(tmp_path, "u.json", [build(LGE, unsigned("2025-11-30"))])
    result = runner.invoke(
        build_app(),
        [
            "rules",
            "agenda",
            str(path),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
            "--overdue",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    kinds = {(x["rule_id"], x["kind"]) for x in json.loads(result.stdout)["items"]}
    assert ("R-DL-01", "overdue") in kinds


def test_unnotified_sanction_is_on_the_agenda():
    def change(data):
        data["sanctions"][1]["notification_date"] = None

    items = [
        i
        for i in agenda([build("sanction-history", change)], d("2025-12-01"), d("2025-12-31"))
        if i.rule_id == "R-SAN-08"
    ]
    assert [(i.date, i.kind) for i in items] == [(d("2025-12-31"), "deadline")]
    assert not [
        i
        for i in agenda([build("sanction-history")], d("2025-12-01"), d("2025-12-31"))
        if i.rule_id == "R-SAN-08"
    ]
