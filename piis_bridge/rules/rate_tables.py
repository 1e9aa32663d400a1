"""The PIIS subsidy rate by calendar year and the CPAS's PIIS share: the law of 2026-2028 (R-SUB-17).

Why a dated table in configuration (``RuleSettings.subsidy_rate_tables``): the CPAS compensation law
(adopted by the Chamber on 13-14 November 2025) replaces, from 2028-01-01, the flat 10% PIIS subsidy by a
rate per calendar year that depends on the share of the CPAS's RI beneficiaries who have a PIIS, with the
tiers the Council of Ministers announced on 18 July 2025.  The implementing royal decree may still change
the tiers: they are data with a validity date and a status ("announced" until confirmed), never literals
inside a rule.  Facts before the table's ``valid_from`` keep the flat ``subsidy_rate_percent``.

Rates are in basis points (1/100 of a percent: 12.5% = 1250) so the half tiers stay exact; the monthly
subsidy is ``(ri_cents * rate_bp + 5000) // 10000`` (half up to the cent, the same rounding as the flat
rate: 10% gives exactly the former amounts).

The share of a calendar year (``RuleSettings.piis_share_percent_by_year``) is the CPAS's own figure: the
rules judge one contract at a time and cannot count the CPAS's RI beneficiaries.  ``piis-bridge rules
share`` computes it from counts (``share.py``).  A month whose year has no share recorded is computed at
the flat rate and the schedule says so in a note (never silently).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SOURCES_2028",
    "TABLE_2028",
    "RateTier",
    "SubsidyRateTable",
    "rate_for_share",
    "table_for",
]


class RateTier(BaseModel):
    """One tier: from this share of RI beneficiaries with a PIIS (inclusive), this rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_share_percent: float = Field(
        ge=0, le=100, description="Share of RI beneficiaries with a PIIS, from (inclusive)"
    )
    rate_basis_points: int = Field(
        ge=0, le=10000, description="Subsidy rate in 1/100 % of the RI (1250 = 12.5%)"
    )


class SubsidyRateTable(BaseModel):
    """A dated version of the PIIS subsidy rate (R-SUB-17): in force for months from ``valid_from``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid_from: date = Field(
        description="First month the table applies to (calendar years from then on)"
    )
    status: Literal["announced", "adopted", "in force"] = Field(
        description="'announced' until the implementing decree confirms the tiers"
    )
    tiers: tuple[RateTier, ...] = Field(min_length=1, description="Highest share first")
    sources: tuple[str, ...] = Field(
        min_length=1, description="Where the tiers come from (cited in docs/rules.md)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> SubsidyRateTable:
        shares = [t.min_share_percent for t in self.tiers]
        if shares != sorted(shares, reverse=True) or len(set(shares)) != len(shares):
            raise ValueError("tiers must be listed from the highest share down, each share once")
        if shares[-1] != 0:
            raise ValueError(
                "the last tier must start at a share of 0 (every share falls in a tier)"
            )
        return self


SOURCES_2028 = (
    "Council of Ministers, 18 July 2025: reform of unemployment benefits limited in time and compensation of the "
    "CPAS, PIIS subsidy by the share of RI beneficiaries with a PIIS (15% from 80%, 12.5% from 60%, 10% from 40%, "
    "7.5% from 20%, 5% below; a bonus for sustainable employment after a PIIS)",
    "CPAS compensation law (raised federal share of the RI for the excluded unemployed; PIIS subsidy per calendar "
    "year from 2028-01-01), adopted by the Chamber on 13-14 November 2025",
)

TABLE_2028 = SubsidyRateTable(
    valid_from=date(2028, 1, 1),
    status="announced",
    tiers=(
        RateTier(min_share_percent=80, rate_basis_points=1500),
        RateTier(min_share_percent=60, rate_basis_points=1250),
        RateTier(min_share_percent=40, rate_basis_points=1000),
        RateTier(min_share_percent=20, rate_basis_points=750),
        RateTier(min_share_percent=0, rate_basis_points=500),
    ),
    sources=SOURCES_2028,
)


def table_for(tables: tuple[SubsidyRateTable, ...], day: date) -> SubsidyRateTable | None:
    """The table in force on *day* (the latest ``valid_from`` on or before it), or None: the flat rate."""
    chosen = None
    for t in tables:
        if t.valid_from <= day and (chosen is None or t.valid_from > chosen.valid_from):
            chosen = t
    return chosen


def rate_for_share(
    table: SubsidyRateTable, share_percent: float
) -> tuple[int, RateTier, RateTier | None]:
    """(rate in basis points, the tier the share falls in, the next tier up or None at the top)."""
    above = None
    for tier in table.tiers:
        if share_percent >= tier.min_share_percent:
            return tier.rate_basis_points, tier, above
        above = tier
    raise AssertionError("the last tier starts at 0")  # guaranteed by SubsidyRateTable._ordered
