"""R-SUB (rules.md 2.12): the month-by-month 10% schedule, windows, lifetime limits, couples, reform date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.model import SubsidyType
from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.settings import RuleSettings
from piis_bridge.rules.subsidies import (
    remaining_months_after,
    subsidy_amount,
    subsidy_issues,
    subsidy_plan,
    subsidy_plans,
)
from tests.rules._part2 import all_text, build, d, niss_for, raw

LGE = (
    "u25-employment-project"  # signed 2026-07-06, RI months Jul-Nov 2026 at 876.13, ends 2027-07-05
)
FIRST, STUDIES, PROL, SECOND = (
    SubsidyType.FIRST,
    SubsidyType.STUDIES,
    SubsidyType.PROLONGATION,
    SubsidyType.SECOND_CHANCE,
)


def months(plan):
    return {m.month: m for m in plan.months}


def history(*entries):
    def change(data):
        data["subsidy_history"] = [
            {"type": t, "cpas_ins": ins, "window_start": ws, **extra}
            for t, ins, ws, extra in entries
        ]

    return change


REFS = {"social_inquiry_report_ref": "ENQ-1", "motivated_decision_ref": "CSSS-1"}


def signed_on(day: str, start: str | None = None):
    def change(data):
        for s in data["signatures"]:
            s["signed_date"] = day
        data["start_date"] = start or day

    return change


# --- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ri, subsidy",
    [
        (87613, 8761),
        (87614, 8761),
        (87615, 8762),
        (87616, 8762),
        (0, 0),
        (5, 1),
        (4, 0),
        (177607, 17761),
    ],
)
def test_rounding_half_up_to_the_cent(ri, subsidy):
    assert subsidy_amount(ri) == subsidy


@given(st.integers(0, 10**9))
def test_property_rounding_is_within_half_a_cent(ri):
    got = subsidy_amount(ri)
    assert abs(got * 100 - ri * 10) <= 50
    assert subsidy_amount(ri + 1) >= got


# --- FIRST window -----------------------------------------------------------------------------------


def test_first_window_is_twelve_months_from_the_month_of_signature():
    plan = subsidy_plan(build(LGE))
    assert plan.type is FIRST and plan.opened_by_this_contract
    assert (plan.window_start, plan.window_end) == (d("2026-07-01"), d("2027-06-30"))
    by = months(plan)
    assert by[d("2026-07-01")].subsidy_cents == 8761
    assert by[d("2026-12-01")].excluded_reason == "no RI granted this month"  # not granted yet
    assert by[d("2027-07-01")].subsidy_type is None  # the 13th month: outside the window
    assert plan.total_cents == 5 * 8761


@pytest.mark.parametrize(
    "signed, window_start",
    [("2026-06-30", "2026-06-01"), ("2026-07-01", "2026-07-01"), ("2026-07-31", "2026-07-01")],
)
def test_window_starts_in_the_month_of_signature(signed, window_start):
    plan = subsidy_plan(build(LGE, signed_on(signed)))
    assert plan.window_start == d(window_start)
    assert len([m for m in plan.months if m.subsidy_type is FIRST]) == 12


def test_leap_year_window_and_end_date():
    def change(data):
        signed_on("2024-02-29")(data)
        data["end_date"] = "2025-02-28"
        data["decision"].update(
            decision_date="2024-02-10", request_date=None, ri_start_date="2024-02-01"
        )
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": "2024-02-01"}]
        data["ri_months"] = []
        data["evaluations"] = []

    c = build(LGE, change)
    plan = subsidy_plan(c)
    assert (plan.window_start, plan.window_end) == (d("2024-02-01"), d("2025-01-31"))
    report = evaluate(c, on=d("2024-06-01"))
    end = report.date_for("R-SUB-07", "FIRST subsidy window ends")
    assert end is not None and end.date == d("2025-01-31")


def ri_from(day: str):
    def change(data):
        data["decision"]["ri_start_date"] = day
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": day}]

    return change


def test_no_ri_on_the_signature_day():
    c = build(LGE, ri_from("2026-07-07"))
    assert [i.rule_id for i in subsidy_issues(c)] == ["R-SUB-06"]
    assert subsidy_plan(c).total_cents == 0
    assert subsidy_issues(build(LGE, ri_from("2026-07-06"))) == []


def test_months_not_covered_and_partial_months():
    c = build(LGE, lambda data: (data.update(end_date="2026-10-01"),))
    by = months(subsidy_plan(c))
    assert (
        by[d("2026-10-01")].covered_by_piis and by[d("2026-10-01")].subsidy_cents == 8761
    )  # 1 day counts
    assert not by[d("2026-11-01")].covered_by_piis
    assert by[d("2026-11-01")].excluded_reason == "not covered by this PIIS (D6)"
    strict = months(subsidy_plan(c, RuleSettings(q10_partial_month_counts=False)))
    assert (
        not strict[d("2026-10-01")].covered_by_piis and not strict[d("2026-07-01")].covered_by_piis
    )
    assert strict[d("2026-08-01")].subsidy_cents == 8761


def test_project_not_running():
    c = build(LGE, lambda data: data["ri_months"][2].update(project_running=False))
    by = months(subsidy_plan(c))
    assert by[d("2026-09-01")].subsidy_cents == 0
    assert "R-SUB-11" in by[d("2026-09-01")].excluded_reason
    assert by[d("2026-09-01")].ri_amount_cents == 87613


def test_termination_and_move_end_the_coverage():
    c = build(
        LGE, lambda data: data.update(termination={"ended_on": "2026-08-31", "reason": "RI_ENDED"})
    )
    by = months(subsidy_plan(c))
    assert by[d("2026-08-01")].covered_by_piis and not by[d("2026-09-01")].covered_by_piis


# --- remaining months for a new CPAS (R-SUB-07) ----------------------------------------------------


def test_new_cpas_gets_only_the_remaining_months():
    c = build(LGE, history(("FIRST", "62096", "2026-03-01", {"months_used": 4})))
    plan = subsidy_plan(c)
    assert plan.type is FIRST and not plan.opened_by_this_contract
    assert (plan.window_start, plan.window_end) == (d("2026-03-01"), d("2027-02-28"))
    assert plan.remaining_months == 8  # July 2026 .. February 2027
    assert months(plan)[d("2027-03-01")].excluded_reason == "outside any subsidy window"
    assert remaining_months_after(build(LGE), d("2026-10-12")) == 8  # Nov 2026 .. Jun 2027


def test_first_elapsed_needs_a_prolongation_decision():
    c = build(LGE, history(("FIRST", "62063", "2025-01-01", {})))
    plan = subsidy_plan(c)
    assert plan.type is None and plan.total_cents == 0
    assert any("PROLONGATION" in n for n in plan.notes)


def test_prolongation_with_and_without_its_evidence():
    ok = build(
        LGE,
        history(
            ("FIRST", "62063", "2025-07-01", {}), ("PROLONGATION", "62063", "2026-07-01", REFS)
        ),
    )
    plan = subsidy_plan(ok)
    assert plan.type is PROL and plan.total_cents == 5 * 8761 and subsidy_issues(ok) == []
    bare = build(
        LGE,
        history(("FIRST", "62063", "2025-07-01", {}), ("PROLONGATION", "62063", "2026-07-01", {})),
    )
    assert [i.rule_id for i in subsidy_issues(bare)] == ["R-SUB-09"]
    assert subsidy_plan(bare).total_cents == 0
    early = build(
        LGE,
        history(
            ("FIRST", "62063", "2025-08-01", {}), ("PROLONGATION", "62063", "2026-07-01", REFS)
        ),
    )
    assert [i.rule_id for i in subsidy_issues(early)] == ["R-SUB-09"]  # FIRST runs until July 2026


@pytest.mark.parametrize("dis_end, ok", [("2025-05-31", True), ("2025-06-01", False)])
def test_second_chance_needs_twelve_months_without_dis(dis_end, ok):
    def change(data):
        history(
            ("FIRST", "62063", "2023-01-01", {}), ("SECOND_CHANCE", "62063", "2026-07-01", REFS)
        )(data)
        data["beneficiary"]["dis_history"].insert(
            0, {"kind": "ART60", "start_date": "2024-01-01", "end_date": dis_end}
        )

    c = build(LGE, change)  # RI again from 2026-06-01: the 12 months before start on 2025-06-01
    assert ("R-SUB-10" not in {i.rule_id for i in subsidy_issues(c)}) is ok
    assert subsidy_plan(c).type is SECOND


# --- STUDIES, the 25th birthday, lifetime limits -------------------------------------------------------

STUDIES_NAME = "studies"  # signed 2025-09-15, studies PIIS to 2028-09-14


def with_birth(birth: str):
    def change(data):
        data["beneficiary"].update(birth_date=birth, niss=niss_for(birth))

    return change


def test_studies_subsidy_for_the_whole_studies_piis():
    plan = subsidy_plan(build(STUDIES_NAME))
    assert plan.type is STUDIES and plan.window_end == d(
        "2028-09-30"
    )  # the studies PIIS's last month
    assert len(plan.months) == 37 and all(m.subsidy_cents == 13142 for m in plan.months)


@pytest.mark.parametrize(
    "birth, kind", [("2000-09-16", STUDIES), ("2000-09-15", FIRST), ("2000-09-14", FIRST)]
)
def test_studies_needs_under_25_on_the_signature_day(birth, kind):
    plan = subsidy_plan(build(STUDIES_NAME, with_birth(birth)))
    assert plan.type is kind
    if kind is FIRST:
        assert any("R-SUB-08" in n for n in plan.notes)


def test_studies_never_with_second_chance():
    c = build(
        STUDIES_NAME,
        history(
            ("FIRST", "44021", "2020-01-01", {}), ("SECOND_CHANCE", "44021", "2023-01-01", REFS)
        ),
    )
    assert "R-SUB-08" in {i.rule_id for i in subsidy_issues(c)}
    assert subsidy_plan(c).total_cents == 0
    narrow = RuleSettings(local={"c08_studies_second_chance_exclusive": False})
    assert subsidy_plan(c, narrow).type is STUDIES and subsidy_plan(c, narrow).total_cents > 0
    followed = build(
        LGE,
        history(
            ("STUDIES", "62063", "2020-09-01", {}),
            ("FIRST", "62063", "2023-01-01", {}),
            ("SECOND_CHANCE", "62063", "2026-07-01", REFS),
        ),
    )
    assert "R-SUB-04" in {
        i.rule_id for i in subsidy_issues(followed, narrow)
    }  # studies followed by second chance


def test_lifetime_limit_of_three():
    c = build(
        LGE,
        history(
            ("FIRST", "62063", "2019-01-01", {}),
            ("PROLONGATION", "62063", "2020-01-01", REFS),
            ("STUDIES", "62063", "2021-09-01", {}),
            ("SECOND_CHANCE", "62063", "2026-07-01", REFS),
        ),
    )
    assert "R-SUB-04" in {i.rule_id for i in subsidy_issues(c)}
    three = build(
        LGE,
        history(
            ("FIRST", "62063", "2019-01-01", {}),
            ("PROLONGATION", "62063", "2020-01-01", REFS),
            ("STUDIES", "62063", "2021-09-01", {}),
        ),
    )
    plan = subsidy_plan(three)
    assert plan.lifetime == (FIRST, STUDIES, PROL) and plan.type is None


# --- the reform date (R-SUB-14/15) ---------------------------------------------------------------------


def _old_contract(signed: str, end: str):
    def change(data):
        signed_on(signed)(data)
        data["end_date"] = end
        data["decision"].update(
            decision_date="2016-08-10", request_date=None, ri_start_date="2016-08-01"
        )
        data["obligation"]["assessed_on"] = "2016-08-10"
        data["ri_months"] = [
            {"month": f"{y}-{m:02d}-01", "amount_cents": 81700}
            for y, m in [(2016, 9), (2016, 10), (2016, 11), (2016, 12)]
        ]
        data["evaluations"] = []

    return build(LGE, change)


def test_running_on_reform_day_is_due_from_that_date():
    plan = subsidy_plan(_old_contract("2016-09-15", "2017-09-14"))
    assert plan.window_start == d("2016-11-01") and plan.months[0].month == d("2016-11-01")
    assert plan.total_cents == 2 * 8170
    assert any("R-SUB-14" in n for n in plan.notes)


@pytest.mark.parametrize("end, has_plan", [("2016-10-31", False), ("2016-11-01", True)])
def test_ended_before_the_reform_has_no_schedule(end, has_plan):
    plan = subsidy_plan(_old_contract("2016-09-15", end))
    assert (plan.type is not None) is has_plan


# --- couples on category 3 (R-SUB-12), Brussels articles, engine ----------------------------------------

BXL = "social-insertion-third-party"  # Brussels 21004, category 3, no partner in the example


def test_couple_category_3_is_never_doubled():
    partner_birth = "1981-03-02"
    partner = {"niss": niss_for(partner_birth, 456), "birth_date": partner_birth}

    def first(data):
        data["partner"] = partner

    def second(data):
        me = data["beneficiary"]
        data["contract_id"] = "BXL-2026-1291"
        data["beneficiary"] = {
            **partner,
            "residences": me["residences"],
            "dis_history": me["dis_history"],
        }
        data["partner"] = {"niss": me["niss"], "birth_date": me["birth_date"]}

    a, b = build(BXL, first), build(BXL, second)
    plans = {p.contract_id: p for p in subsidy_plans([b, a])}
    kept, dropped = plans["BXL-2026-1290"], plans["BXL-2026-1291"]
    assert kept.total_cents == 7 * 17761
    assert dropped.total_cents == 0
    assert all("R-SUB-12" in m.excluded_reason for m in dropped.months if m.covered_by_piis)
    text = all_text([p.model_dump(mode="json") for p in plans.values()])
    assert raw(BXL)["beneficiary"]["niss"] not in text and partner["niss"] not in text


def test_single_contracts_are_not_touched_by_the_couple_rule():
    plans = list(subsidy_plans([build(LGE), build(BXL)]))
    assert [p.total_cents for p in plans] == [5 * 8761, 7 * 17761]


def test_brussels_budget_articles():
    assert subsidy_plan(build(BXL)).budget_article == "132"
    assert subsidy_plan(build(LGE)).budget_article is None


def test_engine_fills_the_report():
    report = evaluate(build(LGE), on=d("2026-11-22"))
    assert report.subsidy is not None and report.subsidy.total_cents == 5 * 8761
    plan = report.sections["subsidy_plan"]
    assert plan["months"][5]["excluded_reason"] == "no RI granted this month"
    assert plan["months"][0]["subsidy_type"] == "FIRST"
    assert plan["rounding"].startswith("half-up")
    assert not [f for f in report.findings if f.rule_id.startswith("R-SUB")]


def test_example_schedules_are_stable():
    totals = {
        name: subsidy_plan(build(name)).total_cents
        for name in ("community-service", "sanction-history", "studies", BXL, LGE)
    }
    assert totals == {
        "community-service": 12 * 13142,
        "sanction-history": 9 * 8761,
        "studies": 37 * 13142,
        BXL: 7 * 17761,
        LGE: 5 * 8761,
    }


def test_unsigned_contract_has_no_schedule():
    plan = subsidy_plan(build(LGE, lambda data: data.update(signatures=[])))
    assert plan.type is None and plan.months == ()


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=date(2016, 11, 1), max_value=date(2035, 12, 31)))
def test_property_first_window_is_twelve_calendar_months(signed):
    def change(data):
        day = signed.isoformat()
        for s in data["signatures"]:
            s["signed_date"] = day
        data.update(
            start_date=day,
            end_date=(signed + timedelta(days=800)).isoformat(),
            ri_months=[],
            evaluations=[],
            needs_assessment=None,
        )
        first = signed.replace(day=1).isoformat()
        data["decision"].update(decision_date=first, request_date=None, ri_start_date=first)
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": first}]

    plan = subsidy_plan(build(LGE, change))
    paid = [m for m in plan.months if m.subsidy_cents]
    assert plan.type is FIRST and plan.window_start == signed.replace(day=1)
    assert len(paid) == 12 and paid[0].month == plan.window_start
    assert all(m.subsidy_cents == 8761 for m in paid)  # 10% of the decision's EUR 876.13, half up


def test_studies_follows_a_running_first_window():
    c = build(STUDIES_NAME, history(("FIRST", "44021", "2025-06-01", {})))
    plan = subsidy_plan(c)
    by = months(plan)
    assert plan.type is FIRST and (plan.window_start, plan.window_end) == (
        d("2025-06-01"),
        d("2026-05-31"),
    )
    assert by[d("2026-05-01")].subsidy_type is FIRST and by[d("2026-06-01")].subsidy_type is STUDIES
    assert by[d("2028-09-01")].subsidy_cents == 13142
    assert plan.lifetime == (FIRST, STUDIES)
    assert plan.total_cents == len(plan.months) * 13142  # Sep 2025 .. Sep 2028, every month paid
    blocked = build(
        STUDIES_NAME,
        history(
            ("FIRST", "44021", "2025-06-01", {}), ("SECOND_CHANCE", "44021", "2019-01-01", REFS)
        ),
    )
    assert months(subsidy_plan(blocked))[d("2026-06-01")].subsidy_cents == 0
