"""R-EVA: at least 3 evaluations per 12-month period, 2 of them in person, each formalised; the date
by which the next one is due.

Periods (R-EVA-01): consecutive 12-month periods from the contract start (D1), the last one cut
at the contract's end (or its termination).  A period is judged once it is over on the reference
date; a full period below the minimum is an error, a final partial period below the pro-rata guide
only an advisory (R-EVA-03, Q-06).  The current period gives the "next evaluation due" date:
the minimum spread evenly over the period (3 a year -> by 4, 8 and 12 months).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from piis_bridge.i18n import N_, Join, Msg
from piis_bridge.model import EvaluationKind, EvaluationMode, PIISContract
from piis_bridge.rules.calendar import add_months
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import Era, RuleSpec, Severity, family
from piis_bridge.rules.report import DateStatus

__all__ = ["EvaluationPeriod", "contract_end", "evaluation_periods"]

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class EvaluationPeriod:
    index: int
    start: date
    end: date  # inclusive
    full: bool  # a whole 12-month period (not cut by the contract's end)

    @property
    def months(self) -> int:
        """Whole months covered (D1), for the pro-rata guide of Q-06."""
        n = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        while n > 0 and add_months(self.start, n) - _DAY > self.end:
            n -= 1
        return n


def contract_end(c: PIISContract) -> date:
    if c.termination is not None and c.termination.ended_on < c.end_date:
        return c.termination.ended_on
    return c.end_date


def _periods(ctx: RuleContext) -> list[EvaluationPeriod]:
    periods = ctx.cache.get("evaluation_periods")
    if periods is None:
        periods = ctx.cache["evaluation_periods"] = evaluation_periods(ctx.contract)
    return periods


def evaluation_periods(c: PIISContract) -> list[EvaluationPeriod]:
    end = contract_end(c)
    out: list[EvaluationPeriod] = []
    k = 0
    while True:
        start = add_months(c.start_date, 12 * k)
        if start > end:
            break
        full_end = add_months(c.start_date, 12 * (k + 1)) - _DAY
        out.append(EvaluationPeriod(k, start, min(full_end, end), full_end <= end))
        k += 1
    return out


def _counted(ctx: RuleContext, start: date, end: date) -> tuple[int, int]:
    """(evaluations counting toward the total, in-person ones) held in [start, end]."""
    total = in_person = 0
    remote_counts = None
    for e in ctx.contract.evaluations:
        if not e.formalised or not (start <= e.held_on <= end):
            continue
        if e.mode is EvaluationMode.IN_PERSON:
            total += 1
            in_person += 1
        else:
            if remote_counts is None:
                remote_counts = ctx.settings.q07_remote_counts_toward_total
            if remote_counts:
                total += 1
    return total, in_person


def _end_fact(c: PIISContract) -> date:
    return contract_end(c)


def _concluded(c: PIISContract) -> bool:
    """Evaluations are owed once the contract is concluded (signed by the person and the CPAS).
    A cheap pre-filter; the checks also test ``ctx.signed_date``."""
    return bool(c.signatures)


def _has_evaluations(c: PIISContract) -> bool:
    return bool(c.evaluations)


def _start_fact(c: PIISContract) -> date:
    return c.start_date


def _label(p: EvaluationPeriod) -> Msg:
    return Msg("{start} to {end}", start=p.start, end=p.end)


def _eva_01(ctx: RuleContext) -> None:
    if ctx.signed_date is None:
        return
    need = ctx.settings.eval_min_per_year
    reform = ctx.settings.reform_date
    on = ctx.on
    for p in _periods(ctx):
        if p.end < reform:
            continue
        if p.end < on and p.full:
            total, _ = _counted(ctx, p.start, p.end)
            if total < need:
                ctx.flag(
                    N_(
                        "Contract {contract}: {total} evaluation(s) in the 12-month period {label}; at least "
                        "{need} are required."
                    ),
                    "evaluations",
                    contract=ctx.cid,
                    total=total,
                    label=_label(p),
                    need=need,
                )
        if p.start <= on <= p.end or (p.index == 0 and on < p.start):
            _next_due(ctx, p)


def _next_due(ctx: RuleContext, p: EvaluationPeriod) -> None:
    s = ctx.settings
    if p.full:
        need, need_in_person = s.eval_min_per_year, s.eval_min_in_person
    else:
        months = p.months
        need = math.ceil(s.eval_min_per_year * months / 12)  # _pro_rata
        need_in_person = 1 if months >= s.q06_min_months_for_in_person else 0
    if need <= 0:
        return
    total, in_person = _counted(ctx, p.start, ctx.on)
    in_person_left = max(0, need_in_person - in_person)
    if total >= need and not in_person_left:
        return
    if total >= need:  # enough evaluations, but not enough in person: one more by the period's end
        due = p.end
    elif p.full:
        due = add_months(p.start, (12 * (total + 1)) // need) - _DAY
    else:
        length = (p.end - p.start).days + 1
        due = p.start + timedelta(days=math.ceil(length * (total + 1) / need) - 1)
    due = min(due, p.end)
    label = "next evaluation due" + (" (in person)" if in_person_left >= need - total else "")
    status = ctx.deadline(label, due, None, "evaluations", "evaluation_arrangement")
    if status is DateStatus.OVERDUE:
        ctx.warning(
            N_(
                "Contract {contract}: an evaluation was due by {due} ({total} of {need} held in the "
                "period {label})."
            ),
            "evaluations",
            contract=ctx.cid,
            due=due,
            total=total,
            need=need,
            label=_label(p),
        )


def _pro_rata(ctx: RuleContext, p: EvaluationPeriod) -> int:
    return math.ceil(ctx.settings.eval_min_per_year * p.months / 12)


def _eva_02(ctx: RuleContext) -> None:
    if ctx.signed_date is None:
        return
    need = ctx.settings.eval_min_in_person
    for p in _periods(ctx):
        if p.end < ctx.settings.reform_date or not p.full or p.end >= ctx.on:
            continue
        _, in_person = _counted(ctx, p.start, p.end)
        if in_person < need:
            ctx.flag(
                N_(
                    "Contract {contract}: {in_person} in-person evaluation(s) in the 12-month period {label}; at "
                    "least {need} are required."
                ),
                "evaluations",
                contract=ctx.cid,
                in_person=in_person,
                label=_label(p),
                need=need,
            )


def _eva_03(ctx: RuleContext) -> None:
    if ctx.signed_date is None:
        return
    s = ctx.settings
    if not s.q06_pro_rata_advisory:
        return
    for p in _periods(ctx):
        if p.full or p.end >= ctx.on or p.end < s.reform_date:
            continue
        total, in_person = _counted(ctx, p.start, p.end)
        guide = _pro_rata(ctx, p)
        if total < guide:
            ctx.warning(
                N_(
                    "Contract {contract}: {total} evaluation(s) in the {months}-month period {label}; the "
                    "pro-rata guide is {guide}."
                ),
                "evaluations",
                contract=ctx.cid,
                total=total,
                months=p.months,
                label=_label(p),
                guide=guide,
            )
        if p.months >= s.q06_min_months_for_in_person and in_person < 1:
            ctx.warning(
                N_(
                    "Contract {contract}: no in-person evaluation in the {months}-month period {label}."
                ),
                "evaluations",
                contract=ctx.cid,
                months=p.months,
                label=_label(p),
            )


def _eva_04(ctx: RuleContext) -> None:
    for i, e in enumerate(ctx.contract.evaluations):
        if not e.formalised:
            ctx.flag(
                N_(
                    "Contract {contract}: evaluation {evaluation_id} of {held_on} has no written "
                    "record; it does not count."
                ),
                f"evaluations[{i}].formalised",
                contract=ctx.cid,
                evaluation_id=e.evaluation_id,
                held_on=e.held_on,
            )


def _eva_05(ctx: RuleContext) -> None:
    versions = {v.version_no for v in ctx.contract.versions}
    for i, e in enumerate(ctx.contract.evaluations):
        if e.resulting_version_no is not None and e.resulting_version_no not in versions:
            ctx.flag(
                N_(
                    "Contract {contract}: evaluation {evaluation_id} refers to version {resulting_version_no}, "
                    "which is not recorded."
                ),
                f"evaluations[{i}].resulting_version_no",
                contract=ctx.cid,
                evaluation_id=e.evaluation_id,
                resulting_version_no=e.resulting_version_no,
            )


def _eva_06(ctx: RuleContext) -> None:
    if ctx.signed_date is None:
        return
    c = ctx.contract
    end = contract_end(c)
    informed = c.council_informed_date
    if informed is not None:
        if informed < end:
            ctx.flag(
                N_(
                    "Contract {contract}: the council was informed on {informed}, before the contract "
                    "ended on {end}."
                ),
                "council_informed_date",
                contract=ctx.cid,
                informed=informed,
                end=end,
            )
        else:
            ctx.add_date(
                "council informed of the end", informed, DateStatus.INFO, "council_informed_date"
            )
    if end >= ctx.on:
        return
    for e in c.evaluations:
        if e.kind is EvaluationKind.FINAL:
            break
    else:
        ctx.flag(
            N_("Contract {contract}: ended on {end} without a final evaluation."),
            "evaluations",
            contract=ctx.cid,
            end=end,
        )


def _has_annual_reports(c: PIISContract) -> bool:
    return bool(c.cpas.annual_reports)


def _eva_07(ctx: RuleContext) -> None:
    c = ctx.contract
    reports = c.cpas.annual_reports
    by_year = {}
    for i, r in enumerate(reports):
        where = f"cpas.annual_reports[{i}]"
        by_year[r.year] = (i, r)
        if not (r.contract_evaluations_synthesis or "").strip():
            ctx.flag(
                N_(
                    "Contract {contract}: the CPAS's annual report {year} has no synthesis of the contract "
                    "evaluations."
                ),
                f"{where}.contract_evaluations_synthesis",
                contract=ctx.cid,
                year=r.year,
            )
        if not (r.employment_results_synthesis or "").strip():
            ctx.flag(
                N_(
                    "Contract {contract}: the CPAS's annual report {year} has no synthesis of the employment "
                    "results."
                ),
                f"{where}.employment_results_synthesis",
                contract=ctx.cid,
                year=r.year,
            )
        if r.president_signoff_date is None:
            ctx.warning(
                N_(
                    "Contract {contract}: the CPAS's annual report {year} is not signed off by the president."
                ),
                f"{where}.president_signoff_date",
                contract=ctx.cid,
                year=r.year,
            )
        if r.persons_found_work is not None or r.contracts_ended_in_work is not None:
            counts = []
            if r.persons_found_work is not None:
                counts.append(
                    Msg(
                        "{n} of {total} person(s) found work",
                        n=r.persons_found_work,
                        total=r.persons_counted,
                    )
                    if r.persons_counted is not None
                    else Msg("{n} person(s) found work", n=r.persons_found_work)
                )
            if r.contracts_ended_in_work is not None:
                counts.append(
                    Msg(
                        "{n} of {total} contract(s) ended in a job",
                        n=r.contracts_ended_in_work,
                        total=r.contracts_counted,
                    )
                    if r.contracts_counted is not None
                    else Msg("{n} contract(s) ended in a job", n=r.contracts_ended_in_work)
                )
            ctx.info(
                N_(
                    "Contract {contract}: employment results of the CPAS's annual report {year}: "
                    "{counts}."
                ),
                f"{where}.persons_found_work",
                contract=ctx.cid,
                year=r.year,
                counts=Join(", ", counts),
            )
    first = max(min(by_year), c.start_date.year)
    for year in range(first, min(contract_end(c).year, ctx.on.year) + 1):
        due = date(year + 1, 12, 31)
        held = by_year.get(year)
        done = held[1].global_evaluation_date if held is not None else None
        field = (
            f"cpas.annual_reports[{held[0]}].global_evaluation_date"
            if held is not None
            else "cpas.annual_reports"
        )
        status = ctx.deadline(f"global evaluation of {year}", due, done, field)
        if status in (DateStatus.LATE, DateStatus.OVERDUE):
            state = Msg("was made only on {date}", date=done) if done else N_("is not recorded")
            ctx.flag(
                N_(
                    "Contract {contract}: the CPAS's global evaluation of {year}, a year in which this contract "
                    "ran, {state} (due by {due})."
                ),
                field,
                contract=ctx.cid,
                year=year,
                state=state,
                due=due,
            )


def _eva_08(ctx: RuleContext) -> None:
    c = ctx.contract
    step = ctx.settings.historical_eval_months
    limit = min(contract_end(c), ctx.settings.reform_date - _DAY, ctx.on - _DAY)
    q = date(c.start_date.year, 3 * ((c.start_date.month - 1) // 3) + 1, 1)
    if q < c.start_date:
        q = add_months(q, step)
    while True:
        q_end = add_months(q, step) - _DAY
        if q_end > limit:
            break
        total, _ = _counted(ctx, q, q_end)
        if total < 1:
            ctx.flag(
                N_(
                    "Contract {contract}: no evaluation in the quarter {q} to {q_end} "
                    "(historical rule: one per quarter)."
                ),
                "evaluations",
                contract=ctx.cid,
                q=q,
                q_end=q_end,
            )
        q = add_months(q, step)


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_eva_NN`` above).
EVALUATION_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-EVA-01",
        title="At least 3 evaluations per 12-month period",
        severity=Severity.LEGAL,
        citation="[002 L218, L399; 000 L101]",
        doc="""Each full 12-month period of the contract (from its start date, D1) needs at least 3
        formalised evaluations with the person.  Remote ones count toward the 3 (Q-07).  Judged once the
        period is over; for the period running on the reference date the report gives the date by
        which the next evaluation is due (the minimum spread evenly: by 4, 8 and 12 months) and warns
        when that date has passed.  Periods that ended before the reform are judged by R-EVA-08.""",
        era=Era.REFORM,
        fact_date=_end_fact,
        applies=_concluded,
        parameters=("eval_min_per_year", "q07_remote_counts_toward_total"),
        check=_eva_01,
    ),
    RuleSpec(
        "R-EVA-02",
        title="At least 2 of the evaluations in person",
        severity=Severity.LEGAL,
        citation="[002 L218, L399; 000 L101]",
        doc="""Of the evaluations of each full 12-month period, at least 2 are personal interviews (in
        person).  Phone, e-mail and video never count toward the 2 (Q-07).""",
        era=Era.REFORM,
        fact_date=_end_fact,
        applies=_concluded,
        parameters=("eval_min_in_person",),
        check=_eva_02,
    ),
    RuleSpec(
        "R-EVA-03",
        title="Shorter than 12 months: pro-rata guide only",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L220]",
        doc="""A contract shorter than 12 months, or the final partial period of a longer one, is not held to
        the 3-a-year minimum ("sur base annuelle").  Advisory only (Q-06): fewer than
        ceil(3 x whole months / 12) evaluations, or no in-person evaluation in a period of 3 months or
        more, gives a warning once the period is over.""",
        era=Era.REFORM,
        fact_date=_end_fact,
        applies=_concluded,
        parameters=("q06_pro_rata_advisory", "q06_min_months_for_in_person"),
        check=_eva_03,
    ),
    RuleSpec(
        "R-EVA-04",
        title="Every evaluation is formalised",
        severity=Severity.LEGAL,
        citation="[002 L546; 004 L1839-1844]",
        doc="""Every evaluation is formalised in a written record (inspection item I-07).  An undocumented
        meeting does not count toward the minimum and is flagged.""",
        applies=_has_evaluations,
        check=_eva_04,
    ),
    RuleSpec(
        "R-EVA-05",
        title="An adaptation after an evaluation is an agreed annex",
        severity=Severity.LEGAL,
        citation="[002 L161-163, L222]",
        doc="""An evaluation may lead to an adaptation of the contract, recorded as an annex agreed by all
        parties (R-AMD-01).  An evaluation pointing to a version that does not exist is flagged.""",
        applies=_has_evaluations,
        check=_eva_05,
    ),
    RuleSpec(
        "R-EVA-06",
        title="Final evaluation when the contract ends",
        severity=Severity.ADVISORY,
        citation="[003 L19-20]",
        doc="""When the contract ends there is a final evaluation and the council or special committee is
        informed.  Advisory: an ended contract without an evaluation of kind FINAL gets a warning.  The
        day the council was informed (``council_informed_date``) is reported; a day before the contract's
        end is a warning (it cannot have been informed of an end still to come).  Not recorded: nothing
        is said about the council, as before the field existed.""",
        applies=_concluded,
        check=_eva_06,
    ),
    RuleSpec(
        "R-EVA-07",
        title="Yearly global evaluation and annual-report synthesis (CPAS level)",
        severity=Severity.LEGAL,
        citation="[002 L224, L403; 004 L228-230]",
        doc="""Each calendar year the CPAS evaluates the results of its PIIS contracts globally, and the
        president makes sure the annual report contains a synthesis of the contract evaluations and of
        the employment results.  A CPAS-level duty, judged from the CPAS's reports copied into the
        contract (``cpas.annual_reports``; none recorded: not checked, as before the field existed):

        - each recorded report needs both syntheses (error) and, advisory, the president's sign-off
          (C-11: a head of the social service starts the evaluation, the president signs it off);
        - the employment results are counted (``persons_found_work``, ``contracts_ended_in_work``): the
          report states the counts when recorded (info; not recorded: judged as before);
        - from the first recorded year on, every calendar year in which this contract ran needs its global
          evaluation.  The seeds give no date; the engine's reading [ASSUMPTION] is that the evaluation of
          year Y, which needs Y's results, is due by 31 December of Y+1 (a deadline in the report for each
          year up to the reference date's; late, or missing once that day has passed: error).""",
        applies=_has_annual_reports,
        check=_eva_07,
    ),
    RuleSpec(
        "R-EVA-08",
        title="(Historical) At least one evaluation per calendar quarter",
        severity=Severity.HISTORICAL,
        citation="[004 L222, L734-735, L4661; 001 L30; Model A 004 L5234, L5390]",
        doc="""Before the reform, a PIIS was evaluated at least once per calendar quarter (C-01: outdated
        since 2016-11-01).  Applies to the whole calendar quarters of the contract that ended before
        the reform date and before the reference date.""",
        era=Era.HISTORICAL,
        fact_date=_start_fact,
        parameters=("historical_eval_months",),
        check=_eva_08,
    ),
)
family(EVALUATION_RULES)
