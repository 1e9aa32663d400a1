"""Handing a PIIS over to another CPAS when the beneficiary moves (R-TRF, rules.md 1.13 and 2.11).

Core only, no transport: the transfer cases and consent records (:mod:`.tables`), the two state
machines (:mod:`.states`), the minimal package (:mod:`.package`), the signed envelope and the trust
list (:mod:`.envelope`), the legal computations (:mod:`.legal`), the detection of a move
(:mod:`.detection`), the service that ties them together (:mod:`.service`) and the push item that
hands a received draft to the case system (:mod:`.handover`).  The HTTP transport
lives in ``piis_connectors.transfer``; the hooks and the CLI in ``piis_plugins.transfer``.
"""

from piis_bridge.transfer.detection import Detection, Pusher, detect_transfer, task_for
from piis_bridge.transfer.envelope import (
    Ack,
    EnvelopeError,
    SigningKey,
    TrustList,
    open_ack,
    open_package,
    sign_ack,
    sign_package,
)
from piis_bridge.transfer.handover import (
    DraftHandover,
    draft_contract_item,
    draft_item_key,
    handover_of,
    review_task_item,
)
from piis_bridge.transfer.legal import (
    ContinuingSanctionPlan,
    Eligibility,
    ResidenceChange,
    SubsidyRemainder,
    TransferEligibility,
    consent_allows_transfer,
    continuing_sanctions,
    find_residence_change,
    subsidy_remainders,
    transfer_eligibility,
    with_move,
)
from piis_bridge.transfer.messages import (
    DeliveryReceipt,
    Destination,
    ExportedPackage,
    IncomingPackage,
)
from piis_bridge.transfer.package import (
    ConsentEvidence,
    ContinuingSanction,
    PackageParty,
    SubsidyHandover,
    TransferPackage,
    WorkerContact,
    build_package,
    minimise_contract,
    package_bytes,
)
from piis_bridge.transfer.service import (
    DraftSink,
    ReceiveOutcome,
    TransferError,
    TransferService,
    draft_contract_id,
    draft_from_package,
)
from piis_bridge.transfer.states import CaseState, InvalidTransition, ReceiptState
from piis_bridge.transfer.tables import (
    ConsentRecord,
    ReceivedPackage,
    RejectedEnvelope,
    TransferCase,
    TransferEvent,
)

__all__ = [
    "Ack",
    "CaseState",
    "ConsentEvidence",
    "ConsentRecord",
    "ContinuingSanction",
    "ContinuingSanctionPlan",
    "DeliveryReceipt",
    "Destination",
    "Detection",
    "DraftHandover",
    "DraftSink",
    "Eligibility",
    "EnvelopeError",
    "ExportedPackage",
    "IncomingPackage",
    "InvalidTransition",
    "PackageParty",
    "Pusher",
    "ReceiptState",
    "ReceiveOutcome",
    "ReceivedPackage",
    "RejectedEnvelope",
    "ResidenceChange",
    "SigningKey",
    "SubsidyHandover",
    "SubsidyRemainder",
    "TransferCase",
    "TransferEligibility",
    "TransferError",
    "TransferEvent",
    "TransferPackage",
    "TransferService",
    "TrustList",
    "WorkerContact",
    "build_package",
    "consent_allows_transfer",
    "continuing_sanctions",
    "detect_transfer",
    "draft_contract_id",
    "draft_contract_item",
    "draft_from_package",
    "draft_item_key",
    "find_residence_change",
    "handover_of",
    "minimise_contract",
    "open_ack",
    "open_package",
    "package_bytes",
    "review_task_item",
    "sign_ack",
    "sign_package",
    "subsidy_remainders",
    "task_for",
    "transfer_eligibility",
    "with_move",
]
