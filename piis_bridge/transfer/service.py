"""One CPAS's side of every hand-over: cases, consent, packages, acknowledgements, imports.

Why a service object over the tables (and no transport): the CLI, the plugin hooks, the nightly
pipeline and the receiving HTTP endpoint all drive the same state machine; each call is one
database transaction, checked against :mod:`.states`, and leaves an event row.  The transport
(``piis_connectors.transfer``) only moves envelopes; it never decides anything.

Privacy: the contract (with the NISS) is stored in the database, which is the source of truth;
messages and exceptions name cases by case id, contract id and package id only.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from piis_bridge.logging import get_logger, redact
from piis_bridge.model import Consent, ContractStatus, Cpas, PIISContract, TransferAssessment
from piis_bridge.transfer.envelope import (
    Ack,
    AckStatus,
    AssessmentMessage,
    EnvelopeError,
    SigningKey,
    TrustList,
    open_ack,
    open_assessment,
    open_package,
    peek_header,
    sign_ack,
    sign_assessment,
    sign_package,
)
from piis_bridge.transfer.legal import (
    ResidenceChange,
    consent_allows_transfer,
    transfer_eligibility,
)
from piis_bridge.transfer.package import (
    ConsentEvidence,
    PackageParty,
    TransferPackage,
    build_package,
)
from piis_bridge.transfer.states import (
    CaseState,
    InvalidTransition,
    ReceiptState,
    check_case_move,
    check_receipt_move,
)
from piis_bridge.transfer.tables import (
    ConsentRecord,
    ReceivedPackage,
    RejectedEnvelope,
    TransferCase,
    TransferEvent,
)

__all__ = [
    "DraftSink",
    "ReceiveOutcome",
    "TransferError",
    "TransferService",
    "bce_of_certificate",
    "draft_from_package",
]

_log = get_logger("piis_bridge.transfer")

DraftSink = Callable[[PIISContract, TransferPackage], "str | None"]
"""Puts an imported draft into the receiving CPAS's case system; returns its id there (or None)."""


class TransferError(RuntimeError):
    """A transfer operation that cannot be done now; the message names the case, never a person."""


@dataclass(frozen=True)
class ReceiveOutcome:
    """What :meth:`TransferService.receive` did with one envelope, and the signed answer to send back."""

    status: str
    package_id: str | None
    ack_envelope: str
    reason: str = ""
    draft_ref: str | None = None
    case_ref: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def case_id_for(cpas_id: str, contract_id: str, change_date: date) -> str:
    """Deterministic: the same move of the same contract is always the same case."""
    return (
        "trf-"
        + uuid.uuid5(uuid.NAMESPACE_URL, f"piis-bridge:{cpas_id}:{contract_id}:{change_date}").hex
    )


def draft_contract_id(package_id: str) -> str:
    """The draft's contract id at the receiving CPAS (stable: the same package, the same draft)."""
    return f"TRF-{package_id[:16]}"


def draft_from_package(package: TransferPackage, receiver: Cpas) -> PIISContract:
    """The contract the new CPAS reviews: a DRAFT of its own, never an active contract.

    The commitments are copied so the new CPAS can decide one by one whether to take them over
    (R-TRF-06); a continuing sanction is carried over for its remaining part only, with the new
    CPAS as executing CPAS (R-SAN-10); the subsidy history travels so the lifetime limits hold
    (R-SUB-04).  The DIS decision is still the old CPAS's: the new CPAS attaches its own on review.
    """
    old = package.contract
    continuing = {s.sanction_id: s for s in package.continuing_sanctions}
    sanctions = []
    for sanction in old.sanctions:
        plan = continuing.get(sanction.sanction_id)
        if plan is None:
            sanctions.append(sanction)
            continue
        sanctions.append(
            sanction.model_copy(
                update={
                    "start_date": plan.continue_from,
                    "end_date": plan.continue_until,
                    "executing_cpas_ins": receiver.ins_code,
                }
            )
        )
    start = max(package.legal_end_date, old.start_date)
    return old.model_copy(
        update={
            "contract_id": draft_contract_id(package.package_id),
            "cpas": receiver,
            "status": ContractStatus.DRAFT,
            "start_date": start,
            "end_date": max(old.end_date, start),
            "signatures": [],
            "termination": None,
            "sanctions": sanctions,
            "transfer": old.transfer.model_copy(update={"agreement_new_cpas": None})
            if old.transfer
            else None,
        }
    )


class TransferService:
    """The transfer state machine of one CPAS, over one database.

    :param sessions: a sessionmaker bound to the application database (tables created by the caller).
    :param cpas_id: the CPAS's id in the configuration.
    :param party: the CPAS's name, INS code and BCE number (what packages and signatures name).
    :param signing_key: this CPAS's private key (BCE = ``party.bce``); needed to send and to acknowledge.
    :param trust: the other CPAS's public keys, by BCE.
    :param not_expressed_counts: legal-review switch Q-09 / C-06 (default strict: only GIVEN counts).
    """

    def __init__(
        self,
        sessions: sessionmaker,
        *,
        cpas_id: str,
        party: PackageParty,
        signing_key: SigningKey | None,
        trust: TrustList,
        not_expressed_counts: bool = False,
        clock: Callable[[], datetime] = _utcnow,
        max_package_age: timedelta | None = timedelta(days=30),
        max_clock_skew: timedelta = timedelta(minutes=10),
    ) -> None:
        if signing_key is not None and signing_key.bce != party.bce:
            raise TransferError(
                f"cpas {cpas_id}: the signing key is for BCE {signing_key.bce}, not {party.bce}"
            )
        self.sessions = sessions
        self.cpas_id = cpas_id
        self.party = party
        self.signing_key = signing_key
        self.trust = trust
        self.not_expressed_counts = not_expressed_counts
        self.clock = clock
        self.max_package_age = max_package_age
        self.max_clock_skew = max_clock_skew

    # ------------------------------------------------------------------ helpers

    def _key(self) -> SigningKey:
        if self.signing_key is None:
            raise TransferError(
                f"cpas {self.cpas_id}: no signing key configured (signing_key_path)"
            )
        return self.signing_key

    def _event(
        self,
        session: Session,
        *,
        to: str,
        frm: str | None = None,
        case_id: str | None = None,
        package_id: str | None = None,
        detail: str = "",
    ) -> None:
        session.add(
            TransferEvent(
                case_id=case_id,
                package_id=package_id,
                from_state=frm,
                to_state=to,
                at=self.clock(),
                detail=redact(detail),
            )
        )

    def _move(
        self, session: Session, case: TransferCase, target: CaseState, detail: str = ""
    ) -> None:
        check_case_move(case.case_id, case.state, target)
        self._event(session, case_id=case.case_id, frm=case.state, to=target.value, detail=detail)
        case.state = target.value
        case.updated_at = self.clock()

    def _case(self, session: Session, case_id: str) -> TransferCase:
        case = session.get(TransferCase, case_id)
        if case is None or case.cpas_id != self.cpas_id:
            raise TransferError(f"cpas {self.cpas_id}: no transfer case {case_id}")
        return case

    # ------------------------------------------------------------------ sending side: queries

    def get_case(self, case_id: str) -> TransferCase:
        with self.sessions() as session:
            return self._case(session, case_id)

    def list_cases(self, state: str | None = None) -> list[TransferCase]:
        with self.sessions() as session:
            query = select(TransferCase).where(TransferCase.cpas_id == self.cpas_id)
            if state:
                query = query.where(TransferCase.state == state)
            return list(
                session.scalars(query.order_by(TransferCase.created_at, TransferCase.case_id))
            )

    def consents(self, case_id: str) -> list[ConsentRecord]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ConsentRecord)
                    .where(ConsentRecord.case_id == case_id)
                    .order_by(ConsentRecord.id)
                )
            )

    def events(
        self, *, case_id: str | None = None, package_id: str | None = None
    ) -> list[TransferEvent]:
        with self.sessions() as session:
            query = select(TransferEvent)
            if case_id:
                query = query.where(TransferEvent.case_id == case_id)
            if package_id:
                query = query.where(TransferEvent.package_id == package_id)
            return list(session.scalars(query.order_by(TransferEvent.id)))

    def contract_of(self, case_id: str) -> PIISContract:
        return PIISContract.model_validate_json(self.get_case(case_id).contract_json)

    # ------------------------------------------------------------------ sending side: actions

    def open_case(
        self, contract: PIISContract, change: ResidenceChange, *, record_id: str
    ) -> tuple[TransferCase, bool]:
        """Open the case for one move of one contract (idempotent); returns (case, created?).

        The eligibility and the legal end date come from the rules (:mod:`.legal`): a studies PIIS
        of a full-time student under 25 stays here (R-TRF-02), a PIIS without a legal obligation
        ends but cannot be handed over (R-TRF-04), any other ends and awaits the person's consent.
        """
        case_id = case_id_for(self.cpas_id, contract.contract_id, change.change_date)
        verdict = transfer_eligibility(contract)
        if verdict is None:
            raise TransferError(
                f"contract {contract.contract_id}: the rules see no change of residence"
            )
        with self.sessions() as session:
            existing = session.get(TransferCase, case_id)
        if existing is not None:
            return existing, False
        try:
            return self._insert_case(
                contract, change, case_id, verdict, record_id, self.clock()
            ), True
        except (IntegrityError, OperationalError):  # a concurrent run opened it first
            return _retrying(lambda: self.get_case(case_id)), False

    def _insert_case(
        self,
        contract: PIISContract,
        change: ResidenceChange,
        case_id: str,
        verdict: Any,
        record_id: str,
        now: datetime,
    ) -> TransferCase:
        with self.sessions.begin() as session:
            existing = session.get(TransferCase, case_id)
            if existing is not None:
                raise IntegrityError("transfer case exists", None, Exception(case_id))
            case = TransferCase(
                case_id=case_id,
                cpas_id=self.cpas_id,
                contract_id=contract.contract_id,
                record_id=record_id,
                to_ins_code=change.new_ins_code,
                residence_change_date=change.change_date,
                legal_end_date=verdict.legal_end_date,
                eligibility=verdict.eligibility.value,
                eligibility_reason=verdict.reason + "".join(f" [{f}]" for f in verdict.flags),
                rules=",".join(verdict.rules),
                state=CaseState.DETECTED.value,
                contract_json=contract.model_dump_json(),
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            session.add(case)
            self._event(
                session,
                case_id=case_id,
                to=CaseState.DETECTED.value,
                detail=f"move to INS {change.new_ins_code} on {change.change_date}",
            )
            target = (
                CaseState.AWAITING_CONSENT if verdict.transferable else CaseState.NOT_TRANSFERABLE
            )
            self._move(
                session, case, target, detail=f"{verdict.eligibility.value}: {verdict.reason}"
            )
            return case

    def task_pushed(self, case_id: str, task_ref: str) -> TransferCase:
        """The case system confirmed the social worker's task (pushed again until it does)."""
        with self.sessions.begin() as session:
            case = self._case(session, case_id)
            case.task_ref = task_ref
            self._event(
                session,
                case_id=case_id,
                frm=case.state,
                to=case.state,
                detail=f"task {task_ref} pushed",
            )
            return case

    def record_consent(
        self,
        case_id: str,
        consent: Consent,
        *,
        by: str,
        channel: str,
        note: str = "",
        at: datetime | None = None,
    ) -> TransferCase:
        """Record the person's answer (append-only).  Refusal stops the hand-over for good (R-TRF-05)."""
        if not by.strip() or not channel.strip():
            raise TransferError(
                f"case {case_id}: consent needs who recorded it and through which channel"
            )
        with self.sessions.begin() as session:
            case = self._case(session, case_id)
            if case.state in (
                CaseState.SENT.value,
                CaseState.ACKNOWLEDGED.value,
                CaseState.REJECTED.value,
            ):
                raise TransferError(
                    f"case {case_id}: the package was already sent ({case.state}); "
                    "a change of mind must go to the new CPAS"
                )
            if case.state not in (
                CaseState.AWAITING_CONSENT.value,
                CaseState.CONSENT_GIVEN.value,
                CaseState.PACKAGE_BUILT.value,
            ):
                raise InvalidTransition(
                    "transfer case", case_id, case.state, f"consent {consent.value}"
                )
            session.add(
                ConsentRecord(
                    case_id=case_id,
                    consent=consent.value,
                    recorded_by=by.strip(),
                    channel=channel.strip(),
                    recorded_at=at or self.clock(),
                    note=note,
                )
            )
            if consent is Consent.REFUSED:
                self._move(
                    session, case, CaseState.CONSENT_REFUSED, detail=f"refused, recorded by {by}"
                )
            elif consent_allows_transfer(consent, not_expressed_counts=self.not_expressed_counts):
                if case.state == CaseState.AWAITING_CONSENT.value:
                    self._move(
                        session,
                        case,
                        CaseState.CONSENT_GIVEN,
                        detail=f"{consent.value}, recorded by {by}",
                    )
            else:
                self._event(
                    session,
                    case_id=case_id,
                    frm=case.state,
                    to=case.state,
                    detail=f"{consent.value} recorded by {by}: not consent (R-TRF-05, Q-09)",
                )
            return case

    def _latest_consent(self, session: Session, case_id: str) -> ConsentRecord | None:
        return session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.case_id == case_id)
            .order_by(ConsentRecord.id.desc())
            .limit(1)
        ).first()

    def prepare_package(self, case_id: str, receiver: PackageParty) -> str:
        """Build and sign the package once; later calls return the same envelope (same package id)."""
        with self.sessions.begin() as session:
            case = self._case(session, case_id)
            if (
                case.state in (CaseState.PACKAGE_BUILT.value, CaseState.SENT.value)
                and case.envelope
            ):
                return case.envelope
            if case.state in (
                CaseState.ACKNOWLEDGED.value,
                CaseState.ASSESSED.value,
                CaseState.REJECTED.value,
            ):
                raise TransferError(
                    f"case {case_id} is {case.state}: its package {case.package_id} was delivered"
                )
            if case.state != CaseState.CONSENT_GIVEN.value:
                raise TransferError(
                    f"case {case_id} is {case.state}: a package needs the person's consent "
                    "(R-TRF-05) and a transferable contract (R-TRF-02, R-TRF-04)"
                )
            if receiver.ins_code != case.to_ins_code:
                raise TransferError(
                    f"case {case_id}: the person moved to INS {case.to_ins_code}, "
                    f"not to {receiver.ins_code}"
                )
            record = self._latest_consent(session, case_id)
            if record is None or not consent_allows_transfer(
                Consent(record.consent), not_expressed_counts=self.not_expressed_counts
            ):
                raise TransferError(f"case {case_id}: no consent on record (R-TRF-05)")
            contract = PIISContract.model_validate_json(case.contract_json)
            evidence = ConsentEvidence(
                consent=Consent(record.consent),
                recorded_at=_aware(record.recorded_at),
                recorded_by=record.recorded_by,
                channel=record.channel,
            )
            package = build_package(
                contract,
                transfer_id=case.case_id,
                sender=self.party,
                receiver=receiver,
                residence_change_date=case.residence_change_date,
                legal_end_date=case.legal_end_date or case.residence_change_date,
                consent=evidence,
                now=self.clock(),
            )
            case.envelope = sign_package(package, self._key())
            case.package_id = package.package_id
            case.to_bce = receiver.bce
            self._move(
                session, case, CaseState.PACKAGE_BUILT, detail=f"package {package.package_id}"
            )
            return case.envelope

    def delivery_failed(self, case_id: str, error: str) -> None:
        """The transport gave up for now: the case stays ``package_built`` and is retried later."""
        with self.sessions.begin() as session:
            case = self._case(session, case_id)
            case.attempts += 1
            case.last_error = redact(error)[:2000]
            case.updated_at = self.clock()
            self._event(
                session,
                case_id=case_id,
                frm=case.state,
                to=case.state,
                detail=f"delivery attempt {case.attempts} failed: {case.last_error}",
            )

    def delivered(self, case_id: str, ack_envelope: str) -> Ack:
        """Check the receiver's signed acknowledgement and close the case accordingly."""
        with self.sessions.begin() as session:
            case = self._case(session, case_id)
            if case.to_bce is None or case.package_id is None:
                raise TransferError(f"case {case_id}: nothing was sent")
            ack = open_ack(ack_envelope, self.trust, expected_receiver_bce=case.to_bce)
            if ack.package_id not in (case.package_id, None):
                raise EnvelopeError(
                    f"acknowledgement is for package {ack.package_id}, not {case.package_id}"
                )
            case.attempts += 1
            if case.state == CaseState.PACKAGE_BUILT.value:
                self._move(session, case, CaseState.SENT, detail=f"delivered to BCE {case.to_bce}")
            if case.state != CaseState.SENT.value:
                return ack  # an ack for a case already closed changes nothing
            case.ack_envelope = ack_envelope
            case.ack_status = ack.status
            case.remote_draft_ref = ack.draft_ref
            case.last_error = None
            if ack.status in ("accepted", "duplicate"):
                self._move(
                    session,
                    case,
                    CaseState.ACKNOWLEDGED,
                    detail=f"{ack.status}; draft {ack.draft_ref}",
                )
            else:
                case.last_error = redact(ack.reason)
                self._move(session, case, CaseState.REJECTED, detail=f"rejected: {ack.reason}")
            return ack

    # ------------------------------------------------------------------ receiving side

    def received(self, package_id: str) -> ReceivedPackage | None:
        with self.sessions() as session:
            return session.get(ReceivedPackage, package_id)

    def list_received(self) -> list[ReceivedPackage]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(ReceivedPackage)
                    .where(ReceivedPackage.cpas_id == self.cpas_id)
                    .order_by(ReceivedPackage.received_at)
                )
            )

    def rejected(self) -> list[RejectedEnvelope]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(RejectedEnvelope)
                    .where(RejectedEnvelope.cpas_id == self.cpas_id)
                    .order_by(RejectedEnvelope.id)
                )
            )

    def _ack(
        self,
        *,
        status: AckStatus,
        package_id: str | None,
        transfer_id: str | None = None,
        reason: str = "",
        sender_bce: str | None = None,
        draft_ref: str | None = None,
    ) -> str:
        ack = Ack(
            package_id=package_id,
            transfer_id=transfer_id,
            status=status,
            reason=redact(reason),
            receiver_bce=self.party.bce,
            sender_bce=sender_bce,
            acked_at=self.clock(),
            draft_ref=draft_ref,
        )
        return sign_ack(ack, self._key())

    def _reject(self, envelope: bytes, digest: str, reason: str) -> ReceiveOutcome:
        try:
            claimed = str(peek_header(envelope).get("kid") or "")[:40] or None
        except EnvelopeError:
            claimed = None
        with self.sessions.begin() as session:
            session.add(
                RejectedEnvelope(
                    cpas_id=self.cpas_id,
                    claimed_sender=claimed,
                    envelope_sha256=digest,
                    reason=redact(reason),
                    received_at=self.clock(),
                )
            )
        _log.warning(
            "transfer package rejected", cpas=self.cpas_id, claimed_sender=claimed, reason=reason
        )
        return ReceiveOutcome(
            "rejected",
            None,
            self._ack(status="rejected", package_id=None, reason=reason, sender_bce=claimed),
            reason=reason,
        )

    def _freshness_problem(self, package: TransferPackage) -> str:
        """Why a package never seen before is too old (or from the future) to be accepted, or "".

        A validly signed package stays valid forever; without a window, an old package intercepted
        or replayed from a backup would create a draft contract for a person who has since moved on.
        """
        if self.max_package_age is None:
            return ""
        now = _aware(self.clock())
        created = _aware(package.created_at)
        if created > now + self.max_clock_skew:
            return (
                f"package {package.package_id} is dated {created:%Y-%m-%d %H:%M} UTC, in the future "
                f"(clocks differ by more than {int(self.max_clock_skew.total_seconds() // 60)} min)"
            )
        if now - created > self.max_package_age:
            return (
                f"package {package.package_id} was created on {created:%Y-%m-%d}, more than "
                f"{self.max_package_age.days} days ago (freshness window, setting max_package_age_days); "
                "the sending CPAS must prepare a new package"
            )
        return ""

    @staticmethod
    def _tls_problem(package: TransferPackage, tls_peer_bce: str | None) -> str:
        """Why the TLS client identity does not match the package's signer, or ""."""
        if tls_peer_bce is None:
            return ""
        if not tls_peer_bce:
            return (
                "the TLS client certificate names no BCE number (organizationIdentifier NTRBE-..., "
                "serialNumber or CN); it cannot be bound to the package's sender"
            )
        if tls_peer_bce != package.sender.bce:
            return (
                f"the TLS client certificate is for BCE {tls_peer_bce} but the package is signed by BCE "
                f"{package.sender.bce}: a package is accepted only from its sender's own connection"
            )
        return ""

    def receive(
        self,
        envelope: bytes | str,
        deliver_draft: DraftSink | None = None,
        *,
        tls_peer_bce: str | None = None,
    ) -> ReceiveOutcome:
        """Verify, import once as a draft, and answer with a signed acknowledgement.

        Besides the signature: the package must be fresh (``max_package_age``) unless it was received
        before, and over mutual TLS the client certificate's BCE must be the signer's
        (``tls_peer_bce``, from :func:`bce_of_certificate`).

        Idempotent on the package id: the same envelope again answers ``duplicate`` with the same
        draft; a different envelope under a known package id is rejected.  A draft is stored here
        first and then handed to the case system (``deliver_draft``); a case-system failure leaves
        the draft stored and is retried by :meth:`retry_draft_delivery`.
        """
        raw = envelope.encode("ascii", "replace") if isinstance(envelope, str) else bytes(envelope)
        digest = hashlib.sha256(raw).hexdigest()
        try:
            package = open_package(raw, self.trust, own_bce=self.party.bce)
        except EnvelopeError as exc:
            return self._reject(raw, digest, str(exc))
        problem = self._tls_problem(package, tls_peer_bce)
        if not problem and self.received(package.package_id) is None:
            problem = self._freshness_problem(package)
        if problem:
            return self._reject(raw, digest, problem)
        conflict, finished = _retrying(lambda: self._import(package, raw, digest))
        if finished is not None:
            return finished
        if conflict:
            return self._reject(
                raw,
                digest,
                f"package id {package.package_id} was already received with different content",
            )
        case_ref = self._deliver(package.package_id, deliver_draft)
        draft_id = draft_contract_id(package.package_id)
        ack = self._ack(
            status="accepted",
            package_id=package.package_id,
            transfer_id=package.transfer_id,
            sender_bce=package.sender.bce,
            draft_ref=draft_id,
        )
        if not _retrying(lambda: self._acknowledge(package.package_id, ack, draft_id, case_ref)):
            row = self.received(package.package_id)
            assert (
                row is not None
            )  # a concurrent delivery of the same package acknowledged it first
            return ReceiveOutcome(
                "duplicate",
                package.package_id,
                self._ack(
                    status="duplicate",
                    package_id=package.package_id,
                    transfer_id=package.transfer_id,
                    sender_bce=package.sender.bce,
                    draft_ref=draft_id,
                ),
                draft_ref=draft_id,
                case_ref=row.draft_ref,
            )
        _log.info(
            "transfer package imported as draft",
            cpas=self.cpas_id,
            package_id=package.package_id,
            sender=package.sender.bce,
            draft=draft_id,
            case_ref=case_ref,
        )
        return ReceiveOutcome(
            "accepted", package.package_id, ack, draft_ref=draft_id, case_ref=case_ref
        )

    def _acknowledge(self, package_id: str, ack: str, draft_id: str, case_ref: str | None) -> bool:
        """imported_draft -> acknowledged, once: a conditional update, so two deliveries racing here
        cannot both acknowledge.  False when another one did."""
        with self.sessions.begin() as session:
            done = session.execute(
                update(ReceivedPackage)
                .where(
                    ReceivedPackage.package_id == package_id,
                    ReceivedPackage.state == ReceiptState.IMPORTED_DRAFT.value,
                )
                .values(
                    state=ReceiptState.ACKNOWLEDGED.value, ack_envelope=ack, updated_at=self.clock()
                )
            ).rowcount
            if done:
                self._event(
                    session,
                    package_id=package_id,
                    frm=ReceiptState.IMPORTED_DRAFT.value,
                    to=ReceiptState.ACKNOWLEDGED.value,
                    detail=f"accepted; draft {draft_id}; case system {case_ref or 'pending'}",
                )
            return bool(done)

    def _import(
        self, package: TransferPackage, raw: bytes, digest: str
    ) -> tuple[bool, ReceiveOutcome | None]:
        """Store the package and its draft once.  Returns (conflict?, the final answer if already done).

        A package stored by an earlier delivery that stopped before its acknowledgement (a crash, a
        lost connection) is finished now rather than answered ``duplicate``: the draft reaches the
        case system and the acknowledgement is signed exactly once.
        """
        now = self.clock()
        with self.sessions.begin() as session:
            row = session.get(ReceivedPackage, package.package_id)
            if row is not None:
                if row.envelope_sha256 != digest:
                    return True, None
                if row.state == ReceiptState.IMPORTED_DRAFT.value:
                    return False, None
                return False, ReceiveOutcome(
                    "duplicate",
                    package.package_id,
                    self._ack(
                        status="duplicate",
                        package_id=package.package_id,
                        transfer_id=package.transfer_id,
                        sender_bce=package.sender.bce,
                        draft_ref=row.draft_contract_id,
                    ),
                    draft_ref=row.draft_contract_id,
                    case_ref=row.draft_ref,
                )
            else:
                row = ReceivedPackage(
                    package_id=package.package_id,
                    cpas_id=self.cpas_id,
                    transfer_id=package.transfer_id,
                    sender_bce=package.sender.bce,
                    sender_name=package.sender.name,
                    contract_id=package.contract.contract_id,
                    state=ReceiptState.RECEIVED.value,
                    envelope_sha256=digest,
                    envelope=raw.decode("ascii"),
                    received_at=now,
                    updated_at=now,
                )
                session.add(row)
                self._event(
                    session,
                    package_id=package.package_id,
                    to=ReceiptState.RECEIVED.value,
                    detail=f"from BCE {package.sender.bce}",
                )
                self._move_receipt(
                    session, row, ReceiptState.VERIFIED, "signature and addressee checked"
                )
                draft = draft_from_package(
                    package,
                    Cpas(name=self.party.name, ins_code=self.party.ins_code, bce=self.party.bce),
                )
                row.draft_json = draft.model_dump_json()
                row.draft_contract_id = draft.contract_id
                self._move_receipt(
                    session, row, ReceiptState.IMPORTED_DRAFT, f"draft {draft.contract_id}"
                )
        return False, None

    def _move_receipt(
        self, session: Session, row: ReceivedPackage, target: ReceiptState, detail: str
    ) -> None:
        check_receipt_move(row.package_id, row.state, target)
        self._event(
            session, package_id=row.package_id, frm=row.state, to=target.value, detail=detail
        )
        row.state = target.value
        row.updated_at = self.clock()

    def _deliver(self, package_id: str, deliver_draft: DraftSink | None) -> str | None:
        if deliver_draft is None:
            return None
        with self.sessions() as session:
            row = session.get(ReceivedPackage, package_id)
            assert row is not None
            if row.draft_ref:
                return row.draft_ref
            draft = PIISContract.model_validate_json(row.draft_json or "")
            package = TransferPackage.model_validate_json(_payload_of(row.envelope))
        try:
            ref = deliver_draft(draft, package)
        except Exception as exc:  # noqa: BLE001 - the draft is stored; the case system is retried later
            with self.sessions.begin() as session:
                self._event(
                    session,
                    package_id=package_id,
                    to=ReceiptState.IMPORTED_DRAFT.value,
                    detail=f"draft not yet in the case system: {type(exc).__name__}: {exc}",
                )
            return None
        with self.sessions.begin() as session:
            stored = session.get(ReceivedPackage, package_id)
            assert stored is not None
            stored.draft_ref = ref
        return ref

    def retry_draft_delivery(self, deliver_draft: DraftSink) -> list[tuple[str, str | None]]:
        """Hand the drafts not yet in the case system to it again; returns (package id, draft ref)."""
        pending = [
            r.package_id for r in self.list_received() if r.draft_ref is None and r.draft_json
        ]
        return [(pid, self._deliver(pid, deliver_draft)) for pid in pending]

    def draft_of(self, package_id: str) -> PIISContract:
        row = self.received(package_id)
        if row is None or row.draft_json is None:
            raise TransferError(f"cpas {self.cpas_id}: no imported package {package_id}")
        return PIISContract.model_validate_json(row.draft_json)

    def package_of(self, package_id: str) -> TransferPackage:
        row = self.received(package_id)
        if row is None:
            raise TransferError(f"cpas {self.cpas_id}: no imported package {package_id}")
        return TransferPackage.model_validate_json(_payload_of(row.envelope))

    # ------------------------------------------------------------------ R-TRF-06 both ways
    # The new CPAS's review goes back to the old one, each side acknowledging the other's message.

    # -- receiving side (new CPAS): review the draft, sign the answer, record the old CPAS's ack --------

    def assess(
        self,
        package_id: str,
        *,
        taken_over: list[str],
        not_taken_over: dict[str, str],
        by: str,
        new_contract_ref: str | None = None,
        on: date | None = None,
    ) -> str:
        """Record which commitments the new CPAS takes over and sign the answer for the old CPAS.

        Every commitment of the draft must be decided once: taken over, or not with a reason.  Calling
        again after the answer was signed returns the same envelope (resend after a failure).
        """
        with self.sessions.begin() as session:
            row = session.get(ReceivedPackage, package_id)
            if row is None or row.cpas_id != self.cpas_id:
                raise TransferError(f"cpas {self.cpas_id}: no imported package {package_id}")
            if row.state in (
                ReceiptState.ASSESSED.value,
                ReceiptState.ASSESSMENT_ACKNOWLEDGED.value,
            ):
                assert row.assessment_envelope is not None
                return row.assessment_envelope
            if row.state != ReceiptState.ACKNOWLEDGED.value:
                raise InvalidTransition(
                    "received package", package_id, row.state, ReceiptState.ASSESSED.value
                )
            draft = PIISContract.model_validate_json(row.draft_json or "")
            known = [c.commitment_id for c in draft.commitments]
            decided = list(taken_over) + list(not_taken_over)
            unknown = sorted(set(decided) - set(known))
            twice = sorted({c for c in decided if decided.count(c) > 1})
            missing = [c for c in known if c not in decided]
            blank = sorted(c for c, reason in not_taken_over.items() if not reason.strip())
            problems = [
                f"unknown commitments {', '.join(unknown)}" if unknown else "",
                f"decided twice: {', '.join(twice)}" if twice else "",
                f"not decided: {', '.join(missing)}" if missing else "",
                f"no reason given for: {', '.join(blank)}" if blank else "",
            ]
            if any(problems):
                raise TransferError(
                    f"package {package_id}: every commitment needs one decision (R-TRF-06): "
                    + "; ".join(p for p in problems if p)
                )
            assessment = TransferAssessment(
                assessed_on=on or self.clock().date(),
                commitments_taken_over=list(taken_over),
                commitments_not_taken_over=dict(not_taken_over),
                new_contract_ref=new_contract_ref,
            )
            message = AssessmentMessage(
                package_id=package_id,
                transfer_id=row.transfer_id,
                assessor_bce=self.party.bce,
                addressee_bce=row.sender_bce,
                assessed_by=by,
                created_at=self.clock(),
                assessment=assessment,
            )
            row.assessment_envelope = sign_assessment(message, self._key())
            if draft.transfer is not None:
                draft = draft.model_copy(
                    update={
                        "transfer": draft.transfer.model_copy(
                            update={
                                "assessment": assessment,
                                "agreement_new_cpas": bool(taken_over),
                            }
                        )
                    }
                )
                row.draft_json = draft.model_dump_json()
            self._move_receipt(
                session,
                row,
                ReceiptState.ASSESSED,
                f"{len(taken_over)} taken over, {len(not_taken_over)} not, by {by}",
            )
            return row.assessment_envelope

    def assessment_delivered(self, package_id: str, ack_envelope: str) -> Ack:
        with self.sessions.begin() as session:
            row = session.get(ReceivedPackage, package_id)
            if row is None or row.assessment_envelope is None:
                raise TransferError(
                    f"cpas {self.cpas_id}: no assessment sent for package {package_id}"
                )
            ack = open_ack(ack_envelope, self.trust, expected_receiver_bce=row.sender_bce)
            if ack.package_id != package_id:
                raise EnvelopeError(
                    f"acknowledgement is for package {ack.package_id}, not {package_id}"
                )
            if ack.status == "rejected":
                raise TransferError(
                    f"package {package_id}: the old CPAS rejected the assessment: {ack.reason}"
                )
            if row.state == ReceiptState.ASSESSED.value:
                row.assessment_ack = ack_envelope
                self._move_receipt(
                    session,
                    row,
                    ReceiptState.ASSESSMENT_ACKNOWLEDGED,
                    f"{ack.status} by BCE {row.sender_bce}",
                )
            return ack

    # -- sending side (old CPAS): receive the review --------------------------------------------------

    def receive_assessment(
        self, envelope: bytes | str, *, tls_peer_bce: str | None = None
    ) -> ReceiveOutcome:
        raw = envelope.encode("ascii", "replace") if isinstance(envelope, str) else bytes(envelope)
        digest = hashlib.sha256(raw).hexdigest()
        try:
            message = open_assessment(raw, self.trust, own_bce=self.party.bce)
        except EnvelopeError as exc:
            return self._reject(raw, digest, str(exc))
        if tls_peer_bce is not None and tls_peer_bce != message.assessor_bce:
            return self._reject(
                raw,
                digest,
                f"the TLS client certificate is for BCE {tls_peer_bce or '(none)'} "
                f"but the assessment is signed by BCE {message.assessor_bce}",
            )
        with self.sessions.begin() as session:
            case = session.get(TransferCase, message.transfer_id)
            problem = ""
            if (
                case is None
                or case.cpas_id != self.cpas_id
                or case.package_id != message.package_id
            ):
                problem = (
                    f"no transfer {message.transfer_id} with package {message.package_id} here"
                )
            elif case.to_bce != message.assessor_bce:
                problem = f"package {message.package_id} was not sent to BCE {message.assessor_bce}"
            elif case.state == CaseState.ASSESSED.value:
                if (
                    case.assessment_envelope is not None
                    and hashlib.sha256(case.assessment_envelope.encode("ascii")).hexdigest()
                    == digest
                ):
                    return ReceiveOutcome(
                        "duplicate",
                        message.package_id,
                        self._ack(
                            status="duplicate",
                            package_id=message.package_id,
                            transfer_id=message.transfer_id,
                            sender_bce=message.assessor_bce,
                        ),
                    )
                problem = f"transfer {message.transfer_id} was already assessed differently"
            elif case.state != CaseState.ACKNOWLEDGED.value:
                problem = f"transfer {message.transfer_id} is {case.state}, not acknowledged"
            if not problem:
                assert case is not None
                case.assessment_json = message.assessment.model_dump_json()
                case.assessment_envelope = raw.decode("ascii")
                a = message.assessment
                self._move(
                    session,
                    case,
                    CaseState.ASSESSED,
                    detail=f"BCE {message.assessor_bce} took over {len(a.commitments_taken_over)} "
                    f"commitment(s), not {len(a.commitments_not_taken_over)}; by {message.assessed_by}",
                )
        if problem:
            return self._reject(raw, digest, problem)
        return ReceiveOutcome(
            "accepted",
            message.package_id,
            self._ack(
                status="accepted",
                package_id=message.package_id,
                transfer_id=message.transfer_id,
                sender_bce=message.assessor_bce,
                draft_ref=message.assessment.new_contract_ref,
            ),
        )

    def assessment_of(self, case_id: str) -> TransferAssessment | None:
        case = self.get_case(case_id)
        return (
            TransferAssessment.model_validate_json(case.assessment_json)
            if case.assessment_json
            else None
        )


def bce_of_certificate(peercert: dict[str, Any] | None) -> str | None:
    """The BCE number a TLS client certificate names (``ssl.SSLSocket.getpeercert()`` form).

    Looked up in the subject's organizationIdentifier (eIDAS ``NTRBE-0212345678``), serialNumber,
    then commonName: the first value that is a checksum-valid BCE number.  None without a
    certificate; "" when the certificate names no BCE number.
    """
    if not peercert:
        return None
    from piis_bridge.identifiers import IdentifierError, validate_bce

    values: dict[str, list[str]] = {}
    for rdn in peercert.get("subject", ()):
        for name, value in rdn:
            values.setdefault(str(name), []).append(str(value))
    for name in ("organizationIdentifier", "2.5.4.97", "serialNumber", "commonName"):
        for value in values.get(name, []):
            candidate = value.strip().upper().removeprefix("NTRBE-").removeprefix("VATBE-")
            try:
                return validate_bce(candidate)
            except IdentifierError:
                continue
    return ""


def _retrying(step: Callable[[], Any], attempts: int = 6) -> Any:
    """Run one short write transaction again when a concurrent delivery of the same package won the
    race (unique package id) or SQLite refused a stale snapshot ("database is locked")."""
    for attempt in range(attempts):
        try:
            return step()
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _payload_of(envelope: str) -> bytes:
    """The payload of an envelope we verified when it arrived (stored verbatim)."""
    part = envelope.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
