"""End of contract on a change of residence and hand-over to the new CPAS (R-TRF, rules.md 2.11).

On a move the old CPAS stops being competent and the PIIS ends by operation of law that same day
(R-TRF-01), except for an under-25 studies PIIS during uninterrupted studies (R-TRF-02 / R-STU-10).
The contract may then be handed over only when a legal obligation to conclude a PIIS exists
(R-TRF-04), at the person's request with their consent and the agreement of both CPAS (R-TRF-03,
R-TRF-05).  Running sanctions may follow the person (R-TRF-07 / R-SAN-10); the subsidy's remaining
months are computed by :mod:`piis_bridge.rules.subsidies`.

Open questions (2.15): Q-08 (``q08_request_counts_for_transfer``: a PIIS mandatory only because a party
asked counts, flagged) and Q-09 (``q09_silence_is_consent``: strict by default, consent must be GIVEN).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from piis_bridge.i18n import N_
from piis_bridge.model import Consent, ObligationBasis, PIISContract, RequestedBy, TerminationReason
from piis_bridge.rules.calendar import age_on
from piis_bridge.rules.registry import RuleOptions, RuleSpec, Severity, family
from piis_bridge.rules.report import Level
from piis_bridge.rules.results import Due, Issue, Result, Section, issue
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext

__all__ = [
    "ContinuingSanction",
    "TransferOutlook",
    "legal_end_date",
    "residence_change",
    "studies_exception",
    "transfer_dues",
    "transfer_issues",
    "transfer_outlook",
]

_LEGAL_BASES = frozenset(
    {
        ObligationBasis.U25_STUDIES,
        ObligationBasis.U25_EMPLOYMENT_PROJECT,
        ObligationBasis.NO_DIS_LAST_3M,
    }
)
_REQUEST_BASES = frozenset({ObligationBasis.REQUEST_BY_PERSON, ObligationBasis.REQUEST_BY_CPAS})


@dataclass(frozen=True)
class ContinuingSanction:
    """A sanction still running (or still to start) on the day of the move (R-SAN-10)."""

    sanction_id: str
    continues_from: date  # the later of the move and the sanction's start
    end_date: date
    days_remaining: int


@dataclass(frozen=True)
class TransferOutlook:
    """What a change of residence means for one contract."""

    contract_id: str
    residence_change_date: date | None
    source: str | None  # "transfer" (a TransferRequest) or "residence" (the residence history)
    studies_exception: bool
    legal_end_date: (
        date | None
    )  # the contract ends by law that day; None: no move, or the exception
    may_hand_over: bool
    blocking_reasons: tuple[str, ...]
    pending: tuple[str, ...]  # conditions still open (agreements not yet recorded)
    flags: tuple[str, ...]  # legal-review switches that were used
    continuing_sanctions: tuple[ContinuingSanction, ...]


def residence_change(contract: PIISContract) -> tuple[date, str] | None:
    """The day the CPAS stops being competent because of a move, and where that fact comes from.

    A recorded transfer request wins; otherwise the first residence outside the CPAS's municipality
    that starts after the contract started (and not after its end) is the move.
    """
    if contract.transfer is not None:
        return contract.transfer.residence_change_date, "transfer"
    home, start, end = contract.cpas.ins_code, contract.start_date, contract.end_date
    first = None
    for r in contract.beneficiary.residences:
        if (
            r.ins_code != home
            and start < r.start_date <= end
            and (first is None or r.start_date < first)
        ):
            first = r.start_date
    return (first, "residence") if first is not None else None


def studies_exception(
    contract: PIISContract, on: date, settings: RuleSettings = DEFAULT_SETTINGS
) -> bool:
    """R-TRF-02 / R-STU-10: an under-25 studies PIIS and the studies are uninterrupted on *on*.

    Under 25 is judged at the conclusion of the studies PIIS (or the U25_STUDIES basis says so);
    uninterrupted studies: the study period covers the move, or the person is recorded as a full-time
    student in uninterrupted studies since before it.
    """
    if not contract.is_studies:
        return False
    signed = contract.signed_date or contract.start_date
    under_25 = (
        ObligationBasis.U25_STUDIES in contract.obligation.basis
        or age_on(contract.beneficiary.birth_date, signed) < settings.age_threshold
    )
    if not under_25:
        return False
    person = contract.beneficiary
    if (
        contract.studies is not None
        and contract.studies.study_start_date <= on <= contract.studies.study_end_date
    ):
        return True
    return (
        person.full_time_student
        and person.studies_uninterrupted_since is not None
        and person.studies_uninterrupted_since <= on
    )


def legal_end_date(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> date | None:
    """R-TRF-01: the day the contract ends by operation of law because of a move (None: it does not)."""
    change = residence_change(contract)
    if change is None or studies_exception(contract, change[0], settings):
        return None
    return change[0]


def _continuing(contract: PIISContract, moved: date) -> tuple[ContinuingSanction, ...]:
    out = []
    for s in contract.sanctions:
        if s.sursis is not None and s.sursis.application_date is None:
            continue  # suspended: nothing to carry out unless the sursis is applied
        if s.legitimate_reason_found or s.cpas_failure_found or s.end_date < moved:
            continue
        start = max(moved, s.start_date)
        out.append(
            ContinuingSanction(s.sanction_id, start, s.end_date, (s.end_date - start).days + 1)
        )
    return tuple(out)


def obligation_bases(
    contract: PIISContract, settings: RuleSettings = DEFAULT_SETTINGS
) -> tuple[ObligationBasis, ...]:
    """The beneficiary's obligation bases as the engine judges them (R-OBL: the facts plus the recorded
    requests), not only the recorded ``obligation.basis``: what R-TRF-04 asks about."""
    from piis_bridge.rules.context import RuleContext
    from piis_bridge.rules.engine import calendar_for
    from piis_bridge.rules.obligation import assess_obligations

    ctx = RuleContext(contract, contract.decision.decision_date, settings, calendar_for(settings))
    return assess_obligations(ctx)[0].bases


def transfer_outlook(
    contract: PIISContract,
    settings: RuleSettings = DEFAULT_SETTINGS,
    bases: tuple[ObligationBasis, ...] | None = None,
) -> TransferOutlook:
    """Whether and how the contract may be handed over to the new CPAS.  *bases*: the engine's obligation
    bases of the beneficiary when the caller has them (``Report.obligations[0].bases``); computed otherwise."""
    change = residence_change(contract)
    if change is None:
        return TransferOutlook(
            contract.contract_id,
            None,
            None,
            False,
            None,
            False,
            ("no change of residence is recorded",),
            (),
            (),
            (),
        )
    moved, source = change
    exception = studies_exception(contract, moved, settings)
    blocking: list[str] = []
    pending: list[str] = []
    flags: list[str] = []
    if exception:
        blocking.append(
            "under-25 studies PIIS during uninterrupted studies: the same CPAS stays competent, "
            "no end and no transfer (R-TRF-02)"
        )
    found = set(obligation_bases(contract, settings) if bases is None else bases)
    if not found & _LEGAL_BASES:
        if found & _REQUEST_BASES and settings.q08_request_counts_for_transfer:
            flags.append(
                N_(
                    "the PIIS is mandatory only because a party asked for it; counted as a legal "
                    "obligation (Q-08, to confirm in legal review)"
                )
            )
        else:
            blocking.append(
                "no legal obligation to conclude a PIIS exists, so it cannot be transferred (R-TRF-04)"
            )
    transfer = contract.transfer
    if transfer is None:
        pending.append("no transfer request recorded: the person must ask for it (R-TRF-03)")
    else:
        if transfer.requested_by is not RequestedBy.PERSON:
            blocking.append("the transfer was not requested by the person (R-TRF-03)")
        if transfer.consent is Consent.REFUSED:
            blocking.append("the person refused the transfer (R-TRF-05)")
        elif transfer.consent is Consent.NOT_EXPRESSED:
            if settings.q09_silence_is_consent:
                flags.append(
                    N_("the person did not object; silence counted as consent (Q-09, to confirm)")
                )
            else:
                pending.append("the person's consent is not recorded (R-TRF-05, Q-09 strict)")
        for who, agreed in (
            ("old", transfer.agreement_old_cpas),
            ("new", transfer.agreement_new_cpas),
        ):
            if agreed is False:
                blocking.append(f"the {who} CPAS did not agree (R-TRF-03)")
            elif agreed is None:
                pending.append(f"the {who} CPAS's agreement is not recorded (R-TRF-03)")
    return TransferOutlook(
        contract_id=contract.contract_id,
        residence_change_date=moved,
        source=source,
        studies_exception=exception,
        legal_end_date=None if exception else moved,
        may_hand_over=not blocking and not pending,
        blocking_reasons=tuple(blocking),
        pending=tuple(pending),
        flags=tuple(flags),
        continuing_sanctions=() if exception else _continuing(contract, moved),
    )


def _carried_out(contract: PIISContract) -> bool:
    t = contract.transfer
    return t is not None and (
        t.assessment is not None or (t.agreement_old_cpas is True and t.agreement_new_cpas is True)
    )


def transfer_issues(
    contract: PIISContract,
    *,
    as_of: date | None = None,
    settings: RuleSettings = DEFAULT_SETTINGS,
    outlook: TransferOutlook | None = None,
) -> Iterator[Issue]:
    """Breaches of R-TRF-01..06 by the recorded termination and transfer; *outlook*:
    ``transfer_outlook(contract, settings)`` when the caller has it already."""
    if outlook is None:
        outlook = transfer_outlook(contract, settings)
    moved = outlook.residence_change_date
    if moved is None:
        return
    cid = contract.contract_id
    term = contract.termination
    if outlook.studies_exception:
        if term is not None and term.reason is TerminationReason.CPAS_NO_LONGER_COMPETENT_RESIDENCE:
            yield issue(
                "R-TRF-02",
                N_(
                    "contract {contract}: ended for a change of residence, but an under-25 studies "
                    "PIIS continues at the same CPAS during uninterrupted studies"
                ),
                ("termination.reason",),
                contract=cid,
            )
        if contract.transfer is not None and _carried_out(contract):
            yield issue(
                "R-TRF-02",
                N_(
                    "contract {contract}: transferred, but the same CPAS stays competent for an "
                    "under-25 studies PIIS during uninterrupted studies"
                ),
                ("transfer",),
                contract=cid,
            )
        return
    # R-TRF-01: ends by operation of law on the day of the move.
    if term is None:
        if as_of is None or as_of >= moved:
            yield issue(
                "R-TRF-01",
                N_(
                    "contract {contract}: the CPAS stopped being competent on {moved} "
                    "(change of residence); the contract ends by law that day but no termination is recorded"
                ),
                ("termination",),
                contract=cid,
                moved=moved,
            )
    elif (
        term.reason is TerminationReason.CPAS_NO_LONGER_COMPETENT_RESIDENCE
        and term.ended_on != moved
    ):
        yield issue(
            "R-TRF-01",
            N_(
                "contract {contract}: ended on {ended_on}, but it ends by law on the "
                "day of the change of residence, {moved}"
            ),
            ("termination.ended_on",),
            contract=cid,
            ended_on=term.ended_on,
            moved=moved,
        )
    elif term.ended_on > moved:
        yield issue(
            "R-TRF-01",
            N_(
                "contract {contract}: recorded as running until {ended_on}, after "
                "the change of residence on {moved} that ended it by law"
            ),
            ("termination.ended_on",),
            contract=cid,
            ended_on=term.ended_on,
            moved=moved,
        )
    if not _carried_out(contract):
        return
    t = contract.transfer
    assert t is not None
    # R-TRF-03 / R-TRF-04 / R-TRF-05: only legal hand-overs.
    if t.requested_by is not RequestedBy.PERSON:
        yield issue(
            "R-TRF-03",
            N_("contract {contract}: handed over without the person's request"),
            ("transfer.requested_by",),
            contract=cid,
        )
    if t.agreement_old_cpas is not True or t.agreement_new_cpas is not True:
        yield issue(
            "R-TRF-03",
            N_("contract {contract}: handed over without the recorded agreement of both CPAS"),
            ("transfer.agreement_old_cpas", "transfer.agreement_new_cpas"),
            contract=cid,
        )
    if any("R-TRF-04" in reason for reason in outlook.blocking_reasons):
        yield issue(
            "R-TRF-04",
            N_(
                "contract {contract}: handed over although no legal obligation to conclude a PIIS "
                "exists"
            ),
            ("obligation.basis",),
            contract=cid,
        )
    if t.consent is Consent.REFUSED or (
        t.consent is Consent.NOT_EXPRESSED and not settings.q09_silence_is_consent
    ):
        yield issue(
            "R-TRF-05",
            N_("contract {contract}: handed over without the person's consent (consent {consent})"),
            ("transfer.consent",),
            contract=cid,
            consent=t.consent.value,
        )
    # R-TRF-06: the new CPAS records, per commitment, whether it takes it over.
    a = t.assessment
    if a is None:
        yield issue(
            "R-TRF-06",
            N_(
                "contract {contract}: transfer agreed but the new CPAS has not recorded which "
                "commitments it takes over"
            ),
            ("transfer.assessment",),
            contract=cid,
        )
        return
    known = {x.commitment_id for x in contract.commitments}
    taken, not_taken = set(a.commitments_taken_over), set(a.commitments_not_taken_over)
    for cid_ in sorted(known - taken - not_taken):
        yield issue(
            "R-TRF-06",
            N_(
                "contract {contract}: commitment {commitment} is neither taken over nor declined with a "
                "reason"
            ),
            ("transfer.assessment",),
            contract=cid,
            commitment=cid_,
        )
    for cid_ in sorted(taken & not_taken):
        yield issue(
            "R-TRF-06",
            N_("contract {contract}: commitment {commitment} is both taken over and declined"),
            ("transfer.assessment",),
            contract=cid,
            commitment=cid_,
        )
    for cid_ in sorted((taken | not_taken) - known):
        yield issue(
            "R-TRF-06",
            N_("contract {contract}: the assessment names unknown commitment {commitment}"),
            ("transfer.assessment",),
            contract=cid,
            commitment=cid_,
        )
    for cid_, reason in sorted(a.commitments_not_taken_over.items()):
        if not reason.strip():
            yield issue(
                "R-TRF-06",
                N_("contract {contract}: commitment {commitment} is declined without a reason"),
                ("transfer.assessment.commitments_not_taken_over",),
                contract=cid,
                commitment=cid_,
            )


def transfer_dues(
    contract: PIISContract,
    settings: RuleSettings = DEFAULT_SETTINGS,
    outlook: TransferOutlook | None = None,
) -> Iterator[Due]:
    if outlook is None:
        outlook = transfer_outlook(contract, settings)
    if outlook.legal_end_date is not None:
        yield Due(
            "R-TRF-01",
            "contract ends by law (change of residence)",
            outlook.legal_end_date,
            ("termination.ended_on",),
            deadline=False,
        )
        for s in outlook.continuing_sanctions:
            yield Due(
                "R-TRF-07",
                f"sanction {s.sanction_id} may continue at the new CPAS until",
                s.end_date,
                ("sanctions",),
                deadline=False,
            )


# --- registration (rules.md 2.11) ---------------------------------------------------------


def _moves(contract: PIISContract) -> bool:
    return residence_change(contract) is not None


def _transfer_results(ctx: RuleContext) -> Iterator[Result]:
    """The R-TRF family's one computation: the outlook, its issues and dates, the ``transfer`` section
    (R-TRF-07) and the Q-08 / Q-09 policy flags (R-TRF-04 / R-TRF-05, warnings)."""
    c, settings = ctx.contract, ctx.settings
    outlook = transfer_outlook(c, settings, ctx.obligations[0].bases if ctx.obligations else None)
    yield from transfer_issues(c, as_of=ctx.on, settings=settings, outlook=outlook)
    yield from transfer_dues(c, settings, outlook)
    yield Section("R-TRF-07", "transfer", _outlook_json(outlook, ctx))
    for rule_id, question, field in (
        ("R-TRF-04", "Q-08", "obligation.basis"),
        ("R-TRF-05", "Q-09", "transfer.consent"),
    ):
        for flag in outlook.flags:
            if question in flag:
                yield issue(
                    rule_id,
                    N_("contract {contract}: {flag}"),
                    (field,),
                    level=Level.WARNING,
                    contract=ctx.cid,
                    flag=flag,
                )


def _outlook_json(outlook: TransferOutlook, ctx: RuleContext) -> dict[str, object]:
    from piis_bridge.rules.subsidies import remaining_months_after

    moved = outlook.residence_change_date
    return {
        "residence_change_date": moved.isoformat() if moved else None,
        "source": outlook.source,
        "studies_exception": outlook.studies_exception,
        "legal_end_date": outlook.legal_end_date.isoformat() if outlook.legal_end_date else None,
        "may_hand_over": outlook.may_hand_over,
        "blocking_reasons": list(outlook.blocking_reasons),
        "pending": list(outlook.pending),
        "flags": list(outlook.flags),
        "continuing_sanctions": [
            {
                "sanction_id": s.sanction_id,
                "continues_from": s.continues_from.isoformat(),
                "end_date": s.end_date.isoformat(),
                "days_remaining": s.days_remaining,
            }
            for s in outlook.continuing_sanctions
        ],
        "subsidy_remaining_months": remaining_months_after(ctx.contract, moved, ctx.settings)
        if moved
        else None,
    }


_TRF = RuleOptions(applies=_moves)

TRANSFER_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-TRF-01",
        title="A change of residence ends the PIIS that same day",
        severity=Severity.LEGAL,
        citation="[002 L204, L228; Model A 004 L5397]",
        doc="""
    The move is the transfer request's ``residence_change_date`` or, without one, the first residence
    outside the CPAS's municipality starting during the contract.  The contract must be terminated on
    that day (flagged once the day is reached on the reference date).
    """,
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-02",
        title="Exception: under-25 studies PIIS during uninterrupted studies",
        severity=Severity.LEGAL,
        citation="[002 L206, L234]",
        doc="""
    Under 25 at the conclusion of a studies PIIS and studies uninterrupted at the move: the same CPAS
    stays competent; ending the contract for the move, or transferring it, is flagged.
    """,
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-03",
        title="Hand-over only at the person's request and with both CPAS agreeing",
        severity=Severity.LEGAL,
        citation="[002 L230; Model A 004 L5399-5403]",
        doc="""
    Checked once a hand-over is carried out (both agreements recorded or the new CPAS's assessment exists).
    """,
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-04",
        title="Hand-over only if a legal obligation to conclude a PIIS exists",
        severity=Severity.LEGAL,
        citation="[002 L230]",
        doc="""
    Bases U25_STUDIES, U25_EMPLOYMENT_PROJECT, NO_DIS_LAST_3M, as the engine judges them (R-OBL: the facts
    plus the recorded requests), not the recorded ``obligation.basis`` alone.  A PIIS mandatory only
    because a party asked (REQUEST_BY_*) counts when ``q08_request_counts_for_transfer`` (default) and is
    flagged as a warning for legal review (Q-08).
    """,
        parameters=("q08_request_counts_for_transfer",),
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-05",
        title="Hand-over needs the person's consent",
        severity=Severity.LEGAL,
        citation="[002 L230; 000 L172]",
        doc="""
    Consent must be GIVEN (C-06, Q-09 strict default).  With ``q09_silence_is_consent`` NOT_EXPRESSED
    counts, flagged as a warning.
    """,
        parameters=("q09_silence_is_consent",),
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-06",
        title="The new CPAS records which commitments it takes over",
        severity=Severity.LEGAL,
        citation="[002 L230; 000 L170]",
        doc="""
    Every commitment of the ended contract is either taken over or declined with a reason.
    """,
        **_TRF,
    ),
    RuleSpec(
        "R-TRF-07",
        title="Running sanctions and remaining subsidy months follow the person",
        severity=Severity.LEGAL,
        citation="[002 L422, L467, L504]",
        doc="""
    Informative: lists the sanctions whose execution continues after the move (days still to run) and
    the subsidy months remaining in the running window for the new CPAS (R-SUB-07), in the report's
    ``sections["transfer"]``.
    """,
        **_TRF,
    ),
)
family(TRANSFER_RULES, _transfer_results)
