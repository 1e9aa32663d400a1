"""The federal 10% subsidy (R-SUB, rules.md 2.12): which subsidy a contract opens or continues, and its
month-by-month schedule with amounts in cents.

Money: integer euro cents.  The subsidy of a month is ``subsidy_rate_percent`` % of the RI granted that
month, **rounded half up to the cent** (``(ri_cents * rate + 50) // 100``): EUR 876.13 -> EUR 87.61,
EUR 876.15 -> EUR 87.62 (87.615 rounds up).  The seeds give no rounding rule; half-up is the usual
Belgian public-accounting convention and is easy to reproduce by hand.

Months (D6, Q-10): a month counts if a PIIS is in force on at least one day of it
(``q10_partial_month_counts``) **and** the project actually runs (``RIMonth.project_running``,
R-SUB-11) **and** RI was granted for it.  Windows: FIRST, PROLONGATION and SECOND_CHANCE last
``subsidy_max_months`` (12) calendar months from their window start; STUDIES lasts as long as the
studies PIIS.  A new FIRST or STUDIES window starts on the first day of the month of signature, if the
person had RI on the signature date (``q10_ri_checked_on_signature``).  PROLONGATION and SECOND_CHANCE
are never opened automatically: they need a motivated decision and a social-inquiry report, recorded
as a ``SubsidyEntitlement`` in ``subsidy_history``.

Person-level limits (R-SUB-04): at most ``lifetime_subsidies_max`` (3) subsidies in a lifetime, and
STUDIES and SECOND_CHANCE exclude each other for the whole lifetime (C-08).  The narrower reading of
002 L482 ("studies never *followed* by second chance") is available as the local setting
``settings.local["c08_studies_second_chance_exclusive"] = False``.

Couples on the category-3 rate (R-SUB-12): the subsidy is never doubled; :func:`subsidy_plans` over both
partners' contracts keeps one claim per month (the contract with the smaller id) and excludes the other.
One contract alone (``evaluate``) applies it through ``partner_contract``: when the partner's PIIS has the
smaller id, the months it covers are excluded here (without the partner's schedule, any month it covers).

What the model cannot say: whether another PIIS of the same person covers a month (validations work per
contract; a month covered only by another contract shows as "not covered by this PIIS").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.i18n import N_, Msg
from piis_bridge.model import (
    IncomeKind,
    PIISContract,
    RICategory,
    RIMonth,
    SubsidyEntitlement,
    SubsidyType,
)
from piis_bridge.rules._deadline_math import (
    add_months,
    month_from_index,
    month_index,
    month_span,
    one_day,
)
from piis_bridge.rules.calendar import age_on
from piis_bridge.rules.context import signed_on
from piis_bridge.rules.rate_tables import SubsidyRateTable, rate_for_share, table_for
from piis_bridge.rules.registry import RuleOptions, RuleSpec, Severity, family
from piis_bridge.rules.report import SubsidyMonthLine, SubsidySchedule, frozen_constructor
from piis_bridge.rules.results import Due, Issue, Result, Section, Subsidy, issue
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings
from piis_bridge.rules.transfers import legal_end_date

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext

__all__ = [
    "ROUNDING",
    "SubsidyMonth",
    "SubsidyPlan",
    "budget_article",
    "remaining_months_after",
    "subsidy_amount",
    "subsidy_issues",
    "subsidy_plan",
    "subsidy_plans",
    "subsidy_window",
]

ROUNDING = "half-up to the cent: (ri_cents * rate_percent + 50) // 100"
C08_SETTING = "c08_studies_second_chance_exclusive"
_BOUNDED = (SubsidyType.FIRST, SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class SubsidyMonth(_Out):
    """One month of the schedule: whether it is subsidised and, if not, why."""

    month: date = Field(description="First day of the month")
    subsidy_type: SubsidyType | None = Field(
        description="The subsidy whose window holds this month"
    )
    covered_by_piis: bool = Field(
        description="This PIIS is in force on at least one day of the month (D6)"
    )
    project_running: bool = Field(description="The project actually ran (R-SUB-11)")
    ri_amount_cents: int = Field(description="RI granted for the month (the base, R-SUB-01)")
    subsidy_cents: int = Field(
        description="10% of the RI, rounded half up to the cent; 0 when excluded"
    )
    excluded_reason: str | None = Field(default=None, description="Why the month is not subsidised")
    # The reason as a template and its values (docs/i18n.md), for the reader's language; left out of
    # the dump so the JSON stays as it is (``excluded_reason`` is its English text).
    excluded_message: Msg | None = Field(default=None, exclude=True)


class SubsidyPlan(_Out):
    """The subsidy a contract opens or continues, month by month."""

    contract_id: str
    type: SubsidyType | None = Field(description="The subsidy in force at the signature month")
    opened_by_this_contract: bool = False
    window_start: date | None = None
    window_end: date | None = Field(
        default=None,
        description="Last day of the window's last month (the day the window "
        "ends, as R-SUB-07's date says)",
    )
    months: tuple[SubsidyMonth, ...] = ()
    total_cents: int = 0
    remaining_months: int | None = Field(
        default=None,
        description="R-SUB-07: months of a window opened by another CPAS left for this CPAS",
    )
    lifetime: tuple[SubsidyType, ...] = Field(
        default=(), description="Subsidies opened for the person, this one included"
    )
    budget_article: str | None = Field(
        default=None, description="Brussels accounting (R-SUB-16): 132 or 133"
    )
    rounding: str = ROUNDING
    notes: tuple[str, ...] = ()
    # ``notes`` as templates and values (docs/i18n.md), left out of the dump like Finding.message_id.
    note_messages: tuple[Msg, ...] = Field(default=(), exclude=True)

    def to_schedule(self) -> SubsidySchedule:
        """The framework's summary (``Report.subsidy``); per-month type and reason stay in the plan."""
        return SubsidySchedule(
            type=self.type,
            window_start=self.window_start,
            window_end=self.window_end,
            months=tuple(
                SubsidyMonthLine(
                    month=m.month,
                    covered_by_piis=m.covered_by_piis,
                    project_running=m.project_running,
                    ri_amount_cents=m.ri_amount_cents,
                    subsidy_cents=m.subsidy_cents,
                )
                for m in self.months
            ),
            total_cents=self.total_cents,
            budget_article=self.budget_article,
            notes=self.notes,
            note_messages=self.note_messages,
        )


@dataclass(slots=True)  # internal, never changed after creation (a fresh one replaces it)
class _Segment:
    type: SubsidyType
    start: int  # month index
    end: int | None  # inclusive month index; None = as long as the studies PIIS
    blocked: Msg | None  # why this window pays nothing (missing decision, lifetime limit...)
    entitlement: SubsidyEntitlement | None  # None: opened by this contract

    def holds(self, index: int) -> bool:
        return self.start <= index and (self.end is None or index <= self.end)


_TYPE_ORDER = {t: i for i, t in enumerate(SubsidyType)}
_LIFETIME_LIMIT = Msg("lifetime limit of subsidies reached (R-SUB-04)")
_STUDIES_EXCLUDED = Msg("a SECOND_CHANCE subsidy was received: STUDIES is excluded (C-08)")
_JSON_TYPE: dict[SubsidyType | None, str | None] = {None: None, **{t: t.value for t in SubsidyType}}


class MonthRow(NamedTuple):
    """One month of a plan as the month walk yields it (:func:`_month_rows`)."""

    month: date  # the first day of the month
    type: SubsidyType | None  # the subsidy whose window holds the month
    covered: bool  # this PIIS is in force in the month (D6, Q-10)
    running: bool  # the project ran (R-SUB-11)
    ri_cents: int
    subsidy_cents: int
    reason: Msg | None  # why the month pays nothing


@dataclass(frozen=True, slots=True)
class _Result:
    """A plan as plain data; :func:`_plan_model`, :func:`_plan_json` and :func:`_schedule` are its forms."""

    contract_id: str
    type: SubsidyType | None
    notes: tuple[Msg, ...]
    minimal: bool = False  # no schedule at all (not signed, or historical regime)
    opened_by_this_contract: bool = False
    window_start: date | None = None
    window_end: date | None = None
    months: tuple[MonthRow, ...] = ()
    total_cents: int = 0
    remaining_months: int | None = None
    lifetime: tuple[SubsidyType, ...] = ()
    budget_article: str | None = None


def _texts(notes: tuple[Msg, ...]) -> tuple[str, ...]:
    return tuple(str(n) for n in notes)


def _plan_model(r: _Result) -> SubsidyPlan:
    """The public model of a plan."""
    if r.minimal:
        return SubsidyPlan(
            contract_id=r.contract_id, type=None, notes=_texts(r.notes), note_messages=r.notes
        )
    return SubsidyPlan(
        contract_id=r.contract_id,
        type=r.type,
        opened_by_this_contract=r.opened_by_this_contract,
        window_start=r.window_start,
        window_end=r.window_end,
        months=tuple(
            SubsidyMonth(
                month=m.month,
                subsidy_type=m.type,
                covered_by_piis=m.covered,
                project_running=m.running,
                ri_amount_cents=m.ri_cents,
                subsidy_cents=m.subsidy_cents,
                excluded_reason=None if m.reason is None else str(m.reason),
                excluded_message=m.reason,
            )
            for m in r.months
        ),
        total_cents=r.total_cents,
        remaining_months=r.remaining_months,
        lifetime=r.lifetime,
        budget_article=r.budget_article,
        notes=_texts(r.notes),
        note_messages=r.notes,
    )


def _plan_json(r: _Result) -> dict[str, Any]:
    """Exactly ``plan_json(_plan_model(r))``, without building the models (the engine writes it into
    every report with a schedule)."""
    json_type = _JSON_TYPE
    return {
        "contract_id": r.contract_id,
        "type": json_type[r.type],
        "opened_by_this_contract": r.opened_by_this_contract,
        "window_start": None if r.window_start is None else r.window_start.isoformat(),
        "window_end": None if r.window_end is None else r.window_end.isoformat(),
        "months": [
            {
                "month": m.month.isoformat(),
                "subsidy_type": json_type[m.type],
                "covered_by_piis": m.covered,
                "project_running": m.running,
                "ri_amount_cents": m.ri_cents,
                "subsidy_cents": m.subsidy_cents,
                "excluded_reason": None if m.reason is None else str(m.reason),
            }
            for m in r.months
        ],
        "total_cents": r.total_cents,
        "remaining_months": r.remaining_months,
        "lifetime": [json_type[t] for t in r.lifetime],
        "budget_article": r.budget_article,
        "rounding": ROUNDING,
        "notes": list(_texts(r.notes)),
    }


_SCHEDULE = frozen_constructor(SubsidySchedule)
_LINE = frozen_constructor(SubsidyMonthLine)


def _schedule(r: _Result) -> SubsidySchedule:
    """Exactly ``_plan_model(r).to_schedule()`` (the report's summary), without validation: the values
    come from the month walk (validating a schedule's lines cost ~25 us per contract)."""
    return _SCHEDULE(
        {
            "type": r.type,
            "window_start": r.window_start,
            "window_end": r.window_end,
            "months": tuple(
                [
                    _LINE(
                        {
                            "month": m.month,
                            "covered_by_piis": m.covered,
                            "project_running": m.running,
                            "ri_amount_cents": m.ri_cents,
                            "subsidy_cents": m.subsidy_cents,
                        }
                    )
                    for m in r.months
                ]
            ),
            "total_cents": r.total_cents,
            "budget_article": r.budget_article,
            "notes": _texts(r.notes),
            "note_messages": r.notes,
        }
    )


def _first_table_index(tables: tuple[SubsidyRateTable, ...]) -> int:
    """The month index of the earliest rate table (*tables* is not empty)."""
    return min(month_index(t.valid_from) for t in tables)


def _month_rate(settings: RuleSettings, month: date, flat: int, rated: dict[int, int]) -> int:
    """R-SUB-17: the rate (basis points) of *month*: the table in force and the CPAS's share of that calendar
    year; the flat rate without a table or without the year's share.  Records the year in *rated*."""
    table = table_for(settings.subsidy_rate_tables, month)
    if table is None:
        return flat
    share = None
    for year, percent in settings.piis_share_percent_by_year:
        if year == month.year:
            share = percent
    bp = flat if share is None else rate_for_share(table, share)[0]
    rated[month.year] = bp
    return bp


def _rate_notes(settings: RuleSettings, rated: dict[int, int], flat: int) -> list[Msg]:
    shares = dict(settings.piis_share_percent_by_year)
    out: list[Msg] = []
    for year in sorted(rated):
        table = table_for(settings.subsidy_rate_tables, date(year, 12, 31))
        status = table.status if table is not None else "announced"
        if year in shares:
            out.append(
                Msg(
                    "{year}: the CPAS's PIIS share is {share:g}%: subsidy rate {rate:g}% "
                    "(R-SUB-17, {status})",
                    year=year,
                    share=shares[year],
                    rate=rated[year] / 100,
                    status=status,
                )
            )
        else:
            out.append(
                Msg(
                    "{year}: the subsidy rate depends on the CPAS's share of RI beneficiaries with a "
                    "PIIS (R-SUB-17, {status}); no share recorded for {year} "
                    "(piis_share_percent_by_year): the flat {flat:g}% is shown",
                    year=year,
                    status=status,
                    flat=flat / 100,
                )
            )
    return out


def subsidy_amount(ri_cents: int, settings: RuleSettings = DEFAULT_SETTINGS) -> int:
    """R-SUB-01: the rate applied to the RI granted, rounded half up to the cent."""
    return _amount(ri_cents, settings.subsidy_rate_percent * 100)


def _amount(ri_cents: int, rate_bp: int) -> int:
    """*ri_cents* at *rate_bp* basis points, rounded half up to the cent (:data:`ROUNDING`)."""
    return (ri_cents * rate_bp + 5000) // 10000


def budget_article(contract: PIISContract, kind: SubsidyType | None) -> str | None:
    """R-SUB-16: Brussels CPAS (INS codes 21xxx) book the subsidy on article 132, or 133 for studies."""
    if kind is None or not contract.cpas.ins_code.startswith("21"):
        return None
    return "133" if kind is SubsidyType.STUDIES else "132"


_UNKNOWN: Any = object()


def _effective_end(
    contract: PIISContract, settings: RuleSettings, moved: date | None = _UNKNOWN
) -> date:
    """The last day the PIIS is in force; *moved*: ``legal_end_date(contract, settings)`` when the
    caller already has it."""
    end = contract.end_date
    if contract.termination is not None:
        end = min(end, contract.termination.ended_on)
    if moved is _UNKNOWN:
        moved = legal_end_date(contract, settings)
    if moved is not None:
        end = min(end, moved)
    return end


def _on_ri(contract: PIISContract, day: date) -> bool:
    dec = contract.decision
    if dec.ri_start_date <= day and (dec.ri_end_date is None or day <= dec.ri_end_date):
        return True
    return any(
        p.kind is IncomeKind.RI
        and p.start_date <= day
        and (p.end_date is None or day <= p.end_date)
        for p in contract.beneficiary.dis_history
    )


def _exclusive(settings: RuleSettings) -> bool:
    return bool(settings.local.get(C08_SETTING, True))


def _window(
    e: SubsidyEntitlement, settings: RuleSettings, contract: PIISContract, end: date
) -> _Segment:
    start = month_index(e.window_start)
    if e.type is SubsidyType.STUDIES:
        return _Segment(
            e.type, start, month_index(end) if contract.is_studies else start - 1, None, e
        )
    blocked = None
    if e.type in (SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE) and (
        not e.social_inquiry_report_ref or not e.motivated_decision_ref
    ):
        blocked = Msg(
            "{type} without a motivated decision and a social-inquiry report in the file",
            type=e.type.value,
        )
    return _Segment(e.type, start, start + settings.subsidy_max_months - 1, blocked, e)


@dataclass(slots=True)
class _Windows:
    """Which windows hold the anchor month (the signature month, or 2016-11 for an older PIIS)."""

    end: date  # the last day the PIIS is in force
    a: int  # the anchor month index
    kinds: set[SubsidyType]  # subsidies received before (subsidy_history)
    segments: list[_Segment]
    holding: list[_Segment]  # the segments holding the anchor month
    main: _Segment | None  # the one that pays at the anchor month (else the first holding it)
    opened: bool  # a new window was opened by this contract
    studies: bool  # a studies PIIS (``contract.is_studies``)


def _check_history(
    cid: str,
    settings: RuleSettings,
    issues: list[Issue],
    history: list[SubsidyEntitlement],
    kinds: set[SubsidyType],
) -> SubsidyEntitlement | None:
    """The person-level checks of a recorded subsidy history (R-SUB-04, C-08, R-SUB-09/10), adding to
    *issues*; returns the FIRST subsidy received, if any."""
    studies_start = second_start = None
    if SubsidyType.STUDIES in kinds and SubsidyType.SECOND_CHANCE in kinds:
        studies_start = min(e.window_start for e in history if e.type is SubsidyType.STUDIES)
        second_start = min(e.window_start for e in history if e.type is SubsidyType.SECOND_CHANCE)
    if studies_start and second_start and (_exclusive(settings) or second_start > studies_start):
        issues.append(
            issue(
                "R-SUB-04",
                N_(
                    "contract {contract}: STUDIES and SECOND_CHANCE are both recorded; a studies "
                    "subsidy is never followed by (nor, C-08, preceded by) a second chance"
                ),
                ("subsidy_history",),
                contract=cid,
            )
        )
    first = next((e for e in history if e.type is SubsidyType.FIRST), None)
    for e in history:
        if e.type in (SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE):
            rid = "R-SUB-09" if e.type is SubsidyType.PROLONGATION else "R-SUB-10"
            if not e.social_inquiry_report_ref or not e.motivated_decision_ref:
                issues.append(
                    issue(
                        rid,
                        N_(
                            "contract {contract}: the {type} subsidy of {window_start} "
                            "lacks the motivated decision or the social-inquiry report kept in the file"
                        ),
                        ("subsidy_history",),
                        contract=cid,
                        type=e.type.value,
                        window_start=e.window_start,
                    )
                )
            if first is None:
                issues.append(
                    issue(
                        rid,
                        N_(
                            "contract {contract}: a {type} subsidy needs a FIRST subsidy received "
                            "before it"
                        ),
                        ("subsidy_history",),
                        contract=cid,
                        type=e.type.value,
                    )
                )
            elif (
                e.type is SubsidyType.PROLONGATION
                and month_index(e.window_start)
                < month_index(first.window_start) + settings.subsidy_max_months
            ):
                issues.append(
                    issue(
                        rid,
                        N_(
                            "contract {contract}: the PROLONGATION starts before the FIRST window "
                            "(opened {window_start}) has elapsed"
                        ),
                        ("subsidy_history",),
                        contract=cid,
                        window_start=first.window_start,
                    )
                )
    return first


def _disqualify_history(
    segments: list[_Segment], kinds: set[SubsidyType], settings: RuleSettings
) -> None:
    """What R-SUB-04 and C-08 declare not due in a recorded history pays nothing (like a PROLONGATION
    without its decision): the subsidies beyond the lifetime limit (counted in the order they were
    opened), the later of STUDIES / SECOND_CHANCE (only a SECOND_CHANCE after STUDIES under the
    narrower reading of C-08), and a PROLONGATION or SECOND_CHANCE with no FIRST received (R-SUB-09/10).  *segments* are the history's windows, in the order of their start."""
    if (
        SubsidyType.FIRST not in kinds
    ):  # R-SUB-09/10: PROLONGATION and SECOND_CHANCE need a FIRST received before
        for i, s in enumerate(segments):
            if (
                s.type in (SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE)
                and s.blocked is None
            ):
                segments[i] = _Segment(
                    s.type,
                    s.start,
                    s.end,
                    Msg("{type} without a FIRST subsidy received before it", type=s.type.value),
                    s.entitlement,
                )
    limit = settings.lifetime_subsidies_max
    if len(kinds) > limit:
        allowed: list[SubsidyType] = []
        for i, s in enumerate(segments):
            if s.type not in allowed and len(allowed) < limit:
                allowed.append(s.type)
            if s.type not in allowed and s.blocked is None:
                segments[i] = _Segment(
                    s.type,
                    s.start,
                    s.end,
                    _LIFETIME_LIMIT,
                    s.entitlement,
                )
    if SubsidyType.STUDIES in kinds and SubsidyType.SECOND_CHANCE in kinds:
        studies = min(s.start for s in segments if s.type is SubsidyType.STUDIES)
        second = min(s.start for s in segments if s.type is SubsidyType.SECOND_CHANCE)
        if second > studies or (_exclusive(settings) and second == studies):
            later = SubsidyType.SECOND_CHANCE
        elif _exclusive(settings):
            later = SubsidyType.STUDIES
        else:
            return
        for i, s in enumerate(segments):
            if s.type is later and s.blocked is None:
                segments[i] = _Segment(
                    s.type,
                    s.start,
                    s.end,
                    Msg("STUDIES and SECOND_CHANCE exclude each other (C-08, R-SUB-04)"),
                    s.entitlement,
                )


def _second_chance_dis(contract: PIISContract, settings: RuleSettings) -> Issue | None:
    """R-SUB-10: a DIS in the 12 months before the RI start of this decision: SECOND_CHANCE not due."""
    back = contract.decision.ri_start_date
    since = add_months(back, -settings.second_chance_gap_months)
    for p in contract.beneficiary.dis_history:
        if (
            p.kind in settings.dis_kinds_for_lookback
            and p.start_date < back
            and (p.end_date is None or p.end_date >= since)
        ):
            return issue(
                "R-SUB-10",
                N_(
                    "contract {contract}: DIS ({kind}) in the "
                    "{second_chance_gap_months} months before the RI of "
                    "{back}; a SECOND_CHANCE needs 12 months without DIS"
                ),
                ("beneficiary.dis_history",),
                contract=contract.contract_id,
                kind=p.kind.value,
                second_chance_gap_months=settings.second_chance_gap_months,
                back=back,
            )
    return None


def _windows(
    contract: PIISContract,
    settings: RuleSettings,
    issues: list[Issue],
    notes: list[Msg],
    signed: date | None,
    moved: date | None = _UNKNOWN,
) -> _Windows | Msg:
    """The subsidy windows of a contract (R-SUB-04, 06..10), adding to *issues* and *notes*; a message
    (the only note) when there is no schedule at all.  *signed* is ``contract.signed_date``."""
    cid = contract.contract_id
    if signed is None:
        return Msg("not signed: no PIIS exists yet, no subsidy (R-SUB-06)")
    end = _effective_end(contract, settings, moved)
    anchor = signed
    if signed < settings.reform_date:
        if end < settings.reform_date:
            return Msg(
                "ended before 2016-11-01: historical subsidy regime (R-SUB-15), not computed"
            )
        anchor = settings.reform_date
        notes.append(
            Msg(
                "PIIS running on 2016-11-01: subsidy due from that date under the 2016 rules "
                "(R-SUB-14)"
            )
        )
    history = (
        sorted(contract.subsidy_history, key=lambda e: e.window_start)
        if contract.subsidy_history
        else []
    )
    if history and not settings.q19_keep_window_after_reimbursement:
        kept = [e for e in history if e.reimbursed_on is None]
        for e in history:
            if e.reimbursed_on is not None:
                notes.append(
                    Msg(
                        "the {type} subsidy of {window_start} was reimbursed on {reimbursed_on} "
                        "(R-SUB-13): counted as never received (Q-19)",
                        type=e.type.value,
                        window_start=e.window_start,
                        reimbursed_on=e.reimbursed_on,
                    )
                )
        history = kept
    kinds = {e.type for e in history} if history else set()

    # Person-level limits over the history (R-SUB-04, C-08).
    if len(kinds) > settings.lifetime_subsidies_max:
        issues.append(
            issue(
                "R-SUB-04",
                N_(
                    "contract {contract}: the person has {count} different subsidies "
                    "recorded; at most {lifetime_subsidies_max} in a lifetime"
                ),
                ("subsidy_history",),
                contract=cid,
                count=len(kinds),
                lifetime_subsidies_max=settings.lifetime_subsidies_max,
            )
        )
    if history:
        first = _check_history(cid, settings, issues, history, kinds)
        segments = [_window(e, settings, contract, end) for e in history]
        _disqualify_history(segments, kinds, settings)
    else:  # most contracts: nothing received before
        first, segments = None, []
    a = month_index(anchor)
    age = age_on(contract.beneficiary.birth_date, signed)
    studies = contract.is_studies
    studies_ok = studies and age < settings.age_threshold
    if studies and not studies_ok:
        notes.append(
            Msg(
                "studies PIIS concluded at age {age}: the STUDIES subsidy needs under "
                "{age_threshold} at conclusion (R-OBL-12, R-SUB-08)",
                age=age,
                age_threshold=settings.age_threshold,
            )
        )
    usable = [s for s in segments if s.blocked is None and s.holds(a)] if segments else []
    opened = False
    if not usable:
        new: _Segment | None = None
        if studies_ok and SubsidyType.STUDIES not in kinds:
            new = _Segment(SubsidyType.STUDIES, a, month_index(end), None, None)
            if SubsidyType.SECOND_CHANCE in kinds and _exclusive(settings):
                new = _Segment(
                    SubsidyType.STUDIES,
                    a,
                    month_index(end),
                    _STUDIES_EXCLUDED,
                    None,
                )
                issues.append(
                    issue(
                        "R-SUB-08",
                        N_(
                            "contract {contract}: no STUDIES subsidy: the person already received "
                            "a SECOND_CHANCE subsidy (C-08)"
                        ),
                        ("subsidy_history",),
                        contract=cid,
                    )
                )
        elif first is None:
            new = _Segment(SubsidyType.FIRST, a, a + settings.subsidy_max_months - 1, None, None)
        elif not any(s.holds(a) for s in segments):
            last = max(
                (s for s in segments if s.type in _BOUNDED), key=lambda s: s.end or 0, default=None
            )
            ended = (
                month_from_index(last.end).isoformat()[:7] if last and last.end is not None else "?"
            )
            notes.append(
                Msg(
                    "the last subsidy window ended in {ended}: a PROLONGATION (R-SUB-09) or "
                    "SECOND_CHANCE (R-SUB-10) needs a motivated decision and a social-inquiry report "
                    "recorded in subsidy_history",
                    ended=ended,
                )
            )
        if new is not None:
            opened = True
            rid = "R-SUB-08" if new.type is SubsidyType.STUDIES else "R-SUB-06"
            checked_on = anchor
            if (
                settings.q10_ri_checked_on_signature
                and not _on_ri(contract, checked_on)
                and new.blocked is None
            ):
                new = _Segment(
                    new.type,
                    new.start,
                    new.end,
                    Msg("no RI on {day}, the date the window would open", day=checked_on),
                    None,
                )
                issues.append(
                    issue(
                        rid,
                        N_(
                            "contract {contract}: the person had no RI on {checked_on}; the "
                            "{type} subsidy cannot start in that month"
                        ),
                        ("decision.ri_start_date",),
                        contract=cid,
                        checked_on=checked_on,
                        type=new.type.value,
                    )
                )
            if (
                new.type not in kinds
                and len(kinds) + 1 > settings.lifetime_subsidies_max
                and new.blocked is None
            ):
                new = _Segment(
                    new.type,
                    new.start,
                    new.end,
                    _LIFETIME_LIMIT,
                    None,
                )
                issues.append(
                    issue(
                        "R-SUB-04",
                        N_(
                            "contract {contract}: a {type} subsidy would be the person's "
                            "{count}th; at most {lifetime_subsidies_max}"
                        ),
                        ("subsidy_history",),
                        contract=cid,
                        type=new.type.value,
                        count=len(kinds) + 1,
                        lifetime_subsidies_max=settings.lifetime_subsidies_max,
                    )
                )
            segments.append(new)
    elif studies_ok and not any(s.type is SubsidyType.STUDIES for s in segments):
        # A studies PIIS concluded during a running FIRST/PROLONGATION window: STUDIES may follow it
        # (R-SUB-08, "before or after FIRST") for the rest of the studies PIIS.
        follow = max(s.end for s in usable if s.end is not None) + 1
        if follow <= month_index(end):
            blocked = None
            if SubsidyType.SECOND_CHANCE in kinds and _exclusive(settings):
                blocked = _STUDIES_EXCLUDED
            elif len(kinds) + 1 > settings.lifetime_subsidies_max:
                blocked = _LIFETIME_LIMIT
            segments.append(_Segment(SubsidyType.STUDIES, follow, month_index(end), blocked, None))
            notes.append(
                Msg(
                    "STUDIES follows the running {type} window from {month} (R-SUB-08)",
                    type=usable[0].type.value,
                    month=month_from_index(follow).isoformat()[:7],
                )
            )
    holding = [s for s in segments if s.start <= a and (s.end is None or a <= s.end)]  # s.holds(a)
    main = (
        holding[0] if holding else None
    )  # the first holding segment that pays, else the first one
    for s in holding:
        if s.blocked is None:
            main = s
            break
    if main is not None and main.type is SubsidyType.SECOND_CHANCE and main.blocked is None:
        # R-SUB-10: a DIS in the 12 months before the RI of this decision: the SECOND_CHANCE is not due,
        # its months pay nothing (checked when a SECOND_CHANCE applies here).
        dis = _second_chance_dis(contract, settings)
        if dis is not None:
            issues.append(dis)
            why = Msg(
                "DIS in the {months} months before the RI (R-SUB-10)",
                months=settings.second_chance_gap_months,
            )
            for i, s in enumerate(segments):
                if s.type is SubsidyType.SECOND_CHANCE and s.blocked is None:
                    segments[i] = _Segment(s.type, s.start, s.end, why, s.entitlement)
            holding = [s for s in segments if s.start <= a and (s.end is None or a <= s.end)]
            main = holding[0] if holding else None
            for s in holding:
                if s.blocked is None:
                    main = s
                    break
    return _Windows(end, a, kinds, segments, holding, main, opened, studies)


@dataclass(frozen=True, slots=True)
class _Walk:
    """What the month walk needs besides the windows: its months, the months the partner's contract
    claims (R-SUB-12) and the per-month RI (records, or the decision's amount for its period)."""

    first: int  # month index of the first month (the anchor)
    stop: int  # month index after the last month
    shared_from: int
    shared_to: int
    shared_reason: Msg | None
    by_month: dict[date, RIMonth]  # empty: the decision's RI is used


def _select(
    contract: PIISContract, settings: RuleSettings, w: _Windows, with_months: bool
) -> tuple[_Walk, list[Msg], list[Due], int | None]:
    """Window selection, after :func:`_windows`: the notes and dates of the chosen window (R-SUB-07,
    R-SUB-12) and the span of the month walk."""
    notes: list[Msg] = []
    dues: list[Due] = []
    main, a = w.main, w.a
    remaining = None
    if (
        main is not None
        and main.entitlement is not None
        and main.end is not None
        and main.entitlement.cpas_ins != contract.cpas.ins_code
    ):
        remaining = max(0, main.end - a + 1)
        notes.append(
            Msg(
                "window opened by CPAS {cpas} on {window_start}: this CPAS receives only the "
                "remaining {remaining} month(s) (R-SUB-07)",
                cpas=main.entitlement.cpas_ins,
                window_start=main.entitlement.window_start,
                remaining=remaining,
            )
        )
    if main is not None and main.end is not None:  # the window's last day
        dues.append(
            Due(
                "R-SUB-07" if main.type is not SubsidyType.STUDIES else "R-SUB-08",
                f"{main.type.value} subsidy window ends",
                month_span(main.end)[1],
                ("subsidy_history",),
                None,
                False,
            )
        )
    shared_from, shared_to, shared_reason = -1, -2, None  # R-SUB-12: the partner's months
    if (
        contract.partner is not None
        and contract.decision.ri_category is RICategory.FAMILY_IN_CHARGE
    ):
        notes.append(
            Msg(
                "couple on the category-3 rate: the subsidy is computed on the category-3 amount "
                "and never doubled (R-SUB-12)"
            )
        )
        other = contract.partner_contract
        if other is not None and other.contract_id < contract.contract_id:
            shared_from, shared_to = month_index(other.start_date), month_index(other.end_date)
            shared_reason = _couple_reason(other.contract_id)
    last = month_index(w.end)
    for s in w.holding:
        if s.end is not None and s.end > last:
            last = s.end
    by_month = {m.month: m for m in contract.ri_months}
    if not by_month:
        notes.append(
            Msg("no monthly RI records: the RI amount of the DIS decision is used for its period")
        )
    stop = max(a, last) + 1 if with_months else a
    return _Walk(a, stop, shared_from, shared_to, shared_reason, by_month), notes, dues, remaining


def _couple_reason(contract_id: str) -> Msg:
    return Msg(
        "couple on category 3: already subsidised on contract {contract} (R-SUB-12, never doubled)",
        contract=contract_id,
    )


_OUTSIDE = Msg("outside any subsidy window")
_NOT_COVERED = Msg("not covered by this PIIS (D6)")
_NO_RI = Msg("no RI granted this month")
_NOT_RUNNING = Msg("project not running this month (R-SUB-11)")


def _month_rows(
    contract: PIISContract,
    settings: RuleSettings,
    w: _Windows,
    walk: _Walk,
    rated: dict[int, int],
) -> Iterator[MonthRow]:
    """The month walk: each month of the schedule with its window, coverage (D6, Q-10), RI, subsidy
    and, when it pays nothing, why.  *rated* receives the rate of each year a rate table governs
    (R-SUB-17), for the plan's notes."""
    start, end = contract.start_date, w.end
    if settings.q10_partial_month_counts:  # in force on at least one day of the month
        cov_from, cov_to = month_index(start), month_index(end)
    else:  # in force on every day of the month
        cov_from = month_index(start) + (start.day != 1)
        cov_to = month_index(end) - ((end + one_day).month == end.month)
    dec = contract.decision
    ri_from = month_index(dec.ri_start_date)
    ri_to = month_index(dec.ri_end_date) if dec.ri_end_date is not None else None
    flat = settings.subsidy_rate_percent * 100  # basis points (R-SUB-17 may change it per year)
    tables = settings.subsidy_rate_tables
    tiered_from = _first_table_index(tables) if tables else None
    # The paying window changes only where a window starts or ends: chosen again there only.
    edges = sorted(
        {s.start for s in w.segments} | {s.end + 1 for s in w.segments if s.end is not None}
    )
    seg, seg_until = None, walk.first
    by_month, monthly = walk.by_month, dec.ri_amount_monthly_cents
    for index in range(walk.first, walk.stop):
        first_day = month_span(index)[0]
        covered = cov_from <= index <= cov_to
        if not by_month:
            in_ri = ri_from <= index and (ri_to is None or index <= ri_to)
            ri, running = (monthly if in_ri else 0), True
        else:
            rec = by_month.get(first_day)
            ri, running = (rec.amount_cents, rec.project_running) if rec else (0, True)
        if index >= seg_until:
            seg = _paying(w, index)
            seg_until = next((e for e in edges if e > index), walk.stop)
        reason: Msg | None
        if seg is None:
            reason = _OUTSIDE
        elif seg.blocked is not None:
            reason = seg.blocked
        elif not covered:
            reason = _NOT_COVERED
        elif ri == 0:
            reason = _NO_RI
        elif not running:
            reason = _NOT_RUNNING
        elif walk.shared_from <= index <= walk.shared_to:
            reason = walk.shared_reason
        else:
            reason = None
        rate = flat
        if tiered_from is not None and index >= tiered_from:
            rate = _month_rate(settings, first_day, flat, rated)
        cents = 0 if reason else _amount(ri, rate)
        yield MonthRow(first_day, seg.type if seg else None, covered, running, ri, cents, reason)


def _paying(w: _Windows, index: int) -> _Segment | None:
    """The window that pays month *index*: the first holding it that is not blocked (a studies PIIS:
    STUDIES first), else the first holding it; None outside every window."""
    here = [s for s in w.segments if s.holds(index)]
    if w.studies and len(here) > 1:
        here.sort(key=lambda s: s.type is not SubsidyType.STUDIES)
    return next((s for s in here if s.blocked is None), here[0] if here else None)


def _compute(
    contract: PIISContract,
    settings: RuleSettings,
    with_months: bool = True,
    signed: date | None = _UNKNOWN,
) -> tuple[_Result, list[Issue], list[Due]]:
    """The plan as plain data, its issues and its dates; *signed*: ``contract.signed_date`` if known.
    Window selection (:func:`_windows`, :func:`_select`), then the month walk (:func:`_month_rows`)."""
    cid = contract.contract_id
    issues: list[Issue] = []
    notes: list[Msg] = []
    w = _windows(
        contract, settings, issues, notes, contract.signed_date if signed is _UNKNOWN else signed
    )
    if isinstance(w, Msg):
        return _Result(cid, None, (w,), minimal=True), [], []
    walk, more_notes, dues, remaining = _select(contract, settings, w, with_months)
    notes += more_notes
    rated: dict[int, int] = {}  # year -> rate in basis points, for the years under a rate table
    months = tuple(_month_rows(contract, settings, w, walk, rated))
    if rated:
        notes.extend(_rate_notes(settings, rated, settings.subsidy_rate_percent * 100))
    main = w.main
    kind = main.type if main is not None else None
    received = set(w.kinds)  # the history, and the windows this contract opens
    for s in w.segments:
        if s.entitlement is None and s.blocked is None:
            received.add(s.type)
    result = _Result(
        cid,
        kind,
        tuple(notes),
        opened_by_this_contract=w.opened and main is not None and main.entitlement is None,
        window_start=month_span(main.start)[0] if main else None,
        window_end=month_span(main.end)[1] if main and main.end is not None else None,
        months=months,
        total_cents=sum(m.subsidy_cents for m in months),
        remaining_months=remaining,
        lifetime=tuple(sorted(received, key=_TYPE_ORDER.__getitem__)),
        budget_article=budget_article(contract, kind),
    )
    return result, issues, dues


def subsidy_plan(contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS) -> SubsidyPlan:
    """The month-by-month subsidy schedule of one contract."""
    return _plan_model(_compute(contract, settings)[0])


def subsidy_window(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> SubsidyPlan:
    """The plan without its months (type and window only): what the agenda needs, cheaply."""
    return _plan_model(_compute(contract, settings, with_months=False)[0])


def subsidy_window_end(
    contract: PIISContract,
    settings: RuleSettings = DEFAULT_SETTINGS,
    *,
    signed: date | None = _UNKNOWN,
    moved: date | None = _UNKNOWN,
) -> tuple[SubsidyType | None, date | None]:
    """``(plan.type, plan.window_end)`` of :func:`subsidy_window`, computing only the windows: what the
    agenda reads for every contract every morning.  *signed* and *moved* (``contract.signed_date`` and
    ``transfers.legal_end_date``) may be passed when the caller has them already."""
    if signed is _UNKNOWN:
        signed = contract.signed_date
    if signed is not None and not contract.subsidy_history and settings.subsidy_max_months >= 1:
        # Without a subsidy history, _windows opens one window at the anchor month and reports it,
        # blocked or not: STUDIES to the PIIS's last month for a studies PIIS signed under 25 (none
        # when that month is before the anchor month), else FIRST for subsidy_max_months months.
        end = _effective_end(contract, settings, moved)
        anchor = signed
        if signed < settings.reform_date:
            if end < settings.reform_date:
                return None, None
            anchor = settings.reform_date
        a = month_index(anchor)
        if (
            contract.is_studies
            and age_on(contract.beneficiary.birth_date, signed) < settings.age_threshold
        ):
            last = month_index(end)
            return (SubsidyType.STUDIES, month_span(last)[1]) if last >= a else (None, None)
        return SubsidyType.FIRST, month_span(a + settings.subsidy_max_months - 1)[1]
    w = _windows(contract, settings, [], [], signed, moved)
    if isinstance(w, Msg) or w.main is None:
        return None, None
    return w.main.type, None if w.main.end is None else month_span(w.main.end)[1]


def subsidy_issues(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> list[Issue]:
    return _compute(contract, settings)[1]


def remaining_months_after(
    contract: PIISContract, day: date, settings: RuleSettings = DEFAULT_SETTINGS
) -> int | None:
    """R-SUB-07: whole months left in the running 12-month window after the month of *day* (what a new
    CPAS may still receive after a move on *day*); None when no bounded window runs then."""
    # The window only, as plain data: the type and window of subsidy_plan() without the month walk
    # nor the validated month models (as subsidy_window); the transfer section asks this of every
    # contract with a move (R-TRF-07), ~1.4% of the nightly process stage's Python (py-spy).
    plan = _compute(contract, settings, with_months=False)[0]
    if plan.type not in _BOUNDED or plan.window_start is None or plan.window_end is None:
        return None
    index = month_index(day)
    if not month_index(plan.window_start) <= index <= month_index(plan.window_end):
        return None
    return month_index(plan.window_end) - index


def subsidy_plans(
    contracts: Iterable[PIISContract], settings: RuleSettings = DEFAULT_SETTINGS
) -> Iterator[SubsidyPlan]:
    """Plans for many contracts, with R-SUB-12 applied across partners on the category-3 rate.

    Couples are matched on the unordered pair of NISS numbers (used only as a key, never output).  In
    a month both partners' contracts would claim, the contract with the smaller id keeps the subsidy.
    """
    plans: list[tuple[PIISContract, SubsidyPlan]] = [
        (c, subsidy_plan(c, settings)) for c in contracts
    ]
    claimed: dict[tuple[frozenset[str], date], str] = {}
    for contract, plan in sorted(plans, key=lambda pair: pair[0].contract_id):
        if (
            contract.partner is None
            or contract.decision.ri_category is not RICategory.FAMILY_IN_CHARGE
        ):
            continue
        couple = frozenset({contract.beneficiary.niss, contract.partner.niss})
        changed = []
        for m in plan.months:
            key = (couple, m.month)
            if m.subsidy_cents and key in claimed:
                why = _couple_reason(claimed[key])
                m = m.model_copy(
                    update={
                        "subsidy_cents": 0,
                        "excluded_reason": str(why),
                        "excluded_message": why,
                    }
                )
            elif m.subsidy_cents:
                claimed[key] = contract.contract_id
            changed.append(m)
        index = next(i for i, (c, _) in enumerate(plans) if c is contract)
        plans[index] = (
            contract,
            plan.model_copy(
                update={
                    "months": tuple(changed),
                    "total_cents": sum(m.subsidy_cents for m in changed),
                }
            ),
        )
    for _, plan in plans:
        yield plan


def plan_json(plan: SubsidyPlan) -> dict[str, Any]:
    """The stable JSON form of a plan (docs/rules-more.md, "rules subsidy --json")."""
    return plan.model_dump(mode="json")


# --- registration (rules.md 2.12) ---------------------------------------------------------


def _signed(contract: PIISContract) -> bool:
    return signed_on(contract) is not None


def _subsidy_results(ctx: RuleContext) -> Iterator[Result]:
    """The R-SUB family's one computation: the plan's issues and dates; R-SUB-01 carries the schedule
    into the report (``Report.subsidy`` and ``sections["subsidy_plan"]``)."""
    result, issues, dues = _compute(ctx.contract, ctx.settings, signed=ctx.signed_date)
    yield from issues
    yield from dues
    yield Subsidy("R-SUB-01", _schedule(result))
    yield Section("R-SUB-01", "subsidy_plan", _plan_json(result))


def _end_date(contract: PIISContract) -> date:
    return contract.end_date


_SUB = RuleOptions(applies=_signed, valid_from=date(2016, 11, 1), fact_date=_end_date)

SUBSIDY_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-SUB-01",
        title="Special subsidy: 10% of the RI granted",
        severity=Severity.LEGAL,
        citation="[002 L438, L452]",
        doc=f"""
    Builds the month-by-month schedule (``Report.subsidy`` and, with each month's subsidy type and
    exclusion reason, ``Report.sections["subsidy_plan"]``).  Rounding: {ROUNDING}.
    """,
        parameters=(
            "subsidy_rate_percent",
            "q10_partial_month_counts",
            "q19_keep_window_after_reimbursement",
        ),
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-02",
        title="Four subsidy types",
        severity=Severity.LEGAL,
        citation="[002 L438-446]",
        doc="""
    FIRST, STUDIES, PROLONGATION, SECOND_CHANCE (``SubsidyType``); chosen by R-SUB-06..10.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-03",
        title="Due whether the PIIS is mandatory or optional",
        severity=Severity.LEGAL,
        citation="[002 L450, L465, L502]",
        doc="""
    The schedule never reads the obligation assessment (R-OBL-10).
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-04",
        title="At most 3 subsidies in a lifetime; STUDIES and SECOND_CHANCE exclusive",
        severity=Severity.LEGAL,
        citation="[002 L448, L790, L516]",
        doc="""
    Counts the distinct subsidies in ``subsidy_history`` plus the one this contract would open.  STUDIES
    and SECOND_CHANCE exclude each other over the lifetime (C-08); ``local["c08_studies_second_chance_exclusive"]
    = False`` keeps only "studies never followed by second chance".  A subsidy these limits exclude is not
    due: its months stay in the schedule with their reason and pay nothing (the subsidies beyond the limit
    in the order they were opened; the later of STUDIES and SECOND_CHANCE).
    """,
        parameters=("lifetime_subsidies_max",),
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-05",
        title="The PIIS duration follows the project",
        severity=Severity.LEGAL,
        citation="[002 L454, L614]",
        doc="""
    The schedule never shortens or lengthens the contract; months outside the window are simply unpaid.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-06",
        title="FIRST: 12 months from the month of signature, if on RI that day",
        severity=Severity.LEGAL,
        citation="[002 L456-465]",
        doc="""
    Opened when no FIRST subsidy was ever received.  Flags a signature on a day without RI.
    """,
        parameters=("subsidy_max_months", "q10_ri_checked_on_signature"),
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-07",
        title="A new CPAS receives only the remaining months",
        severity=Severity.LEGAL,
        citation="[002 L467, L504]",
        doc="""
    A FIRST or PROLONGATION window opened by another CPAS keeps running; the schedule notes the remaining
    months and the window's end date.
    """,
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-08",
        title="STUDIES: under 25 at conclusion, for the whole studies PIIS",
        severity=Severity.LEGAL,
        citation="[002 L480-486]",
        doc="""
    Age on the signature date (D5, Q-03).  Never together with SECOND_CHANCE (C-08).
    """,
        parameters=("age_threshold",),
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-09",
        title="PROLONGATION: after FIRST, with a motivated decision and a report",
        severity=Severity.LEGAL,
        citation="[002 L488-506, L637-643]",
        doc="""
    Recorded in ``subsidy_history`` with the social-inquiry report and motivated decision references;
    starts after the FIRST window (Q-10: the month after FIRST ends).
    """,
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-10",
        title="SECOND_CHANCE: after FIRST, 12 months without DIS, decision and report",
        severity=Severity.LEGAL,
        citation="[002 L508-526]",
        doc="""
    No DIS (``dis_kinds_for_lookback``) in the 12 months before the RI start of this decision; otherwise the
    SECOND_CHANCE is not due and its months pay nothing.  A PROLONGATION or SECOND_CHANCE with no FIRST
    received, or without its decision and report, pays nothing either.
    """,
        parameters=("second_chance_gap_months",),
        **_SUB,
    ),
    RuleSpec(
        "R-SUB-11",
        title="Only months in which the project runs",
        severity=Severity.LEGAL,
        citation="[002 L645-647]",
        doc="""
    A month whose ``RIMonth.project_running`` is false is excluded from the schedule with its reason.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-12",
        title="Couples on category 3: never doubled",
        severity=Severity.LEGAL,
        citation="[002 L649-654]",
        doc="""
    ``subsidy_plans`` over both partners' contracts keeps one claim per month (the smaller contract id).
    ``evaluate()`` of one contract applies it when the partner's PIIS is recorded (``partner_contract``):
    if its id is the smaller, the months it covers pay nothing here, with the reason, in the schedule.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-13",
        title="Non-compliant PIIS: subsidies reimbursed",
        severity=Severity.LEGAL,
        citation="[002 L530]",
        doc="""
    Inspection (R-INS) reports the failing items and the amount at risk; the reimbursement itself is not
    computed.  A reimbursed subsidy is recorded with ``SubsidyEntitlement.reimbursed_on``: by Q-19
    (``q19_keep_window_after_reimbursement``, default) its window stays anchored and counts toward the
    lifetime limit; otherwise it counts as never received.  A compliant replacement contract
    (``previous_contract``, REPLACES_NON_COMPLIANT) ends the reimbursement: its own months are not at risk
    for the first contract's failures (I-02 is judged on the first contract).
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-14",
        title="PIIS running on 2016-11-01: due from that date",
        severity=Severity.LEGAL,
        citation="[002 L580-582]",
        doc="""
    The schedule of a contract signed before the reform starts on 2016-11-01.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-15",
        title="Historical 75% / +10% regimes",
        severity=Severity.HISTORICAL,
        citation="[004 L181-184; 002 L436, L471-479]",
        doc="""
    Abolished on 2016-11-01; contracts ended before then get no schedule.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SUB-17",
        title="From 2028: the PIIS subsidy rate by the CPAS's share of RI beneficiaries with a PIIS "
        "(announced)",
        severity=Severity.LEGAL,
        citation="[Council of Ministers 18 July 2025; CPAS compensation law, Chamber 13-14 Nov 2025] (announced)",
        doc="""
    **Announced** (the law of 2026-2028; the implementing decree may change the tiers): from 2028-01-01 the
    flat 10% (R-SUB-01) is replaced, per calendar year, by a rate set by the share of the CPAS's RI
    beneficiaries who have a PIIS: 15% from 80%, 12.5% from 60%, 10% from 40%, 7.5% from 20%, 5% below
    (``subsidy_rate_tables``, a dated table in configuration with its sources).  Months before 2028 keep
    today's rate.  The share of each year is the CPAS's figure (``piis_share_percent_by_year``, computed by
    ``piis-bridge rules share``); a year without it is shown at the flat rate with a note in the schedule.
    Not modelled yet: the bonus for sustainable employment after a PIIS (its terms are not published).
    Sources: Council of Ministers, 18 July 2025; CPAS compensation law adopted by the Chamber on 13-14
    November 2025.
    """,
        parameters=("subsidy_rate_tables", "piis_share_percent_by_year"),
        applies=_signed,
        valid_from=date(2028, 1, 1),
        fact_date=lambda c: c.end_date,
    ),
    RuleSpec(
        "R-SUB-16",
        title="Brussels budget articles 132 and 133",
        severity=Severity.LEGAL,
        citation="[002 L566-574]",
        doc="""
    ``SubsidyPlan.budget_article``: 133 for STUDIES, 132 otherwise, for CPAS with an INS code 21xxx.
    """,
        automated=False,
    ),
)
family(SUBSIDY_RULES, _subsidy_results)
