"""CPAS subsidy tiers (federal.md 5.5, 10.5.13): 55/65/70 % from the average number of beneficiaries in the
penultimate year, +5 % to enter a higher tier, -1 point a year on the way down unless the fall is under 3 %;
a dated table, and each monthly statement line uses the rate of its reference month."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from piis_connectors.federal import dis
from piis_connectors.federal.simulator.tiers import tier_for, yearly_rates

from .conftest import KBO, b_fields, niss


@pytest.mark.parametrize(
    "averages, start, expected",
    [
        # crossing 500 with +8.3 %: 65 % two years later
        ({2020: 480, 2021: 520}, 5500, {2022: 5500, 2023: 6500}),
        # crossing 500 with only +2.4 %: no entry into the higher tier
        ({2020: 498, 2021: 510}, 5500, {2022: 5500, 2023: 5500}),
        # 55 % straight to 70 % when 1,000 is crossed with +5 %
        ({2020: 900, 2021: 1000}, 5500, {2022: 6500, 2023: 7000}),
        # under 1,000: one point a year (falls of 18 % and 5.5 %), kept when the fall is under 3 % (1.2 %)
        (
            {2020: 1100, 2021: 900, 2022: 850, 2023: 840, 2024: 700},
            7000,
            {2022: 7000, 2023: 6900, 2024: 6800, 2025: 6800, 2026: 6700},
        ),
        # the way down stops at the lower tier
        ({2020: 400, 2021: 300, 2022: 200}, 5600, {2022: 5500, 2023: 5500, 2024: 5500}),
        # a rate on its way down climbs back only with +5 %: 1,010 (+3.1 %) is not enough, 1,070 (+5.9 %) is
        (
            {2020: 1100, 2021: 980, 2022: 1010, 2023: 1070},
            7000,
            {2022: 7000, 2023: 6900, 2024: 6900, 2025: 7000},
        ),
    ],
)
def test_yearly_rates_follow_the_tier_rules(averages, start, expected) -> None:
    assert yearly_rates(averages, start) == expected


def test_tier_thresholds() -> None:
    assert [tier_for(a) for a in (0, 499.9, 500, 999, 1000, 5000)] == [
        5500,
        5500,
        6500,
        6500,
        7000,
        7000,
    ]


def test_forms_and_statement_lines_use_the_rate_of_their_reference_month(sim, client) -> None:
    person = niss()
    client.manage_access(person, "REGISTER", date(2020, 1, 1))
    sim.admin.register_cpas(KBO, "62063", "Liège", 5500)
    rates = sim.admin.set_beneficiaries(KBO, {2022: 480, 2023: 520, 2024: 470})
    assert rates == {2024: 5500, 2025: 6500, 2026: 6400}
    table = {r["since"]: (r["rate"], r["source"]) for r in sim.admin.rates(KBO)}
    assert table == {
        "2024-01-01": (5500, "tier"),
        "2025-01-01": (6500, "tier"),
        "2026-01-01": (6400, "tier"),
    }

    sim.admin.set_clock(datetime(2025, 12, 10, 9))
    [b] = client.submit_online(
        "B", [dis.build_form("B", b_fields("b-1", person, entry=date(2025, 12, 1)))]
    )
    assert b.evaluation == "ACCEPTED" and b.percentage == 6500 + 1000  # 2025 tier + PIIS (code 11)
    sim.admin.set_clock(datetime(2026, 1, 4))  # first Sunday of January: December's statement
    december = client.statement("2025-12")
    assert [(line.first_day, line.percentage) for line in december.lines] == [("2025-12-01", 7500)]
    sim.admin.set_clock(datetime(2026, 2, 1))  # first Sunday of February: January's statement
    january = client.statement("2026-01")
    assert [(line.amount_type, line.first_day, line.percentage) for line in january.lines] == [
        (1, "2026-01-01", 7400)
    ]
    # a recovery of December 2025 answered in 2026 uses December's rate
    [d] = client.submit_online(
        "D",
        [
            dis.build_form(
                "D",
                dict(
                    ClientReference="d-1",
                    CpasName="Liège",
                    InsCode="62063",
                    KBOBCE=KBO,
                    SSIN=person,
                    Dossier="D-0001",
                    RecoveryMonth="2026-02",
                    SequenceNumber=1,
                    RecoveryType="01",
                    PeriodStart=date(2025, 12, 1),
                    PeriodEnd=date(2025, 12, 31),
                    Amount=10000,
                    Correction="0",
                ),
            )
        ],
    )
    assert d.evaluation == "ACCEPTED" and d.percentage == 7500


def test_rates_set_by_hand_still_apply_where_no_average_decides(sim, client) -> None:
    sim.admin.register_cpas(
        KBO, "62063", "Liège", 5500, rates=[{"since": "2019-01-01", "rate": 7000}]
    )
    assert sim.admin.set_beneficiaries(KBO, {2023: 1100, 2024: 900}) == {2025: 7000, 2026: 6900}
    table = {r["since"]: r["rate"] for r in sim.admin.rates(KBO)}
    assert table == {"2019-01-01": 7000, "2025-01-01": 7000, "2026-01-01": 6900}
