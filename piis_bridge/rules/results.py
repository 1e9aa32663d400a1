"""What a family check yields: results keyed by rule id, recorded by the engine under their own rule.

A family of rules (R-SAN, R-TRF, R-SUB, R-INS...) shares one computation: the sanction checks, the
transfer outlook, the subsidy plan, the inspection checklist.  The family registers a table of its
rules (``registry.RuleSpec``) and one check that yields these records; the engine runs the check once
per contract (when the first rule of the family runs) and records each rule's part when that rule runs
(:func:`family_check`), so a rule that is not in force for the contract records nothing and the order
of findings in the report is the order of the rules.  The records are also what the pure computations
(``sanction_issues``, ``subsidy_issues``, ``contract_dues``...) return on their own, so each is testable
without the engine, and no message carries a personal identifier (contract, sanction and transfer ids
only, never a NISS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from piis_bridge.rules.report import DateStatus, Level, SubsidySchedule

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext

__all__ = [
    "Due",
    "FamilyCheck",
    "Issue",
    "Result",
    "Section",
    "Subsidy",
    "family_check",
    "group_by_rule",
    "issue",
]


@dataclass(frozen=True, slots=True)
class Issue:
    """One breach of one rule: which rule, in plain language, and the model fields involved.

    ``message`` is the English text; ``message_id`` the template (marked ``N_``) and ``params`` its
    named values, so the finding can be written in the reader's language (docs/i18n.md).  Build it with
    :func:`issue`, which fills the template.  *level* None: the rule's own level (``ctx.flag``)."""

    rule_id: str
    message: str
    fields: tuple[str, ...] = ()
    message_id: str = field(default="", compare=False)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    level: Level | None = field(default=None, compare=False)

    def record(self, ctx: RuleContext) -> None:
        params = dict(self.params)
        if self.level is None:
            ctx.flag(self.message_id, *self.fields, **params)
        else:
            ctx.finding(self.level, self.message_id, *self.fields, **params)


def issue(
    rule_id: str,
    message: str,
    fields: tuple[str, ...] = (),
    *,
    level: Level | None = None,
    **params: Any,
) -> Issue:
    """The :class:`Issue` of *rule_id* whose English text is the template *message* filled with
    *params* (a template without params is used as it is)."""
    return Issue(
        rule_id,
        message.format_map(params) if params else message,
        fields,
        message,
        tuple(params.items()),
        level,
    )


@dataclass(frozen=True, slots=True)
class Due:
    """A date the law fixes.

    ``deadline=True``: something must happen by ``day``; ``done`` is when it happened (None: not yet).
    ``deadline=False``: an event worth knowing (a sanction's execution starts, a window ends).
    """

    rule_id: str
    label: str
    day: date
    fields: tuple[str, ...] = ()
    done: date | None = None
    deadline: bool = True

    def record(self, ctx: RuleContext) -> None:
        if self.deadline:
            ctx.deadline(self.label, self.day, self.done, *self.fields)
        else:
            ctx.add_date(self.label, self.day, DateStatus.INFO, *self.fields)


@dataclass(frozen=True, slots=True)
class Section:
    """An area result carried into ``Report.sections[name]`` by the rule *rule_id*."""

    rule_id: str
    name: str
    value: Any

    def record(self, ctx: RuleContext) -> None:
        ctx.sections[self.name] = self.value


@dataclass(frozen=True, slots=True)
class Subsidy:
    """The subsidy schedule carried into ``Report.subsidy`` by the rule *rule_id* (R-SUB-01)."""

    rule_id: str
    schedule: SubsidySchedule

    def record(self, ctx: RuleContext) -> None:
        ctx.subsidy = self.schedule


Result = Issue | Due | Section | Subsidy
FamilyCheck = Callable[["RuleContext"], Iterable[Result]]


def group_by_rule(results: Iterable[Result]) -> dict[str, list[Result]]:
    """*results* by rule id, each rule's in the order they were yielded."""
    out: dict[str, list[Result]] = {}
    for result in results:
        mine = out.get(result.rule_id)
        if mine is None:
            mine = out[result.rule_id] = []
        mine.append(result)
    return out


def family_check(check: FamilyCheck) -> Callable[[RuleContext], None]:
    """The check each rule of a family runs: *check* runs once per contract (its results are kept in
    ``RuleContext.cache``), then the running rule records its own part."""
    key = f"family:{check.__module__}.{check.__qualname__}"

    def run(ctx: RuleContext) -> None:
        grouped = ctx.cache.get(key)
        if grouped is None:
            grouped = ctx.cache[key] = group_by_rule(check(ctx))
        for result in grouped.get(ctx.rule_id, ()):
            result.record(ctx)

    run.__qualname__ = run.__name__ = f"family_check({check.__qualname__})"
    run.__module__ = check.__module__
    return run
