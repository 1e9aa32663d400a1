"""Closed code lists of the canonical model (rules.md section 1).

Vendor and federal code lists are mapped onto these in `mappings/`; an unknown vendor code is
reported, never guessed.
"""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    FR = "fr"
    NL = "nl"
    DE = "de"
    OTHER = "other"


class HouseholdRole(StrEnum):
    """RI category follows from it: 1 cohabitant, 2 single, 3 family in charge."""

    COHABITANT = "COHABITANT"
    SINGLE = "SINGLE"
    FAMILY_IN_CHARGE = "FAMILY_IN_CHARGE"


class EmploymentStatus(StrEnum):
    NONE = "NONE"
    EMPLOYED_WITH_RI_TOPUP = "EMPLOYED_WITH_RI_TOPUP"
    ART60 = "ART60"
    STUDENT_FULLTIME = "STUDENT_FULLTIME"
    OTHER = "OTHER"


class IncomeKind(StrEnum):
    """Periods of the DIS history used by the 3-month rule (R-OBL) and the 12-month rule (R-SUB)."""

    RI = "RI"
    ERI = "ERI"
    ART60 = "ART60"
    EMPLOYMENT = "EMPLOYMENT"


class DecidingBody(StrEnum):
    COUNCIL = "COUNCIL"
    SPECIAL_COMMITTEE = "SPECIAL_COMMITTEE"
    PERMANENT_BUREAU = "PERMANENT_BUREAU"


class RICategory(StrEnum):
    COHABITANT = "1"
    SINGLE = "2"
    FAMILY_IN_CHARGE = "3"


class PIISClause(StrEnum):
    NONE = "NONE"
    MUST_SIGN_PIIS = "MUST_SIGN_PIIS"
    MUST_COOPERATE_WITH_SISP = "MUST_COOPERATE_WITH_SISP"
    STUDIES_CLAUSE = "STUDIES_CLAUSE"


class ObligationBasis(StrEnum):
    """Why a PIIS is (or is not) mandatory [002 L145-159]; see R-OBL."""

    U25_STUDIES = "U25_STUDIES"
    U25_EMPLOYMENT_PROJECT = "U25_EMPLOYMENT_PROJECT"
    NO_DIS_LAST_3M = "NO_DIS_LAST_3M"
    REQUEST_BY_PERSON = "REQUEST_BY_PERSON"
    REQUEST_BY_CPAS = "REQUEST_BY_CPAS"
    NONE = "NONE"


class ExemptionGround(StrEnum):
    HEALTH = "HEALTH"
    EQUITY = "EQUITY"


class FormTag(StrEnum):
    GENERAL = "GENERAL"
    STUDIES_FULLTIME = "STUDIES_FULLTIME"
    COMMUNITY_SERVICE = "COMMUNITY_SERVICE"
    EMPLOYMENT_PROJECT = "EMPLOYMENT_PROJECT"
    TRAINING = "TRAINING"
    SOCIAL_ACTIVATION = "SOCIAL_ACTIVATION"
    HOUSING = "HOUSING"
    ART60_PREP = "ART60_PREP"


class Orientation(StrEnum):
    PROFESSIONAL = "PROFESSIONAL"
    SOCIAL = "SOCIAL"


class ActionDomain(StrEnum):
    """Life domains (model B of the research report [004 L5522-5611])."""

    CHILDREN = "CHILDREN"
    HOUSING = "HOUSING"
    LEISURE = "LEISURE"
    WORK = "WORK"
    DEBTS = "DEBTS"
    INCOME = "INCOME"
    ADMINISTRATION = "ADMINISTRATION"
    EDUCATION = "EDUCATION"
    HEALTH = "HEALTH"
    SOCIAL_NETWORK = "SOCIAL_NETWORK"
    MOBILITY = "MOBILITY"
    LEGAL = "LEGAL"
    LANGUAGE = "LANGUAGE"
    TRAINING = "TRAINING"
    OTHER = "OTHER"


class PartyRole(StrEnum):
    BENEFICIARY = "BENEFICIARY"
    CPAS = "CPAS"
    THIRD_PARTY = "THIRD_PARTY"


class ThirdPartyKind(StrEnum):
    OTHER_CPAS_SERVICE = "OTHER_CPAS_SERVICE"
    TRAINING_BODY = "TRAINING_BODY"
    INTERNSHIP_COMPANY = "INTERNSHIP_COMPANY"
    SCHOOL = "SCHOOL"
    NGO = "NGO"
    EMPLOYER = "EMPLOYER"
    PUBLIC_EMPLOYMENT_SERVICE = "PUBLIC_EMPLOYMENT_SERVICE"
    OTHER = "OTHER"


class RequestedBy(StrEnum):
    PERSON = "PERSON"
    CPAS = "CPAS"


class WorkerRole(StrEnum):
    IN_CHARGE = "IN_CHARGE"
    SUBSTITUTE = "SUBSTITUTE"
    SECOND_LINE_REFERENT = "SECOND_LINE_REFERENT"
    JOB_COACH = "JOB_COACH"


class CommitmentNature(StrEnum):
    MEANS = "MEANS"
    RESULT = "RESULT"


class CostCategory(StrEnum):
    REGISTRATION = "REGISTRATION"
    INSURANCE = "INSURANCE"
    WORK_CLOTHES = "WORK_CLOTHES"
    TRAVEL = "TRAVEL"
    OTHER = "OTHER"


class InformationTopic(StrEnum):
    """What must be explained before signature [002 L191]: content, scope, consequences."""

    CONTENT = "CONTENT"
    SCOPE = "SCOPE"
    CONSEQUENCES = "CONSEQUENCES"


class ContractStatus(StrEnum):
    DRAFT = "DRAFT"
    OFFERED = "OFFERED"
    SIGNED = "SIGNED"
    ACTIVE = "ACTIVE"
    SUSPENDED_PROJECT = "SUSPENDED_PROJECT"
    ENDED = "ENDED"


class VersionKind(StrEnum):
    ORIGINAL = "ORIGINAL"
    ANNEX = "ANNEX"
    AMENDMENT = "AMENDMENT"
    ROADMAP_UPDATE = "ROADMAP_UPDATE"
    EVALUATION_SHEET = "EVALUATION_SHEET"
    RI_RENEWAL_ANNEX = "RI_RENEWAL_ANNEX"


class EvaluationMode(StrEnum):
    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    VIDEO = "VIDEO"


class EvaluationKind(StrEnum):
    PERIODIC = "PERIODIC"
    ACADEMIC_YEAR = "ACADEMIC_YEAR"
    FINAL = "FINAL"
    AD_HOC = "AD_HOC"
    TRIPARTITE = "TRIPARTITE"


class AcademicOutcome(StrEnum):
    CONTINUE = "CONTINUE"
    REORIENT = "REORIENT"
    END = "END"


class SanctionKind(StrEnum):
    PARTIAL = "PARTIAL"
    TOTAL = "TOTAL"


class SursisKind(StrEnum):
    TOTAL = "TOTAL"
    PARTIAL = "PARTIAL"


class TerminationReason(StrEnum):
    CPAS_NO_LONGER_COMPETENT_RESIDENCE = "CPAS_NO_LONGER_COMPETENT_RESIDENCE"
    END_OF_TERM = "END_OF_TERM"
    STUDIES_EVALUATION_END = "STUDIES_EVALUATION_END"
    REORIENTED_NEW_PIIS = "REORIENTED_NEW_PIIS"
    RI_ENDED = "RI_ENDED"
    ART60_EMPLOYMENT = "ART60_EMPLOYMENT"
    OTHER = "OTHER"


class Consent(StrEnum):
    GIVEN = "GIVEN"
    REFUSED = "REFUSED"
    NOT_EXPRESSED = "NOT_EXPRESSED"


class SubsidyType(StrEnum):
    """The four 10% subsidies [002 L438-446]; see R-SUB."""

    FIRST = "FIRST"
    STUDIES = "STUDIES"
    PROLONGATION = "PROLONGATION"
    SECOND_CHANCE = "SECOND_CHANCE"


class RefusalKind(StrEnum):
    """What the person refused (R-OBL-11) [002 L592-595]: to sign the offered PIIS, or to consent to
    the project it proposes (before any signature is asked)."""

    SIGNATURE = "SIGNATURE"
    CONSENT = "CONSENT"


class RefusalReviewOutcome(StrEnum):
    """What the CPAS decided after reviewing a refusal (R-OBL-11): adapt the project, exempt the
    person on health/equity grounds (R-OBL-07), or maintain the refusal (DIS may then be refused)."""

    PROJECT_ADAPTED = "PROJECT_ADAPTED"
    EXEMPTION = "EXEMPTION"
    REFUSAL_MAINTAINED = "REFUSAL_MAINTAINED"


class MeansDeclineGround(StrEnum):
    """The only two grounds on which the CPAS may decline the means the person chose (R-CNT-08)
    [002 L196; 000 L91]."""

    COSTS_NOT_COMPARABLE = "COSTS_NOT_COMPARABLE"
    CHOICE_NOT_POSSIBLE = "CHOICE_NOT_POSSIBLE"


class VolunteerAllowanceRegime(StrEnum):
    """The two kinds of compensation the volunteers law of 3 July 2005 allows (R-CS-09): a flat-rate
    allowance (capped) or the reimbursement of actual, proven costs.  [NOT IN SEEDS: 002 L319 only
    says "the allowances of the volunteers law"; the two regimes are that law's art. 10.]"""

    FLAT_RATE = "FLAT_RATE"
    ACTUAL_COSTS = "ACTUAL_COSTS"


class WillingnessGround(StrEnum):
    """Why a DIS decision finds the person not willing to work (R-CS-12, R-OBL-13)."""

    REFUSED_SUITABLE_JOB = "REFUSED_SUITABLE_JOB"
    NO_JOB_SEARCH = "NO_JOB_SEARCH"
    REFUSED_TRAINING = "REFUSED_TRAINING"
    PIIS_BREACH = "PIIS_BREACH"
    REFUSED_COMMUNITY_SERVICE = "REFUSED_COMMUNITY_SERVICE"
    OTHER = "OTHER"


class ContractRelation(StrEnum):
    """How a contract relates to an earlier PIIS under the same DIS decision (R-DL-01, I-02, R-SUB-13)."""

    FOLLOWS = "FOLLOWS"  # a second PIIS after the first one ended
    REPLACES_NON_COMPLIANT = (
        "REPLACES_NON_COMPLIANT"  # concluded after an inspection found the first non-compliant
    )
