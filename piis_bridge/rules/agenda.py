"""The agenda: every upcoming legal date across many contracts between two dates, sorted, each with
the rule behind it -- what a social worker opens every morning.

Why a generator: the nightly job runs it on 100,000 contracts.  :func:`iter_agenda` reads one contract
at a time and yields only the items inside the window; :func:`agenda` sorts the window's items only
(or keeps the first *limit* with a heap), so memory grows with the window, never with the caseload.

The dates come from the same functions the rules use (D1-D4 of rules.md 2.0 through
``piis_bridge.rules.calendar``, the obligation summary of ``obligation.assess_obligations``, and the
sanction, transfer and subsidy computations of part 2), so the agenda never disagrees with
``rules check``.  Only what is still to do (a deadline not met yet) or worth knowing that day (a
sanction's execution starts, a contract ends by law) is listed; deadlines already met are not.
Items name contracts by id, never a person.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Any

from piis_bridge.model import EvaluationMode, ObligationBasis, PIISContract, RequestedBy
from piis_bridge.rules._deadline_math import add_months, one_day
from piis_bridge.rules.calendar import WorkingCalendar, add_calendar_days
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.results import Due
from piis_bridge.rules.sanctions import sanction_dues
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings
from piis_bridge.rules.subsidies import subsidy_window_end
from piis_bridge.rules.transfers import legal_end_date, transfer_dues

__all__ = [
    "AGENDA_FORMAT",
    "AgendaItem",
    "SigningMonth",
    "agenda",
    "agenda_json",
    "contract_dues",
    "iter_agenda",
    "nth_birthday",
    "signing_wave",
]

AGENDA_FORMAT = "piis-bridge/agenda"
_U25 = (ObligationBasis.U25_STUDIES, ObligationBasis.U25_EMPLOYMENT_PROJECT)
_NOT_ON_AGENDA = {"R-SAN-07"}  # the recidivism year end: a limit, not something to do that day


@dataclass(frozen=True, order=True, slots=True)
class AgendaItem:
    """One line of the agenda.  Field order is the sort order: date, contract, rule, label."""

    date: date
    contract_id: str
    rule_id: str
    label: str
    kind: str  # "deadline" (something must happen by that day), "event", or "overdue" (a deadline already missed)
    cpas_ins: str
    citation: str

    def as_dict(self) -> dict[str, str]:
        return {
            "date": self.date.isoformat(),
            "contract_id": self.contract_id,
            "cpas_ins": self.cpas_ins,
            "rule_id": self.rule_id,
            "kind": self.kind,
            "label": self.label,
            "citation": self.citation,
        }


# The items' own order (dataclass order=True compares the fields in declaration order), as a sort key.
_ORDER = attrgetter(*(f.name for f in fields(AgendaItem)))


def nth_birthday(birth: date, years: int) -> date:
    """The first day on which the person is *years* old (D5, consistent with ``calendar.age_on``):
    someone born on 29 February has birthdays on 1 March in common years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year
        return date(birth.year + years, 3, 1)


def _obligation_dues(
    c: PIISContract,
    settings: RuleSettings,
    calendar: WorkingCalendar,
    window: tuple[date, date] | None,
    signed: date | None,
) -> Iterator[Due]:
    birthday = nth_birthday(c.beneficiary.birth_date, settings.age_threshold)
    birthday_counts = c.start_date <= birthday <= c.end_date and (
        window is None or window[0] <= birthday <= window[1]
    )
    if signed is not None and not birthday_counts:
        return  # nothing below can produce an item: skip the obligation assessment (the costly part)
    from piis_bridge.rules.obligation import assess_obligations, judged_on_previous

    ob = assess_obligations(RuleContext(c, c.decision.decision_date, settings, calendar))[0]
    if signed is None and ob.deadline is not None and not ob.exempted and not judged_on_previous(c):
        rule_id = "R-DL-01" if ob.mandatory else "R-DL-03"
        if ob.rule_set == "historical":
            rule_id = "R-DL-08"
        yield Due(rule_id, "PIIS signature deadline", ob.deadline, ("signatures",))
    if signed is None and c.reflection is not None:
        yield Due(
            "R-DL-04",
            "earliest signature date (reflection period)",
            add_calendar_days(c.reflection.draft_handed_date, settings.reflection_days),
            ("reflection",),
            deadline=False,
        )
    if birthday_counts and (
        any(b in _U25 for b in ob.bases) or any(b in _U25 for b in c.obligation.basis)
    ):
        yield Due(
            "R-OBL-02",
            f"beneficiary turns {settings.age_threshold}: the under-"
            f"{settings.age_threshold} basis no longer applies",
            birthday,
            ("beneficiary.birth_date",),
            deadline=False,
        )


def _follow_up_dues(
    c: PIISContract,
    settings: RuleSettings,
    calendar: WorkingCalendar,
    moved: date | None,
    lo: date,
    lo_deadline: date,
    hi: date,
) -> Iterator[Due]:
    """*moved*: ``legal_end_date(c, settings)``.  Only events dated in [lo, hi] and deadlines dated in
    [lo_deadline, hi] are needed: the others may be left out."""
    for i, req in enumerate(c.interview_requests) if c.interview_requests else ():
        if (
            req.held_date is None and req.requested_by is RequestedBy.PERSON
        ):  # as R-DL-05: the person's requests
            yield Due(
                "R-DL-05",
                f"interview requested on {req.requested_date.isoformat()}",
                calendar.add_working_days(
                    req.requested_date, settings.interview_deadline_working_days
                ),
                (f"interview_requests[{i}].held_date",),
            )
    if c.studies is not None:
        for i, year in enumerate(c.studies.academic_years):
            if year.results_communicated_date is None:
                yield Due(
                    "R-DL-06",
                    f"exam results {year.academic_year} to the CPAS",
                    calendar.add_working_days(
                        year.results_available_date, settings.exam_results_working_days
                    ),
                    (f"studies.academic_years[{i}].results_communicated_date",),
                )
    for i, appeal in enumerate(c.appeals) if c.appeals else ():
        if appeal.filed_date is None:
            yield Due(
                "R-DL-07",
                "appeal deadline (labour court)",
                add_months(appeal.decision_received_date, settings.appeal_deadline_months),
                (f"appeals[{i}]",),
                deadline=False,
            )
    evaluations = c.evaluations
    held = {e.held_on for e in evaluations}
    planned_dates = (
        set(c.evaluation_arrangement.planned_dates)
        if c.evaluation_arrangement is not None
        else set()
    )
    for planned in sorted(d for d in planned_dates if lo <= d <= hi and d not in held):
        yield Due(
            "R-EVA-01",
            "planned evaluation",
            planned,
            ("evaluation_arrangement.planned_dates",),
            deadline=False,
        )
    if evaluations:
        last = max(evaluations, key=lambda e: e.held_on)
        if (
            last.next_date is not None
            and last.next_date not in held
            and last.next_date not in planned_dates
        ):
            yield Due(
                "R-EVA-01",
                "next evaluation agreed at the last one",
                last.next_date,
                ("evaluations",),
                deadline=False,
            )
    # Each full 12-month period needs 3 evaluations, 2 in person (R-EVA-01/02): flag the period's end
    # when the count is still short.  The periods end later and later: stop after *hi*.
    end = c.termination.ended_on if c.termination is not None else c.end_date
    last_day = min(end, hi)
    k = 1
    start = c.start_date
    period_start = start  # add_months(start, 12 * (k - 1)): the previous period's next_start
    while True:
        next_start = add_months(start, 12 * k)
        period_end = next_start - one_day
        if period_end > last_day:
            break
        if period_end >= lo_deadline:
            inside = [
                e for e in evaluations if period_start <= e.held_on <= period_end and e.formalised
            ]
            in_person = sum(1 for e in inside if e.mode is EvaluationMode.IN_PERSON)
            if len(inside) < settings.eval_min_per_year or in_person < settings.eval_min_in_person:
                yield Due(
                    "R-EVA-01",
                    f"evaluation year {k} ends: {len(inside)} of {settings.eval_min_per_year} "
                    f"evaluations held, {in_person} of {settings.eval_min_in_person} in person",
                    period_end,
                    ("evaluations",),
                )
        k += 1
        period_start = next_start
    if c.termination is None and moved is None and lo <= c.end_date <= hi:
        yield Due(
            "R-EVA-06",
            "contract ends: final evaluation, inform the council",
            c.end_date,
            ("end_date",),
            deadline=False,
        )


def contract_dues(
    contract: PIISContract,
    settings: RuleSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
    window: tuple[date, date] | None = None,
    *,
    overdue: bool = False,
) -> Iterator[Due]:
    """Every agenda-worthy date of one contract (deadlines not met yet, and events).

    With a *window*, only the dates inside it are needed (and, with *overdue*, the deadlines before
    it): dates that cannot be needed may be left out and their computation skipped.  Callers still
    filter by date.
    """
    if calendar is None:
        from piis_bridge.rules.engine import calendar_for

        calendar = calendar_for(settings)
    lo, hi = window if window is not None else (date.min, date.max)
    # Computed once here, read by several of the parts below.
    signed = contract.signed_date
    moved = legal_end_date(contract, settings)
    yield from _obligation_dues(contract, settings, calendar, window, signed)
    yield from _follow_up_dues(
        contract, settings, calendar, moved, lo, date.min if overdue else lo, hi
    )
    if contract.sanctions:
        for due in sanction_dues(contract, settings=settings):
            if due.rule_id not in _NOT_ON_AGENDA and not (due.deadline and due.done is not None):
                yield due
    if moved is not None:  # transfer_dues has nothing without a legal end (R-TRF-01)
        yield from transfer_dues(contract, settings)
    runs_until = (
        contract.termination.ended_on if contract.termination is not None else contract.end_date
    )
    # The window-end event lies between the month of signature and the contract's end.
    if signed is not None and signed.replace(day=1) <= hi and runs_until >= lo:
        kind, window_end = subsidy_window_end(
            contract, settings, signed=signed, moved=moved
        )  # its last day
        if (
            kind is not None
            and window_end is not None
            and kind.value != "STUDIES"
            and runs_until >= window_end
        ):
            yield Due(
                "R-SUB-09",
                f"{kind.value} subsidy window ends: a PROLONGATION needs a motivated decision "
                "before then",
                window_end,
                ("subsidy_history",),
                deadline=False,
            )


_CITATIONS: dict[str, str] = {}


def _citation(rule_id: str) -> str:
    if not _CITATIONS:
        from piis_bridge.rules.engine import default_registry

        _CITATIONS.update({r.id: r.citation for r in default_registry()})
    return _CITATIONS.get(rule_id, "")


def iter_agenda(
    contracts: Iterable[PIISContract],
    start: date,
    end: date,
    *,
    settings: RuleSettings = DEFAULT_SETTINGS,
    settings_for: Callable[[PIISContract], RuleSettings] | None = None,
    overdue: bool = False,
) -> Iterator[AgendaItem]:
    """Stream the items dated in ``[start, end]`` (both included), contract by contract, unsorted.

    With *overdue*, deadlines dated before *start* that are still not met come too, as kind
    ``overdue`` (what is already late on the morning the agenda is read).
    """
    from piis_bridge.rules.engine import calendar_for

    if end < start:
        raise ValueError("the agenda window ends before it starts")
    _citation("")  # fill the citations once
    citations = _CITATIONS
    window = (start, end)
    chosen, cal = settings, calendar_for(settings)
    for contract in contracts:
        if settings_for is not None:
            chosen = settings_for(contract)
            cal = calendar_for(chosen)
        cid = None
        for due in contract_dues(contract, chosen, cal, window, overdue=overdue):
            day = due.day
            if start <= day <= end:
                kind = "deadline" if due.deadline else "event"
            elif overdue and due.deadline and day < start:
                kind = "overdue"
            else:
                continue
            if cid is None:
                cid, ins = contract.contract_id, contract.cpas.ins_code
            yield AgendaItem(
                day, cid, due.rule_id, due.label, kind, ins, citations.get(due.rule_id, "")
            )


def agenda(
    contracts: Iterable[PIISContract],
    start: date,
    end: date,
    *,
    settings: RuleSettings = DEFAULT_SETTINGS,
    settings_for: Callable[[PIISContract], RuleSettings] | None = None,
    limit: int | None = None,
    overdue: bool = False,
) -> list[AgendaItem]:
    """The window's items sorted by date, contract, rule; with *limit*, only the first ones (a heap)."""
    items = iter_agenda(
        contracts, start, end, settings=settings, settings_for=settings_for, overdue=overdue
    )
    # _ORDER: the items' own order, compared as one tuple instead of through the dataclass's __lt__.
    if limit is not None:
        return heapq.nsmallest(limit, items, key=_ORDER)
    return sorted(items, key=_ORDER)


def agenda_json(items: Iterable[AgendaItem], start: date, end: date) -> dict[str, Any]:
    """The stable ``--json`` form (docs/rules-more.md)."""
    rows = [i.as_dict() for i in items]
    return {
        "format": AGENDA_FORMAT,
        "version": 1,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "count": len(rows),
        "items": rows,
    }


@dataclass(frozen=True, slots=True)
class SigningMonth:
    """One month of the signing wave: PIIS signature deadlines (R-DL-01/03/08) falling in it that are not met
    yet, and how many of them are at risk on the reference day."""

    month: date  # first day of the month
    must_sign: int
    at_risk: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat()[:7],
            "must_sign": self.must_sign,
            "at_risk": self.at_risk,
        }


def signing_wave(
    contracts: Iterable[PIISContract],
    start: date,
    end: date,
    on: date,
    *,
    settings: RuleSettings = DEFAULT_SETTINGS,
    settings_for: Callable[[PIISContract], RuleSettings] | None = None,
) -> list[SigningMonth]:
    """Per month of ``[start, end]``: how many unsigned contracts must be signed by a deadline in that month,
    and how many of those are at risk on *on* -- the deadline has passed, or no draft has been handed over
    and a draft handed over on *on* would end its reflection period (R-DL-04) after the deadline.  What the
    2026 wave of new RI decisions (the unemployed excluded in waves) brings: one 3-month deadline each."""
    from piis_bridge.rules.engine import calendar_for
    from piis_bridge.rules.obligation import assess_obligations, judged_on_previous

    counts: dict[date, list[int]] = {}
    for contract in contracts:
        chosen = settings_for(contract) if settings_for is not None else settings
        if contract.signed_date is not None or judged_on_previous(contract):
            continue
        ob = assess_obligations(
            RuleContext(contract, contract.decision.decision_date, chosen, calendar_for(chosen))
        )[0]
        due = ob.deadline
        if due is None or ob.exempted or not start <= due <= end:
            continue
        row = counts.setdefault(due.replace(day=1), [0, 0])
        row[0] += 1
        handed = contract.reflection.draft_handed_date if contract.reflection is not None else None
        if on > due or (handed is None and add_calendar_days(on, chosen.reflection_days) > due):
            row[1] += 1
    months = []
    month = start.replace(day=1)
    while month <= end:
        got = counts.get(month, (0, 0))
        months.append(SigningMonth(month, got[0], got[1]))
        month = add_months(month, 1)
    return months
