"""Issue 18, class 12: a DIS decision finding the person unwilling to work, with its grounds (R-OBL-13 /
R-CS-12: a refused community service can never be the sole ground), and the annual report's employment
results (R-EVA-07)."""

from __future__ import annotations

import pytest

from tests.rules._core import ids, make, run


def _unwilling(*grounds: str):
    def change(data):
        data["decision"]["unwilling_to_work"] = {"found_on": "2026-06-15", "grounds": list(grounds)}

    return make("community-service", change)


def test_refused_community_service_as_the_sole_ground_is_an_error():
    report = run(_unwilling("REFUSED_COMMUNITY_SERVICE"))
    assert "R-OBL-13" in ids(report, "error")


def test_refused_community_service_among_other_grounds_is_a_warning():
    report = run(_unwilling("REFUSED_COMMUNITY_SERVICE", "REFUSED_SUITABLE_JOB"))
    assert "R-OBL-13" in ids(report, "warning") and "R-OBL-13" not in ids(report, "error")


@pytest.mark.parametrize("grounds", [("NO_JOB_SEARCH",), ("REFUSED_SUITABLE_JOB", "PIIS_BREACH")])
def test_other_grounds_are_not_judged(grounds):
    assert "R-OBL-13" not in ids(run(_unwilling(*grounds)))


def test_no_finding_recorded_is_judged_as_before():
    assert "R-OBL-13" not in ids(run(make("community-service")))


def test_a_finding_needs_a_ground():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _unwilling()


# --- R-EVA-07: the employment results are counted and reported back ----------------------------------------


def _with_report(**counts):
    def change(data):
        data["cpas"]["annual_reports"] = [
            {
                "year": 2026,
                "global_evaluation_date": "2027-03-01",
                "president_signoff_date": "2027-03-10",
                "contract_evaluations_synthesis": "...",
                "employment_results_synthesis": "...",
                **counts,
            }
        ]

    return make("u25-employment-project", change)


def test_employment_results_are_reported_back():
    report = run(
        _with_report(
            persons_counted=120,
            persons_found_work=31,
            contracts_counted=140,
            contracts_ended_in_work=29,
        ),
        on="2027-04-01",
    )
    infos = [f.message for f in report.by_rule("R-EVA-07") if f.level.value == "info"]
    assert infos == [
        "Contract LGE-2026-0142: employment results of the CPAS's annual report 2026: 31 of 120 "
        "person(s) found work, 29 of 140 contract(s) ended in a job."
    ]


def test_employment_results_without_counts_are_judged_as_before():
    assert not [
        f
        for f in run(_with_report(), on="2027-04-01").by_rule("R-EVA-07")
        if f.level.value == "info"
    ]


def test_more_persons_in_work_than_counted_is_invalid():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _with_report(persons_counted=10, persons_found_work=11)
