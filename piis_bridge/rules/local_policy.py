"""Local-policy rules (severity X) for the Appendix B parameters that apply to every contract.

Why they exist at all: Appendix B says these are "configurable, never defaults"; each rule does
nothing until the CPAS sets its parameter (``RuleSettings.local_*``, or a plugin's
``piis_rule_parameters``).  Their findings are warnings unless ``local_policy_level`` says error.
"""

from __future__ import annotations

from datetime import date, timedelta

from piis_bridge.i18n import N_, Msg
from piis_bridge.model import PIISContract, WorkerRole
from piis_bridge.rules.calendar import WorkingCalendar, add_months, age_on
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.evaluations import contract_end
from piis_bridge.rules.registry import Era, RuleSpec, Severity, family
from piis_bridge.rules.report import DateStatus
from piis_bridge.rules.sanctions import has_sanctions

__all__ = ["last_working_day_of_month"]

_DAY = timedelta(days=1)


def _loc_01(ctx: RuleContext) -> None:
    months = ctx.settings.local_piis_deadline_months
    ob = ctx.obligations[0]
    if months is None or not ob.mandatory or ob.exempted:
        return
    due = ctx.settings.month_deadline(ctx.contract.decision.decision_date, months)
    status = ctx.deadline("local PIIS signature deadline", due, ctx.signed_date, "signatures")
    if status in (DateStatus.LATE, DateStatus.OVERDUE):
        ctx.flag(
            N_(
                "Contract {contract}: not signed within the local deadline of {months} month(s) ({due})."
            ),
            "signatures",
            contract=ctx.cid,
            months=months,
            due=due,
        )


def _loc_02(ctx: RuleContext) -> None:
    if not ctx.settings.local_require_contact_hours:
        return
    for i, w in enumerate(ctx.contract.social_workers):
        if w.role is WorkerRole.IN_CHARGE and not (w.contact_hours or "").strip():
            ctx.flag(
                N_(
                    "Contract {contract}: the reachable hours of the social worker in charge are not stated."
                ),
                f"social_workers[{i}].contact_hours",
                contract=ctx.cid,
            )


def _loc_03(ctx: RuleContext) -> None:
    ages = ctx.settings.local_generalised_piis_ages
    if ages is None:
        return
    ob = ctx.obligations[0]
    age = age_on(ctx.contract.beneficiary.birth_date, ctx.contract.decision.decision_date)
    if ages[0] <= age <= ages[1] and not ob.mandatory:
        ctx.info(
            N_(
                "Contract {contract}: legally optional, but local policy expects a PIIS for ages {ages}-{ages2}."
            ),
            "obligation.basis",
            contract=ctx.cid,
            ages=ages[0],
            ages2=ages[1],
        )


# --- evidence against the local quotas of Model C (Appendix B) ------------------------------------
# Each rule needs both its parameter and the evidence records (``contract.evidence``): a CPAS without
# the policy, or a file without the records, is judged exactly as before these rules existed.


def _has_evidence(c: PIISContract) -> bool:
    return c.evidence is not None


def _month_end(month: date) -> date:
    return add_months(month, 1) - _DAY


def last_working_day_of_month(month: date, calendar: WorkingCalendar) -> date:
    """The last working day (D3: no weekend, legal holiday or CPAS closure day) of *month*'s month."""
    day = _month_end(month)
    while not calendar.is_working_day(day):
        day -= _DAY
    return day


def _loc_04(ctx: RuleContext) -> None:
    need = ctx.settings.local_job_applications_per_month
    if need is None:
        return
    c = ctx.contract
    end = contract_end(c)
    for i, m in enumerate(c.evidence.job_applications):  # type: ignore[union-attr]
        last = _month_end(m.month)
        if last >= ctx.on or m.month < c.start_date or last > end:
            continue
        if m.applications < need:
            ctx.flag(
                N_(
                    "Contract {contract}: {applications} job application(s) proved for {month}; this "
                    "CPAS expects {need} a month."
                ),
                f"evidence.job_applications[{i}].applications",
                contract=ctx.cid,
                applications=m.applications,
                month=f"{m.month:%Y-%m}",
                need=need,
            )


def _loc_05(ctx: RuleContext) -> None:
    percent = ctx.settings.local_course_attendance_percent
    if percent is None:
        return
    ev = ctx.contract.evidence
    assert ev is not None
    jokers: dict[date, int] = {}
    for j in ev.jokers:
        key = j.used_on.replace(day=1)
        jokers[key] = jokers.get(key, 0) + 1
    for i, a in enumerate(ev.attendance):
        if _month_end(a.month) >= ctx.on:
            continue
        present = a.sessions_attended + a.sessions_justified
        covered = min(jokers.get(a.month, 0), a.sessions_planned - present)
        if (present + covered) * 100 < percent * a.sessions_planned:
            course = Msg(" of {course}", course=a.course) if a.course else ""
            ctx.flag(
                N_(
                    "Contract {contract}: {present} of {sessions_planned} session(s){course} attended or "
                    "justified in {month}; this CPAS requires {percent}%."
                ),
                f"evidence.attendance[{i}].sessions_attended",
                contract=ctx.cid,
                present=present + covered,
                sessions_planned=a.sessions_planned,
                course=course,
                month=f"{a.month:%Y-%m}",
                percent=percent,
            )


def _loc_06(ctx: RuleContext) -> None:
    limit = ctx.settings.local_sick_child_absences_per_year
    if limit is None:
        return
    per_year: dict[int, int] = {}
    absences = ctx.contract.evidence.sick_child_absences  # type: ignore[union-attr]
    for i in sorted(range(len(absences)), key=lambda k: absences[k].absent_on):
        a = absences[i]
        per_year[a.absent_on.year] = n = per_year.get(a.absent_on.year, 0) + 1
        if n > limit:
            ctx.flag(
                N_(
                    "Contract {contract}: the absence for a sick child on {absent_on} is number {n} in "
                    "{year}; this CPAS allows {limit} a year."
                ),
                f"evidence.sick_child_absences[{i}].absent_on",
                contract=ctx.cid,
                absent_on=a.absent_on,
                n=n,
                year=a.absent_on.year,
                limit=limit,
            )
        if a.partner_present:
            ctx.flag(
                N_(
                    "Contract {contract}: absence for a sick child on {absent_on} while a partner was "
                    "present; this CPAS allows it only when no partner is present."
                ),
                f"evidence.sick_child_absences[{i}].partner_present",
                contract=ctx.cid,
                absent_on=a.absent_on,
            )


def _loc_07(ctx: RuleContext) -> None:
    limit = ctx.settings.local_jokers_per_school_year
    if limit is None:
        return
    used: dict[str, int] = {}
    jokers = ctx.contract.evidence.jokers  # type: ignore[union-attr]
    for i in sorted(range(len(jokers)), key=lambda k: jokers[k].used_on):
        j = jokers[i]
        year = j.school_year_label
        used[year] = n = used.get(year, 0) + 1
        if n > limit:
            ctx.flag(
                N_(
                    "Contract {contract}: the joker used on {used_on} is number {n} of school year "
                    "{year}; this CPAS gives {limit}."
                ),
                f"evidence.jokers[{i}].used_on",
                contract=ctx.cid,
                used_on=j.used_on,
                n=n,
                year=year,
                limit=limit,
            )


def _loc_08(ctx: RuleContext) -> None:
    if not ctx.settings.local_monthly_proofs_due_last_working_day:
        return
    ev = ctx.contract.evidence
    assert ev is not None
    records = [
        (
            f"evidence.job_applications[{i}].proofs_received_date",
            N_("job-application proofs"),
            m.month,
            m.proofs_received_date,
        )
        for i, m in enumerate(ev.job_applications)
    ]
    records += [
        (
            f"evidence.attendance[{i}].list_received_date",
            N_("attendance list"),
            a.month,
            a.list_received_date,
        )
        for i, a in enumerate(ev.attendance)
    ]
    for field, what, month, received in records:
        due = last_working_day_of_month(month, ctx.calendar)
        status = ctx.deadline(f"{what} of {month:%Y-%m} due", due, received, field)
        if status is DateStatus.LATE:
            ctx.flag(
                N_(
                    "Contract {contract}: the {what} of {month} was handed in on {received}, "
                    "after the last working day of the month ({due})."
                ),
                field,
                contract=ctx.cid,
                what=what,
                month=f"{month:%Y-%m}",
                received=received,
                due=due,
            )
        elif status is DateStatus.OVERDUE:
            ctx.flag(
                N_(
                    "Contract {contract}: the {what} of {month} was due by {due} and has not "
                    "been handed in."
                ),
                field,
                contract=ctx.cid,
                what=what,
                month=f"{month:%Y-%m}",
                due=due,
            )


def _loc_09(ctx: RuleContext) -> None:
    months = ctx.settings.local_automatic_first_sanction_months
    if months is None:
        return
    for i, s in enumerate(ctx.contract.sanctions):
        if s.is_recidivism:
            continue
        expected = add_months(s.start_date, months)
        if ctx.settings.q12_one_month_inclusive_end:
            expected = expected - _DAY
        if s.end_date != expected:
            ctx.flag(
                N_(
                    "Contract {contract}: first sanction {sanction_id} runs {start_date} to "
                    "{end_date}; this CPAS's automatic first sanction is {months} month(s) (to "
                    "{expected})."
                ),
                f"sanctions[{i}].end_date",
                contract=ctx.cid,
                sanction_id=s.sanction_id,
                start_date=s.start_date,
                end_date=s.end_date,
                months=months,
                expected=expected,
            )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_loc_NN`` above).
LOCAL_POLICY_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-LOC-01",
        title="Local PIIS deadline stricter than the law",
        severity=Severity.LOCAL,
        citation="[004 L1416-1418] (Appendix B)",
        doc="""Some CPAS conclude the PIIS within 1 month of the DIS decision, stricter than the legal 3
        months.  With ``local_piis_deadline_months`` set, a mandatory, non-exempted PIIS signed later
        (or unsigned past that date) is flagged at the local-policy level.""",
        era=Era.REFORM,
        parameters=("local_piis_deadline_months",),
        check=_loc_01,
    ),
    RuleSpec(
        "R-LOC-02",
        title="Social worker's reachable hours stated",
        severity=Severity.LOCAL,
        citation="[Model A 004 L5222-5223] (Appendix B)",
        doc="""Model A states when the social worker in charge can be reached.  With
        ``local_require_contact_hours`` the contract must give those hours.""",
        parameters=("local_require_contact_hours",),
        check=_loc_02,
    ),
    RuleSpec(
        "R-LOC-03",
        title="Generalised PIIS for an age range",
        severity=Severity.LOCAL,
        citation="[004 L1108-1113] (Appendix B)",
        doc="""One CPAS gives a PIIS to every RI beneficiary aged 18-50.  With
        ``local_generalised_piis_ages = (low, high)`` a beneficiary in that range on the decision date
        whose PIIS is legally optional is noted (info): local policy makes it expected, not the law.""",
        parameters=("local_generalised_piis_ages",),
        check=_loc_03,
    ),
    RuleSpec(
        "R-LOC-04",
        title="Job applications per month (local quota)",
        severity=Severity.LOCAL,
        citation="[Model C 004 L5640-5666] (Appendix B)",
        doc="""Model C expects at least 8 traceable job applications a month.  With
        ``local_job_applications_per_month`` = N, each month of ``evidence.job_applications`` that is over
        on the reference date and during which the contract ran from its first to its last day (a month
        the contract only partly covers is not held to a whole month's quota) is flagged when fewer than N
        applications were proved.""",
        applies=_has_evidence,
        parameters=("local_job_applications_per_month",),
        check=_loc_04,
    ),
    RuleSpec(
        "R-LOC-05",
        title="Course attendance (local rate)",
        severity=Severity.LOCAL,
        citation="[Model C 004 L5681-5696, L5706-5711] (Appendix B)",
        doc="""Model C requires 100% attendance at the course; absences justified by a certificate count as
        attended, and a joker used in the month covers one unjustified absence ("no suspension proposal to
        the committee").  With ``local_course_attendance_percent`` = P, each month of
        ``evidence.attendance`` that is over on the reference date is flagged when
        (attended + justified + jokers used that month) < P% of the planned sessions (exactly P% is
        enough).""",
        applies=_has_evidence,
        parameters=("local_course_attendance_percent",),
        check=_loc_05,
    ),
    RuleSpec(
        "R-LOC-06",
        title="Absences for a sick child (local limit)",
        severity=Severity.LOCAL,
        citation="[Model C 004 L5688-5693] (Appendix B)",
        doc="""Model C allows staying home for a sick child only when no partner is present, and at most 4
        times a year (by analogy with the CPAS staff rules: a calendar year).  With
        ``local_sick_child_absences_per_year`` = N, each absence of ``evidence.sick_child_absences``
        beyond the N-th of its calendar year is flagged, and so is an absence recorded while a partner was
        present.""",
        applies=_has_evidence,
        parameters=("local_sick_child_absences_per_year",),
        check=_loc_06,
    ),
    RuleSpec(
        "R-LOC-07",
        title="Jokers per school year (local limit)",
        severity=Severity.LOCAL,
        citation="[Model C 004 L5706-5711] (Appendix B)",
        doc="""Model C gives N jokers per school year; using one means no suspension proposal for an
        unjustified absence.  With ``local_jokers_per_school_year`` = N, each joker of ``evidence.jokers``
        beyond the N-th of its school year (the recorded ``school_year``, else the one running from
        1 September to 31 August) is flagged: it does not protect from a suspension proposal.""",
        applies=_has_evidence,
        parameters=("local_jokers_per_school_year",),
        check=_loc_07,
    ),
    RuleSpec(
        "R-LOC-08",
        title="Monthly proofs by the last working day of the month",
        severity=Severity.LOCAL,
        citation="[Model C 004 L5664-5666, L5698-5704] (Appendix B)",
        doc="""Model C: the month's job-application proofs and the course attendance list are handed in by the
        last working day of that month (D3: weekends, legal holidays and the CPAS's closure days are not
        working days); a late list holds back the RI payment and may lead to a sanction.  With
        ``local_monthly_proofs_due_last_working_day``, each month of ``evidence.job_applications``
        (``proofs_received_date``) and ``evidence.attendance`` (``list_received_date``) gets that deadline
        in the report; a proof received later, or still missing after that day, is flagged.""",
        applies=_has_evidence,
        parameters=(
            "local_monthly_proofs_due_last_working_day",
            "extra_closure_days",
            "recurring_closure_days",
        ),
        check=_loc_08,
    ),
    RuleSpec(
        "R-LOC-09",
        title="Automatic first sanction (local length)",
        severity=Severity.LOCAL,
        citation="[004 L1510-1513] (Appendix B)",
        doc="""One council suspends the RI for 1 month at every first sanction.  With
        ``local_automatic_first_sanction_months`` = N, each recorded sanction that is not a repeat offence
        must run N months: from its start to ``add_months(start, N) - 1 day`` (D1, Q-12); another length is
        noted at the local-policy level.  The law only caps the length (R-SAN-06) and allows shorter ones
        (R-SAN-12): this is the CPAS's own rule, never a legal finding.""",
        applies=has_sanctions,
        parameters=("local_automatic_first_sanction_months", "q12_one_month_inclusive_end"),
        check=_loc_09,
    ),
)
family(LOCAL_POLICY_RULES)
