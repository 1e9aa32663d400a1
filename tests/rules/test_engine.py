"""The engine: streaming, independence of contracts, per-CPAS parameters, privacy (no NISS anywhere)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.model import PIISContract
from piis_bridge.rules import RuleSettings, evaluate, evaluate_many
from tests.rules._core import EXAMPLES, make, raw, run

NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def test_evaluate_many_streams_and_judges_contracts_independently() -> None:
    contracts = [make(n) for n in NAMES]
    broken = make("u25-employment-project", lambda x: x.pop("framework_convention_ref"))
    stream = evaluate_many(iter([contracts[0], broken, *contracts[1:]]), on=date(2026, 11, 22))
    assert iter(stream) is stream  # a generator: one report at a time
    reports = list(stream)
    assert len(reports) == len(NAMES) + 1
    assert [r.has_errors for r in reports].count(True) == 1
    alone = [evaluate(c, on=date(2026, 11, 22)) for c in contracts]
    assert [r.findings for r in alone] == [r.findings for i, r in enumerate(reports) if i != 1]


def test_settings_for_picks_per_cpas_parameters() -> None:
    contract = make(
        "u25-employment-project",
        lambda x: x.update(
            interview_requests=[{"requested_date": "2025-07-08", "held_date": "2025-07-16"}]
        ),
    )
    flemish = RuleSettings().with_parameters(
        {"recurring_closure_days": ((7, 11),), "my_plugin_threshold": 4}
    )
    assert flemish.local == {"my_plugin_threshold": 4}
    reports = list(evaluate_many([contract], on=date(2026, 1, 1), settings_for=lambda c: flemish))
    assert not reports[0].by_rule("R-DL-05")
    assert run(contract, on="2026-01-01").by_rule("R-DL-05")


def test_default_settings_are_the_spec_values() -> None:
    s = RuleSettings()
    assert (
        s.age_threshold,
        s.piis_deadline_months,
        s.reflection_days,
        s.interview_deadline_working_days,
        s.exam_results_working_days,
        s.eval_min_per_year,
        s.eval_min_in_person,
    ) == (25, 3, 5, 5, 7, 3, 2)
    assert s.reform_date == date(2016, 11, 1)
    assert (
        not s.q02_allow_reflection_waiver
        and not s.q09_silence_is_consent
        and s.q07_remote_counts_toward_total
    )
    assert s.local_piis_deadline_months is None  # Appendix B: never a default


def _all_nisses(data: dict[str, Any]) -> list[str]:
    out = [data["beneficiary"]["niss"]]
    if data.get("partner"):
        out.append(data["partner"]["niss"])
    return out


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(NAMES), st.integers(-1500, 1500), st.integers(0, 900))
def test_no_niss_in_any_report(name: str, shift: int, later: int) -> None:
    """Whatever the dates, a report (JSON) never contains the beneficiary's NISS."""
    data = raw(name)
    text = json.dumps(data)
    delta = timedelta(days=shift)

    def move(m: re.Match[str]) -> str:
        if m.group(1) == "birth_date":
            return m.group(0)
        day = date.fromisoformat(m.group(2)) + delta
        if m.group(1) == "month":
            day = day.replace(day=1)
        return f'"{m.group(1)}": "{day.isoformat()}"' if m.group(1) else f'"{day.isoformat()}"'

    text = re.sub(r'(?:"(\w+)": )?"(\d{4}-\d{2}-\d{2})"', move, text)
    try:
        contract = PIISContract.model_validate_json(text)
    except ValueError:
        return  # two RI months collapsed onto one first-of-month: not a valid contract
    report = evaluate(contract, on=contract.start_date + timedelta(days=later))
    dumped = json.dumps(report.to_json_dict())
    for niss in _all_nisses(data):
        assert niss not in dumped
    assert not report.rule_failures
