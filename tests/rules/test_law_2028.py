"""Issue 18, class 13: the law of 2026-2028 -- from 2028-01-01 the PIIS subsidy rate per calendar year by the
CPAS's share of RI beneficiaries with a PIIS (R-SUB-17, announced), a dated table in configuration."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from piis_bridge.rules import RuleSettings, evaluate
from piis_bridge.rules.rate_tables import TABLE_2028, RateTier, SubsidyRateTable, rate_for_share
from piis_bridge.rules.subsidies import subsidy_plan
from tests.rules._core import make

STUDIES_MONTHLY = 131420  # the studies example: RI of the decision, PIIS to 2028-09-14


def _by_month(plan):
    return {m.month: m.subsidy_cents for m in plan.months}


@pytest.mark.parametrize(
    "share, bp",
    [
        (100, 1500),
        (80, 1500),
        (79.99, 1250),
        (60, 1250),
        (59.9, 1000),
        (40, 1000),
        (39.99, 750),
        (20, 750),
        (19.99, 500),
        (0, 500),
    ],
)
def test_tiers_at_their_boundaries(share, bp):
    assert rate_for_share(TABLE_2028, share)[0] == bp


def test_facts_before_2028_keep_the_flat_rate_and_2028_uses_the_tier():
    plan = subsidy_plan(
        make("studies"), RuleSettings(piis_share_percent_by_year=((2027, 90.0), (2028, 85.0)))
    )
    months = _by_month(plan)
    assert (
        months[date(2027, 12, 1)] == (STUDIES_MONTHLY * 10 + 50) // 100
    )  # 2027: flat 10% whatever the share
    assert months[date(2028, 1, 1)] == (STUDIES_MONTHLY * 1500 + 5000) // 10000  # 15%
    assert any(
        n == "2028: the CPAS's PIIS share is 85%: subsidy rate 15% (R-SUB-17, announced)"
        for n in plan.notes
    )


def test_half_tier_rounds_half_up_to_the_cent():
    plan = subsidy_plan(make("studies"), RuleSettings(piis_share_percent_by_year=((2028, 65.0),)))
    assert _by_month(plan)[date(2028, 3, 1)] == 16428  # 1314.20 x 12.5% = 164.275 -> 164.28


def test_unknown_share_is_the_flat_rate_with_a_note():
    plan = subsidy_plan(make("studies"))
    assert _by_month(plan)[date(2028, 1, 1)] == (STUDIES_MONTHLY * 10 + 50) // 100
    assert any("no share recorded for 2028" in n for n in plan.notes)


def test_each_calendar_year_has_its_own_share():
    def longer(data):
        data["end_date"] = "2029-06-30"
        data["studies"]["study_end_date"] = "2029-06-30"

    plan = subsidy_plan(
        make("studies", longer),
        RuleSettings(piis_share_percent_by_year=((2028, 10.0), (2029, 45.0))),
    )
    months = _by_month(plan)
    assert months[date(2028, 12, 1)] == (STUDIES_MONTHLY * 500 + 5000) // 10000
    assert months[date(2029, 1, 1)] == (STUDIES_MONTHLY * 1000 + 5000) // 10000


def test_the_table_is_configuration_with_a_date():
    later = SubsidyRateTable(
        valid_from=date(2029, 1, 1),
        status="adopted",
        tiers=TABLE_2028.tiers,
        sources=("implementing decree (test)",),
    )
    s = RuleSettings(subsidy_rate_tables=(later,), piis_share_percent_by_year=((2028, 85.0),))
    assert (
        _by_month(subsidy_plan(make("studies"), s))[date(2028, 1, 1)]
        == (STUDIES_MONTHLY * 10 + 50) // 100
    )
    # and from plain JSON, as a CPAS's parameters would give it
    s2 = RuleSettings().with_parameters({"subsidy_rate_tables": [later.model_dump(mode="json")]})
    assert s2.subsidy_rate_tables == (later,)


def test_a_table_must_cover_every_share():
    with pytest.raises(ValidationError):
        SubsidyRateTable(
            valid_from=date(2028, 1, 1),
            status="announced",
            sources=("x",),
            tiers=(RateTier(min_share_percent=50, rate_basis_points=1000),),
        )
    with pytest.raises(ValidationError):
        SubsidyRateTable(
            valid_from=date(2028, 1, 1),
            status="announced",
            sources=("x",),
            tiers=(
                RateTier(min_share_percent=0, rate_basis_points=500),
                RateTier(min_share_percent=50, rate_basis_points=1000),
            ),
        )


def test_rule_r_sub_17_is_dated_and_announced():
    from piis_bridge.rules import default_registry

    r = default_registry().get("R-SUB-17")
    assert (
        r.valid_from == date(2028, 1, 1) and "announced" in r.title and "18 July 2025" in r.citation
    )
    before = evaluate(
        make("u25-employment-project"), on=date(2026, 11, 22)
    )  # ends 2027-07-05: not in force
    assert before.subsidy is not None and not any("R-SUB-17" in n for n in before.subsidy.notes)
