"""Sanctions (R-SAN, rules.md 2.10): is a sanction lawful, how long may it last, when may it start,
and until when may a suspended (sursis) sanction still be applied.

The checks are pure functions over a :class:`~piis_bridge.model.PIISContract`.  A *proposed*
sanction is judged exactly like a decided one (:func:`check_proposed_sanction`), so a social worker
sees the legal limits before the committee meets, not after an inspection.

Date conventions (rules.md 2.0): D1 for "n months", D2 for "first day of the k-th month after".
Parameters come from :class:`~piis_bridge.rules.settings.RuleSettings` (SANCTION_MAX,
SANCTION_RECIDIVISM_MAX, RECIDIVISM_WINDOW, SANCTION_LATEST_START, SURSIS_LATEST_APPLICATION,
APPEAL_DEADLINE, REFORM_DATE) with the open-question defaults of 2.15: Q-05 (the recidivism year is
counted from the previous sanction *decision*), Q-11 (only the "first day of the 6th month" sursis
rule is enforced), Q-12 (one month = ``add_months(start, 1) - 1 day``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from piis_bridge.i18n import N_, Msg
from piis_bridge.model import PartyRole, PIISContract, SanctionDecision
from piis_bridge.rules._deadline_math import add_months, first_day_of_month_after, one_day
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RecidivismAnchor, RuleSettings

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleOptions, RuleSpec, Severity, family
from piis_bridge.rules.results import Due, Issue, Result, issue

__all__ = [
    "HISTORICAL_START_MONTH",
    "REGISTERED_LETTER",
    "SanctionLimits",
    "appeal_deadline",
    "check_proposed_sanction",
    "has_sanctions",
    "latest_start_date",
    "max_end_date",
    "recidivism_window_end",
    "sanction_dues",
    "sanction_issues",
    "sanction_limits",
    "sursis_latest_application",
]

HISTORICAL_START_MONTH = 2
"""R-SAN-16: before the reform a sanction started on the first day of the 2nd month after the decision
[004 L204-205; Model A 004 L5423-5429].  A fixed historical fact, not a setting."""

_UNKNOWN: Any = object()  # "not given": None is a meaningful signature date (not signed)

REGISTERED_LETTER = "REGISTERED_LETTER"
"""R-SAN-14: the warning channel the model records for a registered letter (``Warning.channel``)."""


@dataclass(frozen=True)
class SanctionLimits:
    """What the law allows for a sanction decided on ``decision_date`` (for a proposal or a check)."""

    decision_date: date
    recidivism: bool
    previous_sanction_id: str | None
    max_months: int
    earliest_start: date | None  # day after notification; None while not notified
    latest_start: date
    recidivism_window_end: date  # a new decision up to this day counts as recidivism of this one
    sursis_latest_application: date
    appeal_deadline: date | None

    inclusive_end: bool = True  # Q-12 (``q12_one_month_inclusive_end``)

    def max_end(self, start: date) -> date:
        return max_end_date(start, self.max_months, self.inclusive_end)


# --- pure date computations ---------------------------------------------------------------


def max_end_date(start: date, months: int, inclusive_end: bool = True) -> date:
    """R-SAN-06/07 with Q-12: a suspension of *months* months starting on *start* ends at the latest
    the day before the same day-of-month *months* later (D1, clamped); with *inclusive_end* false
    (``q12_one_month_inclusive_end``), on that day itself."""
    end = add_months(start, months)
    return end - one_day if inclusive_end else end


def latest_start_date(decision_date: date, settings: RuleSettings = DEFAULT_SETTINGS) -> date:
    """R-SAN-08: the first day of the 3rd month after the decision month (D2)."""
    return first_day_of_month_after(decision_date, settings.sanction_latest_start_month)


def sursis_latest_application(
    decision_date: date, settings: RuleSettings = DEFAULT_SETTINGS
) -> date:
    """R-SAN-09: the first day of the 6th month after the sursis decision (D2).  The sursis is part
    of the sanction decision, so the sanction's decision date is the anchor."""
    return first_day_of_month_after(decision_date, settings.sursis_latest_application_month)


def recidivism_window_end(
    previous_decision: date, settings: RuleSettings = DEFAULT_SETTINGS
) -> date:
    """R-SAN-07 with Q-05: a new decision (or breach, per ``q05_recidivism_anchor``) on or before this
    day is a repeat offence 'within a year' of *previous_decision* (the anchor date)."""
    return add_months(previous_decision, settings.recidivism_window_months)


def recidivism_anchor(
    sanction: SanctionDecision, settings: RuleSettings = DEFAULT_SETTINGS
) -> date:
    """Q-05: the day a sanction's recidivism year is counted from."""
    anchor = settings.q05_recidivism_anchor
    if anchor is RecidivismAnchor.PREVIOUS_BREACH:
        return sanction.breach_date or sanction.decision_date
    if anchor is RecidivismAnchor.PREVIOUS_EXECUTION:
        return sanction.end_date
    return sanction.decision_date


def _repeat_point(sanction: SanctionDecision, settings: RuleSettings) -> date:
    """Q-05: the day of the new sanction compared with the window (its breach under PREVIOUS_BREACH)."""
    if settings.q05_recidivism_anchor is RecidivismAnchor.PREVIOUS_BREACH:
        return sanction.breach_date or sanction.decision_date
    return sanction.decision_date


def appeal_deadline(received: date, settings: RuleSettings = DEFAULT_SETTINGS) -> date:
    """R-SAN-13 / R-DL-07: appeal to the labour court by ``add_months(received, 3)``: the day the
    person received the decision (``notification_received_date``), or, when that is not recorded,
    the notification date standing in for it."""
    return add_months(received, settings.appeal_deadline_months)


def _justified_absences(
    c: PIISContract, s: SanctionDecision, where: str, f: str
) -> Iterator[Issue]:
    """R-SAN-01 weighed against the evidence (``contract.evidence``): the breach day is a sick-child
    absence with its certificate (and no partner present to look after the child), or every absence in
    the attendance lists of the breach month is justified by a certificate.  Only a dated breach
    (``breach_date``) can be matched; partly unjustified months are left to the committee's judgement."""
    assert s.breach_date is not None and c.evidence is not None
    day = s.breach_date
    for i, a in enumerate(c.evidence.sick_child_absences):
        if (
            a.absent_on == day
            and a.certificate_received_date is not None
            and a.partner_present is not True
        ):
            yield issue(
                "R-SAN-01",
                N_(
                    "contract {contract}, sanction {sanction}: the breach of {day} is an absence for a sick child "
                    "justified by a certificate received on {certificate_received_date}; a "
                    "justified absence is not a breach without a legitimate reason"
                ),
                (f"{f}.breach_date", f"evidence.sick_child_absences[{i}]"),
                contract=c.contract_id,
                sanction=s.sanction_id,
                day=day,
                certificate_received_date=a.certificate_received_date,
            )
    month = day.replace(day=1)
    lists = [(i, a) for i, a in enumerate(c.evidence.attendance) if a.month == month]
    if (
        lists
        and all(a.sessions_attended + a.sessions_justified >= a.sessions_planned for _, a in lists)
        and any(a.sessions_justified for _, a in lists)
    ):
        justified = sum(a.sessions_justified for _, a in lists)
        yield issue(
            "R-SAN-01",
            N_(
                "contract {contract}, sanction {sanction}: the attendance lists of {month} record every absence "
                "({justified}) as justified by a certificate; a justified absence is not a breach without a "
                "legitimate reason"
            ),
            (f"{f}.breach_date", *(f"evidence.attendance[{i}]" for i, _ in lists)),
            contract=c.contract_id,
            sanction=s.sanction_id,
            month=month.isoformat()[:7],
            justified=justified,
        )


def _sursis_broken(sanction: SanctionDecision) -> bool:
    """The sanction is applied (or to be applied) because its sursis condition was broken (R-SAN-09)."""
    return sanction.sursis is not None and sanction.sursis.breach_date is not None


def _previous(contract: PIISContract, sanction: SanctionDecision) -> SanctionDecision | None:
    if not sanction.previous_sanction_id:
        return None
    return next(
        (s for s in contract.sanctions if s.sanction_id == sanction.previous_sanction_id), None
    )


def _valid_recidivism(
    contract: PIISContract, sanction: SanctionDecision, settings: RuleSettings
) -> bool:
    if not sanction.is_recidivism:
        return False
    previous = _previous(contract, sanction)
    return (
        previous is not None
        and previous.decision_date < sanction.decision_date
        and _repeat_point(sanction, settings)
        <= recidivism_window_end(recidivism_anchor(previous, settings), settings)
    )


def sanction_limits(
    contract: PIISContract,
    decision_date: date,
    *,
    notification_date: date | None = None,
    previous_sanction_id: str | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> SanctionLimits:
    """The legal frame of a sanction decided on *decision_date*: what a committee may still decide.

    Recidivism is recognised only when *previous_sanction_id* names an earlier sanction of this
    contract decided at most one year before (Q-05); otherwise the 1-month maximum applies.
    """
    previous = next((s for s in contract.sanctions if s.sanction_id == previous_sanction_id), None)
    recidivism = (
        previous is not None
        and previous.decision_date
        < decision_date
        <= recidivism_window_end(recidivism_anchor(previous, settings), settings)
    )
    return SanctionLimits(
        decision_date=decision_date,
        recidivism=recidivism,
        previous_sanction_id=previous.sanction_id if recidivism and previous else None,
        max_months=settings.sanction_recidivism_max_months
        if recidivism
        else settings.sanction_max_months,
        earliest_start=notification_date + one_day if notification_date else None,
        latest_start=latest_start_date(decision_date, settings),
        recidivism_window_end=recidivism_window_end(decision_date, settings),
        sursis_latest_application=sursis_latest_application(decision_date, settings),
        appeal_deadline=appeal_deadline(notification_date, settings) if notification_date else None,
        inclusive_end=settings.q12_one_month_inclusive_end,
    )


# --- the checks ---------------------------------------------------------------------------


def sanction_issues(
    contract: PIISContract,
    *,
    as_of: date | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
    signed: date | None = _UNKNOWN,
) -> Iterator[Issue]:
    """Every breach of R-SAN-01..09, 14 and 16 by the sanctions recorded on *contract*; *signed*:
    ``contract.signed_date`` when the caller has it already."""
    if signed is _UNKNOWN and contract.sanctions:
        signed = contract.signed_date
    for index, sanction in enumerate(contract.sanctions):
        yield from _one_sanction(contract, index, sanction, as_of, settings, signed)


def _one_sanction(
    c: PIISContract,
    i: int,
    s: SanctionDecision,
    as_of: date | None,
    settings: RuleSettings,
    signed: date | None = _UNKNOWN,
) -> Iterator[Issue]:
    if signed is _UNKNOWN:
        signed = c.signed_date
    where = f"contract {c.contract_id}, sanction {s.sanction_id}"
    f = f"sanctions[{i}]"
    warning = next((w for w in c.warnings if w.warning_id == s.warning_id), None)
    opinion = next((o for o in c.sw_opinions if o.opinion_id == s.opinion_id), None)
    hearing = next((h for h in c.hearings if h.hearing_id == s.hearing_id), None)

    # R-SAN-01: only an obligation agreed in the PIIS, by the beneficiary, can be sanctioned.
    if warning is not None:
        if not warning.breached_commitment_ids:
            yield issue(
                "R-SAN-01",
                N_(
                    "contract {contract}, sanction {sanction}: the warning names no breached commitment of the PIIS"
                ),
                (f"warnings.{warning.warning_id}.breached_commitment_ids",),
                contract=c.contract_id,
                sanction=s.sanction_id,
            )
        by_id = {x.commitment_id: x for x in c.commitments}
        for cid in warning.breached_commitment_ids:
            commitment = by_id.get(cid)
            if commitment is not None and commitment.party is not PartyRole.BENEFICIARY:
                yield issue(
                    "R-SAN-01",
                    N_(
                        "contract {contract}, sanction {sanction}: commitment {commitment} is not the beneficiary's; "
                        "only the person's own commitments can be sanctioned"
                    ),
                    (f"{f}.warning_id",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    commitment=cid,
                )
        if signed is None or signed > warning.sent_on:
            yield issue(
                "R-SAN-01",
                N_(
                    "contract {contract}, sanction {sanction}: no contract was signed before the warning of "
                    "{sent_on}; the obligation was not agreed in a PIIS"
                ),
                ("signatures", f"{f}.warning_id"),
                contract=c.contract_id,
                sanction=s.sanction_id,
                sent_on=warning.sent_on,
            )
    # R-SAN-01 / REQ-10, when the breach is dated: the obligation was agreed before the breach.
    if s.breach_date is not None and (signed is None or signed > s.breach_date):
        when = Msg("the signature of {date}", date=signed) if signed else N_("any signature")
        yield issue(
            "R-SAN-01",
            N_(
                "contract {contract}, sanction {sanction}: the breach of {breach_date} comes before {when}; "
                "the obligation was not agreed in the PIIS when it was breached"
            ),
            (f"{f}.breach_date",),
            contract=c.contract_id,
            sanction=s.sanction_id,
            breach_date=s.breach_date,
            when=when,
        )

    # R-SAN-01: absences the evidence records as justified are not breached "without a legitimate reason".
    if s.breach_date is not None and c.evidence is not None:
        yield from _justified_absences(c, s, where, f)

    # R-SAN-02: a legitimate reason or a CPAS failure blocks any sanction.
    if s.legitimate_reason_found:
        yield issue(
            "R-SAN-02",
            N_(
                "contract {contract}, sanction {sanction}: a legitimate reason was found, so no sanction may be imposed"
            ),
            (f"{f}.legitimate_reason_found",),
            contract=c.contract_id,
            sanction=s.sanction_id,
        )
    if s.cpas_failure_found:
        yield issue(
            "R-SAN-02",
            N_(
                "contract {contract}, sanction {sanction}: the CPAS did not meet its own commitments, so no sanction may "
                "be imposed"
            ),
            (f"{f}.cpas_failure_found",),
            contract=c.contract_id,
            sanction=s.sanction_id,
        )
    before = [
        e
        for e in c.evaluations
        if e.held_on <= s.decision_date and e.cpas_commitments_fulfilled is not None
    ]
    if before and not s.cpas_failure_found:
        last = max(before, key=lambda e: e.held_on)
        if last.cpas_commitments_fulfilled is False:
            yield issue(
                "R-SAN-02",
                N_(
                    "contract {contract}, sanction {sanction}: the last evaluation before the decision ({evaluation_id}, "
                    "{held_on}) records that the CPAS did not keep its commitments"
                ),
                (f"evaluations.{last.evaluation_id}.cpas_commitments_fulfilled",),
                contract=c.contract_id,
                sanction=s.sanction_id,
                evaluation_id=last.evaluation_id,
                held_on=last.held_on,
            )

    # R-SAN-03: a formal warning must precede the decision.
    if warning is None:
        yield issue(
            "R-SAN-03",
            N_(
                "contract {contract}, sanction {sanction}: no formal warning (mise en demeure) precedes the decision"
            ),
            (f"{f}.warning_id",),
            contract=c.contract_id,
            sanction=s.sanction_id,
        )
    elif warning.sent_on >= s.decision_date:
        yield issue(
            "R-SAN-03",
            N_(
                "contract {contract}, sanction {sanction}: the warning of {sent_on} was not sent before "
                "the decision of {decision_date}"
            ),
            (f"{f}.warning_id",),
            contract=c.contract_id,
            sanction=s.sanction_id,
            sent_on=warning.sent_on,
            decision_date=s.decision_date,
        )
    elif s.breach_date is not None and warning.sent_on < s.breach_date:
        yield issue(
            "R-SAN-03",
            N_(
                "contract {contract}, sanction {sanction}: the warning of {sent_on} was sent before the "
                "breach of {breach_date}; it cannot be the warning for that breach"
            ),
            (f"{f}.warning_id", f"{f}.breach_date"),
            contract=c.contract_id,
            sanction=s.sanction_id,
            sent_on=warning.sent_on,
            breach_date=s.breach_date,
        )
    else:
        # R-SAN-14 (advisory): registered letter with an invitation to explain.
        if warning.channel != REGISTERED_LETTER:
            yield issue(
                "R-SAN-14",
                N_(
                    "contract {contract}, sanction {sanction}: the warning was sent by {channel}, not by registered letter"
                ),
                (f"warnings.{warning.warning_id}.channel",),
                contract=c.contract_id,
                sanction=s.sanction_id,
                channel=warning.channel,
            )
        if not warning.invitation_to_explain:
            yield issue(
                "R-SAN-14",
                N_(
                    "contract {contract}, sanction {sanction}: the warning does not invite the person to explain or ask "
                    "for an interview"
                ),
                (f"warnings.{warning.warning_id}.invitation_to_explain",),
                contract=c.contract_id,
                sanction=s.sanction_id,
            )

    # R-SAN-04: the social worker's opinion must exist before the decision (it does not bind).
    if opinion is None:
        yield issue(
            "R-SAN-04",
            N_(
                "contract {contract}, sanction {sanction}: no opinion of the social worker in charge"
            ),
            (f"{f}.opinion_id",),
            contract=c.contract_id,
            sanction=s.sanction_id,
        )
    elif opinion.given_on > s.decision_date:
        yield issue(
            "R-SAN-04",
            N_(
                "contract {contract}, sanction {sanction}: the social worker's opinion ({given_on}) "
                "comes after the decision"
            ),
            (f"{f}.opinion_id",),
            contract=c.contract_id,
            sanction=s.sanction_id,
            given_on=opinion.given_on,
        )

    # R-SAN-05: informed in writing of the right to be heard; heard before the decision if asked.
    if hearing is None:
        yield issue(
            "R-SAN-05",
            N_(
                "contract {contract}, sanction {sanction}: no record that the person was told in writing of the right "
                "to be heard"
            ),
            (f"{f}.hearing_id",),
            contract=c.contract_id,
            sanction=s.sanction_id,
        )
    else:
        if hearing.right_informed_in_writing_date > s.decision_date:
            yield issue(
                "R-SAN-05",
                N_(
                    "contract {contract}, sanction {sanction}: the person was told of the right to be heard only on "
                    "{right_informed_in_writing_date}, after the decision"
                ),
                (f"hearings.{hearing.hearing_id}.right_informed_in_writing_date",),
                contract=c.contract_id,
                sanction=s.sanction_id,
                right_informed_in_writing_date=hearing.right_informed_in_writing_date,
            )
        if hearing.requested and (hearing.held_on is None or hearing.held_on > s.decision_date):
            yield issue(
                "R-SAN-05",
                N_(
                    "contract {contract}, sanction {sanction}: the person asked to be heard and was not heard before the "
                    "decision; the sanction is invalid"
                ),
                (f"hearings.{hearing.hearing_id}.held_on",),
                contract=c.contract_id,
                sanction=s.sanction_id,
            )

    # R-SAN-06 / R-SAN-07: maximum length.
    repeat = _valid_recidivism(c, s, settings)
    if s.is_recidivism:
        previous = _previous(c, s)
        if not repeat:
            decided: date | str = previous.decision_date if previous else N_("unknown")
            yield issue(
                "R-SAN-07",
                N_(
                    "contract {contract}, sanction {sanction}: marked as a repeat offence, but the previous sanction "
                    "(decided {when}) is not within one year before this decision; the 1-month "
                    "maximum applies"
                ),
                (f"{f}.is_recidivism", f"{f}.previous_sanction_id"),
                contract=c.contract_id,
                sanction=s.sanction_id,
                when=decided,
            )
    months = settings.sanction_recidivism_max_months if repeat else settings.sanction_max_months
    latest_end = max_end_date(s.start_date, months, settings.q12_one_month_inclusive_end)
    if s.end_date > latest_end:
        rule = "R-SAN-07" if repeat else "R-SAN-06"
        yield issue(
            rule,
            N_(
                "contract {contract}, sanction {sanction}: the suspension runs to {end_date}, beyond the "
                "{months}-month maximum ({latest_end})"
            ),
            (f"{f}.end_date",),
            contract=c.contract_id,
            sanction=s.sanction_id,
            end_date=s.end_date,
            months=months,
            latest_end=latest_end,
        )

    # R-SAN-08 (since the reform) or R-SAN-16 (historical): when the sanction may start.
    if s.decision_date < settings.reform_date:
        expected = first_day_of_month_after(s.decision_date, HISTORICAL_START_MONTH)
        if s.start_date != expected:
            yield issue(
                "R-SAN-16",
                N_(
                    "contract {contract}, sanction {sanction}: decided before 2016-11-01, the sanction started on the first "
                    "day of the 2nd month after the decision ({expected}), not "
                    "{start_date}"
                ),
                (f"{f}.start_date",),
                contract=c.contract_id,
                sanction=s.sanction_id,
                expected=expected,
                start_date=s.start_date,
            )
    else:
        if _sursis_broken(s):
            # Applied because the sursis condition was broken: its start is judged by R-SAN-09's latest
            # application date, not by the start window of an ordinary decision.
            latest = sursis_latest_application(s.decision_date, settings)
            if s.start_date > latest:
                yield issue(
                    "R-SAN-09",
                    N_(
                        "contract {contract}, sanction {sanction}: the suspended sanction starts on {start_date}, "
                        "after the latest date {latest} to apply it (first day of the "
                        "{sursis_latest_application_month}th month after the decision)"
                    ),
                    (f"{f}.start_date",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    start_date=s.start_date,
                    latest=latest,
                    sursis_latest_application_month=settings.sursis_latest_application_month,
                )
        else:
            latest = latest_start_date(s.decision_date, settings)
            if s.start_date > latest:
                yield issue(
                    "R-SAN-08",
                    N_(
                        "contract {contract}, sanction {sanction}: starts on {start_date}, after the latest allowed "
                        "start {latest} (first day of the 3rd month after the decision)"
                    ),
                    (f"{f}.start_date",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    start_date=s.start_date,
                    latest=latest,
                )
        if s.notification_date is not None:
            if s.start_date <= s.notification_date:
                yield issue(
                    "R-SAN-08",
                    N_(
                        "contract {contract}, sanction {sanction}: starts on {start_date}, not after the "
                        "notification of {notification_date}"
                    ),
                    (f"{f}.start_date",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    start_date=s.start_date,
                    notification_date=s.notification_date,
                )
        elif s.start_date <= s.decision_date or (as_of is not None and as_of >= s.start_date):
            yield issue(
                "R-SAN-08",
                N_(
                    "contract {contract}, sanction {sanction}: the decision was not notified before the start date "
                    "{start_date}"
                ),
                (f"{f}.notification_date",),
                contract=c.contract_id,
                sanction=s.sanction_id,
                start_date=s.start_date,
            )

    # R-SAN-09: sursis broken -> applied by the first day of the 6th month after the decision.
    sursis = s.sursis
    if sursis is not None:
        latest = sursis_latest_application(s.decision_date, settings)
        if sursis.application_date is not None and sursis.breach_date is None:
            yield issue(
                "R-SAN-09",
                N_(
                    "contract {contract}, sanction {sanction}: the suspended sanction was applied without a recorded breach "
                    "of the sursis condition"
                ),
                (f"{f}.sursis.breach_date",),
                contract=c.contract_id,
                sanction=s.sanction_id,
            )
        if sursis.breach_date is not None:
            if not sursis.period_start <= sursis.breach_date <= sursis.period_end:
                yield issue(
                    "R-SAN-09",
                    N_(
                        "contract {contract}, sanction {sanction}: the breach of {breach_date} falls outside "
                        "the sursis period; the suspended sanction cannot be applied for it"
                    ),
                    (f"{f}.sursis.breach_date",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    breach_date=sursis.breach_date,
                )
            if sursis.application_date is not None:
                if sursis.application_date > latest:
                    yield issue(
                        "R-SAN-09",
                        N_(
                            "contract {contract}, sanction {sanction}: the suspended sanction was applied on "
                            "{application_date}, after the latest date {latest}"
                        ),
                        (f"{f}.sursis.application_date",),
                        contract=c.contract_id,
                        sanction=s.sanction_id,
                        application_date=sursis.application_date,
                        latest=latest,
                    )
                if sursis.application_date < sursis.breach_date:
                    yield issue(
                        "R-SAN-09",
                        N_(
                            "contract {contract}, sanction {sanction}: the suspended sanction was applied before the breach"
                        ),
                        (f"{f}.sursis.application_date",),
                        contract=c.contract_id,
                        sanction=s.sanction_id,
                    )
            elif as_of is not None and as_of > latest:
                yield issue(
                    "R-SAN-09",
                    N_(
                        "contract {contract}, sanction {sanction}: the sursis condition was broken but the sanction was not "
                        "applied by {latest}; it can no longer be applied"
                    ),
                    (f"{f}.sursis.application_date",),
                    contract=c.contract_id,
                    sanction=s.sanction_id,
                    latest=latest,
                )

    # R-SAN-13: the decision letter states the appeal (judged only when recorded).
    if s.appeal_information_given is False:
        yield issue(
            "R-SAN-13",
            N_(
                "contract {contract}, sanction {sanction}: the decision letter does not state the appeal to the labour court "
                "within {appeal_deadline_months} months"
            ),
            (f"{f}.appeal_information_given",),
            contract=c.contract_id,
            sanction=s.sanction_id,
            appeal_deadline_months=settings.appeal_deadline_months,
        )


def sanction_dues(
    contract: PIISContract, *, settings: RuleSettings = DEFAULT_SETTINGS
) -> Iterator[Due]:
    """The legal dates of every recorded sanction (for the report and the agenda)."""
    for i, s in enumerate(contract.sanctions):
        f = f"sanctions[{i}]"
        label = f"sanction {s.sanction_id}"
        if s.decision_date >= settings.reform_date:
            if not _sursis_broken(s):  # a broken sursis: R-SAN-09's latest application date below
                yield Due(
                    "R-SAN-08",
                    f"{label}: latest allowed start",
                    latest_start_date(s.decision_date, settings),
                    (f"{f}.start_date",),
                    done=s.start_date,
                )
            yield Due(
                "R-SAN-08",
                f"{label}: notify the decision (the day before the start at the latest)",
                s.start_date - one_day,
                (f"{f}.notification_date",),
                done=s.notification_date,
            )
        else:
            yield Due(
                "R-SAN-16",
                f"{label}: start (historical rule)",
                first_day_of_month_after(s.decision_date, HISTORICAL_START_MONTH),
                (f"{f}.start_date",),
                deadline=False,
            )
        repeat = _valid_recidivism(contract, s, settings)
        months = settings.sanction_recidivism_max_months if repeat else settings.sanction_max_months
        yield Due(
            "R-SAN-07" if repeat else "R-SAN-06",
            f"{label}: latest allowed end ({months} month{'s' if months > 1 else ''})",
            max_end_date(s.start_date, months, settings.q12_one_month_inclusive_end),
            (f"{f}.end_date",),
            done=s.end_date,
        )
        yield Due(
            "R-SAN-07",
            f"{label}: a new sanction decided until this day is a repeat offence",
            recidivism_window_end(recidivism_anchor(s, settings), settings),
            (f"{f}.decision_date",),
            deadline=False,
        )
        if s.sursis is not None:
            yield Due(
                "R-SAN-09",
                f"{label}: sursis period ends",
                s.sursis.period_end,
                (f"{f}.sursis.period_end",),
                deadline=False,
            )
            if s.sursis.breach_date is not None:
                yield Due(
                    "R-SAN-09",
                    f"{label}: latest date to apply the suspended sanction",
                    sursis_latest_application(s.decision_date, settings),
                    (f"{f}.sursis.application_date",),
                    done=s.sursis.application_date,
                )
        else:
            yield Due(
                "R-SAN-10",
                f"{label}: execution starts",
                s.start_date,
                (f"{f}.start_date",),
                deadline=False,
            )
            yield Due(
                "R-SAN-10",
                f"{label}: execution ends",
                s.end_date,
                (f"{f}.end_date",),
                deadline=False,
            )
        received = s.notification_received_date or s.notification_date
        if received is not None:
            filed = next(
                (
                    a.filed_date
                    for a in contract.appeals
                    if a.filed_date is not None and a.decision_received_date == received
                ),
                None,
            )
            field = (
                f"{f}.notification_received_date"
                if s.notification_received_date
                else f"{f}.notification_date"
            )
            yield Due(
                "R-SAN-13",
                f"{label}: labour-court appeal deadline",
                appeal_deadline(received, settings),
                (field,),
                done=filed,
                deadline=False,
            )


def check_proposed_sanction(
    contract: PIISContract,
    proposal: SanctionDecision,
    *,
    as_of: date | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
) -> list[Issue]:
    """Judge a sanction before it is decided: the contract is copied with the proposal appended."""
    others = [s for s in contract.sanctions if s.sanction_id != proposal.sanction_id]
    candidate = contract.model_copy(update={"sanctions": [*others, proposal]})
    index = len(others)
    return list(_one_sanction(candidate, index, proposal, as_of, settings))


# --- registration (rules.md 2.10) ---------------------------------------------------------


def has_sanctions(contract: PIISContract) -> bool:
    """The R-SAN rows' precondition, public because R-LOC-09 shares it: the engine asks one shared
    precondition once per contract."""
    return bool(contract.sanctions)


def _sanction_results(ctx: RuleContext) -> Iterator[Result]:
    """The issues and dates of every sanction (the R-SAN family's one computation)."""
    c, settings = ctx.contract, ctx.settings
    yield from sanction_issues(c, as_of=ctx.on, settings=settings, signed=ctx.signed_date)
    yield from sanction_dues(c, settings=settings)


_SAN = RuleOptions(applies=has_sanctions)

SANCTION_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-SAN-01",
        title="Only an obligation agreed in the PIIS and breached without legitimate reason",
        severity=Severity.LEGAL,
        citation="[002 L167, L407-409]",
        doc="""
    A sanction may only target an obligation of the beneficiary agreed in the signed PIIS.  Checked:
    the warning names the breached commitments, they are the person's own (not the CPAS's or a third
    party's), and a contract was signed before the warning and, when the breach is dated
    (``breach_date``), on or before the breach (REQ-10: no retroactive obligation).  A dated breach is
    weighed against the evidence: a sick-child absence that day with its certificate, or attendance
    lists of that month whose every absence is justified, is a legitimate reason (error).
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-02",
        title="Legitimate reason or CPAS failure: no sanction",
        severity=Severity.LEGAL,
        citation="[000 L154; Model A 004 L5409-5410]",
        doc="""
    No sanction when a legitimate reason is shown or the CPAS did not meet its own commitments.
    Checked on the decision's own assessment and on the last evaluation held on or before the decision
    (``cpas_commitments_fulfilled = false`` there contradicts a sanction).
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-03",
        title="A formal warning precedes any sanction",
        severity=Severity.LEGAL,
        citation="[002 L407, L411; 000 L150]",
        doc="""
    The mise en demeure must be sent before the decision (strictly earlier day) and, when the breach is
    dated (``breach_date``), not before the breach it warns about.
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-04",
        title="The social worker's opinion precedes the decision",
        severity=Severity.LEGAL,
        citation="[002 L411; 000 L150]",
        doc="""
    An opinion of the social worker in charge, given on or before the decision day, is required.  It
    does not bind the decision-maker, so its content is not compared with the decision.
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-05",
        title="Right to be heard: informed in writing, heard if asked",
        severity=Severity.LEGAL,
        citation="[002 L393-395, L413; 000 L156]",
        doc="""
    The person was told in writing of the right to be heard on or before the decision day, and if the
    person asked, the hearing took place on or before the decision day.  Otherwise the sanction is invalid.
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-06",
        title="First offence: at most 1 month",
        severity=Severity.LEGAL,
        citation="[002 L411; 000 L156]",
        doc="""
    ``end_date <= add_months(start_date, 1) - 1 day`` (D1, Q-12).  Shorter and partial suspensions are
    lawful (R-SAN-12): only the maximum is checked.
    """,
        parameters=("sanction_max_months", "q12_one_month_inclusive_end"),
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-07",
        title="Repeat offence within a year: at most 3 months",
        severity=Severity.LEGAL,
        citation="[002 L424; 000 L160]",
        doc="""
    A repeat offence is recognised when ``previous_sanction_id`` names an earlier sanction whose decision
    is at most 12 months (D1) before this decision (Q-05 default; ``q05_recidivism_anchor`` may count the
    year from breach to breach, or from the end of the previous sanction's execution).  Then ``end_date <= add_months(start_date, 3) -
    1 day``; a sanction marked as a repeat offence outside that year falls back to the 1-month maximum.
    """,
        parameters=(
            "sanction_recidivism_max_months",
            "recidivism_window_months",
            "q05_recidivism_anchor",
        ),
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-08",
        title="Start between the day after notification and the 1st day of the 3rd month",
        severity=Severity.LEGAL,
        citation="[002 L415]",
        doc="""
    Decisions since 2016-11-01: ``notification_date < start_date <= first day of month(decision) + 3``
    (D2).  A decision not notified before its start date (or before the reference date, once the start
    date is reached) is flagged.  Older decisions follow R-SAN-16.  A sanction applied because its sursis
    condition was broken starts by R-SAN-09's latest application date instead.
    """,
        parameters=("sanction_latest_start_month",),
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-09",
        title="Sursis: applied by the 1st day of the 6th month after the decision",
        severity=Severity.LEGAL,
        citation="[002 L418-420; 000 L158]",
        doc="""
    When the sursis condition is broken during the sursis period, the suspended sanction is applied on
    or after the breach and at the latest on the first day of the 6th month after the decision (D2,
    Q-11: only this rule is enforced).  Applying it without a breach, for a breach outside the period,
    or after that day is flagged; so is a broken sursis still not applied once that day has passed, and a
    start date of the applied sanction after that day (the R-SAN-08 start window does not apply to it).
    """,
        parameters=("sursis_latest_application_month",),
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-10",
        title="A running sanction may continue at the new CPAS",
        severity=Severity.LEGAL,
        citation="[002 L422; Model A 004 L5430]",
        doc="""
    Computed by the transfer rules (R-TRF-07): the sanctions whose execution continues after a change of
    residence are listed with the days still to run.  Nothing to flag on its own.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SAN-11",
        title="Between decision and start the PIIS continues",
        severity=Severity.LEGAL,
        citation="[002 L417]",
        doc="""
    The CPAS may reduce or modify its decision if behaviour changes.  A matter of judgement: not checked.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SAN-12",
        title="Short and partial suspensions are lawful",
        severity=Severity.LEGAL_ADVISORY,
        citation="[004 L4013-4015, L4021-4023]",
        doc="""
    Suspensions of a few days and partial suspensions are lawful; the engine never forces whole months
    (R-SAN-06/07 check only the maximum).
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SAN-13",
        title="Appeal to the labour court within 3 months",
        severity=Severity.LEGAL,
        citation="[000 L162; Model A 004 L5438-5442]",
        doc="""
    Computes the appeal deadline ``add_months(R, 3)`` (D1) from the day the person received the decision
    (``notification_received_date``), or from the notification date when the receipt is not recorded.
    A decision letter recorded as not stating the appeal (``appeal_information_given`` false) is flagged;
    not recorded: not judged.
    """,
        parameters=("appeal_deadline_months",),
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-14",
        title="Warning by registered letter with a chance to explain",
        severity=Severity.ADVISORY,
        citation="[Model A 004 L5412-5413; 000 L150]",
        doc="""
    Advisory: the warning goes by registered letter and invites the person to explain or ask for an
    interview.
    """,
        **_SAN,
    ),
    RuleSpec(
        "R-SAN-15",
        title="Inspection checks each sanction's legal conditions",
        severity=Severity.LEGAL,
        citation="[002 L548]",
        doc="""
    Inspection item I-08 (R-INS) reports the R-SAN-01..09 findings of every sanction.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-SAN-16",
        title="Historical: sanction started on the 1st day of the 2nd month",
        severity=Severity.HISTORICAL,
        citation="[004 L204-205, L4023-4024; Model A 004 L5423-5429]",
        doc="""
    For decisions before 2016-11-01 only: the sanction started on the first day of the 2nd month after
    the decision (D2; June 2003 -> 1 August 2003).
    """,
        **_SAN,
    ),
)
family(SANCTION_RULES, _sanction_results)
