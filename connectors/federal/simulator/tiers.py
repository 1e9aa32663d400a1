"""The CPAS subsidy tier of each year (federal.md 5.5, 10.5.13): 55 / 65 / 70 % of the RI granted.

The rule [DOC S11, S11b]: the tier of year Y follows the CPAS's average number of beneficiaries per month in
the penultimate year (Y-2): 65 % from 500, 70 % from 1,000.  Entering a higher tier needs the threshold
crossed *and* 5 % more beneficiaries than the year before (Y-3); falling under a threshold lowers the rate by
1 point a year until the lower tier is reached, except when the number of beneficiaries fell by less than
3 %, which keeps the rate of the year before.

[PROP] where the sources are silent: a rate on its way down that meets its threshold again climbs back only
with the same +5 %; without the figure of the year before (Y-3) the threshold alone decides.  The result is
the CPAS's dated table of rates (one row per year from 1 January), which is what a form's percentage and
each line of a monthly statement read for their reference month.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["TIERS", "tier_for", "yearly_rates"]

# (minimum average beneficiaries per month in the penultimate year, rate in hundredths of a percent)
TIERS = ((1000, 7000), (500, 6500), (0, 5500))
_STEP_DOWN = 100  # one point a year
_ENTRY_GROWTH = 1.05
_KEEP_IF_DROP_UNDER = 0.97


def tier_for(average: float) -> int:
    return next(rate for minimum, rate in TIERS if average >= minimum)


def yearly_rates(averages: Mapping[int, float], start_rate: int) -> dict[int, int]:
    """The rate of every year the averages decide (Y such that the average of Y-2 is known), in order,
    starting from ``start_rate``, the rate of the year before the first of them."""
    if not averages:
        return {}
    first, last = min(averages) + 2, max(averages) + 2
    rates: dict[int, int] = {}
    previous = start_rate
    for year in range(first, last + 1):
        now, before = averages.get(year - 2), averages.get(year - 3)
        rate = previous
        if now is not None:
            target = tier_for(now)
            if target > previous:
                if before is None or now >= before * _ENTRY_GROWTH:
                    rate = target
            elif target < previous and (before is None or now < before * _KEEP_IF_DROP_UNDER):
                rate = max(target, previous - _STEP_DOWN)
        rates[year] = previous = rate
    return rates
