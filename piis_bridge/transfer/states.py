"""The two state machines of a hand-over: the sending side (a transfer case) and the receiving side.

Why explicit tables of allowed moves: a transfer touches the law (no consent, no transfer) and two
organisations; every state change is checked here and logged in ``transfer_events``, so a case can
never jump from "awaiting consent" to "sent", and an operator can see how a case got where it is.

Sending side::

    detected -> awaiting_consent -> consent_given -> package_built -> sent -> acknowledged -> assessed
                                 \\-> consent_refused (final)                 \\-> rejected
    detected -> not_transferable (final: studies exception R-TRF-02, no obligation R-TRF-04)

``package_built`` is also where a failed delivery waits for the next retry (same package, same id).

Receiving side::

    received -> verified -> imported_draft -> acknowledged -> assessed -> assessment_acknowledged

``assessed``: the new CPAS reviewed the draft and told the old one which commitments it takes over
(R-TRF-06); the old CPAS's signed acknowledgement of that answer closes both sides.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FINAL_CASE_STATES",
    "CaseState",
    "InvalidTransition",
    "ReceiptState",
    "check_case_move",
    "check_receipt_move",
]


class CaseState(StrEnum):
    DETECTED = "detected"
    AWAITING_CONSENT = "awaiting_consent"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED = "consent_refused"
    NOT_TRANSFERABLE = "not_transferable"
    PACKAGE_BUILT = "package_built"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    REJECTED = "rejected"


class ReceiptState(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IMPORTED_DRAFT = "imported_draft"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    ASSESSMENT_ACKNOWLEDGED = "assessment_acknowledged"


FINAL_CASE_STATES = frozenset(
    {CaseState.CONSENT_REFUSED, CaseState.NOT_TRANSFERABLE, CaseState.ASSESSED, CaseState.REJECTED}
)

_CASE_MOVES: dict[CaseState, frozenset[CaseState]] = {
    CaseState.DETECTED: frozenset({CaseState.AWAITING_CONSENT, CaseState.NOT_TRANSFERABLE}),
    CaseState.AWAITING_CONSENT: frozenset({CaseState.CONSENT_GIVEN, CaseState.CONSENT_REFUSED}),
    # A person may change their mind before anything was sent (consent is recorded, never edited).
    CaseState.CONSENT_GIVEN: frozenset({CaseState.PACKAGE_BUILT, CaseState.CONSENT_REFUSED}),
    CaseState.PACKAGE_BUILT: frozenset({CaseState.SENT, CaseState.CONSENT_REFUSED}),
    CaseState.SENT: frozenset({CaseState.ACKNOWLEDGED, CaseState.REJECTED}),
    CaseState.ACKNOWLEDGED: frozenset({CaseState.ASSESSED}),
}
_RECEIPT_MOVES: dict[ReceiptState, frozenset[ReceiptState]] = {
    ReceiptState.RECEIVED: frozenset({ReceiptState.VERIFIED}),
    ReceiptState.VERIFIED: frozenset({ReceiptState.IMPORTED_DRAFT}),
    ReceiptState.IMPORTED_DRAFT: frozenset({ReceiptState.ACKNOWLEDGED}),
    ReceiptState.ACKNOWLEDGED: frozenset({ReceiptState.ASSESSED}),
    ReceiptState.ASSESSED: frozenset({ReceiptState.ASSESSMENT_ACKNOWLEDGED}),
}


class InvalidTransition(ValueError):
    """A state change the machine does not allow; names the case and both states."""

    def __init__(self, what: str, ident: str, current: str, target: str) -> None:
        super().__init__(f"{what} {ident}: cannot go from {current!r} to {target!r}")
        self.current = current
        self.target = target


def check_case_move(case_id: str, current: str, target: CaseState) -> None:
    if target not in _CASE_MOVES.get(CaseState(current), frozenset()):
        raise InvalidTransition("transfer case", case_id, current, target.value)


def check_receipt_move(package_id: str, current: str, target: ReceiptState) -> None:
    if target not in _RECEIPT_MOVES.get(ReceiptState(current), frozenset()):
        raise InvalidTransition("received package", package_id, current, target.value)
