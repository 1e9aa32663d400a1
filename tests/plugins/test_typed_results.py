"""The host's federal and transfer methods return the types their hook specs name, or ``None`` with the
plugin's failure recorded: the pipeline reads typed values (``SubmissionOutcome.evaluation``), never
attribute names guessed on whatever a plugin returned."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.forms import (
    Evaluation,
    FormKind,
    FormStatus,
    MonthlyStatement,
    SubmissionOutcome,
)
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginHost
from tests.plugins._helpers import settings

OUTCOME = SubmissionOutcome(
    client_reference="ref-1",
    kind=FormKind.B,
    status=FormStatus.ACCEPTED,
    evaluation=Evaluation.ACCEPTED,
    ticket="T-1",
)


class Federal:
    """Answers each federal hook with what ``answer`` holds."""

    def __init__(self, answer: object) -> None:
        self.answer = answer

    @hookimpl
    def piis_federal_submit(self, cpas, forms):
        return self.answer

    @hookimpl
    def piis_federal_fetch_results(self, cpas, tickets):
        return self.answer

    @hookimpl
    def piis_federal_fetch_statement(self, cpas, month):
        return self.answer


def _host(tmp_path, answer: object) -> PluginHost:
    return PluginHost(
        settings(tmp_path, {"liege": {"federal": "fed"}}),
        plugins=[("fed", Federal(answer))],
        load_entrypoints=False,
    )


def test_submission_outcomes_pass_through_typed(tmp_path) -> None:
    host = _host(tmp_path, [OUTCOME])
    assert host.federal_submit("liege", []) == [OUTCOME]
    assert host.federal_fetch_results("liege", ["T-1"]) == [OUTCOME]
    assert host.failures == []


@pytest.mark.parametrize(
    "answer",
    [
        [{"client_reference": "ref-1", "evaluation": "ACCEPTED"}],  # a dict, not the model
        [OUTCOME, "ACCEPTED"],  # one stray value among outcomes
        OUTCOME,  # a single outcome where a list is due
    ],
)
def test_anything_but_submission_outcomes_is_the_plugins_failure(tmp_path, answer) -> None:
    host = _host(tmp_path, answer)
    assert host.federal_submit("liege", []) is None
    assert host.federal_fetch_results("liege", ["T-1"]) is None
    failures = host.drain_failures()
    assert [f.hook for f in failures] == ["piis_federal_submit", "piis_federal_fetch_results"]
    assert all(f.plugin == "fed" and f.error_type == "TypeError" for f in failures)
    assert "expected list of SubmissionOutcome" in failures[0].message


def test_statement_is_a_monthly_statement_or_none(tmp_path) -> None:
    statement = MonthlyStatement(cpas_bce="0212344876", month=date(2026, 10, 1))
    got = _host(tmp_path / "a", statement).federal_fetch_statement("liege", date(2026, 10, 15))
    assert got == statement
    assert _host(tmp_path / "b", None).federal_fetch_statement("liege", date(2026, 10, 1)) is None
    host = _host(tmp_path / "c", {"month": "2026-10"})
    assert host.federal_fetch_statement("liege", date(2026, 10, 1)) is None
    (failure,) = host.failures
    assert failure.hook == "piis_federal_fetch_statement"
    assert "expected MonthlyStatement or None" in failure.message
