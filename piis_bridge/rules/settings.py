"""Every parameter of the rules: the legal values of rules.md 2.0, the defaults chosen for the open
questions of 2.15 (Q-xx) and the local-policy parameters of Appendix B.

Why one model: legal review will change some of these answers, and a CPAS will set its own local
policy.  Each is a named, documented field here, never a literal inside a rule.  Settings are
immutable; ``with_parameters`` returns a copy (what a plugin's ``piis_rule_parameters(cpas)``
contributes for one CPAS).  Unknown keys go to ``local`` so plugin rules can read their own
parameters.

Local-policy parameters (Appendix B) default to ``None`` = not applied: the spec says they are
"configurable, never defaults".
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.model.enums import FormTag, IncomeKind
from piis_bridge.rules.calendar import add_months, month_deadline
from piis_bridge.rules.rate_tables import TABLE_2028, SubsidyRateTable

__all__ = [
    "DEFAULT_SETTINGS",
    "REFORM_DATE",
    "AgeReference",
    "LookbackAnchor",
    "RecidivismAnchor",
    "RuleSettings",
]

REFORM_DATE = date(2016, 11, 1)


class AgeReference(StrEnum):
    """Which date "under 25" is judged on for the obligation (Q-03)."""

    REQUEST = "REQUEST"
    DECISION = "DECISION"
    SIGNATURE = "SIGNATURE"


class LookbackAnchor(StrEnum):
    """Which date the 3-month "no DIS" look-back is counted back from (Q-04)."""

    REQUEST = "REQUEST"
    DECISION = "DECISION"


class RecidivismAnchor(StrEnum):
    """What the 1-year recidivism window is counted from (Q-05)."""

    PREVIOUS_DECISION = (
        "PREVIOUS_DECISION"  # new decision <= previous sanction decision + 12 months
    )
    PREVIOUS_BREACH = (
        "PREVIOUS_BREACH"  # new breach <= previous breach + 12 months (decision dates if not dated)
    )
    PREVIOUS_EXECUTION = (
        "PREVIOUS_EXECUTION"  # new decision <= end of the previous sanction's execution + 12 months
    )


class RuleSettings(BaseModel):
    """The parameters the rules read.  Field descriptions are the documentation (docs/rules.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- legal parameters (rules.md 2.0) -------------------------------------------------------
    reform_date: date = Field(
        REFORM_DATE,
        description="REFORM_DATE: facts before it use the historical (H) rules [002 L91] (R-GEN-05).",
    )
    age_threshold: int = Field(25, description="AGE_THRESHOLD: 'moins de 25 ans' [002 L153-155].")
    new_beneficiary_lookback_months: int = Field(
        3,
        description=(
            "NEW_BENEFICIARY_LOOKBACK: months without DIS before the grant decision [002 L157] "
            "(R-OBL-03)."
        ),
    )
    piis_deadline_months: int = Field(
        3,
        description=(
            "PIIS_DEADLINE: months after the DIS decision to sign a mandatory PIIS [002 L127] "
            "(R-DL-01/03/08)."
        ),
    )
    reflection_days: int = Field(
        5,
        description=(
            "REFLECTION_PERIOD: calendar days between the draft and the signature [004 L212-213] "
            "(R-DL-04)."
        ),
    )
    interview_deadline_working_days: int = Field(
        5,
        description="INTERVIEW_DEADLINE: working days to grant a requested interview [002 L218] (R-DL-05).",
    )
    exam_results_working_days: int = Field(
        7,
        description="EXAM_RESULTS_DEADLINE: working days to send exam results [002 L279] (R-DL-06).",
    )
    appeal_deadline_months: int = Field(
        3,
        description="APPEAL_DEADLINE: months after receiving a decision [004 L5440] (R-DL-07).",
    )
    eval_min_per_year: int = Field(3, description="EVAL_MIN_PER_YEAR [002 L218] (R-EVA-01).")
    eval_min_in_person: int = Field(2, description="EVAL_MIN_IN_PERSON [002 L218] (R-EVA-02).")
    historical_eval_months: int = Field(
        3,
        description="Before the reform: at least one evaluation per calendar quarter (R-EVA-08).",
    )
    sanction_max_months: int = Field(1, description="SANCTION_MAX [002 L411] (R-SAN-06).")
    sanction_recidivism_max_months: int = Field(
        3,
        description="SANCTION_RECIDIVISM_MAX [002 L424] (R-SAN-07).",
    )
    recidivism_window_months: int = Field(
        12, description="RECIDIVISM_WINDOW [002 L424] (R-SAN-07)."
    )
    sanction_latest_start_month: int = Field(
        3,
        description=(
            "SANCTION_LATEST_START: first day of the k-th month after the decision [002 L415] "
            "(R-SAN-08)."
        ),
    )
    sursis_latest_application_month: int = Field(
        6,
        description=(
            "SURSIS_LATEST_APPLICATION: first day of the k-th month after the sursis decision [002 "
            "L420] (R-SAN-09)."
        ),
    )
    subsidy_rate_percent: int = Field(
        10,
        description="SUBSIDY_RATE: % of the RI granted [002 L438] (R-SUB-01).",
    )
    subsidy_max_months: int = Field(
        12,
        description="SUBSIDY_MAX_MONTHS for FIRST, PROLONGATION, SECOND_CHANCE [002 L458] (R-SUB).",
    )
    subsidy_rate_tables: tuple[SubsidyRateTable, ...] = Field(
        (TABLE_2028,),
        description=(
            "R-SUB-17, the law of 2026-2028: dated tables of the PIIS subsidy rate by the CPAS's share of RI "
            "beneficiaries with a PIIS, per calendar year (from 2028-01-01: 15% from 80%, 12.5% from 60%, 10% from "
            "40%, 7.5% from 20%, 5% below; status 'announced'). Months before a table keep subsidy_rate_percent. "
            "Empty: the flat rate for ever."
        ),
    )
    piis_share_percent_by_year: tuple[tuple[int, float], ...] = Field(
        (),
        description=(
            "R-SUB-17: this CPAS's share of RI beneficiaries with a PIIS per calendar year, e.g. ((2028, 63.5),) "
            "(from `piis-bridge rules share` or a plugin's piis_rule_parameters). A year under a rate table "
            "without its share is computed at the flat rate, with a note."
        ),
    )
    second_chance_gap_months: int = Field(
        12,
        description="SECOND_CHANCE_GAP: months without DIS [002 L522] (R-SUB-10).",
    )
    lifetime_subsidies_max: int = Field(
        3, description="LIFETIME_SUBSIDIES_MAX [002 L448] (R-SUB-04)."
    )
    dis_kinds_for_lookback: frozenset[IncomeKind] = Field(
        frozenset({IncomeKind.RI, IncomeKind.ART60, IncomeKind.EMPLOYMENT}),
        description="Which income periods count as DIS for the 3-month look-back: RI and employment through the CPAS (art. 60) [002 L157; 000 L106]. ERI (social aid) is not DIS.",
    )
    cost_coverage_form_tags: frozenset[FormTag] = Field(
        frozenset({FormTag.TRAINING, FormTag.EMPLOYMENT_PROJECT}),
        description="Form tags meaning 'training and/or acquiring work experience' for R-CNT-07.",
    )

    # --- open questions of rules.md 2.15 (proposed defaults) -----------------------------------
    q01_clamp_to_month_end: bool = Field(
        True,
        description=(
            "Q-01 / D1: 'within n months' of a day that does not exist in the target month ends on that "
            "month's last day (30 Nov + 3 months = 28 Feb). False: the 1st of the next month."
        ),
    )
    q01_end_day_included: bool = Field(
        True, description="Q-01 / D1: the last day of a month deadline is still on time."
    )
    q02_allow_reflection_waiver: bool = Field(
        False,
        description=(
            "Q-02: a recorded written waiver allows signing before the end of the reflection period. "
            "Default: no waiver."
        ),
    )
    q03_obligation_age_reference: AgeReference = Field(
        AgeReference.DECISION,
        description=(
            "Q-03: date on which 'under 25' is judged for the obligation. Default: the DIS decision "
            "date."
        ),
    )
    q04_lookback_anchor: LookbackAnchor = Field(
        LookbackAnchor.DECISION,
        description="Q-04: anchor of the 3-month DIS look-back. Default: the grant decision date (002 L590).",
    )
    q05_recidivism_anchor: RecidivismAnchor = Field(
        RecidivismAnchor.PREVIOUS_DECISION,
        description=(
            "Q-05: anchor of the 1-year recidivism window (R-SAN-07). Default PREVIOUS_DECISION: new decision <= "
            "previous sanction decision + 12 months; PREVIOUS_BREACH: new breach <= previous breach + 12 months "
            "(breach dates, else decision dates); PREVIOUS_EXECUTION: new decision <= end of the previous "
            "sanction + 12 months."
        ),
    )
    q06_pro_rata_advisory: bool = Field(
        True,
        description=(
            "Q-06: for a period under 12 months, advise when evaluations < ceil(3 x months / 12). No "
            "hard error."
        ),
    )
    q06_min_months_for_in_person: int = Field(
        3,
        description=(
            "Q-06: a period of at least this many months needs at least 1 in-person evaluation "
            "(advisory)."
        ),
    )
    q07_remote_counts_toward_total: bool = Field(
        True,
        description=(
            "Q-07: phone/e-mail/video evaluations count toward the 3 a year (never toward the 2 in "
            "person)."
        ),
    )
    q08_request_counts_for_transfer: bool = Field(
        True,
        description=(
            "Q-08: a PIIS mandatory only because a party asked counts as an obligation for transfer "
            "(flagged)."
        ),
    )
    q09_silence_is_consent: bool = Field(
        False,
        description=(
            "Q-09: transfer consent NOT_EXPRESSED counts as given. Default: strict, consent must be "
            "GIVEN."
        ),
    )
    q10_partial_month_counts: bool = Field(
        True,
        description="Q-10: a subsidy month counts if a PIIS is in force on at least 1 day and the project runs.",
    )
    q10_ri_checked_on_signature: bool = Field(
        True,
        description="Q-10: 'à cette date' = the signature date (RI must be paid that day).",
    )
    q12_one_month_inclusive_end: bool = Field(
        True,
        description=(
            "Q-12: 'one month' of suspension = end <= add_months(start, 1) - 1 day (R-SAN-06/07, R-LOC-09). "
            "False: end <= add_months(start, 1), the same day of the next month included."
        ),
    )
    # Q-15 (the new CPAS's deadline after a transfer) has no setting of its own: the answer is R-DL-01
    # itself, 3 months (``piis_deadline_months``) from the new CPAS's own DIS decision.
    # Q-16 has one answer only (the 7 working days of R-DL-06 start when the results are available,
    # ``AcademicYearEvaluation.results_available_date``): built into R-DL-06, no setting.
    q17_topup_makes_optional: bool = Field(
        True,
        description=(
            "Q-17: working with an RI top-up makes the PIIS optional even for under-25s and new "
            "beneficiaries (flagged)."
        ),
    )
    q19_keep_window_after_reimbursement: bool = Field(
        True,
        description=(
            "Q-19: a subsidy reimbursed after an inspection (R-SUB-13, ``SubsidyEntitlement.reimbursed_on``) keeps "
            "its window anchored and counts toward the lifetime limit; reimbursed months are not reopened. False: "
            "a reimbursed subsidy counts as never received (a new contract may open it again)."
        ),
    )
    q20_cpas_signer_functions: tuple[str, ...] = Field(
        (),
        description=(
            "Q-20 / R-SIG-02: functions that must sign for the CPAS (e.g. ('Président', 'Directeur "
            "général')). Empty: any CPAS signature."
        ),
    )

    # --- working days (D3, Q-14) ---------------------------------------------------------------
    extra_closure_days: tuple[date, ...] = Field(
        (),
        description="Q-14: this CPAS's extra closure dates (D3).",
    )
    recurring_closure_days: tuple[tuple[int, int], ...] = Field(
        (),
        description="Q-14: (month, day) closed every year, e.g. ((7, 11),) for 11 July.",
    )

    # --- local policy (Appendix B): None = not applied ------------------------------------------
    local_piis_deadline_months: int | None = Field(
        None,
        description=(
            "Appendix B: a local deadline stricter than the law (e.g. 1 month) [004 L1416-1418] "
            "(R-LOC-01)."
        ),
    )
    local_require_contact_hours: bool = Field(
        False,
        description=(
            "Appendix B: the contract states the social worker's reachable hours [Model A 004 "
            "L5222-5223] (R-LOC-02)."
        ),
    )
    local_generalised_piis_ages: tuple[int, int] | None = Field(
        None,
        description=(
            "Appendix B: every RI beneficiary in this age range gets a PIIS, e.g. (18, 50) [004 "
            "L1108-1113] (R-LOC-03)."
        ),
    )
    local_max_repeated_years_per_cycle: int | None = Field(
        None,
        description=(
            "Appendix B / R-STU-11: at most N repeated years per study cycle [Model A 004 L5273-5275]; "
            "checked on the academic years recorded as repeated."
        ),
    )
    local_students_summer_job: bool | None = Field(
        None,
        description=(
            "Appendix B / R-STU-11: compulsory summer job for students [004 L1567-1572]: the contract "
            "states the work availability and each recorded summer without work needs a health/equity "
            "reason."
        ),
    )
    local_job_applications_per_month: int | None = Field(
        None,
        description=(
            "Appendix B: required job applications per month [Model C 004 L5640-5666] (R-LOC-04, on the "
            "recorded evidence)."
        ),
    )
    local_course_attendance_percent: int | None = Field(
        None,
        description=(
            "Appendix B: required course attendance in % [Model C 004 L5681-5696] (R-LOC-05, on the "
            "recorded attendance lists)."
        ),
    )
    local_sick_child_absences_per_year: int | None = Field(
        None,
        description=(
            "Appendix B: absences for a sick child per calendar year [Model C 004 L5688-5693] (R-LOC-06, on "
            "the recorded absences)."
        ),
    )
    local_jokers_per_school_year: int | None = Field(
        None,
        description=(
            "Appendix B: jokers per school year [Model C 004 L5706-5711] (R-LOC-07, on the recorded "
            "jokers)."
        ),
    )
    local_monthly_proofs_due_last_working_day: bool = Field(
        False,
        description=(
            "Appendix B: monthly job-application proofs and attendance lists are due by the last working "
            "day of the month [Model C 004 L5664-5666, L5698-5704] (R-LOC-08, on the recorded evidence)."
        ),
    )
    local_automatic_first_sanction_months: int | None = Field(
        None,
        description=(
            "Appendix B: automatic first sanction length in months [004 L1510-1513] (R-LOC-09, on the "
            "recorded sanctions)."
        ),
    )
    local_policy_level: Literal["warning", "error"] = Field(
        "warning",
        description="Finding level of a local-policy (X) rule: 'warning' (default) or 'error'.",
    )
    volunteer_allowance_max_cents: int | None = Field(
        None,
        description=(
            "R-CS-09: monthly volunteer-allowance ceiling of the law of 3 July 2005 (not in the seeds; "
            "None = not checked; never applied to a reimbursement of actual costs)."
        ),
    )

    # --- plugin rules ---------------------------------------------------------------------------
    local: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters of plugin (local) rules, by name.",
    )

    def month_deadline(self, day: date, months: int) -> date:
        """A 'within *months* months of *day*' deadline under the Q-01 settings (D1 by default)."""
        if self.q01_clamp_to_month_end and self.q01_end_day_included:
            return add_months(day, months)  # D1: what month_deadline gives with both defaults
        return month_deadline(
            day,
            months,
            clamp_to_month_end=self.q01_clamp_to_month_end,
            end_included=self.q01_end_day_included,
        )

    def with_parameters(self, parameters: dict[str, Any]) -> RuleSettings:
        """A copy with *parameters* applied: known names replace settings, the rest go to ``local``."""
        known = {
            k: v for k, v in parameters.items() if k in type(self).model_fields and k != "local"
        }
        local = {**self.local, **{k: v for k, v in parameters.items() if k not in known}}
        data = self.model_dump()
        data.update(known)
        data["local"] = local
        return type(self).model_validate(data)

    def parameter_docs(self) -> list[tuple[str, str, str]]:
        """(name, current value, description) for every setting: the documentation table."""
        out = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, frozenset):
                value = sorted(str(v) for v in value)
            out.append((name, str(value), info.description or ""))
        return out


DEFAULT_SETTINGS = RuleSettings()
