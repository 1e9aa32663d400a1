"""What a rule's check function receives: the contract, the reference date, the settings, the
working-day calendar, and the methods to record findings and dates.

Why a context object: the rule id and citation are attached to every finding automatically (a
rule cannot forget to cite itself), and the level follows from the rule's severity unless the
rule says otherwise (the advisory half of an L/A rule).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from piis_bridge.model.enums import PartyRole
from piis_bridge.rules.report import (
    ComputedDate,
    DateStatus,
    Finding,
    Level,
    PersonObligation,
    SubsidySchedule,
    frozen_constructor,
)

if TYPE_CHECKING:
    from piis_bridge.model import PIISContract
    from piis_bridge.rules.calendar import WorkingCalendar
    from piis_bridge.rules.registry import Rule
    from piis_bridge.rules.settings import RuleSettings

__all__ = ["RuleContext", "signed_on"]

_LEVEL_BY_SEVERITY = {"L": Level.ERROR, "H": Level.ERROR, "L/A": Level.ERROR, "A": Level.WARNING}
# Findings and dates are frozen report models built from the engine's own values (never from input).
_finding = frozen_constructor(Finding)
_date = frozen_constructor(ComputedDate)


@lru_cache(maxsize=50_000)  # equal dates recur across a caseload; a hit saves ~3 us (measured)
def _computed_date(
    rule_id: str,
    label: str,
    day: date,
    status: DateStatus,
    fields: tuple[str, ...],
    person: str | None,
) -> ComputedDate:
    """One shared frozen object per distinct computed date."""
    return _date(
        {
            "rule_id": rule_id,
            "label": label,
            "date": day,
            "status": status,
            "fields": fields,
            "person": person,
        }
    )


def signed_on(contract: PIISContract) -> date | None:
    """``contract.signed_date`` in one pass over the signatures (the model property makes three): the
    day the last party signed the original version, once both the person and the CPAS have signed.
    tests/rules/test_perf_equivalence.py checks it against the property."""
    last = None
    beneficiary = cpas = False
    for s in contract.signatures:
        if s.for_version == 1:
            if last is None or s.signed_date > last:
                last = s.signed_date
            party = s.party
            if party == PartyRole.BENEFICIARY:
                beneficiary = True
            elif party == PartyRole.CPAS:
                cpas = True
    return last if beneficiary and cpas else None


class RuleContext:
    """One contract being judged on one reference date."""

    __slots__ = (
        "cache",
        "calendar",
        "contract",
        "dates",
        "findings",
        "obligations",
        "on",
        "rule",
        "rule_set",
        "sections",
        "settings",
        "signed_date",
        "subsidy",
    )

    def __init__(
        self, contract: PIISContract, on: date, settings: RuleSettings, calendar: WorkingCalendar
    ) -> None:
        self.contract = contract
        self.on = on
        self.settings = settings
        self.calendar = calendar
        self.rule: Rule | None = None
        self.findings: list[Finding] = []
        self.dates: list[ComputedDate] = []
        self.obligations: list[PersonObligation] = []
        self.subsidy: SubsidySchedule | None = None
        self.sections: dict[str, Any] = {}
        self.cache: dict[str, Any] = {}  # values shared between rules of one contract
        self.rule_set = (
            "historical" if contract.decision.decision_date < settings.reform_date else "2016"
        )
        self.signed_date = signed_on(
            contract
        )  # computed once: the model property scans the signatures

    # -- naming ---------------------------------------------------------------------------------
    @property
    def cid(self) -> str:
        """How messages name the contract (never by a person's NISS)."""
        return self.contract.contract_id

    @property
    def rule_id(self) -> str:
        """The id of the running rule: a family check sharing one computation records its own part."""
        rule = self.rule
        if rule is None:
            raise RuntimeError("no rule is running")
        return rule.id

    # -- findings -------------------------------------------------------------------------------
    def _level(self) -> Level:
        assert self.rule is not None, "findings are recorded while a rule runs"
        severity = self.rule.severity.value
        if severity == "X":
            return Level(self.settings.local_policy_level)
        return _LEVEL_BY_SEVERITY[severity]

    def _add(
        self,
        level: Level,
        message: str,
        fields: tuple[str, ...],
        person: str | None,
        params: dict[str, Any],
    ) -> None:
        rule = self.rule
        assert rule is not None, "findings are recorded while a rule runs"
        self.findings.append(
            _finding(
                {
                    "rule_id": rule.id,
                    "level": level,
                    "severity": rule.severity.value,
                    "message": message.format_map(params) if params else message,
                    "citation": rule.citation,
                    "fields": fields,
                    "person": person,
                    "message_id": message,
                    "params": tuple(params.items()) if params else (),
                }
            )
        )

    def flag(self, message: str, *fields: str, person: str | None = None, **params: Any) -> None:
        """A breach at the rule's own level (L/H -> error, A -> warning, X -> the local-policy level).

        *message* is a template with named placeholders, marked ``N_("...")`` so the catalogue tool
        extracts it; *params* fill it.  The finding keeps the template (``message_id``) and the values
        (``params``) so the output boundary writes it in the reader's language, and ``message`` is the
        English text (docs/i18n.md).  A message without placeholders is used as it is."""
        self._add(self._level(), message, fields, person, params)

    def finding(
        self, level: Level, message: str, *fields: str, person: str | None = None, **params: Any
    ) -> None:
        """A finding at *level* whatever the rule's severity (``error``/``warning``/``info``)."""
        self._add(level, message, fields, person, params)

    def error(self, message: str, *fields: str, person: str | None = None, **params: Any) -> None:
        self._add(Level.ERROR, message, fields, person, params)

    def warning(self, message: str, *fields: str, person: str | None = None, **params: Any) -> None:
        self._add(Level.WARNING, message, fields, person, params)

    def info(self, message: str, *fields: str, person: str | None = None, **params: Any) -> None:
        self._add(Level.INFO, message, fields, person, params)

    # -- dates ----------------------------------------------------------------------------------
    def add_date(
        self, label: str, day: date, status: DateStatus, *fields: str, person: str | None = None
    ) -> None:
        rule = self.rule
        assert rule is not None
        self.dates.append(_computed_date(rule.id, label, day, status, fields, person))

    def deadline(
        self, label: str, due: date, done: date | None, *fields: str, person: str | None = None
    ) -> DateStatus:
        """Record a deadline and return its status: MET/LATE when *done* is known, else PENDING or
        OVERDUE relative to the reference date (the deadline day itself is still on time)."""
        if done is not None:
            status = DateStatus.MET if done <= due else DateStatus.LATE
        else:
            status = DateStatus.PENDING if self.on <= due else DateStatus.OVERDUE
        rule = self.rule
        assert rule is not None
        self.dates.append(_computed_date(rule.id, label, due, status, fields, person))
        return status
