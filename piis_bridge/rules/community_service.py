"""R-CS: community service inside a PIIS — voluntary, insured, at a non-profit host using volunteers,
never a paid job or a hiring test."""

from __future__ import annotations

from piis_bridge.i18n import N_, Join
from piis_bridge.model import FormTag, PIISContract, VolunteerAllowanceRegime
from piis_bridge.rules.content import missing
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family

__all__: list[str] = []


def _has_block(c: PIISContract) -> bool:
    """The precondition most R-CS rules share (the engine asks it once per contract)."""
    return c.community_service is not None


def _has_cs(c: PIISContract) -> bool:
    return c.community_service is not None or FormTag.COMMUNITY_SERVICE in c.form_tags


def _cs_02(ctx: RuleContext) -> None:
    cs = ctx.contract.community_service
    assert cs is not None
    ended = cs.ended_by_person_date
    if ended is None or ended > ctx.on:
        return
    if not any(v.version_no > 1 and v.effective_date >= ended for v in ctx.contract.versions):
        ctx.flag(
            N_(
                "Contract {contract}: the person stopped the community service on {ended} and the "
                "PIIS has not been revised."
            ),
            "community_service.ended_by_person_date",
            "versions",
            contract=ctx.cid,
            ended=ended,
        )


def _cs_06(ctx: RuleContext) -> None:
    cs = ctx.contract.community_service
    if cs is None:
        missing(
            ctx,
            N_("the community-service block (the contract is tagged COMMUNITY_SERVICE)"),
            "community_service",
        )
        return
    if not (cs.schedule or "").strip():
        missing(ctx, N_("the community-service schedule"), "community_service.schedule")
    if cs.start_date is None or cs.end_date is None:
        missing(
            ctx,
            N_("the community-service duration (start and end)"),
            "community_service.start_date",
            "community_service.end_date",
        )
    if cs.insurance_verified and not (cs.insurance_policy_ref or cs.insurance_verified_date):
        missing(
            ctx,
            N_("the record of the CPAS's insurance check (policy or date)"),
            "community_service.insurance_policy_ref",
            "community_service.insurance_verified_date",
        )


def _cs_07(ctx: RuleContext) -> None:
    cs = ctx.contract.community_service
    assert cs is not None
    if cs.insurance_verified:
        return
    started = cs.start_date is not None and cs.start_date <= ctx.on
    state = N_("is being performed") if started else N_("cannot start")
    ctx.flag(
        N_("Contract {contract}: the community service {state} without verified insurance."),
        "community_service.insurance_verified",
        contract=ctx.cid,
        state=state,
    )


def _cs_08(ctx: RuleContext) -> None:
    host = ctx.contract.community_service.host  # type: ignore[union-attr]
    if not host.non_profit:
        ctx.flag(
            N_("Contract {contract}: the community-service host is not a non-profit organisation."),
            "community_service.host.non_profit",
            contract=ctx.cid,
        )
    if not host.uses_volunteers:
        ctx.flag(
            N_("Contract {contract}: the community-service host does not use volunteers."),
            "community_service.host.uses_volunteers",
            contract=ctx.cid,
        )


def _cs_09(ctx: RuleContext) -> None:
    cs = ctx.contract.community_service
    assert cs is not None
    amount = cs.volunteer_allowance_cents or 0
    if amount > 0 and not cs.effect_on_ri_explained:
        ctx.flag(
            N_(
                "Contract {contract}: a volunteer allowance is paid but its effect on the RI and on tax is not "
                "explained."
            ),
            "community_service.effect_on_ri_explained",
            contract=ctx.cid,
        )
    if amount > 0 and cs.effect_on_tax_explained is False:
        ctx.flag(
            N_(
                "Contract {contract}: a volunteer allowance is paid but its effect on tax is not explained."
            ),
            "community_service.effect_on_tax_explained",
            contract=ctx.cid,
        )
    ceiling = ctx.settings.volunteer_allowance_max_cents
    if (
        ceiling is not None
        and amount > ceiling
        and cs.allowance_regime is not VolunteerAllowanceRegime.ACTUAL_COSTS
    ):
        ctx.flag(
            N_("Contract {contract}: the volunteer allowance exceeds the legal ceiling."),
            "community_service.volunteer_allowance_cents",
            contract=ctx.cid,
        )


def _cs_10(ctx: RuleContext) -> None:
    if not ctx.contract.community_service.not_regular_paid_task_confirmed:  # type: ignore[union-attr]
        ctx.flag(
            N_(
                "Contract {contract}: not confirmed that the community-service tasks are not part of a paid job."
            ),
            "community_service.not_regular_paid_task_confirmed",
            contract=ctx.cid,
        )


def _cs_11(ctx: RuleContext) -> None:
    if not ctx.contract.community_service.not_trial_or_employment_test:  # type: ignore[union-attr]
        ctx.flag(
            N_(
                "Contract {contract}: not confirmed that the community service is not a trial period or hiring "
                "test."
            ),
            "community_service.not_trial_or_employment_test",
            contract=ctx.cid,
        )


def _cs_12(ctx: RuleContext) -> None:
    cs = ctx.contract.community_service
    assert cs is not None
    absent = [
        who
        for who, ok in (
            (N_("the person"), cs.agreed_by_person),
            (N_("the CPAS"), cs.agreed_by_cpas),
        )
        if not ok
    ]
    if absent:
        ctx.flag(
            N_("Contract {contract}: community service without the agreement of {absent}."),
            "community_service.agreed_by_person",
            "community_service.agreed_by_cpas",
            contract=ctx.cid,
            absent=Join(N_(" and "), absent),
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_cs_NN`` above).
COMMUNITY_SERVICE_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-CS-01",
        title="Both personal development and benefit to society",
        severity=Severity.LEGAL,
        citation="[002 L287]",
        doc="""Community service is a voluntary activity that helps both the person's personal development
         path and society.  A judgement on the activity itself: not automated.""",
        automated=False,
    ),
    RuleSpec(
        "R-CS-02",
        title="The person may stop: the PIIS is then revised",
        severity=Severity.LEGAL,
        citation="[002 L289; 000 L140]",
        doc="""Once included, community service is part of the PIIS.  If the person no longer wants it they
        tell the social worker and the PIIS is revised (R-AMD-01): after ``ended_by_person_date`` a
        version taking effect on or after that date must exist.""",
        applies=_has_block,
        check=_cs_02,
    ),
    RuleSpec(
        "R-CS-03",
        title="Refusing community service is not unwillingness to work",
        severity=Severity.LEGAL,
        citation="[002 L291-292]",
        doc="""Accepting community service may count toward willingness to work; refusing it cannot, by
         itself, justify a finding that the person is not willing to work.  Concerns DIS decisions, not
         the contract data: not automated.""",
        automated=False,
    ),
    RuleSpec(
        "R-CS-04",
        title="No reduction of availability for the labour market",
        severity=Severity.LEGAL,
        citation="[002 L293]",
        doc="""The service must not reduce the person's availability for the labour market and cannot be a
         reason to refuse a job.  Not automated (no data on job offers).""",
        automated=False,
    ),
    RuleSpec(
        "R-CS-05",
        title="Open to any age",
        severity=Severity.LEGAL,
        citation="[002 L297]",
        doc="""Community service is open to any age: the engine never limits it by age.""",
        automated=False,
    ),
    RuleSpec(
        "R-CS-06",
        title="Community service: nature, schedule, compensation, duration, insurance check",
        severity=Severity.LEGAL,
        citation="[002 L301-311; 000 L129]",
        doc="""A PIIS with community service states its nature, the schedule of the activities, the
        compensation arrangements, the duration, and the CPAS's check of the insurance (000 also expects
        the host and the exact allowance with its effect on the RI).  Each missing element is named.""",
        applies=_has_cs,
        check=_cs_06,
    ),
    RuleSpec(
        "R-CS-07",
        title="No insurance, no community service",
        severity=Severity.LEGAL,
        citation="[002 L311, L319]",
        doc="""Without insurance covering damage to the beneficiaries and to third parties the service
        cannot be performed.  An unverified insurance blocks the start; after the start it is a breach.""",
        applies=_has_block,
        check=_cs_07,
    ),
    RuleSpec(
        "R-CS-08",
        title="Host: a non-profit organisation that uses volunteers",
        severity=Severity.LEGAL,
        citation="[002 L313-317; 000 L131]",
        doc="""The host is a non-profit organisation (de facto association, ASBL, public-utility foundation,
        public administration...) that uses volunteers; otherwise the service is invalid.""",
        applies=_has_block,
        check=_cs_08,
    ),
    RuleSpec(
        "R-CS-09",
        title="Only volunteer allowances, effect on the RI explained",
        severity=Severity.LEGAL,
        citation="[002 L319-321]",
        doc="""Compensation is limited to the allowances the volunteers law (3 July 2005) allows; when one is
        paid, its effect on the RI calculation and on tax must be explained.  The effect on the RI is
        ``effect_on_ri_explained``; the effect on tax, ``effect_on_tax_explained``, is judged when recorded
        (false: flagged; not recorded: not judged).  The legal ceiling is not in the seeds: it is checked
        only when ``volunteer_allowance_max_cents`` is set, and never for an allowance recorded as the
        reimbursement of actual costs (``allowance_regime`` ACTUAL_COSTS), which that law does not cap.""",
        applies=_has_block,
        parameters=("volunteer_allowance_max_cents",),
        check=_cs_09,
    ),
    RuleSpec(
        "R-CS-10",
        title="Not part of a paid job",
        severity=Severity.LEGAL,
        citation="[002 L323; 000 L131]",
        doc="""The tasks must not belong to a paid job (statutory, employment contract or employment measure).
        The contract records that this was checked; otherwise it is flagged.""",
        applies=_has_block,
        check=_cs_10,
    ),
    RuleSpec(
        "R-CS-11",
        title="Never a trial period or a test before hiring",
        severity=Severity.LEGAL,
        citation="[002 L325, L633-635]",
        doc="""Community service used as a trial period or a test before hiring is invalid; the contract
        records that it is not.""",
        applies=_has_block,
        check=_cs_11,
    ),
    RuleSpec(
        "R-CS-12",
        title="Agreed by the person and the CPAS",
        severity=Severity.LEGAL,
        citation="[002 L629-631; 000 L129]",
        doc="""Community service is never imposed (R-OBL-13): both the person and the CPAS agree, or it
        cannot be included.  A DIS decision finding the person unwilling to work because a community service
        was refused is judged by R-OBL-13 (``decision.unwilling_to_work``).""",
        applies=_has_block,
        check=_cs_12,
    ),
)
family(COMMUNITY_SERVICE_RULES)
