"""R-OBL: when a PIIS is mandatory, for the beneficiary and (R-OBL-09) for the partner separately.

Why the obligation is derived and not only read from ``contract.obligation.basis``: the recorded
basis is what the CPAS wrote down; the law decides from the age, the studies, the employment and
the DIS history.  The engine computes both, the summary uses their union (a request can only be
recorded), and the rules point out where the record and the facts disagree.
"""

from __future__ import annotations

from datetime import date

from piis_bridge.i18n import N_, Join, Msg
from piis_bridge.model import (
    ContractRelation,
    EmploymentStatus,
    ExemptionGround,
    IncomeKind,
    ObligationAssessment,
    ObligationBasis,
    Person,
    PIISContract,
    RefusalReviewOutcome,
    WillingnessGround,
)
from piis_bridge.rules.calendar import add_months, age_on
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import Era, RuleSpec, Severity, family
from piis_bridge.rules.report import DateStatus, PersonObligation, frozen_constructor
from piis_bridge.rules.settings import AgeReference, LookbackAnchor, RuleSettings

__all__ = [
    "age_reference_date",
    "assess_obligations",
    "deadline_event",
    "derive_bases",
    "had_dis_in_lookback",
    "judged_on_previous",
]

_U25 = (ObligationBasis.U25_STUDIES, ObligationBasis.U25_EMPLOYMENT_PROJECT)
_REQUESTS = (ObligationBasis.REQUEST_BY_PERSON, ObligationBasis.REQUEST_BY_CPAS)
_NOT_IN_WORK = (EmploymentStatus.NONE, EmploymentStatus.OTHER)
_CITE = {
    ObligationBasis.U25_STUDIES: "R-OBL-01 [002 L153, L256]",
    ObligationBasis.U25_EMPLOYMENT_PROJECT: "R-OBL-02 [002 L155, L334; 000 L105]",
    ObligationBasis.NO_DIS_LAST_3M: "R-OBL-03 [002 L157, L590; 000 L106]",
    ObligationBasis.REQUEST_BY_PERSON: "R-OBL-04 [002 L147-149]",
    ObligationBasis.REQUEST_BY_CPAS: "R-OBL-04 [002 L147-149]",
}


def age_reference_date(contract: PIISContract, settings: RuleSettings) -> date:
    """D5 / Q-03: the date 'under 25' is judged on for the obligation."""
    d = contract.decision
    choice = settings.q03_obligation_age_reference
    if choice is AgeReference.REQUEST and d.request_date is not None:
        return d.request_date
    if choice is AgeReference.SIGNATURE and contract.signed_date is not None:
        return contract.signed_date
    return d.decision_date


def _lookback_anchor(contract: PIISContract, settings: RuleSettings) -> date:
    d = contract.decision
    if settings.q04_lookback_anchor is LookbackAnchor.REQUEST and d.request_date is not None:
        return d.request_date
    return d.decision_date


def had_dis_in_lookback(person: Person, contract: PIISContract, settings: RuleSettings) -> bool:
    """R-OBL-03: any DIS (RI, art. 60, employment through the CPAS) in the months before the anchor.

    The RI granted by this very decision is not "previous" DIS: periods that start on or after the
    decision's RI start date are ignored -- unless the decision reviews a running grant
    (``decision.reviews_decision_id``): then the RI has run since ``ri_start_date`` (the original start)
    and, started before the anchor, it is DIS in the look-back (a continuing beneficiary is not new).
    """
    anchor = _lookback_anchor(contract, settings)
    window_start = add_months(anchor, -settings.new_beneficiary_lookback_months)
    current_start = contract.decision.ri_start_date
    if (
        contract.decision.reviews_decision_id is not None
        and person is contract.beneficiary
        and current_start < anchor
        and IncomeKind.RI in settings.dis_kinds_for_lookback
    ):
        # A review of a running grant: the RI has run since its original start, through the look-back.
        return True
    for period in person.dis_history:
        if period.kind not in settings.dis_kinds_for_lookback:
            continue
        if period.start_date >= current_start or period.start_date >= anchor:
            continue
        if period.end_date is None or period.end_date >= window_start:
            return True
    return False


def _in_studies(person: Person, contract: PIISContract | None) -> bool:
    if contract is not None:
        return contract.is_studies
    return person.full_time_student or person.employment_status is EmploymentStatus.STUDENT_FULLTIME


def derive_bases(
    person: Person,
    contract: PIISContract,
    settings: RuleSettings,
    *,
    is_beneficiary: bool,
    historical: bool,
) -> tuple[list[ObligationBasis], list[str]]:
    """The bases the facts give (not the record), and notes about choices made (Q-17)."""
    age = age_on(person.birth_date, age_reference_date(contract, settings))
    return _derive(person, contract, settings, is_beneficiary, historical, age)


def _derive(
    person: Person,
    contract: PIISContract,
    settings: RuleSettings,
    is_beneficiary: bool,
    historical: bool,
    age: int,
) -> tuple[list[ObligationBasis], list[str]]:
    """:func:`derive_bases` given the person's *age* on the reference date."""
    notes: list[str] = []
    bases: list[ObligationBasis] = []
    if age < settings.age_threshold:
        studies = _in_studies(person, contract if is_beneficiary else None)
        if studies:
            bases.append(ObligationBasis.U25_STUDIES)
        elif person.employment_status in _NOT_IN_WORK:
            bases.append(ObligationBasis.U25_EMPLOYMENT_PROJECT)
    if not historical and not had_dis_in_lookback(person, contract, settings):
        bases.append(ObligationBasis.NO_DIS_LAST_3M)
    if (
        person.employment_status is EmploymentStatus.EMPLOYED_WITH_RI_TOPUP
        and settings.q17_topup_makes_optional
    ):
        if bases:
            notes.append(N_("works with an RI top-up: PIIS optional (R-OBL-06, Q-17 default)"))
        bases = []
    return bases, notes


def deadline_event(
    contract: PIISContract, assessment: ObligationAssessment | None, by_request_only: bool
) -> date:
    """The day the 3 months of a mandatory PIIS run from (since the reform): the DIS decision (R-DL-01),
    or, when only a party's request makes it mandatory for a person already on the RI, the request
    (R-OBL-04: the obligation is born on that day, ``obligation.request_date``)."""
    decided = contract.decision.decision_date
    if (
        by_request_only
        and assessment is not None
        and assessment.request_date is not None
        and assessment.request_date > decided
    ):
        return assessment.request_date
    return decided


def judged_on_previous(contract: PIISContract) -> bool:
    """The decision's signing deadline was judged on an earlier contract (``previous_contract``): this one
    follows a signed PIIS, or replaces one an inspection found non-compliant (R-DL-01, I-02, R-SUB-13)."""
    prev = contract.previous_contract
    return prev is not None and (
        prev.relation is ContractRelation.REPLACES_NON_COMPLIANT or prev.signed_date is not None
    )


def _deadline(
    contract: PIISContract,
    settings: RuleSettings,
    mandatory: bool,
    historical: bool,
    optional_decision: date | None,
    anchor: date | None = None,
) -> date | None:
    d = contract.decision
    months = settings.piis_deadline_months
    if mandatory:
        if historical:  # R-DL-08: before the reform the 3 months ran from the request
            return settings.month_deadline(d.request_date or d.decision_date, months)
        return settings.month_deadline(anchor or d.decision_date, months)
    if optional_decision is not None:  # R-DL-03
        return settings.month_deadline(optional_decision, months)
    return None


_OBLIGATION = frozen_constructor(PersonObligation)
_LEGAL_BASIS: dict[
    tuple[tuple[ObligationBasis, ...], bool], str
] = {}  # (bases, historical) -> legal_basis text


def _legal_basis(bases: tuple[ObligationBasis, ...], historical: bool) -> str:
    key = (bases, historical)
    legal = _LEGAL_BASIS.get(key)
    if legal is None:
        legal = (
            "; ".join(dict.fromkeys(_CITE[b] for b in bases))
            if bases
            else "R-OBL-05 [002 L105, L145, L621-623]"
        )
        if historical:
            legal = "R-OBL-16 (historical) [002 L79, L84, L361]; " + legal
        _LEGAL_BASIS[key] = legal  # a few dozen combinations of five bases at most
    return legal


def _assess(
    person: Person,
    role: str,
    contract: PIISContract,
    settings: RuleSettings,
    assessment: ObligationAssessment | None,
    historical: bool,
    ref: date | None = None,
) -> PersonObligation:
    """One person's obligation.  *assessment* is what the CPAS recorded for that person (the
    beneficiary's ``obligation``, the partner's ``partner_obligation``; None when not recorded):
    its requests count as bases, its exemption exempts that person only.  *ref*:
    ``age_reference_date(contract, settings)`` when the caller has it."""
    if ref is None:
        ref = age_reference_date(contract, settings)
    age = age_on(person.birth_date, ref)
    bases, notes = _derive(person, contract, settings, role == "beneficiary", historical, age)
    by_request_only = not bases
    if assessment is not None:
        for basis in assessment.basis:
            if basis in _REQUESTS and basis not in bases:
                bases.append(basis)
    if historical:
        bases = [b for b in bases if b in _U25 or b in _REQUESTS]  # R-OBL-16
    mandatory = bool(bases)
    exempted = mandatory and assessment is not None and assessment.exemption is not None
    bases_t = tuple(bases)
    return _OBLIGATION(
        {  # values computed here, nothing to validate
            "person": role,
            "mandatory": mandatory,
            "bases": bases_t,
            "legal_basis": _legal_basis(bases_t, historical),
            "age_on_reference": age,
            "age": age,
            "age_reference_date": ref,
            "exempted": exempted,
            # Without the partner's own assessment the beneficiary's decision to conclude an optional PIIS
            # is used, as before the partner's record existed.
            "deadline": _deadline(
                contract,
                settings,
                mandatory,
                historical,
                (assessment or contract.obligation).optional_piis_decision_date,
                deadline_event(contract, assessment, by_request_only) if mandatory else None,
            ),
            "rule_set": "historical" if historical else "2016",
            "notes": tuple(notes),
        }
    )


def assess_obligations(ctx: RuleContext) -> list[PersonObligation]:
    """The obligation summary of the report: the beneficiary, then the partner (R-OBL-09)."""
    c = ctx.contract
    settings = ctx.settings
    historical = ctx.rule_set == "historical"
    ref = age_reference_date(c, settings)  # the same for both partners
    out = [_assess(c.beneficiary, "beneficiary", c, settings, c.obligation, historical, ref)]
    if c.partner is not None:
        out.append(
            _assess(c.partner, "partner", c, settings, c.partner_obligation, historical, ref)
        )
    return out


def _beneficiary(ctx: RuleContext) -> PersonObligation:
    return ctx.obligations[0]


def _recorded(ctx: RuleContext) -> list[tuple[PersonObligation, ObligationAssessment, str, Person]]:
    """(obligation summary, what the CPAS recorded, field of the record, person) for the beneficiary
    and, when the partner's own assessment is recorded, for the partner: R-OBL-01..07 judge each
    partner separately (R-OBL-09).  Without ``partner_obligation`` only the beneficiary's record is
    compared with the facts, as before that field existed."""
    out = ctx.cache.get("obligation.recorded")
    if out is None:  # built once per contract, read by six rules
        c = ctx.contract
        out = [(ctx.obligations[0], c.obligation, "obligation", c.beneficiary)]
        if c.partner is not None and c.partner_obligation is not None and len(ctx.obligations) > 1:
            out.append((ctx.obligations[1], c.partner_obligation, "partner_obligation", c.partner))
        ctx.cache["obligation.recorded"] = out
    return out


# ``ob.person`` is written into some messages as a word: translated where the finding is rendered.
_PERSON_WORDS = (N_("beneficiary"), N_("partner"))
# an exemption's ground in messages (its code in lower case), a word translated where the finding is rendered
_GROUND = {ExemptionGround.HEALTH: N_("health"), ExemptionGround.EQUITY: N_("equity")}
_FOR = {"partner": N_(" for the partner"), "beneficiary": N_(" for the beneficiary")}


def _of(ob: PersonObligation) -> str:
    """How a message names whose record it is: nothing for the beneficiary (the contract's person)."""
    return "" if ob.person == "beneficiary" else _FOR[ob.person]


# --------------------------------------------------------------------------------------------------
# R-OBL rules
# --------------------------------------------------------------------------------------------------


def _obl_01(ctx: RuleContext) -> None:
    c, ob = ctx.contract, _beneficiary(ctx)
    for one, rec, where, _ in _recorded(ctx):
        if ObligationBasis.U25_STUDIES in rec.basis and one.age >= ctx.settings.age_threshold:
            ctx.flag(
                N_(
                    "Contract {contract}: the obligation basis U25_STUDIES is recorded but the {who} was "
                    "{age} on {age_reference_date}."
                ),
                f"{where}.basis",
                person=one.person,
                contract=ctx.cid,
                who=one.person,
                age=one.age,
                age_reference_date=one.age_reference_date,
            )
    if (
        ObligationBasis.U25_STUDIES in ob.bases
        and c.studies is not None
        and c.studies.equity_acceptance_decision_date is None
    ):
        ctx.warning(
            N_(
                "Contract {contract}: under-25 studies PIIS without the date of the CPAS decision accepting "
                "the studies on equity grounds."
            ),
            "studies.equity_acceptance_decision_date",
            person="beneficiary",
            contract=ctx.cid,
        )


def _obl_02(ctx: RuleContext) -> None:
    for ob, rec, where, _ in _recorded(ctx):
        if (
            ObligationBasis.U25_EMPLOYMENT_PROJECT in rec.basis
            and ob.age >= ctx.settings.age_threshold
        ):
            ctx.flag(
                N_(
                    "Contract {contract}: the obligation basis U25_EMPLOYMENT_PROJECT is recorded but the "
                    "{who} was {age} on {age_reference_date}."
                ),
                f"{where}.basis",
                person=ob.person,
                contract=ctx.cid,
                who=ob.person,
                age=ob.age,
                age_reference_date=ob.age_reference_date,
            )


def _obl_03(ctx: RuleContext) -> None:
    c = ctx.contract
    for ob, rec, where, who in _recorded(ctx):
        if ObligationBasis.NO_DIS_LAST_3M in rec.basis and had_dis_in_lookback(
            who, c, ctx.settings
        ):
            ctx.warning(
                N_(
                    "Contract {contract}: NO_DIS_LAST_3M is recorded{of} but the DIS history shows DIS in "
                    "the {new_beneficiary_lookback_months} months before the decision."
                ),
                f"{where}.basis",
                f"{ob.person}.dis_history",
                person=ob.person,
                contract=ctx.cid,
                of=_of(ob),
                new_beneficiary_lookback_months=ctx.settings.new_beneficiary_lookback_months,
            )


def _obl_04(ctx: RuleContext) -> None:
    ob = _beneficiary(ctx)
    for basis in ob.bases:
        if basis in _REQUESTS:
            who = N_("the person") if basis is ObligationBasis.REQUEST_BY_PERSON else N_("the CPAS")
            ctx.info(
                N_("Contract {contract}: PIIS mandatory because {who} asked for it."),
                "obligation.basis",
                person="beneficiary",
                contract=ctx.cid,
                who=who,
            )
    for partner, _, where, _ in _recorded(ctx)[1:]:
        for basis in partner.bases:
            if basis in _REQUESTS:
                who = (
                    N_("the partner")
                    if basis is ObligationBasis.REQUEST_BY_PERSON
                    else N_("the CPAS")
                )
                ctx.info(
                    N_(
                        "Contract {contract}: PIIS mandatory for the partner because {who} asked for it."
                    ),
                    f"{where}.basis",
                    person="partner",
                    contract=ctx.cid,
                    who=who,
                )


def _obl_05(ctx: RuleContext) -> None:
    for ob, rec, where, _ in _recorded(ctx):
        recorded = [b for b in rec.basis if b is not ObligationBasis.NONE]
        if ob.mandatory and not recorded:
            ctx.warning(
                N_(
                    "Contract {contract}: the record says the PIIS is optional{of} but the facts make it "
                    "mandatory ({b})."
                ),
                f"{where}.basis",
                person=ob.person,
                contract=ctx.cid,
                of=_of(ob),
                b=", ".join(b.value for b in ob.bases),
            )
    ob = _beneficiary(ctx)
    if not ob.mandatory:
        ctx.info(
            N_(
                "Contract {contract}: the PIIS is optional for the beneficiary (no mandatory case applies)."
            ),
            "obligation.basis",
            person="beneficiary",
            contract=ctx.cid,
        )


def _obl_06(ctx: RuleContext) -> None:
    for ob in ctx.obligations:
        for note in ob.notes:
            if "R-OBL-06" in note:
                ctx.warning(
                    N_("Contract {contract}: {who} {note}; legal review Q-17."),
                    f"{ob.person}.employment_status",
                    person=ob.person,
                    contract=ctx.cid,
                    who=ob.person,
                    note=note,
                )


def _obl_07(ctx: RuleContext) -> None:
    for ob, rec, where, _ in _recorded(ctx):
        ex = rec.exemption
        if ex is None:
            continue
        if not ob.mandatory:
            ctx.info(
                N_(
                    "Contract {contract}: an exemption is recorded{of} but the PIIS is optional; it has no "
                    "effect."
                ),
                f"{where}.exemption",
                **_person(ob),
                contract=ctx.cid,
                of=_of(ob),
            )
            continue
        if not ex.motivated_separately_from_work_willingness:
            ctx.flag(
                N_(
                    "Contract {contract}: the {lower} exemption{of} is not motivated "
                    "separately from the exemption from willingness to work."
                ),
                f"{where}.exemption.motivated_separately_from_work_willingness",
                person=ob.person,
                contract=ctx.cid,
                lower=_GROUND[ex.ground],
                of=_of(ob),
            )
        if ctx.on < ex.motivated_decision_date:
            ctx.info(
                N_(
                    "Contract {contract}: the exemption decision{of} is dated after the reference date."
                ),
                f"{where}.exemption.motivated_decision_date",
                **_person(ob),
                contract=ctx.cid,
                of=_of(ob),
            )


def _person(ob: PersonObligation) -> dict[str, str]:
    """The ``person`` of a finding about the partner (the beneficiary's findings of R-OBL-07 never
    named one, and their output does not change)."""
    return {} if ob.person == "beneficiary" else {"person": ob.person}


def _obl_08(ctx: RuleContext) -> None:
    c, ob = ctx.contract, _beneficiary(ctx)
    if ob.deadline is None or not ob.mandatory or ob.exempted or judged_on_previous(c):
        return
    if ctx.signed_date is None and ctx.on > ob.deadline:
        ctx.flag(
            N_(
                "Contract {contract}: the PIIS is mandatory ({b}), "
                "was not signed by {deadline} and no motivated exemption is recorded."
            ),
            "signatures",
            "obligation.exemption",
            person="beneficiary",
            contract=ctx.cid,
            b=", ".join(b.value for b in ob.bases),
            deadline=ob.deadline,
        )


def _obl_09(ctx: RuleContext) -> None:
    for ob in ctx.obligations[1:]:
        if ob.mandatory and ob.exempted:
            bases = ", ".join(b.value for b in ob.bases)
            ctx.info(
                N_(
                    "Contract {contract}: a PIIS is also mandatory for the partner ({bases}); a motivated "
                    "exemption is recorded for the partner."
                ),
                "partner",
                "partner_obligation.exemption",
                person="partner",
                contract=ctx.cid,
                bases=bases,
            )
        elif ob.mandatory:
            bases = ", ".join(b.value for b in ob.bases)
            due = Msg(", to be signed by {date}", date=ob.deadline) if ob.deadline else ""
            ctx.info(
                N_("Contract {contract}: a PIIS is also mandatory for the partner ({bases}){due}."),
                "partner",
                person="partner",
                contract=ctx.cid,
                bases=bases,
                due=due,
            )
        else:
            ctx.info(
                N_("Contract {contract}: a PIIS is optional for the partner."),
                "partner",
                person="partner",
                contract=ctx.cid,
            )


def _obl_11(ctx: RuleContext) -> None:
    ob = _beneficiary(ctx)
    for i, r in enumerate(ctx.contract.refusals):
        where = f"refusals[{i}]"
        what = Msg("refusal of {date}", date=r.refused_on)
        refused_dis = r.dis_refusal_decision_date
        if not ob.mandatory:
            if refused_dis is not None:
                ctx.flag(
                    N_(
                        "Contract {contract}: DIS refused on {refused_dis} after the {what}, but the PIIS "
                        "is optional for the beneficiary (R-OBL-05)."
                    ),
                    f"{where}.dis_refusal_decision_date",
                    person="beneficiary",
                    contract=ctx.cid,
                    refused_dis=refused_dis,
                    what=what,
                )
            continue
        review = r.review
        if review is None:
            if refused_dis is not None:
                ctx.flag(
                    N_(
                        "Contract {contract}: DIS refused on {refused_dis} after the {what} without "
                        "reviewing whether it reflects health/equity reasons or an ill-fitting project."
                    ),
                    f"{where}.review",
                    person="beneficiary",
                    contract=ctx.cid,
                    refused_dis=refused_dis,
                    what=what,
                )
            else:
                ctx.warning(
                    N_(
                        "Contract {contract}: {what} of the mandatory PIIS: review whether it reflects "
                        "health/equity reasons or an ill-fitting project before any refusal of DIS."
                    ),
                    f"{where}.review",
                    person="beneficiary",
                    contract=ctx.cid,
                    what=what,
                )
            continue
        found = [
            why
            for why, yes in (
                (N_("health/equity reasons"), review.health_or_equity_reasons),
                (N_("an ill-fitting project"), review.project_ill_fitting),
            )
            if yes
        ]
        if refused_dis is not None and review.reviewed_on > refused_dis:
            ctx.flag(
                N_(
                    "Contract {contract}: DIS refused on {refused_dis}, before the review of "
                    "{reviewed_on} of the {what}."
                ),
                f"{where}.review.reviewed_on",
                f"{where}.dis_refusal_decision_date",
                person="beneficiary",
                contract=ctx.cid,
                refused_dis=refused_dis,
                reviewed_on=review.reviewed_on,
                what=what,
            )
        elif refused_dis is not None and found:
            ctx.flag(
                N_(
                    "Contract {contract}: DIS refused on {refused_dis} although the review found "
                    "{found}; adapt the project or decide an exemption (R-OBL-07)."
                ),
                f"{where}.dis_refusal_decision_date",
                person="beneficiary",
                contract=ctx.cid,
                refused_dis=refused_dis,
                found=Join(N_(" and "), found),
            )
        elif found and review.outcome is RefusalReviewOutcome.REFUSAL_MAINTAINED:
            ctx.warning(
                N_(
                    "Contract {contract}: the review of the {what} found {found} but maintained "
                    "the refusal."
                ),
                f"{where}.review.outcome",
                person="beneficiary",
                contract=ctx.cid,
                what=what,
                found=Join(N_(" and "), found),
            )


def _obl_12(ctx: RuleContext) -> None:
    c = ctx.contract
    when = ctx.signed_date or c.start_date
    age = age_on(c.beneficiary.birth_date, when)
    if age >= ctx.settings.age_threshold:
        ctx.info(
            N_(
                "Contract {contract}: studies PIIS concluded at age {age}: the specific studies conditions are "
                "not compulsory and the STUDIES subsidy is not due."
            ),
            "beneficiary.birth_date",
            "studies",
            person="beneficiary",
            contract=ctx.cid,
            age=age,
        )


def _unwilling(c: PIISContract) -> bool:
    return c.decision.unwilling_to_work is not None


def _obl_13(ctx: RuleContext) -> None:
    finding = ctx.contract.decision.unwilling_to_work
    assert finding is not None
    grounds = finding.grounds
    if WillingnessGround.REFUSED_COMMUNITY_SERVICE not in grounds:
        return
    when = finding.found_on
    if all(g is WillingnessGround.REFUSED_COMMUNITY_SERVICE for g in grounds):
        ctx.flag(
            N_(
                "Contract {contract}: the DIS decision of {when} finds the person not willing to work on the sole "
                "ground of a refused community service; community service is never imposed."
            ),
            "decision.unwilling_to_work.grounds",
            person="beneficiary",
            contract=ctx.cid,
            when=when,
        )
    else:
        ctx.warning(
            N_(
                "Contract {contract}: the DIS decision of {when} counts a refused community service among its "
                "grounds of unwillingness to work; that refusal cannot count, the other grounds must carry "
                "the decision."
            ),
            "decision.unwilling_to_work.grounds",
            person="beneficiary",
            contract=ctx.cid,
            when=when,
        )


_TRANSITION_START = date(2016, 5, 1)
_TRANSITION_END = date(2016, 11, 1)


def _obl_15(ctx: RuleContext) -> None:
    c = ctx.contract
    signed = ctx.signed_date
    if signed is not None and signed < ctx.settings.reform_date:
        return
    if had_dis_in_lookback(c.beneficiary, c, ctx.settings):
        return
    due = ctx.settings.month_deadline(ctx.settings.reform_date, 12)
    status = ctx.deadline(
        "transitional PIIS deadline", due, signed, "signatures", person="beneficiary"
    )
    if status in (DateStatus.LATE, DateStatus.OVERDUE):
        ctx.flag(
            N_(
                "Contract {contract}: RI granted before the reform to a new beneficiary; the PIIS was due by "
                "{due} under the transitional rule."
            ),
            "signatures",
            person="beneficiary",
            contract=ctx.cid,
            due=due,
        )


def _obl_16(ctx: RuleContext) -> None:
    ob = _beneficiary(ctx)
    ctx.info(
        N_("Contract {contract}: DIS decision before {reform_date}: historical rules apply."),
        "decision.decision_date",
        contract=ctx.cid,
        reform_date=ctx.settings.reform_date,
    )
    if (
        ob.mandatory
        and not ob.exempted
        and ob.deadline is not None
        and ctx.signed_date is None
        and ctx.on > ob.deadline
    ):
        ctx.flag(
            N_(
                "Contract {contract}: the PIIS was mandatory under the historical rules and was not signed by "
                "{deadline}."
            ),
            "signatures",
            person="beneficiary",
            contract=ctx.cid,
            deadline=ob.deadline,
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_obl_NN`` above).
OBLIGATION_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-OBL-01",
        title="Under 25 in full-time studies: PIIS mandatory",
        severity=Severity.LEGAL,
        citation="[002 L153, L256]",
        doc="""A person under 25 whom the CPAS accepts, on equity grounds, in full-time studies must have a
        PIIS (basis U25_STUDIES).  The engine flags a recorded U25_STUDIES basis for someone who was
        25 or over on the reference date (Q-03) -- the beneficiary's, and the partner's when
        ``partner_obligation`` is recorded (R-OBL-09) -- and an under-25 studies PIIS without the date
        of the equity-acceptance decision.""",
        era=Era.REFORM,
        check=_obl_01,
    ),
    RuleSpec(
        "R-OBL-02",
        title="Under 25, integration through an employment project: PIIS mandatory",
        severity=Severity.LEGAL,
        citation="[002 L155, L334; 000 L105]",
        doc="""A person under 25 whose integration takes the form of a project leading to a job must have a
        PIIS (U25_EMPLOYMENT_PROJECT); in practice an under-25 on RI who is not in work.  Flags a
        recorded basis that the age contradicts, for the beneficiary and for a partner whose own
        assessment is recorded (a mandatory case the record omits: R-OBL-05).""",
        era=Era.REFORM,
        check=_obl_02,
    ),
    RuleSpec(
        "R-OBL-03",
        title="No DIS in the 3 months before the grant decision: PIIS mandatory",
        severity=Severity.LEGAL,
        citation="[002 L157, L590; 000 L106]",
        doc="""Any age: no DIS (neither RI nor employment through a CPAS measure such as art. 60) during the
        3 months before the RI grant decision (Q-04: the decision date) makes the PIIS mandatory
        (NO_DIS_LAST_3M), first-time beneficiaries included.  The RI granted by the decision itself is
        not previous DIS.  Flags a recorded NO_DIS_LAST_3M that the DIS history contradicts (a mandatory
        case the record omits: R-OBL-05), for the beneficiary and for a partner whose own assessment is
        recorded (the partner's own DIS history).""",
        era=Era.REFORM,
        parameters=(
            "new_beneficiary_lookback_months",
            "q04_lookback_anchor",
            "dis_kinds_for_lookback",
        ),
        check=_obl_03,
    ),
    RuleSpec(
        "R-OBL-04",
        title="A PIIS asked for by the person or the CPAS becomes mandatory",
        severity=Severity.LEGAL,
        citation="[002 L147-149]",
        doc="""When the person or the CPAS asks for a PIIS it becomes mandatory (REQUEST_BY_PERSON /
        REQUEST_BY_CPAS).  A request can only be known from the record; the report states it (for the
        partner too when the partner's own assessment records a request, R-OBL-09).  For a person already on
        the RI whom only the request obliges, the 3 months run from the request (``obligation.request_date``,
        when after the DIS decision), not from the old decision.""",
        era=Era.REFORM,
        check=_obl_04,
    ),
    RuleSpec(
        "R-OBL-05",
        title="No mandatory case: the PIIS is optional",
        severity=Severity.LEGAL,
        citation="[002 L105, L145, L621-623]",
        doc="""None of R-OBL-01..04 applies: the PIIS is optional, RI may be granted and kept without one.
        The report says so (info).  When the record gives no mandatory basis (empty or NONE) but the
        facts do (age, studies, DIS history), the record is wrong: warning naming the bases.  The same
        comparison is made for the partner when the partner's own assessment is recorded (R-OBL-09,
        which reports the partner's optional PIIS).""",
        era=Era.REFORM,
        check=_obl_05,
    ),
    RuleSpec(
        "R-OBL-06",
        title="Working with an RI top-up: PIIS not mandatory",
        severity=Severity.LEGAL,
        citation="[000 L113; 002 L607-609]",
        doc="""A person who works and receives RI as a top-up to the wage is not obliged to sign a PIIS; if
        one is concluded the subsidy can still be due.  By the Q-17 default this overrides the
        under-25 and new-beneficiary cases; the report flags each time it does.""",
        era=Era.REFORM,
        parameters=("q17_topup_makes_optional",),
        check=_obl_06,
    ),
    RuleSpec(
        "R-OBL-07",
        title="Not concluding a mandatory PIIS needs a motivated health/equity decision",
        severity=Severity.LEGAL,
        citation="[002 L109, L367, L377-379; 000 L110-112]",
        doc="""A mandatory PIIS may be left out for health or equity reasons only through a motivated
        decision, motivated separately from any exemption from willingness to work ("double
        motivation").  Flags an exemption without the separate motivation, and notes an exemption
        recorded for an optional PIIS (it has no effect).  A partner's exemption, recorded in
        ``partner_obligation``, is judged the same way and exempts the partner only (R-OBL-09).""",
        era=Era.REFORM,
        check=_obl_07,
    ),
    RuleSpec(
        "R-OBL-08",
        title="Mandatory PIIS not signed in time and no exemption: non-compliance",
        severity=Severity.LEGAL,
        citation="[002 L536, L544]",
        doc="""A mandatory PIIS that is not signed by its deadline (R-DL-01) and is not covered by a
        motivated exemption is non-compliant (inspection items I-02 and I-06 fail).  Raised once the
        deadline has passed on the reference date; a late signature is reported by R-DL-01.  A contract that
        follows a signed PIIS or replaces a non-compliant one under the same decision (``previous_contract``)
        is not judged again on the decision's deadline.""",
        era=Era.REFORM,
        check=_obl_08,
    ),
    RuleSpec(
        "R-OBL-09",
        title="Couples: the obligation is judged for each partner separately",
        severity=Severity.LEGAL,
        citation="[002 L651]",
        doc="""For a couple, R-OBL-01..07 apply to each partner separately.  The report carries one
        obligation summary per partner; this rule states the partner's result (the partner's own
        PIIS is a separate contract).  When the partner's own assessment is recorded
        (``partner_obligation``) its requests count as bases, its exemption exempts the partner, its
        optional-PIIS decision date gives the partner's deadline, and R-OBL-01..05 and 07 compare it with
        the facts under the partner's name; without it only the facts are judged.""",
        check=_obl_09,
    ),
    RuleSpec(
        "R-OBL-10",
        title="Obligation and subsidy are judged independently",
        severity=Severity.LEGAL,
        citation="[002 L597-599]",
        doc="""Whether a PIIS is mandatory has no bearing on whether a subsidy is due.  Design rule of
         the engine: the subsidy rules (R-SUB) never read the obligation summary.""",
        automated=False,
    ),
    RuleSpec(
        "R-OBL-11",
        title="Refusing a mandatory PIIS: review before any refusal of DIS",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L592-595]",
        doc="""If the person refuses to sign a mandatory PIIS (or to consent to its project), DIS may be
        refused, but the CPAS must first check whether the refusal reflects health/equity reasons or an
        ill-fitting project, and adapt the project.  Never an automatic refusal.  Judged on the recorded
        refusals (``refusals``; none recorded: nothing to judge, as before the field existed):

        - a refusal of a mandatory PIIS not yet reviewed is a review task for the social worker (warning);
        - DIS refused without a review, or before it, is an error; so is DIS refused although the review
          found health/equity reasons (an exemption is due, R-OBL-07) or an ill-fitting project (adapt it);
        - a review that found such reasons but maintained the refusal is a warning;
        - DIS refused because the person refused an optional PIIS is an error: RI may be granted and kept
          without an optional PIIS (R-OBL-05).""",
        era=Era.REFORM,
        applies=lambda c: bool(c.refusals),
        check=_obl_11,
    ),
    RuleSpec(
        "R-OBL-12",
        title="25 or over in full-time studies: studies PIIS possible, specifics optional",
        severity=Severity.LEGAL,
        citation="[002 L258]",
        doc="""A person aged 25 or over may have a studies PIIS with the CPAS's agreement; the specific
        studies conditions are then not compulsory (the R-STU content rules become advisory) and the
        STUDIES subsidy is not due.""",
        applies=lambda c: c.is_studies,
        check=_obl_12,
    ),
    RuleSpec(
        "R-OBL-13",
        title="Community service is never imposed",
        severity=Severity.LEGAL,
        citation="[000 L129; 002 L629-631]",
        doc="""Community service needs the agreement of both the person and the CPAS (checked on the contract by
        R-CS-12).  So refusing a community service can never ground a finding that the person is not willing
        to work: a DIS decision that finds the person unwilling (``decision.unwilling_to_work``) on that sole
        ground is an error; with other grounds, the refusal is noted as one that cannot count (warning).""",
        applies=_unwilling,
        check=_obl_13,
    ),
    RuleSpec(
        "R-OBL-14",
        title="(Transitional) Subsidiary protection moved to DIS on 1 Dec 2016",
        severity=Severity.LEGAL,
        citation="[002 L584-586]",
        doc="""A person with subsidiary protection moved from social aid to DIS on 1 December 2016 is
         treated as a new request: PIIS mandatory unless health/equity.  The model has no
         subsidiary-protection flag and the seeds' deadline is inconsistent (C-12): legacy data only,
         not automated.""",
        automated=False,
        era=Era.HISTORICAL,
    ),
    RuleSpec(
        "R-OBL-15",
        title="(Transitional) RI granted in the 6 months before the reform: PIIS within 12 months",
        severity=Severity.LEGAL,
        citation="[002 L588-590]",
        doc="""RI granted in the 6 months before 2016-11-01, no PIIS by that date and no DIS in the 3
        months before that grant: the person is entitled to a PIIS and the CPAS had 12 months from
        2016-11-01 (until 2017-11-01) to conclude it.""",
        valid_from=_TRANSITION_START,
        valid_until=_TRANSITION_END,
        check=_obl_15,
    ),
    RuleSpec(
        "R-OBL-16",
        title="(Historical) Before 2016-11-01: mandatory only under 25 or on request",
        severity=Severity.HISTORICAL,
        citation="[002 L79, L84, L361; 004 L180-181, L4495-4496]",
        doc="""Facts before the reform: the PIIS was mandatory only for under-25s (save equity) and
        optional for others unless a party asked.  The obligation summary uses this rule set; a
        mandatory PIIS not signed by the historical deadline (R-DL-08) without exemption is flagged.""",
        era=Era.HISTORICAL,
        check=_obl_16,
    ),
)
family(OBLIGATION_RULES)
