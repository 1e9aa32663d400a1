"""R-DL: the deadlines of a PIIS, in months (D1), working days (D3) and calendar days (D4).

Each rule records the computed date in the report (with its status on the reference date) and
raises a finding only when the deadline is missed: late, or overdue on the reference date.
"""

from __future__ import annotations

from piis_bridge.i18n import N_, Msg
from piis_bridge.model import PartyRole, RequestedBy
from piis_bridge.rules.calendar import add_calendar_days
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.obligation import judged_on_previous
from piis_bridge.rules.registry import Era, RuleSpec, Severity, family
from piis_bridge.rules.report import DateStatus

__all__: list[str] = []

_MISSED = (DateStatus.LATE, DateStatus.OVERDUE)  # a deadline not met


def _beneficiary_signed(ctx: RuleContext):
    first = None
    for s in ctx.contract.signatures:
        if (
            s.party is PartyRole.BENEFICIARY
            and s.for_version == 1
            and (first is None or s.signed_date < first)
        ):
            first = s.signed_date
    return first


def _dl_01(ctx: RuleContext) -> None:
    ob = ctx.obligations[0]
    if not ob.mandatory or ob.deadline is None:
        return
    c = ctx.contract
    if ob.exempted:
        ctx.add_date(
            "PIIS signature deadline (exempted)",
            ob.deadline,
            DateStatus.NOT_APPLICABLE,
            "signatures",
            person="beneficiary",
        )
        return
    if judged_on_previous(c):
        ctx.add_date(
            "PIIS signature deadline (judged on the previous contract)",
            ob.deadline,
            DateStatus.NOT_APPLICABLE,
            "previous_contract",
            person="beneficiary",
        )
        return
    status = ctx.deadline(
        "PIIS signature deadline", ob.deadline, ctx.signed_date, "signatures", person="beneficiary"
    )
    if status is DateStatus.LATE:
        assert ctx.signed_date is not None
        asked = c.obligation.request_date
        if (
            asked is not None
            and ob.deadline == ctx.settings.month_deadline(asked, ctx.settings.piis_deadline_months)
            and asked > c.decision.decision_date
        ):
            ctx.flag(
                N_(
                    "Contract {contract}: signed on {signed_date}, after the deadline of "
                    "{deadline} (3 months after the request of {asked})."
                ),
                "signatures",
                "obligation.request_date",
                person="beneficiary",
                contract=ctx.cid,
                signed_date=ctx.signed_date,
                deadline=ob.deadline,
                asked=asked,
            )
        else:
            ctx.flag(
                N_(
                    "Contract {contract}: signed on {signed_date}, after the deadline of "
                    "{deadline} (3 months after the DIS decision of "
                    "{decision_date})."
                ),
                "signatures",
                "decision.decision_date",
                person="beneficiary",
                contract=ctx.cid,
                signed_date=ctx.signed_date,
                deadline=ob.deadline,
                decision_date=c.decision.decision_date,
            )
    for partner in ctx.obligations[1:]:
        if partner.mandatory and partner.deadline is not None:
            ctx.add_date(
                "partner's PIIS signature deadline",
                partner.deadline,
                DateStatus.INFO,
                "partner",
                person="partner",
            )


def _offered_date(ctx: RuleContext):
    c = ctx.contract
    first = (
        c.reflection.draft_handed_date if c.reflection else None
    )  # the earliest trace of the offer
    for p in c.pre_signature_information:
        if p.for_version == 1 and (first is None or p.given_date < first):
            first = p.given_date
    signed = ctx.signed_date
    if signed is not None and (first is None or signed < first):
        first = signed
    return first


def _dl_02(ctx: RuleContext) -> None:
    ob = ctx.obligations[0]
    if ob.age >= ctx.settings.age_threshold or ob.exempted or not ob.mandatory:
        return  # not mandatory for an under-25: already in work with an RI top-up (R-OBL-06)
    due = ctx.settings.month_deadline(
        ctx.contract.decision.decision_date, ctx.settings.piis_deadline_months
    )
    status = ctx.deadline(
        "job or PIIS offer deadline (under 25)",
        due,
        _offered_date(ctx),
        "reflection",
        "pre_signature_information",
        person="beneficiary",
    )
    if status in _MISSED:
        ctx.flag(
            N_(
                "Contract {contract}: the beneficiary is under 25 and no PIIS was offered by {due}."
            ),
            "reflection.draft_handed_date",
            person="beneficiary",
            contract=ctx.cid,
            due=due,
        )


def _dl_03(ctx: RuleContext) -> None:
    ob = ctx.obligations[0]
    decided = ctx.contract.obligation.optional_piis_decision_date
    if ob.mandatory or decided is None or ob.deadline is None:
        return
    status = ctx.deadline(
        "optional PIIS signature deadline",
        ob.deadline,
        ctx.signed_date,
        "signatures",
        person="beneficiary",
    )
    if status in _MISSED:
        when = ctx.signed_date
        did = Msg("signed on {date}", date=when) if when else N_("not signed")
        ctx.flag(
            N_(
                "Contract {contract}: optional PIIS decided on {decided} and {did}; the deadline was "
                "{deadline}."
            ),
            "signatures",
            "obligation.optional_piis_decision_date",
            contract=ctx.cid,
            decided=decided,
            did=did,
            deadline=ob.deadline,
        )


def _dl_04(ctx: RuleContext) -> None:
    c = ctx.contract
    signed = _beneficiary_signed(ctx)
    if c.reflection is None:
        if signed is not None:
            ctx.flag(
                N_(
                    "Contract {contract}: signed but no record of when the draft was handed over, so the "
                    "reflection period cannot be shown."
                ),
                "reflection",
                contract=ctx.cid,
            )
        return
    earliest = add_calendar_days(c.reflection.draft_handed_date, ctx.settings.reflection_days)
    ctx.add_date(
        "earliest signature date (reflection period)", earliest, DateStatus.INFO, "reflection"
    )
    if signed is not None and signed < earliest:
        if (
            c.reflection.waived
            and ctx.settings.q02_allow_reflection_waiver
            and c.reflection.waiver_reason
        ):
            ctx.info(
                N_(
                    "Contract {contract}: signed on {signed} before the end of the reflection period "
                    "under a recorded written waiver (Q-02 allows it)."
                ),
                "reflection.waived",
                contract=ctx.cid,
                signed=signed,
            )
            return
        extra = (
            N_(" (a waiver is recorded but waivers are not allowed: Q-02)")
            if c.reflection.waived
            else ""
        )
        ctx.flag(
            N_(
                "Contract {contract}: the beneficiary signed on {signed}, before "
                "{earliest} (draft handed over on {draft_handed_date}, "
                "{reflection_days} days to reflect){extra}."
            ),
            "reflection.draft_handed_date",
            "signatures",
            contract=ctx.cid,
            signed=signed,
            earliest=earliest,
            draft_handed_date=c.reflection.draft_handed_date,
            reflection_days=ctx.settings.reflection_days,
            extra=extra,
        )


def _dl_05(ctx: RuleContext) -> None:
    n = ctx.settings.interview_deadline_working_days
    for i, req in enumerate(ctx.contract.interview_requests):
        if req.requested_by is not RequestedBy.PERSON:
            continue
        due = ctx.calendar.add_working_days(req.requested_date, n)
        field = f"interview_requests[{i}]"
        status = ctx.deadline(
            f"interview requested on {req.requested_date.isoformat()}",
            due,
            req.held_date,
            f"{field}.held_date",
        )
        if status is DateStatus.LATE:
            assert req.held_date is not None
            ctx.flag(
                N_(
                    "Contract {contract}: interview requested on {requested_date} was held on "
                    "{held_date}, after the deadline of {due} ({n} working days)."
                ),
                f"{field}.held_date",
                contract=ctx.cid,
                requested_date=req.requested_date,
                held_date=req.held_date,
                due=due,
                n=n,
            )
        elif status is DateStatus.OVERDUE:
            ctx.flag(
                N_(
                    "Contract {contract}: interview requested on {requested_date} has not been held "
                    "and the deadline of {due} ({n} working days) has passed."
                ),
                f"{field}.held_date",
                contract=ctx.cid,
                requested_date=req.requested_date,
                due=due,
                n=n,
            )


def _dl_06(ctx: RuleContext) -> None:
    studies = ctx.contract.studies
    assert studies is not None
    n = ctx.settings.exam_results_working_days
    for i, year in enumerate(studies.academic_years):
        due = ctx.calendar.add_working_days(year.results_available_date, n)
        field = f"studies.academic_years[{i}].results_communicated_date"
        status = ctx.deadline(
            f"exam results {year.academic_year} to the CPAS",
            due,
            year.results_communicated_date,
            field,
        )
        if status in _MISSED:
            got = year.results_communicated_date
            did = Msg("sent on {date}", date=got) if got else N_("not sent yet")
            ctx.flag(
                N_(
                    "Contract {contract}: exam results of {academic_year} were {did}; they were due by "
                    "{due} ({n} working days after {results_available_date})."
                ),
                field,
                contract=ctx.cid,
                academic_year=year.academic_year,
                did=did,
                due=due,
                n=n,
                results_available_date=year.results_available_date,
            )


def _dl_07(ctx: RuleContext) -> None:
    for i, appeal in enumerate(ctx.contract.appeals):
        due = ctx.settings.month_deadline(
            appeal.decision_received_date, ctx.settings.appeal_deadline_months
        )
        if appeal.filed_date is None:
            ctx.add_date(
                "appeal deadline",
                due,
                DateStatus.INFO if ctx.on <= due else DateStatus.NOT_APPLICABLE,
                f"appeals[{i}]",
            )
            continue
        status = ctx.deadline("appeal deadline", due, appeal.filed_date, f"appeals[{i}].filed_date")
        if status is DateStatus.LATE:
            ctx.flag(
                N_(
                    "Contract {contract}: appeal filed on {filed_date}, after the 3-month "
                    "limit of {due}."
                ),
                f"appeals[{i}].filed_date",
                contract=ctx.cid,
                filed_date=appeal.filed_date,
                due=due,
            )


def _dl_08(ctx: RuleContext) -> None:
    ob = ctx.obligations[0]
    if not ob.mandatory or ob.deadline is None or ob.exempted:
        return
    status = ctx.deadline(
        "PIIS signature deadline (historical: from the request)",
        ob.deadline,
        ctx.signed_date,
        "signatures",
        person="beneficiary",
    )
    if status is DateStatus.LATE:
        assert ctx.signed_date is not None
        ctx.flag(
            N_(
                "Contract {contract}: signed on {signed_date}, after the historical deadline of "
                "{deadline} (3 months after the request)."
            ),
            "signatures",
            "decision.request_date",
            person="beneficiary",
            contract=ctx.cid,
            signed_date=ctx.signed_date,
            deadline=ob.deadline,
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_dl_NN`` above).
DEADLINE_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-DL-01",
        title="Mandatory PIIS signed within 3 months of the DIS decision",
        severity=Severity.LEGAL,
        citation="[002 L127, L159, L616-618; 000 L108]",
        doc="""A mandatory PIIS (R-OBL-01..04) must be signed by ``add_months(DIS decision date, 3)``, that
        day included (D1, Q-01: 30 November -> 28 February).  A motivated exemption (R-OBL-07) lifts
        the deadline.  A signature after the deadline is an error; no signature past the deadline is
        R-OBL-08's finding.  When only a party's request makes the PIIS mandatory for a person already on
        the RI, the 3 months run from the request (``obligation.request_date``, R-OBL-04).  A contract that
        follows a signed PIIS or replaces a non-compliant one under the same decision (``previous_contract``)
        is not judged on the decision's deadline again (the first contract was).""",
        era=Era.REFORM,
        parameters=("piis_deadline_months",),
        check=_dl_01,
    ),
    RuleSpec(
        "R-DL-02",
        title="Under 25: a job or a PIIS offered within the same 3 months",
        severity=Severity.LEGAL,
        citation="[002 L618, L334]",
        doc="""For a person under 25 the CPAS offers, within the same 3 months, either a job or a PIIS.
        The contract is the offer: its first trace (draft handed over, information given, or the
        signature) must fall on or before ``add_months(decision, 3)``.""",
        era=Era.REFORM,
        check=_dl_02,
    ),
    RuleSpec(
        "R-DL-03",
        title="Optional PIIS: signed within 3 months of the decision to conclude it",
        severity=Severity.LEGAL,
        citation="[002 L619]",
        doc="""When the PIIS is optional and the CPAS decides to conclude one anyway, it is signed within 3
        months of that decision (``obligation.optional_piis_decision_date``).""",
        era=Era.REFORM,
        check=_dl_03,
    ),
    RuleSpec(
        "R-DL-04",
        title="Five calendar days of reflection before signing",
        severity=Severity.LEGAL,
        citation="[004 L212-213; 000 L87; Model A 004 L5368]",
        doc="""A draft handed to the person on D may be signed from D+5 (calendar days, D4) at the
        earliest.  Earlier signature is a violation unless the person's written waiver is recorded
        *and* the legal switch Q-02 allows it (default: no waiver).  A signed contract without a record
        of the draft handover cannot show the reflection period was respected.""",
        parameters=("reflection_days", "q02_allow_reflection_waiver"),
        check=_dl_04,
    ),
    RuleSpec(
        "R-DL-05",
        title="Interview granted within 5 working days of the request",
        severity=Severity.LEGAL,
        citation="[002 L218, L748; 004 L222-224; Model A 004 L5393; 000 L88]",
        doc="""A person who asks for an interview on D must get it by the 5th working day after D (D3:
        counting from the day after, Monday-Friday minus the Belgian legal holidays and the CPAS's
        closure days; C-05: working days, not calendar days).  Interviews the CPAS asks for are not
        covered.""",
        parameters=(
            "interview_deadline_working_days",
            "extra_closure_days",
            "recurring_closure_days",
        ),
        check=_dl_05,
    ),
    RuleSpec(
        "R-DL-06",
        title="Exam results sent within 7 working days",
        severity=Severity.LEGAL,
        citation="[002 L279; Model A 004 L5255]",
        doc="""In a studies PIIS the student sends the exam results to the CPAS within 7 working days of
        their publication (Q-16); the CPAS then evaluates the academic year (R-STU-07/08).""",
        applies=lambda c: c.studies is not None,
        parameters=("exam_results_working_days",),
        check=_dl_06,
    ),
    RuleSpec(
        "R-DL-07",
        title="Appeal to the labour court within 3 months of receiving the decision",
        severity=Severity.LEGAL,
        citation="[Model A 004 L5438-5441; 000 L162]",
        doc="""A decision received on R can be appealed to the labour court until ``add_months(R, 3)``.
        The report gives the date; an appeal filed later is flagged (the court may declare it out of
        time).""",
        applies=lambda c: bool(c.appeals),
        parameters=("appeal_deadline_months",),
        check=_dl_07,
    ),
    RuleSpec(
        "R-DL-08",
        title="(Historical) Before 2016-11-01 the 3 months ran from the request",
        severity=Severity.HISTORICAL,
        citation="[004 L160-161; Model A 004 L5447-5448; 002 L127]",
        doc="""Facts before the reform: a mandatory PIIS was due 3 months after the request for aid (C-03).
        A late signature is flagged; no signature at all is R-OBL-16's finding.""",
        era=Era.HISTORICAL,
        check=_dl_08,
    ),
)
family(DEADLINE_RULES)
