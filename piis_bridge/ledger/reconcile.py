"""Monthly statement <-> form ledger: every difference is reported, none is silently fixed.

Why in the core, beside the ledger: the statement (:class:`piis_bridge.forms.MonthlyStatement`) and
the ledger (:class:`piis_bridge.ledger.Ledger`) are both core types, and two callers need the same
comparison: the nightly pipeline (which fetches the statement through ``piis_federal_fetch_statement``
and may not import a plugin) and ``piis-bridge forms statement`` in the federal plugin.  One function,
so both always report the same differences for the same data.

What is compared (shared/spec/federal.md 5.4): each statement line must name a form of this CPAS
known to the ledger (else ``unknown_in_ledger``) whose status allows payment (else
``status_mismatch``; a regularisation line may concern a superseded form); a recovery's amount and a
full month's grant must equal what the ledger recorded (``amount_mismatch``); each accepted form B or D
received in the month must appear (``missing_in_statement``); each notice of the statement is a
difference to follow up (``notice``).
"""

from __future__ import annotations

import calendar
from typing import Any

from piis_bridge.forms import DifferenceKind, FormStatus, MonthlyStatement, ReconciliationDifference

__all__ = ["reconcile"]

_PAYABLE = {FormStatus.ACCEPTED.value, FormStatus.PARTIALLY_ACCEPTED.value}
_REGULARISATIONS = (4, 5, 6)


def _full_month(first: Any, last: Any) -> bool:
    return (
        first.day == 1
        and first.month == last.month
        and first.year == last.year
        and last.day == calendar.monthrange(last.year, last.month)[1]
    )


def reconcile(
    statement: MonthlyStatement, ledger: Any, cpas_id: str
) -> list[ReconciliationDifference]:
    """The differences between the statement of one CPAS and its form ledger (a ``Ledger``)."""
    diffs: list[ReconciliationDifference] = []
    seen: set[str] = set()
    for line in statement.lines:
        entry = ledger.get(line.client_reference) if line.client_reference else None
        if entry is None or entry.cpas_id != cpas_id:
            diffs.append(
                ReconciliationDifference(
                    kind=DifferenceKind.UNKNOWN_IN_LEDGER,
                    reference=line.reference,
                    client_reference=line.client_reference,
                    stated_cents=line.signed_cents,
                    detail=f"line type {line.amount_type} {line.first_day}..{line.last_day}",
                )
            )
            continue
        seen.add(entry.key)
        regularisation = line.amount_type in _REGULARISATIONS
        if entry.status not in _PAYABLE and not (
            regularisation or entry.status == FormStatus.SUPERSEDED.value
        ):
            diffs.append(
                ReconciliationDifference(
                    kind=DifferenceKind.STATUS_MISMATCH,
                    client_reference=entry.key,
                    reference=line.reference,
                    stated_cents=line.signed_cents,
                    detail=f"ledger status {entry.status}",
                )
            )
            continue
        if (
            line.amount_type == 3
            and entry.accepted_amount is not None
            and line.amount_cents != entry.accepted_amount
        ):
            diffs.append(
                ReconciliationDifference(
                    kind=DifferenceKind.AMOUNT_MISMATCH,
                    client_reference=entry.key,
                    reference=line.reference,
                    expected_cents=-entry.accepted_amount,
                    stated_cents=line.signed_cents,
                    detail="recovery amount",
                )
            )
        if (
            line.amount_type in (1, 2)
            and _full_month(line.first_day, line.last_day)
            and entry.amount is not None
            and line.amount_cents != entry.amount
        ):
            diffs.append(
                ReconciliationDifference(
                    kind=DifferenceKind.AMOUNT_MISMATCH,
                    client_reference=entry.key,
                    reference=line.reference,
                    expected_cents=entry.amount,
                    stated_cents=line.signed_cents,
                    detail=f"monthly amount for {line.first_day.isoformat()[:7]}",
                )
            )
    for entry in ledger.received_in(cpas_id, statement.month):
        if entry.status in _PAYABLE and entry.kind in ("B", "D") and entry.key not in seen:
            diffs.append(
                ReconciliationDifference(
                    kind=DifferenceKind.MISSING_IN_STATEMENT,
                    client_reference=entry.key,
                    reference=entry.reference,
                    expected_cents=entry.accepted_amount,
                    detail=f"form {entry.kind} {entry.period_key} accepted, not stated",
                )
            )
    for notice in statement.notices:
        diffs.append(
            ReconciliationDifference(
                kind=DifferenceKind.NOTICE,
                client_reference=notice.client_reference,
                detail=f"{notice.code}: {notice.text}",
            )
        )
    return diffs
