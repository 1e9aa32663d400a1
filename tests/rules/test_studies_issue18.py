"""Issue 18, class 9: R-STU-09 (Décret Paysage) is given when a studies PIIS is ended or reoriented after the
year's evaluation."""

from __future__ import annotations

import pytest

from tests.rules._core import ids, make, run


def _studies(outcome=None, reasoning=None, ins="62063", termination=None):
    def change(data):
        data["cpas"]["ins_code"] = ins
        year = data["studies"]["academic_years"][0]
        if outcome is not None:
            year["outcome"] = outcome
        year["reasoning"] = reasoning
        if termination is not None:
            data["termination"] = {"ended_on": termination[0], "reason": termination[1]}
            data["status"] = "ENDED"

    return make("studies", change)


@pytest.mark.parametrize("outcome, given", [("END", True), ("REORIENT", True), ("CONTINUE", False)])
def test_r_stu_09_given_when_ended_or_reoriented(outcome, given):
    report = run(_studies(outcome), on="2026-09-01")
    assert ("R-STU-09" in ids(report, "warning")) is given
    if given:
        assert "Décret Paysage" in report.by_rule("R-STU-09")[0].message


def test_r_stu_09_with_a_reasoning_is_a_reminder():
    report = run(
        _studies("END", reasoning="credits acquired 35/60, no progress on the core units"),
        on="2026-09-01",
    )
    assert [f.level.value for f in report.by_rule("R-STU-09")] == ["info"]


def test_r_stu_09_termination_for_the_evaluation():
    report = run(_studies(termination=("2026-08-31", "STUDIES_EVALUATION_END")), on="2026-09-01")
    assert "R-STU-09" in ids(report, "warning")
    before = run(_studies(termination=("2026-07-02", "STUDIES_EVALUATION_END")), on="2026-09-01")
    assert "R-STU-09" in ids(
        before, "warning"
    )  # no evaluated year yet: still a reminder on the termination
    other = run(_studies(termination=("2026-08-31", "END_OF_TERM")), on="2026-09-01")
    assert "R-STU-09" not in ids(other)


def test_r_stu_09_not_for_flemish_cpas():
    assert "R-STU-09" not in ids(run(_studies("END", ins="44021"), on="2026-09-01"))
