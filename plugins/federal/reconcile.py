"""Monthly statement <-> ledger reconciliation: every difference is reported, none is silently fixed."""

from __future__ import annotations

import calendar

from typing import Any

from piis_bridge.forms import DifferenceKind, FormStatus, MonthlyStatement, ReconciliationDifference

__all__ = ["reconcile"]

_PAYABLE = {FormStatus.ACCEPTED.value, FormStatus.PARTIALLY_ACCEPTED.value}


def reconcile(statement: MonthlyStatement, ledger: Any, cpas_id: str) -> list[ReconciliationDifference]:
    diffs: list[ReconciliationDifference] = []
    seen: set[str] = set()
    for line in statement.lines:
        entry = ledger.get(line.client_reference) if line.client_reference else None
        if entry is None or entry.cpas_id != cpas_id:
            diffs.append(ReconciliationDifference(kind=DifferenceKind.UNKNOWN_IN_LEDGER, reference=line.reference,
                                                  client_reference=line.client_reference,
                                                  stated_cents=line.signed_cents,
                                                  detail=f"line type {line.amount_type} {line.first_day}..{line.last_day}"))
            continue
        seen.add(entry.key)
        regularisation = line.amount_type in (4, 5, 6)
        if entry.status not in _PAYABLE and not (regularisation or entry.status == FormStatus.SUPERSEDED.value):
            diffs.append(ReconciliationDifference(kind=DifferenceKind.STATUS_MISMATCH, client_reference=entry.key,
                                                  reference=line.reference, stated_cents=line.signed_cents,
                                                  detail=f"ledger status {entry.status}"))
            continue
        if line.amount_type == 3 and entry.accepted_amount is not None and line.amount_cents != entry.accepted_amount:
            diffs.append(ReconciliationDifference(kind=DifferenceKind.AMOUNT_MISMATCH, client_reference=entry.key,
                                                  reference=line.reference, expected_cents=-entry.accepted_amount,
                                                  stated_cents=line.signed_cents, detail="recovery amount"))
        full_month = (line.first_day.day == 1 and line.first_day.month == line.last_day.month
                      and line.last_day.day == calendar.monthrange(line.last_day.year, line.last_day.month)[1])
        if line.amount_type in (1, 2) and full_month and entry.amount is not None and line.amount_cents != entry.amount:
            diffs.append(ReconciliationDifference(kind=DifferenceKind.AMOUNT_MISMATCH, client_reference=entry.key,
                                                  reference=line.reference, expected_cents=entry.amount,
                                                  stated_cents=line.signed_cents,
                                                  detail=f"monthly amount for {line.first_day.isoformat()[:7]}"))
    for entry in ledger.received_in(cpas_id, statement.month):
        if entry.status in _PAYABLE and entry.kind in ("B", "D") and entry.key not in seen:
            diffs.append(ReconciliationDifference(kind=DifferenceKind.MISSING_IN_STATEMENT, client_reference=entry.key,
                                                  reference=entry.reference, expected_cents=entry.accepted_amount,
                                                  detail=f"form {entry.kind} {entry.period_key} accepted, not stated"))
    for notice in statement.notices:
        diffs.append(ReconciliationDifference(kind=DifferenceKind.NOTICE, client_reference=notice.client_reference,
                                              detail=f"{notice.code}: {notice.text}"))
    return diffs


