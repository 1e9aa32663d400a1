"""The fast paths of the subsidy, inspection and agenda computations give exactly what the model paths give.

Why: for 100,000 contracts a night the engine builds the subsidy plan (R-SUB) and the inspection
checklist (R-INS) as plain data and writes the report's summary and JSON sections directly, and the
agenda computes only what a window can show.  Each shortcut is checked here against the slow,
model-based path on the five examples and on a few hundred contracts from the benchmark generator
(every date shifted, so deadlines fall on every weekday, month end and holiday).  The full before/after
comparison of whole reports is ``benchmarks/check_rules_equivalence.py``.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import pytest

from piis_bridge.model import PIISContract
from piis_bridge.rules import evaluate
from piis_bridge.rules.agenda import _ORDER, AgendaItem, agenda, contract_dues
from piis_bridge.rules.inspection import inspection_checklist
from piis_bridge.rules.settings import RuleSettings
from piis_bridge.rules.subsidies import (
    SubsidyPlan,
    _compute,
    _plan_json,
    _plan_model,
    _schedule,
    plan_json,
    subsidy_window,
    subsidy_window_end,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_rules import examples as example_contracts
from bench_rules import generate  # noqa: E402

SETTINGS = (
    RuleSettings(),
    RuleSettings(q10_partial_month_counts=False, q10_ri_checked_on_signature=False),
    RuleSettings(lifetime_subsidies_max=0, subsidy_max_months=6),
)


@pytest.fixture(scope="module")
def caseload() -> list[tuple[PIISContract, date]]:
    examples = [PIISContract.model_validate(c) for c in example_contracts()]
    return [(c, date(2026, 11, 22)) for c in examples] + generate(200)


@pytest.mark.parametrize("settings", SETTINGS)
def test_subsidy_fast_forms_equal_the_model_forms(caseload, settings):
    for contract, _ in caseload:
        result = _compute(contract, settings)[0]
        plan = _plan_model(result)
        validated = SubsidyPlan.model_validate(plan.model_dump())  # the translatable notes are
        assert plan.model_dump() == validated.model_dump()  # left out of the dump (docs/i18n.md)
        assert plan.notes == tuple(str(n) for n in plan.note_messages)
        if not result.minimal:  # as SubsidyPlan(...) given every field but the rounding text
            assert plan.model_fields_set == set(SubsidyPlan.model_fields) - {"rounding"}
        assert _plan_json(result) == plan_json(plan)
        if not result.minimal:
            assert _schedule(result) == plan.to_schedule()
        window = subsidy_window(contract, settings)
        assert subsidy_window_end(contract, settings) == (window.type, window.window_end)


def test_engine_sections_equal_the_model_paths(caseload):
    checked = 0
    for contract, on in caseload:
        report = evaluate(contract, on=on)
        if "subsidy_plan" in report.sections:
            plan = _plan_model(_compute(contract, RuleSettings())[0])
            assert report.sections["subsidy_plan"] == plan_json(plan)
            assert report.subsidy == plan.to_schedule()
            checked += 1
        # The checklist is judged from the findings of every family but R-INS (which runs last).
        months = (
            [(m.month, m.subsidy_cents) for m in report.subsidy.months] if report.subsidy else []
        )
        expected = inspection_checklist(
            contract,
            [f for f in report.findings if not f.rule_id.startswith("R-INS-")],
            on,
            obligations=report.obligations,
            subsidy_months=months,
        )
        assert report.sections["inspection"] == expected.model_dump(mode="json")
    assert checked > 80


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-11-01", "2026-11-30"),
        ("2026-01-01", "2026-12-31"),
        ("2019-03-31", "2019-04-01"),
        ("2010-01-01", "2035-12-31"),
    ],
)
@pytest.mark.parametrize("overdue", [False, True])
def test_agenda_window_shortcuts_lose_nothing(caseload, start, end, overdue):
    lo, hi = date.fromisoformat(start), date.fromisoformat(end)
    contracts = [c for c, _ in caseload]
    expected = []
    for c in contracts:
        for due in contract_dues(c):  # no window: every date, nothing skipped
            if lo <= due.day <= hi:
                kind = "deadline" if due.deadline else "event"
            elif overdue and due.deadline and due.day < lo:
                kind = "overdue"
            else:
                continue
            expected.append((due.day, c.contract_id, due.rule_id, due.label, kind))
    got = agenda(contracts, lo, hi, overdue=overdue)
    assert [(i.date, i.contract_id, i.rule_id, i.label, i.kind) for i in got] == sorted(expected)
    assert got == sorted(got)  # the sort key is the items' own order


def test_agenda_sort_key_is_the_dataclass_order():
    fields = [f.name for f in dataclasses.fields(AgendaItem)]
    item = AgendaItem(date(2026, 1, 1), "c", "R-X-01", "label", "event", "21004", "[x]")
    assert _ORDER(item) == tuple(getattr(item, name) for name in fields)


def test_signed_on_is_the_models_signature_date(caseload):
    """The engine's one-pass signature date (RuleContext.signed_date, the R-SUB precondition) is the
    model's ``PIISContract.signed_date``: with both parties, with one missing, with later versions."""
    from piis_bridge.model import Signature
    from piis_bridge.rules.context import signed_on

    for contract, _ in caseload:
        assert signed_on(contract) == contract.signed_date
        for keep in ({"BENEFICIARY"}, {"CPAS"}, {"BENEFICIARY", "CPAS", "THIRD_PARTY"}, set()):
            signatures = [s for s in contract.signatures if s.party.value in keep]
            variant = contract.model_copy(update={"signatures": signatures})
            assert signed_on(variant) == variant.signed_date
        later = Signature(
            party="CPAS", signer_name="X", signed_date=date(2099, 1, 1), for_version=2
        )
        variant = contract.model_copy(update={"signatures": [*contract.signatures, later]})
        assert signed_on(variant) == variant.signed_date
