"""The subsidy schedule's notes and the months' exclusion reasons in the reader's language (issue 19).

Why: a social worker in Gent reads why a month pays nothing in Dutch, like the findings.  The notes and
reasons are templates with values (``SubsidyPlan.note_messages``, ``SubsidyMonth.excluded_message``,
``SubsidySchedule.note_messages``), rendered at the output boundary by
``piis_bridge.i18n.findings.render_message`` from the FR/NL/DE/EN catalogues; the English texts
(``notes``, ``excluded_reason``) and the JSON stay exactly as they were.
"""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.i18n import Msg, translator
from piis_bridge.i18n.findings import render_message
from piis_bridge.rules.engine import evaluate
from piis_bridge.rules.settings import RuleSettings
from piis_bridge.rules.subsidies import SubsidyPlan, subsidy_plan
from tests.rules._part2 import build

LGE = "u25-employment-project"  # signed 2026-07-06, RI months Jul-Nov 2026
REFS = {"social_inquiry_report_ref": "ENQ-1", "motivated_decision_ref": "CSSS-1"}
REIMBURSED = date(2022, 3, 15)
NOT_KEPT = RuleSettings(q19_keep_window_after_reimbursement=False)


def _history(*entries):
    def change(data):
        data["subsidy_history"] = [
            {"type": t, "cpas_ins": "62063", "window_start": ws, **extra}
            for t, ws, extra in entries
        ]

    return change


def _no_ri_months(data):
    data["ri_months"] = []


def _plans() -> list[SubsidyPlan]:
    """Plans whose notes and reasons cover the subsidy vocabulary: the lifetime limit and C-08, a
    reimbursed subsidy (a date value), the decision's RI, months outside the window."""
    limit = build(
        LGE,
        _history(
            ("FIRST", "2019-01-01", {}),
            ("PROLONGATION", "2020-01-01", REFS),
            ("STUDIES", "2021-09-01", {}),
            ("SECOND_CHANCE", "2026-07-01", REFS),
        ),
    )
    reimbursed = build(LGE, _history(("FIRST", "2021-01-01", {"reimbursed_on": "2022-03-15"})))
    return [
        subsidy_plan(limit),
        subsidy_plan(reimbursed, NOT_KEPT),
        subsidy_plan(build(LGE, _no_ri_months)),
        subsidy_plan(build(LGE)),
    ]


def _messages(plans: list[SubsidyPlan]) -> list[tuple[Msg, str]]:
    """Every (template with values, English text) of the plans' notes and reasons."""
    out = []
    for plan in plans:
        assert len(plan.note_messages) == len(plan.notes)
        out += list(zip(plan.note_messages, plan.notes, strict=True))
        for m in plan.months:
            assert (m.excluded_message is None) is (m.excluded_reason is None)
            if m.excluded_message is not None:
                out.append((m.excluded_message, m.excluded_reason))
    return out


def test_the_plans_cover_notes_and_reasons_with_values():
    messages = _messages(_plans())
    ids = {msg.id for msg, _ in messages}
    assert "lifetime limit of subsidies reached (R-SUB-04)" in ids
    assert "outside any subsidy window" in ids
    assert "no monthly RI records: the RI amount of the DIS decision is used for its period" in ids
    assert any(dict(msg.params).get("reimbursed_on") == REIMBURSED for msg, _ in messages)


def test_english_is_the_text_the_plan_always_wrote():
    t = translator("en")
    for msg, english in _messages(_plans()):
        assert render_message(msg.id, msg.params, t) == english == str(msg)


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_every_note_and_reason_is_written_in_the_language(language):
    t = translator(language)
    for msg, english in _messages(_plans()):
        assert t.gettext(msg.id) != msg.id, f"{language}: no translation of {msg.id!r}"
        text = render_message(msg.id, msg.params, t)
        assert text != english and "{" not in text, (language, text)
        for _, value in msg.params:
            if isinstance(value, date):  # dates in the language's Belgian format
                assert t.format_date(value) in text, (language, text)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_the_reports_schedule_carries_the_same_notes(language):
    t = translator(language)
    contract = build(LGE, _no_ri_months)
    report = evaluate(contract, on=date(2026, 11, 22))
    assert report.subsidy is not None and report.subsidy.notes
    plan = subsidy_plan(contract)
    rendered = [render_message(m.id, m.params, t) for m in report.subsidy.note_messages]
    assert rendered == [render_message(m.id, m.params, t) for m in plan.note_messages]
    assert "note_messages" not in report.to_json_dict()["subsidy"]  # the JSON is unchanged
