"""R-STU: the full-time studies PIIS — duration, the student's conditions, follow-up, the CPAS's
support and the yearly evaluation.

Why the level can drop: for a person aged 25 or over at conclusion the specific studies conditions
are not compulsory (R-OBL-12), so their absence is advisory only.
"""

from __future__ import annotations

from piis_bridge.i18n import N_
from piis_bridge.model import AcademicOutcome, FormTag, PIISContract, TerminationReason
from piis_bridge.rules.calendar import age_on
from piis_bridge.rules.content import missing
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family

__all__: list[str] = []


def _is_studies(c: PIISContract) -> bool:
    return c.is_studies


def _has_block(c: PIISContract) -> bool:
    return c.studies is not None


def _over_age(ctx: RuleContext) -> bool:
    c = ctx.contract
    return (
        age_on(c.beneficiary.birth_date, ctx.signed_date or c.start_date)
        >= ctx.settings.age_threshold
    )


def _need(ctx: RuleContext, what: str, *fields: str) -> None:
    if _over_age(ctx):
        ctx.warning(
            N_("Contract {contract}: missing {what} (not compulsory at 25 or over, R-OBL-12)."),
            *fields,
            contract=ctx.cid,
            what=what,
        )
    else:
        missing(ctx, what, *fields)


def _stu_01(ctx: RuleContext) -> None:
    c = ctx.contract
    s = c.studies
    if s is None:
        missing(ctx, N_("the studies block (the contract is tagged STUDIES_FULLTIME)"), "studies")
        return
    if c.end_date < s.study_end_date:
        ctx.flag(
            N_(
                "Contract {contract}: ends on {end_date}, before the end of the studies on "
                "{study_end_date}."
            ),
            "end_date",
            "studies.study_end_date",
            contract=ctx.cid,
            end_date=c.end_date,
            study_end_date=s.study_end_date,
        )


def _stu_02(ctx: RuleContext) -> None:
    s = ctx.contract.studies
    assert s is not None
    if not (s.grant_application or "").strip():
        _need(ctx, N_("the study-grant application"), "studies.grant_application")
    if not (s.work_availability or "").strip():
        _need(
            ctx,
            N_("the student's availability for work in compatible periods"),
            "studies.work_availability",
        )
    if (s.parental_break_mediation or "").strip() and not (
        s.family_allowance_redirect or ""
    ).strip():
        _need(
            ctx,
            N_("the steps to have family allowances / maintenance paid to the student"),
            "studies.family_allowance_redirect",
        )


def _stu_03(ctx: RuleContext) -> None:
    s = ctx.contract.studies
    assert s is not None
    if s.enrolment_proof_received_date is None:
        _need(ctx, N_("the proof of enrolment"), "studies.enrolment_proof_received_date")
    if not s.community_recognised:
        _need(ctx, N_("a Community-recognised institution"), "studies.community_recognised")
    if not s.full_time:
        _need(ctx, N_("full-time studies (the programme is not full-time)"), "studies.full_time")


def _stu_04(ctx: RuleContext) -> None:
    if not (ctx.contract.studies.attendance_commitments or "").strip():  # type: ignore[union-attr]
        _need(ctx, N_("the attendance / exam commitments"), "studies.attendance_commitments")


def _stu_05(ctx: RuleContext) -> None:
    if not (ctx.contract.studies.cpas_study_support or "").strip():  # type: ignore[union-attr]
        _need(ctx, N_("the CPAS's study support"), "studies.cpas_study_support")


def _stu_06(ctx: RuleContext) -> None:
    s = ctx.contract.studies
    assert s is not None
    if (s.parental_break_mediation or "").strip():
        return
    if (s.family_allowance_redirect or "").strip():
        _need(ctx, N_("the CPAS's mediation with the parents"), "studies.parental_break_mediation")
    elif not _over_age(ctx):
        ctx.info(
            N_(
                "Contract {contract}: no parental-mediation arrangements; required if the relationship with the "
                "parents is broken."
            ),
            "studies.parental_break_mediation",
            contract=ctx.cid,
        )


def _stu_07(ctx: RuleContext) -> None:
    if not (ctx.contract.studies.year_evaluation_method or "").strip():  # type: ignore[union-attr]
        _need(ctx, N_("the method of the yearly evaluation"), "studies.year_evaluation_method")


def _stu_08(ctx: RuleContext) -> None:
    c = ctx.contract
    for i, y in enumerate(c.studies.academic_years):  # type: ignore[union-attr]
        if y.results_communicated_date is not None and y.outcome is None:
            ctx.warning(
                N_(
                    "Contract {contract}: results of {academic_year} were sent but the CPAS's evaluation "
                    "outcome is not recorded."
                ),
                f"studies.academic_years[{i}].outcome",
                contract=ctx.cid,
                academic_year=y.academic_year,
            )
        if y.outcome is AcademicOutcome.END and c.termination is None:
            ctx.warning(
                N_(
                    "Contract {contract}: the evaluation of {academic_year} ended the studies PIIS but no "
                    "termination is recorded."
                ),
                f"studies.academic_years[{i}].outcome",
                "termination",
                contract=ctx.cid,
                academic_year=y.academic_year,
            )


_FLEMISH_INS = ("1", "3", "4", "7", "23", "24")  # Flemish provinces: Flemish-Community education
_ENDING = (AcademicOutcome.END, AcademicOutcome.REORIENT)
_ENDING_REASONS = (TerminationReason.STUDIES_EVALUATION_END, TerminationReason.REORIENTED_NEW_PIIS)


def _judged_on_results(c: PIISContract) -> bool:
    if c.studies is None:
        return False
    if c.termination is not None and c.termination.reason in _ENDING_REASONS:
        return True
    return any(y.outcome in _ENDING for y in c.studies.academic_years)


def _stu_09(ctx: RuleContext) -> None:
    c = ctx.contract
    if c.cpas.ins_code.startswith(_FLEMISH_INS):
        return
    studies = c.studies
    assert studies is not None
    years = [(i, y) for i, y in enumerate(studies.academic_years) if y.outcome in _ENDING]
    if not years and c.termination is not None:  # ended for the evaluation: the last evaluated year
        evaluated = [
            (i, y)
            for i, y in enumerate(studies.academic_years)
            if y.results_available_date <= c.termination.ended_on
        ]
        years = evaluated[-1:]
        if not years:
            ctx.flag(
                N_(
                    "Contract {contract}: the studies PIIS was ended after the year's evaluation; under the Décret "
                    "Paysage do not judge progress on the January/June results alone."
                ),
                "termination.reason",
                contract=ctx.cid,
            )
            return
    for i, y in years:
        what = N_("reoriented") if y.outcome is AcademicOutcome.REORIENT else N_("ended")
        field = f"studies.academic_years[{i}].reasoning"
        if (y.reasoning or "").strip():
            ctx.info(
                N_(
                    "Contract {contract}: the studies PIIS was {what} after the evaluation of {academic_year}; "
                    "under the Décret Paysage progress is not judged on the January/June results alone."
                ),
                field,
                contract=ctx.cid,
                what=what,
                academic_year=y.academic_year,
            )
        else:
            ctx.flag(
                N_(
                    "Contract {contract}: the studies PIIS was {what} after the evaluation of {academic_year} "
                    "without a recorded reasoning; under the Décret Paysage do not judge progress on the "
                    "January/June results alone (credits per teaching unit)."
                ),
                field,
                contract=ctx.cid,
                what=what,
                academic_year=y.academic_year,
            )


def _stu_10(ctx: RuleContext) -> None:
    c = ctx.contract
    if _over_age(ctx):
        return
    since = c.beneficiary.studies_uninterrupted_since or (
        c.studies.study_start_date if c.studies else None
    )
    moved = c.transfer.residence_change_date if c.transfer is not None else None
    if (
        c.termination is not None
        and c.termination.reason is TerminationReason.CPAS_NO_LONGER_COMPETENT_RESIDENCE
    ):
        moved = moved or c.termination.ended_on
        if since is not None and since <= moved:
            ctx.flag(
                N_(
                    "Contract {contract}: an under-25 studies PIIS was ended for a change of residence during "
                    "uninterrupted studies; the same CPAS stays competent."
                ),
                "termination.reason",
                contract=ctx.cid,
            )
    elif c.transfer is not None and since is not None and moved is not None and since <= moved:
        ctx.flag(
            N_(
                "Contract {contract}: a transfer is recorded for an under-25 studies PIIS during uninterrupted "
                "studies; the same CPAS stays competent."
            ),
            "transfer",
            contract=ctx.cid,
        )


def _stu_11(ctx: RuleContext) -> None:
    c = ctx.contract
    s = c.studies
    if ctx.settings.local_students_summer_job and s is not None:
        if not (s.work_availability or "").strip():
            ctx.flag(
                N_(
                    "Contract {contract}: this CPAS requires a summer job; the contract does not state the "
                    "student's work availability."
                ),
                "studies.work_availability",
                contract=ctx.cid,
            )
        for i, job in enumerate(s.summer_jobs):
            if not job.worked and not (job.exemption_reason or "").strip():
                ctx.flag(
                    N_(
                        "Contract {contract}: this CPAS requires a summer job; the student did not work in the "
                        "summer of {summer} and no health or equity reason is recorded."
                    ),
                    f"studies.summer_jobs[{i}].worked",
                    contract=ctx.cid,
                    summer=job.summer,
                )
    limit = ctx.settings.local_max_repeated_years_per_cycle
    if limit is not None and s is not None:
        repeats: dict[str, int] = {}
        for i, year in enumerate(s.academic_years):
            if not year.repeated_year:
                continue
            cycle = (year.cycle or s.cycle or "").strip() or "(cycle not stated)"
            repeats[cycle] = repeats.get(cycle, 0) + 1
            if repeats[cycle] > limit and year.repeat_allowed_by_council_date is None:
                ctx.flag(
                    N_(
                        "Contract {contract}: {academic_year} is repeated year {repeats} in the "
                        "{cycle} cycle; this CPAS allows {limit} per cycle unless the council decides otherwise."
                    ),
                    f"studies.academic_years[{i}].repeated_year",
                    contract=ctx.cid,
                    academic_year=year.academic_year,
                    repeats=repeats[cycle],
                    cycle=cycle,
                    limit=limit,
                )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_stu_NN`` above).
STUDIES_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-STU-01",
        title="A studies PIIS covers the whole duration of the studies",
        severity=Severity.LEGAL,
        citation="[002 L202, L264]",
        doc="""A studies PIIS covers the whole study programme: its end date is not before the end of the
        studies (R-CNT-05).  A contract tagged STUDIES_FULLTIME without a studies block is flagged too.""",
        applies=_is_studies,
        check=_stu_01,
    ),
    RuleSpec(
        "R-STU-02",
        title="The student's simultaneous conditions",
        severity=Severity.LEGAL,
        citation="[002 L266-269; Model A 004 L5257-5263]",
        doc="""The contract states the student's simultaneous conditions: apply for a study grant where
        possible, and be willing to work in periods compatible with the studies unless health/equity
        prevents it.  The redirection of family allowances / maintenance applies only when the
        relationship with the parents is broken; the model has no flag for that, so it is required
        only when parental mediation (R-STU-06) is stated.""",
        applies=_has_block,
        check=_stu_02,
    ),
    RuleSpec(
        "R-STU-03",
        title="Proof of enrolment in a Community-recognised full-time programme",
        severity=Severity.LEGAL,
        citation="[002 L271; Model A 004 L5247]",
        doc="""Proof of enrolment in an institution recognised, organised or subsidised by a Community is
        required, for full-time studies (reduced-schedule and 'promotion sociale' courses do not count).""",
        applies=_has_block,
        check=_stu_03,
    ),
    RuleSpec(
        "R-STU-04",
        title="Attendance, exams and effort",
        severity=Severity.LEGAL,
        citation="[002 L273; Model A 004 L5249-5253]",
        doc="""The contract states how study follow-up works: regular attendance, sitting the exams, every
        effort to pass (derogation only for health/equity).""",
        applies=_has_block,
        check=_stu_04,
    ),
    RuleSpec(
        "R-STU-05",
        title="How the CPAS supports the studies",
        severity=Severity.LEGAL,
        citation="[002 L275]",
        doc="""The contract states how the CPAS supports the studies, possibly together with the school.""",
        applies=_has_block,
        check=_stu_05,
    ),
    RuleSpec(
        "R-STU-06",
        title="Mediation if the relationship with the parents is broken",
        severity=Severity.LEGAL,
        citation="[002 L277]",
        doc="""The contract states how the CPAS accompanies and mediates when the relationship with the
        parents is broken.  The model cannot tell whether it is broken, so a family-allowance
        redirection without mediation arrangements is flagged, and their absence otherwise is only a
        reminder (info) when the student is under 25.""",
        applies=_has_block,
        check=_stu_06,
    ),
    RuleSpec(
        "R-STU-07",
        title="How the CPAS evaluates the academic year",
        severity=Severity.LEGAL,
        citation="[002 L279]",
        doc="""The contract states how the CPAS evaluates the past academic year once the results are sent
        (R-DL-06).""",
        applies=_has_block,
        check=_stu_07,
    ),
    RuleSpec(
        "R-STU-08",
        title="The year evaluation can reorient or end the PIIS",
        severity=Severity.LEGAL,
        citation="[002 L279]",
        doc="""After the results are sent the CPAS evaluates the academic year; when the student is not
        meeting the 'disposition aux études' it must be able to reorient or end the PIIS.  Flags a year
        whose results were sent but whose outcome is not recorded (warning), and an END outcome while
        the contract runs on without a termination (warning).""",
        applies=_has_block,
        check=_stu_08,
    ),
    RuleSpec(
        "R-STU-09",
        title="Décret Paysage: not only the January/June results",
        severity=Severity.ADVISORY,
        citation="[002 L281]",
        doc="""Under the French-Community 'Décret Paysage' credits are earned per teaching unit: progress is
        not judged only on the January/June results.  Given when a studies PIIS is ended or reoriented after
        the year's evaluation (an END or REORIENT outcome, or a termination for that reason) by a CPAS outside
        the Flemish provinces: a warning when the evaluation records no reasoning, else a reminder (info).
        Whether the reasoning weighs more than the results stays a judgement.""",
        applies=_judged_on_results,
        check=_stu_09,
    ),
    RuleSpec(
        "R-STU-10",
        title="Under-25 studies PIIS: the same CPAS stays competent after a move",
        severity=Severity.LEGAL,
        citation="[002 L206, L234]",
        doc="""For an under-25 studies PIIS, a change of residence during uninterrupted studies does not
        end the contract: the same CPAS stays competent for the RI and the PIIS (no end, no transfer,
        R-TRF-02).  Flags a termination for change of residence, or a transfer, in that case.""",
        applies=lambda c: c.is_studies and (c.termination is not None or c.transfer is not None),
        check=_stu_10,
    ),
    RuleSpec(
        "R-STU-11",
        title="Local studies policies (repeated years, summer job)",
        severity=Severity.LOCAL,
        citation="[Model A 004 L5273-5275; 004 L1567-1572, L3246-3254]",
        doc="""Local policies (at most one repeated year per cycle; compulsory summer job or a 1-month summer
        suspension) are configurable only, never defaults.

        - ``local_students_summer_job``: the contract must state the student's work availability, and a
          recorded summer in which the student did not work (``studies.summer_jobs``) without a health or
          equity reason (``exemption_reason``, [002 L269]) is flagged;
        - ``local_max_repeated_years_per_cycle`` = N: the academic years recorded as repeated
          (``repeated_year``) are counted per study cycle (the year's ``cycle``, else the block's); each
          repeat beyond N is flagged unless the council allowed it (``repeat_allowed_by_council_date``,
          "unless the council decides otherwise").  Years without ``repeated_year`` are not counted.""",
        applies=lambda c: FormTag.STUDIES_FULLTIME in c.form_tags or c.studies is not None,
        parameters=("local_max_repeated_years_per_cycle", "local_students_summer_job"),
        check=_stu_11,
    ),
)
family(STUDIES_RULES)
