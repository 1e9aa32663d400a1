"""Issue 18, class 1: a finding that makes a subsidy not due removes its months from the schedule (R-SUB-04
lifetime limit and C-08, R-SUB-09/10 missing FIRST, R-SUB-10 DIS in the 12 months before), like a missing
decision or report already did for PROLONGATION; ``rules subsidy`` then pays nothing for them."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piis_bridge.model import SubsidyType
from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.settings import RuleSettings
from piis_bridge.rules.subsidies import subsidy_issues, subsidy_plan
from tests.rules._part2 import build, d, niss_for, raw

LGE = "u25-employment-project"  # signed 2026-07-06, RI months Jul-Nov 2026 at 876.13
REFS = {"social_inquiry_report_ref": "ENQ-1", "motivated_decision_ref": "CSSS-1"}
FIRST, STUDIES, PROL, SECOND = (
    SubsidyType.FIRST,
    SubsidyType.STUDIES,
    SubsidyType.PROLONGATION,
    SubsidyType.SECOND_CHANCE,
)


def history(*entries, dis=None):
    def change(data):
        data["subsidy_history"] = [
            {"type": t, "cpas_ins": "62063", "window_start": ws, **extra}
            for t, ws, extra in entries
        ]
        if dis is not None:
            data["beneficiary"]["dis_history"] = [*dis, *data["beneficiary"]["dis_history"]]

    return change


def paid(plan, kind):
    return sum(m.subsidy_cents for m in plan.months if m.subsidy_type is kind)


def test_lifetime_limit_over_the_history_removes_the_fourth_subsidy():
    c = build(
        LGE,
        history(
            ("FIRST", "2019-01-01", {}),
            ("PROLONGATION", "2020-01-01", REFS),
            ("STUDIES", "2021-09-01", {}),
            ("SECOND_CHANCE", "2026-07-01", REFS),
        ),
    )
    plan = subsidy_plan(c)
    assert "R-SUB-04" in {i.rule_id for i in subsidy_issues(c)}
    assert plan.type is SECOND and plan.total_cents == 0
    assert all(
        "lifetime limit" in m.excluded_reason or "exclude each other" in m.excluded_reason
        for m in plan.months
        if m.subsidy_type is SECOND
    )


@pytest.mark.parametrize("limit, pays", [(2, False), (3, True)])
def test_lifetime_limit_is_the_setting(limit, pays):
    c = build(
        LGE,
        history(
            ("FIRST", "2019-01-01", {}),
            ("PROLONGATION", "2020-01-01", REFS),
            ("SECOND_CHANCE", "2026-07-01", REFS),
        ),
    )
    plan = subsidy_plan(c, RuleSettings(lifetime_subsidies_max=limit))
    assert (plan.total_cents == 5 * 8761) is pays
    assert (
        "R-SUB-04"
        in {i.rule_id for i in subsidy_issues(c, RuleSettings(lifetime_subsidies_max=limit))}
    ) is not pays


def test_studies_received_so_second_chance_excluded():
    c = build(
        LGE,
        history(
            ("STUDIES", "2020-09-01", {}),
            ("FIRST", "2023-01-01", {}),
            ("SECOND_CHANCE", "2026-07-01", REFS),
        ),
    )
    plan = subsidy_plan(c)
    assert "R-SUB-04" in {i.rule_id for i in subsidy_issues(c)}
    assert plan.type is SECOND and plan.total_cents == 0
    # the narrower reading (C-08: only "studies never followed by second chance") still excludes it here
    narrow = RuleSettings(local={"c08_studies_second_chance_exclusive": False})
    assert subsidy_plan(c, narrow).total_cents == 0


@pytest.mark.parametrize(
    "dis_end, pays",
    [("2025-05-30", True), ("2025-05-31", True), ("2025-06-01", False), ("2025-06-02", False)],
)
def test_dis_in_the_twelve_months_before_so_second_chance_not_due(dis_end, pays):
    # RI of the decision from 2026-06-01: the 12 months before start on 2025-06-01 (day before / of / after)
    c = build(
        LGE,
        history(
            ("FIRST", "2023-01-01", {}),
            ("SECOND_CHANCE", "2026-07-01", REFS),
            dis=[{"kind": "ART60", "start_date": "2024-01-01", "end_date": dis_end}],
        ),
    )
    plan = subsidy_plan(c)
    assert plan.type is SECOND
    assert ("R-SUB-10" in {i.rule_id for i in subsidy_issues(c)}) is not pays
    assert (paid(plan, SECOND) == 5 * 8761) is pays
    if not pays:
        assert plan.total_cents == 0


def test_leap_day_gap_for_second_chance():
    # RI start 2028-02-29: twelve months before is 2027-02-28 (D1 clamps); a DIS ending 2027-02-27 is outside
    def change(data):
        history(
            ("FIRST", "2023-01-01", {}),
            ("SECOND_CHANCE", "2028-03-01", REFS),
            dis=[{"kind": "ART60", "start_date": "2026-01-01", "end_date": end}],
        )(data)
        data["decision"].update(
            decision_date="2028-03-01", request_date="2028-02-29", ri_start_date="2028-02-29"
        )
        data["beneficiary"]["dis_history"][-1]["start_date"] = "2028-02-29"
        for s in data["signatures"]:
            s["signed_date"] = "2028-03-06"
        data["start_date"], data["end_date"] = "2028-03-06", "2029-03-05"
        data["ri_months"] = [{"month": "2028-03-01", "amount_cents": 90000}]

    for end, pays in (("2027-02-27", True), ("2027-02-28", False)):
        plan = subsidy_plan(build(LGE, change))
        assert (plan.total_cents == 9000) is pays, end


def test_prolongation_without_a_first_pays_nothing():
    c = build(LGE, history(("PROLONGATION", "2026-07-01", REFS)))
    assert "R-SUB-09" in {i.rule_id for i in subsidy_issues(c)}
    assert paid(subsidy_plan(c), PROL) == 0


def test_engine_schedule_and_cli_total_agree(tmp_path):
    import json

    from typer.testing import CliRunner

    from piis_bridge.cli import build_app

    c = build(
        LGE,
        history(
            ("STUDIES", "2020-09-01", {}),
            ("FIRST", "2023-01-01", {}),
            ("SECOND_CHANCE", "2026-07-01", REFS),
        ),
    )
    report = evaluate(c, on=d("2026-11-22"))
    assert report.subsidy is not None and report.subsidy.total_cents == 0
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "format": "piis-bridge/contracts",
                "schema_version": 1,
                "contracts": [c.model_dump(mode="json")],
            }
        ),
        encoding="utf-8",
    )
    out = CliRunner().invoke(build_app(), ["rules", "subsidy", str(path), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["plans"][0]["total_cents"] == 0


# --- the property: the schedule never pays a month a finding of the same report declares not due ---------

_TYPES = [t.value for t in SubsidyType]
_NAMED = re.compile(r"\b(FIRST|STUDIES|PROLONGATION|SECOND_CHANCE)\b")


def _not_due(report, history_entries) -> set[str]:
    """The subsidy types the report's findings declare not due (read from the findings alone)."""
    out: set[str] = set()
    order = []  # distinct types in the order they were opened
    for t, _, _ in sorted(history_entries, key=lambda e: e[1]):
        if t not in order:
            order.append(t)
    for f in report.findings:
        m = f.message
        if f.rule_id == "R-SUB-10" and "months without DIS" in m:
            out.add("SECOND_CHANCE")
        elif "needs a FIRST subsidy received before it" in m or "lacks the motivated decision" in m:
            out.update(
                t
                for t in _NAMED.findall(m.split(":", 1)[1])
                if t in ("PROLONGATION", "SECOND_CHANCE")
            )
        elif "already received a SECOND_CHANCE" in m:
            out.add("STUDIES")
        elif "would be the person's" in m:
            out.update(_NAMED.findall(m)[:1])
        elif "different subsidies recorded" in m:
            limit = int(re.search(r"at most (\d+)", m).group(1))
            out.update(order[limit:])
        elif "STUDIES and SECOND_CHANCE are both recorded" in m:
            starts = {
                t: min(ws for tt, ws, _ in history_entries if tt == t)
                for t in ("STUDIES", "SECOND_CHANCE")
            }
            out.add("SECOND_CHANCE" if starts["SECOND_CHANCE"] >= starts["STUDIES"] else "STUDIES")
    return out


_month = st.builds(
    lambda y, m: date(y, m, 1).isoformat(), st.integers(2018, 2026), st.integers(1, 12)
)
_entry = st.tuples(
    st.sampled_from(_TYPES), _month, st.sampled_from([{}, REFS, {"motivated_decision_ref": "D"}])
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(_entry, max_size=4, unique_by=lambda e: e[0]),
    dis_end=st.one_of(st.none(), st.dates(date(2024, 1, 2), date(2026, 5, 31))),
    limit=st.integers(1, 4),
    exclusive=st.booleans(),
    studies=st.booleans(),
)
def test_property_schedule_never_pays_a_month_a_finding_declares_not_due(
    entries, dis_end, limit, exclusive, studies
):
    name = "studies" if studies else LGE

    def change(data):
        data["subsidy_history"] = [
            {"type": t, "cpas_ins": "62063", "window_start": ws, **extra}
            for t, ws, extra in entries
        ]
        if dis_end is not None:
            data["beneficiary"]["dis_history"].insert(
                0, {"kind": "ART60", "start_date": "2024-01-01", "end_date": dis_end.isoformat()}
            )

    c = build(name, change)
    s = RuleSettings(
        lifetime_subsidies_max=limit, local={"c08_studies_second_chance_exclusive": exclusive}
    )
    report = evaluate(c, on=d("2026-11-22"), settings=s)
    not_due = _not_due(report, entries)
    plan = report.sections.get("subsidy_plan")
    if plan is None:
        return
    for m in plan["months"]:
        if m["subsidy_type"] in not_due:
            assert m["subsidy_cents"] == 0, (m, not_due, [f.message for f in report.findings])
    assert report.subsidy.total_cents == sum(m["subsidy_cents"] for m in plan["months"])
    assert raw(name)["beneficiary"]["niss"] not in str(plan)


# --- couples on category 3 in evaluate() (R-SUB-12) ------------------------------------------------------

BXL = "social-insertion-third-party"  # Brussels, category 3, 2026-05-04..2026-11-03, 7 months at 177607


def _couple(my_id: str, partner_id: str | None, start: str = "2026-05-04", end: str = "2026-11-03"):
    def change(data):
        data["contract_id"] = my_id
        data["partner"] = {"niss": niss_for("1981-03-02", 456), "birth_date": "1981-03-02"}
        if partner_id is not None:
            data["partner_contract"] = {
                "contract_id": partner_id,
                "start_date": start,
                "end_date": end,
            }

    return build(BXL, change)


def test_couple_evaluate_never_doubles_the_claim():
    kept = evaluate(_couple("BXL-2026-1290", "BXL-2026-1291"), on=d("2026-11-22"))
    dropped = evaluate(_couple("BXL-2026-1291", "BXL-2026-1290"), on=d("2026-11-22"))
    assert kept.subsidy.total_cents == 7 * 17761
    assert dropped.subsidy.total_cents == 0
    reasons = {
        m["excluded_reason"]
        for m in dropped.sections["subsidy_plan"]["months"]
        if m["covered_by_piis"]
    }
    assert reasons == {
        "couple on category 3: already subsidised on contract BXL-2026-1290 (R-SUB-12, never doubled)"
    }
    # the two contracts together claim each month once, as subsidy_plans does
    from piis_bridge.rules.subsidies import subsidy_plans

    both = list(
        subsidy_plans(
            [_couple("BXL-2026-1290", "BXL-2026-1291"), _couple("BXL-2026-1291", "BXL-2026-1290")]
        )
    )
    assert sorted(p.total_cents for p in both) == [0, 7 * 17761]


@pytest.mark.parametrize(
    "partner_end, months_kept", [("2026-08-31", 3), ("2026-09-01", 2), ("2026-07-31", 4)]
)
def test_couple_partner_months_boundary(partner_end, months_kept):
    # partner's PIIS from May: the months it touches (D6) are claimed by the partner's contract
    report = evaluate(
        _couple("BXL-2026-1291", "BXL-2026-1290", end=partner_end), on=d("2026-11-22")
    )
    assert report.subsidy.total_cents == months_kept * 17761


def test_couple_link_ignored_for_a_single_rate_or_without_partner():
    def single(data):
        data["contract_id"] = "BXL-2026-1291"
        data["partner_contract"] = {
            "contract_id": "BXL-2026-1290",
            "start_date": "2026-05-04",
            "end_date": "2026-11-03",
        }

    assert evaluate(build(BXL, single), on=d("2026-11-22")).subsidy.total_cents == 7 * 17761


@pytest.mark.parametrize("keep, total", [(True, 0), (False, 5 * 8761)])
def test_q19_reimbursed_first_window(keep, total):
    # a FIRST received 2024-03..2025-02 and reimbursed after an inspection: anchored (Q-19 default) it counts as
    # received, so no new FIRST opens; counted as never received, this contract opens its own FIRST
    c = build(LGE, history(("FIRST", "2024-03-01", {"reimbursed_on": "2025-01-15"})))
    plan = subsidy_plan(c, RuleSettings(q19_keep_window_after_reimbursement=keep))
    assert plan.total_cents == total
    assert plan.opened_by_this_contract is not keep
