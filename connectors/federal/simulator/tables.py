"""Dated tables of the simulated NovaPrima (federal.md 10.1.3: everything time-dependent is a dated table).

Values tagged [DOC] come from federal.md; [PROP] are simulator assumptions, kept here so they can be
corrected in one place when the real SPP IS tables are known.
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "CATEGORIES",
    "DEFAULT_RATE",
    "FULL_RATE",
    "LEGAL_MONTHLY_AMOUNTS",
    "PIIS_BONUS",
    "PIIS_SUBSIDY_CODES",
    "PIIS_VALIDITY",
    "RECOVERY_TYPES",
    "budget_article",
    "legal_amount",
    "piis_code_valid",
    "recovery_type_allowed",
]

# PIIS "demandeur / partenaire" codes and their validity windows [DOC federal.md 2.4]; 0 = no PIIS [PROP].
# Codes 13 and 14 are not documented; treated as valid from 1/11/2016 [PROP].
_REFORM = date(2016, 11, 1)
_ABOLISHED = date(2018, 10, 1)
PIIS_VALIDITY: dict[int, tuple[date | None, date | None]] = {
    0: (None, None),
    **{code: (None, _REFORM) for code in range(1, 8)},  # end is exclusive
    8: (None, None),
    9: (None, None),
    10: (None, None),
    11: (_REFORM, None),
    12: (_REFORM, _ABOLISHED),
    13: (_REFORM, None),
    14: (_REFORM, None),
    15: (_REFORM, _ABOLISHED),
    16: (_REFORM, _ABOLISHED),
}
# Codes that carry the 10 % PIIS subsidy (law of 21 July 2016) [PROP: 8 = no contract, 0 = no PIIS].
PIIS_SUBSIDY_CODES = frozenset({9, 10, 11, 12, 13, 14, 15, 16})
CATEGORIES = frozenset({1, 2, 3})  # [DOC federal.md 2.3]

# Legal monthly RI amounts in cents, by category [DOC federal.md 2.3b]; newest first.
LEGAL_MONTHLY_AMOUNTS: list[tuple[date, dict[int, int]]] = [
    (date(2025, 2, 1), {1: 87613, 2: 131420, 3: 177607}),
    (date(2020, 1, 1), {1: 62674, 2: 94011, 3: 127051}),
    (date(2019, 7, 1), {1: 61915, 2: 92873, 3: 125482}),
    (date(2017, 6, 1), {1: 58982, 2: 88474, 3: 117965}),
    (date(2005, 8, 1), {1: 41707, 2: 62560, 3: 83414}),
]

# Recovery types of form D [DOC federal.md 4.2]: (valid until, exclusive) and whether 100 % applies.
RECOVERY_TYPES: dict[str, tuple[date | None, bool]] = {
    "01": (None, False),
    "04": (date(2014, 7, 1), False),
    "05": (None, True),
    "06": (None, True),
    "08": (None, True),
}

DEFAULT_RATE = 5500  # hundredths of % [DOC federal.md 5.5]
PIIS_BONUS = 1000
FULL_RATE = 10000

# Budget article per percentage [PROP]: 101-103 ordinary tiers, 105/106 100 % regimes [DOC 5.4b];
# the PIIS-increased tiers 131-133 are invented (the real articles are unknown, federal.md 11.8).
_ARTICLES = {5500: "101", 6500: "102", 7000: "103"}


def piis_code_valid(code: int, on: date) -> bool:
    window = PIIS_VALIDITY.get(code)
    if window is None:
        return False
    start, end = window
    return (start is None or on >= start) and (end is None or on < end)


def legal_amount(category: int, on: date) -> int | None:
    for since, amounts in LEGAL_MONTHLY_AMOUNTS:
        if on >= since:
            return amounts.get(category)
    return None


def recovery_type_allowed(code: str, period_start: date) -> bool:
    entry = RECOVERY_TYPES.get(code)
    if entry is None:
        return False
    until, _ = entry
    return until is None or period_start < until


def budget_article(percentage: int, regime: str, piis: bool) -> str:
    if regime == "foreigners":
        return "105"
    if regime == "homeless":
        return "106"
    if piis:
        return {6500: "131", 7500: "132", 8000: "133"}.get(percentage, "139")
    return _ARTICLES.get(percentage, "109")
