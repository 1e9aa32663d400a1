"""Running the rules: one contract -> one Report; a stream of contracts -> a stream of Reports.

Contracts are judged independently (a rule sees one contract), so ``evaluate_many`` streams and
never holds a whole file of reports.  A rule that raises is an engine bug, not bad data: it is
recorded in ``Report.rule_failures`` (rule id and exception type only, never the message, which
could carry personal data) and the other rules still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date

from piis_bridge.model import PIISContract
from piis_bridge.rules.calendar import WorkingCalendar
from piis_bridge.rules.content import content_summary
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.obligation import assess_obligations
from piis_bridge.rules.registry import RuleRegistry, build_registry
from piis_bridge.rules.report import Report, frozen_constructor
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings

__all__ = ["calendar_for", "default_registry", "evaluate", "evaluate_many"]

_CALENDARS: dict[tuple[object, object], WorkingCalendar] = {}
_REPORT = frozen_constructor(Report)
_DEFAULT_REGISTRY: RuleRegistry | None = None


def default_registry() -> RuleRegistry:
    """The core rules (no plugins), built once."""
    global _DEFAULT_REGISTRY
    if _DEFAULT_REGISTRY is None:
        _DEFAULT_REGISTRY = build_registry()
    return _DEFAULT_REGISTRY


def calendar_for(settings: RuleSettings) -> WorkingCalendar:
    """The working-day calendar of these settings (legal holidays + the CPAS's closure days)."""
    key = (settings.extra_closure_days, settings.recurring_closure_days)
    cal = _CALENDARS.get(key)
    if cal is None:
        cal = _CALENDARS[key] = WorkingCalendar(
            settings.extra_closure_days, settings.recurring_closure_days
        )
    return cal


def evaluate(
    contract: PIISContract,
    on: date | None = None,
    settings: RuleSettings | None = None,
    registry: RuleRegistry | None = None,
) -> Report:
    """Judge *contract* as of *on* (default: today) and return the report."""
    settings = settings or DEFAULT_SETTINGS
    registry = registry if registry is not None else default_registry()
    on = on or date.today()
    ctx = RuleContext(contract, on, settings, calendar_for(settings))

    ctx.obligations = assess_obligations(ctx)
    reform = settings.reform_date
    failures: list[str] = []
    evaluated = 0
    answers: dict[object, bool] = {}  # preconditions several groups share, asked once per contract
    for group in registry.groups_for(contract.decision.decision_date, reform):
        applies = group.applies
        if applies is not None:
            if group.shared:
                ok = answers.get(applies)
                if ok is None:
                    ok = answers[applies] = bool(applies(contract))
                if not ok:
                    continue
            elif not applies(contract):
                continue
        fact_date = group.fact_date
        if fact_date is not None and not group.first.in_force(fact_date(contract), reform):
            continue
        for entry in group.members:
            rule = ctx.rule = entry.rule
            try:
                entry.check(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken rule never hides the others
                failures.append(f"{rule.id}: {type(exc).__name__}")
        evaluated += len(group.members)
    ctx.rule = None
    ctx.sections.setdefault("content", content_summary(ctx.findings))
    return _REPORT(
        {
            "contract_id": contract.contract_id,
            "cpas_ins": contract.cpas.ins_code,
            "reference_date": on,
            "rule_set": ctx.rule_set,
            "findings": tuple(ctx.findings),
            "dates": tuple(ctx.dates),
            "obligations": tuple(ctx.obligations),
            "subsidy": ctx.subsidy,
            "sections": ctx.sections,
            "rules_evaluated": evaluated,
            "rule_failures": tuple(failures),
        }
    )


def evaluate_many(
    contracts: Iterable[PIISContract],
    on: date | None = None,
    settings: RuleSettings | None = None,
    registry: RuleRegistry | None = None,
    settings_for: Callable[[PIISContract], RuleSettings] | None = None,
) -> Iterator[Report]:
    """Stream reports; *settings_for* picks per-CPAS settings (closure days, local policy)."""
    on = on or date.today()
    registry = registry if registry is not None else default_registry()
    for contract in contracts:
        chosen = settings_for(contract) if settings_for is not None else settings
        yield evaluate(contract, on=on, settings=chosen, registry=registry)
