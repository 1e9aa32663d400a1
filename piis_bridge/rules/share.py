"""The per-CPAS PIIS share and its subsidy tier (R-SUB-17, the law of 2026-2028): how many of the CPAS's RI
beneficiaries have a PIIS in a calendar year, the tier that share falls in, how many more PIIS would reach
the next tier, and what that changes in the subsidy.

Why counts are an input: the share's denominator is every RI beneficiary of the CPAS, which the contract
files alone do not hold (a person on the RI without any PIIS record is not in them).  The counts come from
the caller (``rules share --beneficiaries N --with-piis M``: forms B and the monthly statement, or a
plugin), or from contract files with :func:`counts_from_contracts` (an upper bound of the share unless the
files list every RI beneficiary).  The pipeline's database is not read here: a reader of its tables can
build a :class:`ShareCounts` and call :func:`project_share`, nothing else needs to change.

[ASSUMPTION] until the implementing decree: the share of a year is persons with a PIIS in force on at least
one day of the year among persons with RI on at least one day of it ("so far": up to the reference day).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from piis_bridge.model import PIISContract
from piis_bridge.rules.rate_tables import rate_for_share, table_for
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings

__all__ = [
    "SHARE_FORMAT",
    "ShareCounts",
    "ShareProjection",
    "counts_from_contracts",
    "project_share",
]

SHARE_FORMAT = "piis-bridge/piis-share"


@dataclass(frozen=True)
class ShareCounts:
    """What the share of one CPAS in one calendar year is computed from (no personal data: counts only)."""

    cpas_ins: str
    year: int
    ri_beneficiaries: int
    with_piis: int
    piis_ri_base_cents: int | None = (
        None  # RI of the subsidised months of the PIIS beneficiaries that year
    )
    source: str = "given"

    def __post_init__(self) -> None:
        if self.ri_beneficiaries < 0 or self.with_piis < 0:
            raise ValueError("counts are never negative")
        if self.with_piis > self.ri_beneficiaries:
            raise ValueError(
                f"with_piis ({self.with_piis}) is more than ri_beneficiaries ({self.ri_beneficiaries})"
            )


@dataclass(frozen=True)
class ShareProjection:
    cpas_ins: str
    year: int
    source: str
    ri_beneficiaries: int
    with_piis: int
    share_percent: float | None  # None without any RI beneficiary
    regime: str  # "flat" (no rate table that year) or the table's status ("announced", "adopted", "in force")
    rate_percent: float
    tier_from_percent: float | None
    next_tier_from_percent: float | None
    next_rate_percent: float | None
    more_piis_needed: int | None  # to reach the next tier with the same number of RI beneficiaries
    subsidy_cents: int | None
    subsidy_next_tier_cents: int | None
    difference_cents: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _in_force(contract: PIISContract) -> tuple[date, date] | None:
    signed = contract.signed_date
    if signed is None:
        return None
    end = contract.end_date
    if contract.termination is not None:
        end = min(end, contract.termination.ended_on)
    return max(signed, contract.start_date), end


def counts_from_contracts(
    contracts: Iterable[PIISContract],
    cpas_ins: str,
    year: int,
    *,
    on: date | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> ShareCounts:
    """Counts of one CPAS's year (up to *on* when it falls in that year) from canonical contracts: a person
    (keyed by NISS internally, never output) is an RI beneficiary when a decision's RI runs on a day of the
    period, and has a PIIS when a signed contract is in force on a day of it."""
    from piis_bridge.rules.subsidies import subsidy_plan

    first = date(year, 1, 1)
    last = date(year, 12, 31)
    if on is not None and first <= on < last:
        last = on
    on_ri: set[str] = set()
    with_piis: set[str] = set()
    base = 0
    for c in contracts:
        if c.cpas.ins_code != cpas_ins:
            continue
        d = c.decision
        key = c.beneficiary.niss
        if d.ri_start_date <= last and (d.ri_end_date is None or d.ri_end_date >= first):
            on_ri.add(key)
        span = _in_force(c)
        if span is not None and span[0] <= last and span[1] >= first:
            with_piis.add(key)
            on_ri.add(key)
            for m in subsidy_plan(c, settings).months:
                if first <= m.month <= last and m.subsidy_cents:
                    base += m.ri_amount_cents
    return ShareCounts(cpas_ins, year, len(on_ri), len(with_piis), base, source="contract files")


def project_share(
    counts: ShareCounts, settings: RuleSettings = DEFAULT_SETTINGS
) -> ShareProjection:
    """The tier of the counts' year and what the next tier needs and brings (R-SUB-17)."""
    n, m = counts.ri_beneficiaries, counts.with_piis
    share = None if n == 0 else float(Fraction(m * 100, n))
    table = table_for(settings.subsidy_rate_tables, date(counts.year, 1, 1))
    base = counts.piis_ri_base_cents
    if table is None or share is None:
        bp = settings.subsidy_rate_percent * 100
        subsidy = None if base is None else (base * bp + 5000) // 10000
        return ShareProjection(
            counts.cpas_ins,
            counts.year,
            counts.source,
            n,
            m,
            share,
            "flat" if table is None else table.status,
            bp / 100,
            None,
            None,
            None,
            None,
            subsidy,
            None,
            None,
        )
    bp, tier, above = rate_for_share(table, share)
    more = next_bp = subsidy = subsidy_next = difference = None
    if base is not None:
        subsidy = (base * bp + 5000) // 10000
    if above is not None:
        next_bp = above.rate_basis_points
        needed = math.ceil(Fraction(str(above.min_share_percent)) * n / 100) - m
        more = max(needed, 0)
        if base is not None and m:
            grown = base + base * more // m  # the new PIIS at the average base of the current ones
            subsidy_next = (grown * next_bp + 5000) // 10000
            difference = subsidy_next - (subsidy or 0)
    return ShareProjection(
        counts.cpas_ins,
        counts.year,
        counts.source,
        n,
        m,
        share,
        table.status,
        bp / 100,
        tier.min_share_percent,
        above.min_share_percent if above else None,
        next_bp / 100 if next_bp is not None else None,
        more,
        subsidy,
        subsidy_next,
        difference,
    )
