"""The canonical PIIS contract model (pydantic v2): what every plugin, mapping, rule and form speaks.

Dates are ``datetime.date``; money is integer euro cents; identifiers (NISS, BCE, INS) are
validated with their real check digits and a NISS is never echoed in an error.
"""

from piis_bridge.model import enums as _enums
from piis_bridge.model._base import CanonicalModel, Cents, first_of_month
from piis_bridge.model.annual_report import AnnualReport
from piis_bridge.model.blocks import (
    AcademicYearEvaluation,
    Commitment,
    CommunityServiceBlock,
    CopyReceipt,
    CostCoverage,
    EmploymentProjectBlock,
    EncouragementPremium,
    EvaluationArrangement,
    HostOrganisation,
    InterviewRequest,
    MaintenanceDebtorsInvestigation,
    MeansChoice,
    Objective,
    PreSignatureInformation,
    RecoveryDecision,
    ReflectionPeriod,
    Signature,
    StudiesBlock,
    SummerJob,
)
from piis_bridge.model.contract import SCHEMA_VERSION, PIISContract
from piis_bridge.model.decision import (
    DISDecision,
    Exemption,
    NeedsAssessment,
    ObligationAssessment,
    PIISRefusal,
    RefusalReview,
    WorkWillingnessFinding,
)
from piis_bridge.model.enums import *  # noqa: F403 - the code lists are part of the public model
from piis_bridge.model.evidence import (
    AttendanceMonth,
    EvidenceLog,
    JobApplicationMonth,
    JokerUse,
    SickChildAbsence,
)
from piis_bridge.model.files import (
    FILE_FORMAT,
    ContractFile,
    LoadResult,
    Problem,
    contract_file_schema,
    dump_contract,
    dump_file,
    load_contracts,
    load_file,
    problems_from_error,
)
from piis_bridge.model.followup import (
    Appeal,
    ContractVersion,
    Evaluation,
    Hearing,
    PartyAgreement,
    SanctionDecision,
    Sursis,
    SWOpinion,
    Warning,  # noqa: A004 - the model's public name (a rule warning)
)
from piis_bridge.model.links import PartnerContract, PreviousContract
from piis_bridge.model.person import (
    Cpas,
    IncomePeriod,
    Person,
    ResidencePeriod,
    SocialWorkerAssignment,
    ThirdParty,
)
from piis_bridge.model.subsidy import RIMonth, SubsidyEntitlement
from piis_bridge.model.transfer import Termination, TransferAssessment, TransferRequest

_ENUMS = [
    n
    for n, v in vars(_enums).items()
    if isinstance(v, type) and issubclass(v, _enums.StrEnum) and v is not _enums.StrEnum
]

__all__ = [
    "CanonicalModel",
    "Cents",
    "first_of_month",
    "SCHEMA_VERSION",
    "FILE_FORMAT",
    "PIISContract",
    "ContractFile",
    "LoadResult",
    "Problem",
    "load_contracts",
    "load_file",
    "dump_contract",
    "dump_file",
    "contract_file_schema",
    "problems_from_error",
    "Person",
    "ResidencePeriod",
    "IncomePeriod",
    "Cpas",
    "SocialWorkerAssignment",
    "ThirdParty",
    "DISDecision",
    "ObligationAssessment",
    "Exemption",
    "NeedsAssessment",
    "PIISRefusal",
    "RefusalReview",
    "WorkWillingnessFinding",
    "PreviousContract",
    "PartnerContract",
    "Objective",
    "Commitment",
    "EvaluationArrangement",
    "EncouragementPremium",
    "CostCoverage",
    "MeansChoice",
    "HostOrganisation",
    "CommunityServiceBlock",
    "StudiesBlock",
    "AcademicYearEvaluation",
    "SummerJob",
    "MaintenanceDebtorsInvestigation",
    "RecoveryDecision",
    "EmploymentProjectBlock",
    "PreSignatureInformation",
    "ReflectionPeriod",
    "InterviewRequest",
    "Signature",
    "CopyReceipt",
    "AnnualReport",
    "EvidenceLog",
    "JobApplicationMonth",
    "AttendanceMonth",
    "SickChildAbsence",
    "JokerUse",
    "Evaluation",
    "ContractVersion",
    "PartyAgreement",
    "Warning",
    "SWOpinion",
    "Hearing",
    "SanctionDecision",
    "Sursis",
    "Appeal",
    "Termination",
    "TransferRequest",
    "TransferAssessment",
    "RIMonth",
    "SubsidyEntitlement",
    *_ENUMS,
]
