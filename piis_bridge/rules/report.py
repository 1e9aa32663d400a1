"""What the rules say about one contract: findings, computed dates, the obligation, the subsidy.

The JSON form (``Report.to_json_dict``) is a stable, documented interface (docs/rules.md, "JSON
output"): fields are only ever added.  Nothing in a report carries a NISS: contracts are named by
their contract id, people by their role (``beneficiary`` / ``partner``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.i18n import Msg
from piis_bridge.model.enums import ObligationBasis, SubsidyType

__all__ = [
    "REPORT_FORMAT",
    "REPORT_VERSION",
    "ComputedDate",
    "DateStatus",
    "Finding",
    "Level",
    "PersonObligation",
    "Report",
    "SubsidyMonthLine",
    "SubsidySchedule",
    "frozen_constructor",
]

REPORT_FORMAT = "piis-bridge/rules-report"
REPORT_VERSION = 1


_new = object.__new__
_set = object.__setattr__


def frozen_constructor(cls: type[BaseModel]) -> Callable[[dict[str, Any]], Any]:
    """The one unvalidated constructor of the engine's frozen report models:
    ``make = frozen_constructor(Finding); make({...every field...})``.

    Why: the engine builds several findings, dates and schedule lines per contract, 100,000 contracts a
    night, and validation would cost 5-20 us each (measured: the subsidy schedule alone went from ~10 to
    ~35 us per contract); the values come from the engine itself, never from input.  Every call checks
    the names given against the model's fields, so a field added to the model and not given (or a
    misspelt one) fails at once instead of the object silently lacking it.  The instances share one
    fields-set object (every field, as validation would record it): safe only because the model is
    frozen (pydantic never changes the fields set of a frozen instance in place).
    """
    if not cls.model_config.get("frozen"):
        raise TypeError(f"{cls.__name__} is not frozen")
    fields = frozenset(cls.model_fields)
    fields_set = set(fields)

    def make(values: dict[str, Any]) -> Any:
        if values.keys() != fields:
            raise TypeError(
                f"{cls.__name__}: missing {sorted(fields - values.keys())}, "
                f"unknown {sorted(values.keys() - fields)}"
            )
        obj = _new(cls)
        _set(obj, "__dict__", values)
        _set(obj, "__pydantic_fields_set__", fields_set)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj

    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make


class Level(StrEnum):
    """error = a legal rule is broken (the CLI exits non-zero); warning = advisory or local policy;
    info = worth knowing, nothing to fix."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class DateStatus(StrEnum):
    MET = "met"  # the act happened on time
    LATE = "late"  # the act happened after the deadline
    PENDING = "pending"  # not done yet, deadline not passed on the reference date
    OVERDUE = "overdue"  # not done, deadline passed on the reference date
    NOT_APPLICABLE = "not_applicable"  # e.g. exempted, or historical rule set
    INFO = "info"  # a date worth knowing (earliest signature date, window start...)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Out):
    rule_id: str
    level: Level
    severity: str = Field(description="The rule's severity code: L, A, X, H or L/A (rules.md 2.0).")
    message: str = Field(description="Plain language; names the contract by id, never a NISS.")
    citation: str
    fields: tuple[str, ...] = Field(default=(), description="Contract field paths concerned.")
    person: str | None = Field(
        default=None, description="'beneficiary' or 'partner' when the finding is about one person."
    )
    # The message as a template and its values (docs/i18n.md): the output boundary writes the finding in
    # the reader's language from these.  Left out of the report's dump, so the JSON and every saved
    # result stay as they were; the CLI's JSON adds them (piis_bridge.i18n.findings).
    message_id: str | None = Field(
        default=None,
        exclude=True,
        description="The English template of ``message`` (a catalogue msgid).",
    )
    params: tuple[tuple[str, Any], ...] = Field(
        default=(), exclude=True, description="The template's named values (name, value)."
    )


class ComputedDate(_Out):
    rule_id: str
    label: str
    date: date
    status: DateStatus
    fields: tuple[str, ...] = ()
    person: str | None = None


class PersonObligation(_Out):
    """R-OBL for one person (R-OBL-09: each partner separately)."""

    person: str = Field(description="'beneficiary' or 'partner'")
    mandatory: bool
    bases: tuple[ObligationBasis, ...] = Field(
        description="Why it is mandatory; empty when optional."
    )
    legal_basis: str = Field(description="Rule ids and citations the conclusion rests on.")
    age_on_reference: int = Field(
        description="Deprecated name of ``age`` (the same value): the age on "
        "age_reference_date, not on the report's reference_date"
    )
    age: int = Field(
        description="The person's age on age_reference_date (Q-03: the DIS decision date by default)"
    )
    age_reference_date: date = Field(description="The day 'under 25' is judged on (Q-03)")
    exempted: bool = Field(description="A motivated health/equity decision covers it (R-OBL-07).")
    deadline: date | None = Field(
        description="Latest signature date (R-DL-01/03/08); None when optional and not decided."
    )
    rule_set: str = Field(description="'2016' or 'historical' (R-GEN-05).")
    notes: tuple[str, ...] = ()


class SubsidyMonthLine(_Out):
    month: date
    covered_by_piis: bool
    project_running: bool
    ri_amount_cents: int
    subsidy_cents: int


class SubsidySchedule(_Out):
    """Filled by the subsidy rules (R-SUB); None when they do not apply."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    type: SubsidyType | None
    window_start: date | None = Field(
        default=None, description="First day of the window's first month"
    )
    window_end: date | None = Field(default=None, description="Last day of the window's last month")
    months: tuple[SubsidyMonthLine, ...] = ()
    total_cents: int = 0
    budget_article: str | None = None
    notes: tuple[str, ...] = ()
    # ``notes`` as templates and values (docs/i18n.md), for the reader's language; left out of the
    # dump like ``Finding.message_id``, so the JSON stays as it is.
    note_messages: tuple[Msg, ...] = Field(default=(), exclude=True)


class Report(_Out):
    contract_id: str
    cpas_ins: str
    reference_date: date
    rule_set: str = Field(
        description="'2016' or 'historical', from the DIS decision date (R-GEN-05)."
    )
    findings: tuple[Finding, ...] = ()
    dates: tuple[ComputedDate, ...] = ()
    obligations: tuple[PersonObligation, ...] = ()
    subsidy: SubsidySchedule | None = None
    sections: dict[str, Any] = Field(
        default_factory=dict, description="Extra per-area results (inspection, agenda...)."
    )
    rules_evaluated: int = 0
    rule_failures: tuple[str, ...] = Field(
        default=(), description="Rule ids whose check raised (an engine bug, never data)."
    )

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.WARNING]

    @property
    def has_errors(self) -> bool:
        return any(f.level is Level.ERROR for f in self.findings) or bool(self.rule_failures)

    def by_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule_id == rule_id]

    def date_for(self, rule_id: str, label_prefix: str = "") -> ComputedDate | None:
        for d in self.dates:
            if d.rule_id == rule_id and d.label.startswith(label_prefix):
                return d
        return None

    def to_json_dict(self) -> dict[str, Any]:
        """The stable JSON form (docs/rules.md)."""
        body = self.model_dump(mode="json")
        return {"format": REPORT_FORMAT, "version": REPORT_VERSION, **body}
