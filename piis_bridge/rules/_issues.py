"""Framework-neutral results of the sanction, transfer, subsidy and inspection computations.

The computations are pure functions over the canonical model; they yield these small records and the
registered rules turn them into the framework's findings and computed dates.  That keeps each
computation testable on its own and keeps every message free of personal identifiers (contract,
sanction and transfer ids only, never a NISS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from piis_bridge.rules.report import DateStatus

_INFO = DateStatus.INFO

__all__ = [
    "Due",
    "Issue",
    "cached",
    "doc_of",
    "flag_issues",
    "group_by_rule",
    "record_dues",
    "record_own",
]


_set = object.__setattr__


# Both records are frozen dataclasses whose ``__init__`` sets the instance dict in one step: the
# generated frozen ``__init__`` makes one ``object.__setattr__`` call per field, and the engine and the
# agenda create these records for every contract (same fields, defaults, equality, hash and repr).
@dataclass(frozen=True, init=False)
class Issue:
    """One breach of one rule: which rule, in plain language, and the model fields involved.

    ``message`` is the English text; ``message_id`` the template (marked ``N_``) and ``params`` its
    named values, so the finding can be written in the reader's language (docs/i18n.md)."""

    rule_id: str
    message: str
    fields: tuple[str, ...] = ()
    message_id: str = field(default="", compare=False)
    params: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __init__(
        self, rule_id: str, message: str, fields: tuple[str, ...] = (), **params: Any
    ) -> None:
        _set(
            self,
            "__dict__",
            {
                "rule_id": rule_id,
                "message": message.format_map(params) if params else message,
                "fields": fields,
                "message_id": message,
                "params": tuple(params.items()) if params else (),
            },
        )


@dataclass(frozen=True, init=False)
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

    def __init__(
        self,
        rule_id: str,
        label: str,
        day: date,
        fields: tuple[str, ...] = (),
        done: date | None = None,
        deadline: bool = True,
    ) -> None:
        _set(
            self,
            "__dict__",
            {
                "rule_id": rule_id,
                "label": label,
                "day": day,
                "fields": fields,
                "done": done,
                "deadline": deadline,
            },
        )


def cached(ctx: Any, key: str, compute: Callable[[], Any]) -> Any:
    """Compute once per contract, shared by the rules of one family (``RuleContext.cache``)."""
    if key not in ctx.cache:
        ctx.cache[key] = compute()
    return ctx.cache[key]


def flag_issues(ctx: Any, issues: Iterable[Issue]) -> None:
    """Record the issues of the running rule as findings at the rule's own level."""
    rule_id = ctx.rule_id
    for issue in issues:
        if issue.rule_id == rule_id:
            ctx.flag(issue.message_id, *issue.fields, **dict(issue.params))


def record_dues(ctx: Any, dues: Iterable[Due]) -> None:
    """Record the dates of the running rule (deadline status relative to the reference date)."""
    rule_id = ctx.rule_id
    for due in dues:
        if due.rule_id != rule_id:
            continue
        if due.deadline:
            ctx.deadline(due.label, due.day, due.done, *due.fields)
        else:
            ctx.add_date(due.label, due.day, DateStatus.INFO, *due.fields)


def group_by_rule(
    issues: Iterable[Issue], dues: Iterable[Due]
) -> dict[str, tuple[list[Issue], list[Due]]]:
    """The issues and dates of a family's computation grouped by rule id (recording order kept), so each
    rule of the family reads only its own (:func:`record_own`) instead of scanning them all."""
    out: dict[str, tuple[list[Issue], list[Due]]] = {}
    for issue in issues:
        mine = out.get(issue.rule_id)
        if mine is None:
            mine = out[issue.rule_id] = ([], [])
        mine[0].append(issue)
    for due in dues:
        mine = out.get(due.rule_id)
        if mine is None:
            mine = out[due.rule_id] = ([], [])
        mine[1].append(due)
    return out


def record_own(ctx: Any, grouped: dict[str, tuple[list[Issue], list[Due]]]) -> None:
    """``flag_issues`` then ``record_dues`` for the running rule, from :func:`group_by_rule`."""
    mine = grouped.get(ctx.rule_id)
    if mine is None:
        return
    for issue in mine[0]:
        ctx.flag(issue.message_id, *issue.fields, **dict(issue.params))
    for due in mine[1]:
        if due.deadline:
            ctx.deadline(due.label, due.day, due.done, *due.fields)
        else:
            ctx.add_date(due.label, due.day, _INFO, *due.fields)


def doc_of(check: Callable[[Any], None], doc: str) -> Callable[[Any], None]:
    """A distinct check function carrying its rule's documentation (the registry reads ``__doc__``).

    Several rules of one family share one computation; each registration still needs its own text.
    """
    name = getattr(check, "__name__", "check")

    def run(ctx: Any) -> None:
        check(ctx)

    run.__doc__ = doc
    run.__name__ = run.__qualname__ = name
    return run
