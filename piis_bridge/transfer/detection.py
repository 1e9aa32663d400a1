"""Detecting a move and telling the social worker: the function the nightly pipeline calls per contract.

Why from the canonical contract: a change of residence reaches the bridge as a new residence of
the beneficiary, whether the case system recorded it or a National Register mutation came in from
the federal side and was mapped onto the contract.  The pipeline already has the contract; it calls
:func:`detect_transfer` for each one, which opens the case once (the same move of the same contract
is always the same case) and pushes one task back to the case system (idempotent on its key), or,
without a ``push`` callable, returns that task so the pipeline can put it in its own outbox.

No keys are needed here: detection never signs anything.  The push is a callable so the pipeline
passes its plugin host's ``case_push`` for the CPAS, and a test passes a list's ``append``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from piis_bridge.hooks.types import PushItem, PushResult
from piis_bridge.logging import get_logger
from piis_bridge.model import PIISContract
from piis_bridge.transfer.envelope import TrustList
from piis_bridge.transfer.legal import (
    Eligibility,
    ResidenceChange,
    find_residence_change,
    with_move,
)
from piis_bridge.transfer.package import PackageParty
from piis_bridge.transfer.service import TransferService
from piis_bridge.transfer.tables import TransferCase

__all__ = ["Detection", "Pusher", "detect_transfer", "task_for"]

Pusher = Callable[[list[PushItem]], list[PushResult]]
_log = get_logger("piis_bridge.transfer")


@dataclass(frozen=True)
class Detection:
    """A move found on one contract: the case, whether it is new, and the task push result."""

    case: TransferCase
    created: bool
    pushed: PushResult | None
    task: PushItem | None = (
        None  # the task still to push (when no ``push`` was given, or it failed)
    )


def task_for(case: TransferCase) -> PushItem:
    """The task the social worker sees; what to do depends on the eligibility."""
    from piis_bridge.i18n.push import transfer_detected

    eligibility = Eligibility(case.eligibility)
    due = None if eligibility is Eligibility.STAYS_STUDIES else case.legal_end_date
    title, body, message = transfer_detected(
        eligibility.value,
        case.to_ins_code,
        case.residence_change_date,
        case.legal_end_date,
        case.case_id,
    )
    return PushItem(
        key=f"{case.case_id}:detected",
        record_id=case.record_id,
        kind="transfer_notice",
        title=title,
        body=body,
        due=due,
        data={"transfer_case": case.case_id, "eligibility": case.eligibility, "rules": case.rules},
        message=message,
    )


def detect_transfer(
    sessions: sessionmaker,
    *,
    cpas_id: str,
    party: PackageParty,
    contract: PIISContract,
    record_id: str,
    push: Pusher | None = None,
    move: ResidenceChange | None = None,
) -> Detection | None:
    """Open the transfer case for a contract whose beneficiary moved out, and tell the social worker.

    Returns ``None`` when the contract shows no move.  Safe to call every night: the case is opened
    once, and the task is pushed again only until the case system has confirmed it.  ``move`` reports a
    move the contract does not show yet (a National Register mutation with the new municipality): it is
    applied to the contract first, so the rules judge it exactly like a move recorded by the case system.
    """
    if move is not None:
        contract = with_move(contract, move)
    change = find_residence_change(contract)
    if change is None:
        return None
    service = TransferService(
        sessions, cpas_id=cpas_id, party=party, signing_key=None, trust=TrustList()
    )
    case, created = service.open_case(contract, change, record_id=record_id)
    result: PushResult | None = None
    task = task_for(case) if case.task_ref is None else None
    if push is not None and task is not None:
        try:
            (result,) = push([task])
        except Exception as exc:  # noqa: BLE001 - the case is open; the task is pushed again next run
            _log.warning(
                "transfer task not pushed",
                cpas=cpas_id,
                case=case.case_id,
                error=type(exc).__name__,
            )
        else:
            if result.status in ("created", "duplicate"):
                case = service.task_pushed(case.case_id, result.remote_id or result.key)
                task = None
    _log.info(
        "transfer case",
        cpas=cpas_id,
        case=case.case_id,
        contract=contract.contract_id,
        created=created,
        state=case.state,
    )
    return Detection(case=case, created=created, pushed=result, task=task)
