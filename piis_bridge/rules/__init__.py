"""The PIIS rules core: every rule of rules.md section 2 with its id, severity and citation.

Public API::

    from piis_bridge.rules import evaluate, evaluate_many, RuleSettings
    report = evaluate(contract, on=date(2026, 11, 22))          # -> Report (pydantic)
    report.findings, report.dates, report.obligations, report.has_errors

How to add a rule
-----------------
1. Pick the module of its family (``sanctions.py`` for R-SAN, ``subsidies.py`` for R-SUB, ...).  A new
   module is added to ``registry.RULE_MODULES``: modules register their rules when imported, and a
   listed module that does not exist stops ``load_core_rules`` with a ``RuleError`` naming it.
2. Add a row to the family's table of rule metadata and yield the rule's results from the family's
   check, keyed by its id::

       from collections.abc import Iterator
       from piis_bridge.i18n import N_
       from piis_bridge.rules.context import RuleContext
       from piis_bridge.rules.registry import RuleSpec, Severity, family
       from piis_bridge.rules.results import Result, issue

       def _has_sanctions(contract) -> bool:      # one named precondition for the family
           return bool(contract.sanctions)

       SANCTION_RULES = (
           RuleSpec("R-SAN-03", title="A formal warning precedes any sanction",
                    severity=Severity.LEGAL, citation="[002 L407, L411; 000 L150]",
                    doc="Plain language: this text IS the rule's doc in docs/rules.md.",
                    applies=_has_sanctions, parameters=("sanction_max_months",)),
           ...
       )

       def _sanction_results(ctx: RuleContext) -> Iterator[Result]:
           for i, s in enumerate(ctx.contract.sanctions):
               if s.warning_id is None:
                   yield issue("R-SAN-03", N_("Contract {contract}: sanction {sanction} has no "
                               "formal warning."), (f"sanctions[{i}].warning_id",),
                               contract=ctx.cid, sanction=s.sanction_id)

       family(SANCTION_RULES, _sanction_results)

   - The check runs once per contract (when the family's first rule in force runs); each rule records
     its own results, so a rule not in force (era, validity, ``applies``) records nothing.
   - ``results.issue(rule_id, template, fields, **params)`` is a finding at the rule's own level
     (L/H -> error, A -> warning, X -> ``settings.local_policy_level``); ``level=Level.INFO`` (or
     WARNING/ERROR) forces one (the advisory half of an L/A rule).  The template is marked ``N_`` and
     filled by the params, so the finding can be written in the reader's language (docs/i18n.md).
   - ``results.Due(rule_id, label, day, fields, done)`` is a deadline (its status, met / late / pending /
     overdue on ``ctx.on``, is computed when recorded); ``deadline=False`` an informative date.
   - ``results.Section(rule_id, name, value)`` puts an area result into ``Report.sections[name]``,
     ``results.Subsidy`` the schedule into ``Report.subsidy``.
   - Dates: use ``piis_bridge.rules.calendar`` (``add_months`` D1, ``first_day_of_month_after``
     D2, ``ctx.calendar.add_working_days`` D3, ``add_calendar_days`` D4, ``age_on`` D5).  Never
     ``timedelta(days=90)`` for "3 months", never a naive Monday-Friday loop.
   - Parameters: read ``ctx.settings.<name>`` (``settings.py``); never hard-code a legal value.
     A new parameter is a new documented field of ``RuleSettings``.
   - ``ctx.obligations`` holds the R-OBL summary (beneficiary first, then the partner);
     ``ctx.signed_date`` the signature date (computed once).
   - Messages name the contract by ``ctx.cid`` and people by role; never a NISS, never a name.
3. A rule that cannot be checked from the data is a row with ``automated=False``: listed, cited and
   documented (its doc says why).  A table of such rules only is registered with ``family(TABLE)``.
4. ``era=Era.REFORM`` / ``Era.HISTORICAL`` version the rule by the date of the facts (R-GEN-05,
   default fact date: the DIS decision date; pass ``fact_date=`` for another one).
5. Add boundary tests in ``tests/rules/test_<family>.py`` (day before / of / after each
   deadline, holidays, month ends), then regenerate the docs:
   ``piis-bridge rules docs > docs/rules.md`` (a test fails when they are out of date).

The modules written before the family tables (general, obligation, deadlines, content, signatures,
evaluations, amendments, community_service, studies, local_policy) still register each of their checks
with the ``@rule(id, title=, severity=, citation=, ...)`` decorator (the function's docstring is the
doc, the function records through ``ctx.flag`` / ``ctx.deadline`` of the running rule); their rules
without a check are already table rows (``DOCUMENTED_RULES``).  Both end in the same ``Rule`` records;
a new rule uses a table.

Performance (100,000 contracts must take well under a minute)
-------------------------------------------------------------
``benchmarks/bench_rules.py`` measures it (``--by-family`` for the split) and
``benchmarks/check_rules_equivalence.py`` proves a change changed no result.  The engine groups
consecutive rules with the same ``applies`` function and fact date: the precondition is asked once per
group (once per contract when several groups share it), so the rules of a family share one *named*
function, not one lambda each.  What matters per contract (measured, each kept with a one-line comment
saying why): no validated pydantic model per finding, date or schedule line (the report models are
built from already-valid values by ``report.frozen_constructor``, which checks the names given against
the model's fields); one computation per family, not one per rule; a cheap ``applies``; remembered
working-day deadlines (``WorkingCalendar.add_working_days``), computed dates and month spans
(``functools.lru_cache``).  Shortcuts whose gain was within the noise were removed.

Measured figures and the per-family split: ``docs/rules.md`` ("Benchmark").

Plugins add local rules through the hook ``piis_register_rules(registry)``
(``registry.family(TABLE, check, source="plugin-name")``, ``registry.rule(...)`` or
``registry.add(Rule(...))``; ids must be new) and CPAS parameters through ``piis_rule_parameters(cpas)``
(applied with ``RuleSettings.with_parameters``).
"""

from __future__ import annotations

from piis_bridge.rules.calendar import (
    WorkingCalendar,
    add_calendar_days,
    add_months,
    first_day_of_month_after,
)
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.engine import calendar_for, default_registry, evaluate, evaluate_many
from piis_bridge.rules.registry import (
    CORE_RULES,
    DuplicateRuleError,
    Era,
    Rule,
    RuleError,
    RuleRegistry,
    RuleSpec,
    Severity,
    build_registry,
)
from piis_bridge.rules.report import (
    ComputedDate,
    DateStatus,
    Finding,
    Level,
    PersonObligation,
    Report,
    SubsidySchedule,
)
from piis_bridge.rules.settings import DEFAULT_SETTINGS, RuleSettings

__all__ = [
    "CORE_RULES",
    "DEFAULT_SETTINGS",
    "ComputedDate",
    "DateStatus",
    "DuplicateRuleError",
    "Era",
    "Finding",
    "Level",
    "PersonObligation",
    "Report",
    "Rule",
    "RuleContext",
    "RuleError",
    "RuleRegistry",
    "RuleSettings",
    "RuleSpec",
    "Severity",
    "SubsidySchedule",
    "WorkingCalendar",
    "add_calendar_days",
    "add_months",
    "build_registry",
    "calendar_for",
    "default_registry",
    "evaluate",
    "evaluate_many",
    "first_day_of_month_after",
]
