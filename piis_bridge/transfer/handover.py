"""How a received draft reaches the receiving CPAS's case system: the ``draft_contract`` push item.

Why through ``piis_case_push`` and a typed payload: the transfer plugin must not know which case
system a CPAS uses, and a case-system plugin must not know the transfer package.  The item carries
a :class:`DraftHandover` in its ``data``: the canonical draft (always ``DRAFT``, R-TRF-06: the new CPAS
reviews it, it is never an active contract) and the facts of the hand-over the social worker needs
(who sent it, the move, a sanction that continues here with its remaining days (R-SAN-10), the
subsidy months left (R-SUB-07), the old CPAS's contacts).

A case system that cannot create drafts answers the item ``failed`` with a detail; the transfer
plugin then pushes :func:`review_task_item` instead: a task on an inbox record, with the same data.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from piis_bridge.hooks.types import PushItem
from piis_bridge.model import ContractStatus, PIISContract
from piis_bridge.transfer.package import (
    ContinuingSanction,
    PackageParty,
    SubsidyHandover,
    TransferPackage,
    WorkerContact,
)

__all__ = [
    "DraftHandover",
    "draft_contract_item",
    "draft_item_key",
    "handover_of",
    "review_task_item",
]


class DraftHandover(BaseModel):
    """``PushItem.data`` of a ``draft_contract`` item (and of the fallback review task).

    Unknown keys are ignored, so a case-system plugin keeps working when a later version adds one.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    draft_contract: PIISContract = Field(
        description="The draft, in the receiving CPAS's name; status DRAFT"
    )
    package_id: str = Field(min_length=1)
    sender: PackageParty
    previous_contract_id: str = Field(
        min_length=1, description="The ended contract's id at the old CPAS"
    )
    residence_change_date: date
    legal_end_date: date = Field(description="The day the old contract ended by law (R-TRF-01)")
    continuing_sanctions: list[ContinuingSanction] = Field(default_factory=list)
    subsidies: list[SubsidyHandover] = Field(default_factory=list)
    contacts: list[WorkerContact] = Field(default_factory=list)

    @field_validator("draft_contract")
    @classmethod
    def _a_draft(cls, contract: PIISContract) -> PIISContract:
        if contract.status is not ContractStatus.DRAFT:
            raise ValueError(
                f"contract {contract.contract_id} is {contract.status.value}, not DRAFT: "
                "a hand-over is never imported as an active contract"
            )
        return contract


def handover_of(draft: PIISContract, package: TransferPackage) -> DraftHandover:
    return DraftHandover(
        draft_contract=draft,
        package_id=package.package_id,
        sender=package.sender,
        previous_contract_id=package.contract.contract_id,
        residence_change_date=package.residence_change_date,
        legal_end_date=package.legal_end_date,
        continuing_sanctions=list(package.continuing_sanctions),
        subsidies=list(package.subsidies),
        contacts=list(package.contacts),
    )


def draft_item_key(package_id: str) -> str:
    """Stable: the same package is the same draft, however often it is delivered."""
    return f"transfer-draft:{package_id}"


def _review_text(
    handover: DraftHandover,
    sender: str,
    draft_id: str,
    why_no_draft: str | None = None,
) -> tuple[str, str, dict[str, object]]:
    """(title, body, message) of the review task; the texts are built by :mod:`piis_bridge.i18n.push`."""
    from piis_bridge.i18n.push import handover_received

    return handover_received(
        sender,
        draft_id,
        handover.previous_contract_id,
        handover.legal_end_date,
        [(s.sanction_id, s.remaining_days, s.continue_from) for s in handover.continuing_sanctions],
        why_no_draft,
    )


def draft_contract_item(draft: PIISContract, package: TransferPackage) -> PushItem:
    """The draft to create in the case system, attached to its own (proposed) contract number."""
    handover = handover_of(draft, package)
    title, body, message = _review_text(handover, package.sender.name, draft.contract_id)
    return PushItem(
        key=draft_item_key(package.package_id),
        record_id=draft.contract_id,
        kind="draft_contract",
        title=title,
        body=body,
        data=handover.model_dump(mode="json"),
        message=message,
    )


def review_task_item(
    draft: PIISContract,
    package: TransferPackage,
    *,
    record_id: str,
    why_no_draft: str | None = None,
) -> PushItem:
    """The fallback: a task on an inbox record, the draft in its data (the case system reviews from there)."""
    handover = handover_of(draft, package)
    title, body, message = _review_text(
        handover, package.sender.name, draft.contract_id, why_no_draft
    )
    return PushItem(
        key=f"transfer-received:{package.package_id}",
        record_id=record_id,
        kind="transfer_notice",
        title=title,
        body=body,
        data=handover.model_dump(mode="json"),
        message=message,
    )
