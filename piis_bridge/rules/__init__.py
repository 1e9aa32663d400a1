"""The PIIS rules core: every rule of rules.md section 2 with its id, severity and citation.

Public API::

    from piis_bridge.rules import evaluate, evaluate_many, RuleSettings
    report = evaluate(contract, on=date(2026, 11, 22))          # -> Report (pydantic)
    report.findings, report.dates, report.obligations, report.has_errors

How to add a rule
-----------------
There is one registration style: every module lists its rules as a table of ``RuleSpec`` rows and
registers the table once with ``family(TABLE)``.  A row is the rule's metadata (id, title, severity,
citation, the doc docs/rules.md shows, era, validity, precondition, parameters) and, for a rule
checked from the data, its own ``check``.  Each row becomes one rule the engine runs on its own: a
check that raises is recorded in ``Report.rule_failures`` and loses that rule's findings only.

1. Pick the module of its family (``general.py`` for R-GEN, ``deadlines.py`` for R-DL, ...).  A new
   module is added to ``registry.RULE_MODULES``: modules register their rules when imported, and a
   listed module that does not exist stops ``load_core_rules`` with a ``RuleError`` naming it.
2. Write the check, a function of the ``RuleContext`` that records under the running rule, and add
   its row to the module's table::

       from piis_bridge.i18n import N_
       from piis_bridge.rules.context import RuleContext
       from piis_bridge.rules.registry import RuleSpec, Severity, family

       def _gen_02(ctx: RuleContext) -> None:
           if not (ctx.contract.framework_convention_ref or "").strip():
               ctx.flag(N_("Contract {contract}: no reference to the council's framework convention."),
                        "framework_convention_ref", contract=ctx.cid)

       GENERAL_RULES: tuple[RuleSpec, ...] = (
           ...
           RuleSpec("R-GEN-02", title="A written contract on the council's framework convention",
                    severity=Severity.LEGAL, citation="[002 L123-125, L175-177, L383; 001 L26]",
                    doc="Plain language: this text IS the rule's doc in docs/rules.md.",
                    check=_gen_02),
           ...
       )
       family(GENERAL_RULES)

   - ``applies=`` is a cheap precondition on the contract (a *named* function the rows of a family
     share: the engine asks it once per contract), ``parameters=`` the settings the rule reads.
   - ``ctx.flag(template, *fields, **params)`` is a finding at the rule's own level (L/H -> error,
     A -> warning, X -> ``settings.local_policy_level``); ``ctx.error`` / ``warning`` / ``info`` force
     one (the advisory half of an L/A rule).  The template is marked ``N_`` and filled by the params,
     so the finding can be written in the reader's language (docs/i18n.md).
   - ``ctx.deadline(label, due, done, *fields)`` records a deadline (its status, met / late / pending /
     overdue on ``ctx.on``, is computed and returned); ``ctx.add_date`` an informative date.
   - Dates: use ``piis_bridge.rules.calendar`` (``add_months`` D1, ``first_day_of_month_after``
     D2, ``ctx.calendar.add_working_days`` D3, ``add_calendar_days`` D4, ``age_on`` D5).  Never
     ``timedelta(days=90)`` for "3 months", never a naive Monday-Friday loop.
   - Parameters: read ``ctx.settings.<name>`` (``settings.py``); never hard-code a legal value.
     A new parameter is a new documented field of ``RuleSettings``.
   - ``ctx.obligations`` holds the R-OBL summary (beneficiary first, then the partner);
     ``ctx.signed_date`` the signature date (computed once).
   - Messages name the contract by ``ctx.cid`` and people by role; never a NISS, never a name.
3. Rules that genuinely share one computation (the sanction checks, the transfer outlook, the subsidy
   plan, the inspection checklist) leave ``check`` out of their rows and pass the table one shared
   check instead: ``family(TABLE, shared_check)``.  The shared check runs once per contract (when the
   first of its rules in force runs) and yields results keyed by rule id --
   ``results.issue(rule_id, template, fields, **params)``, ``results.Due(rule_id, label, day, fields,
   done)``, ``results.Section`` (an area result in ``Report.sections``), ``results.Subsidy`` -- and
   each rule records its own part when it runs, so a rule not in force records nothing.  A row may
   still carry its own ``check`` in such a table.
4. A rule that cannot be checked from the data is a row with ``automated=False`` and no check:
   listed, cited and documented (its doc says why).  An automated row with no check of its own in a
   table without a shared check is refused with a ``RuleError`` naming it.
5. ``era=Era.REFORM`` / ``Era.HISTORICAL`` version the rule by the date of the facts (R-GEN-05,
   default fact date: the DIS decision date; pass ``fact_date=`` for another one).
6. Add boundary tests in ``tests/rules/test_<family>.py`` (day before / of / after each
   deadline, holidays, month ends), then regenerate the docs:
   ``piis-bridge rules docs > docs/rules.md`` (a test fails when they are out of date).

Performance (100,000 contracts must take well under a minute)
-------------------------------------------------------------
``benchmarks/bench_rules.py`` measures it (``--by-family`` for the split) and
``benchmarks/check_rules_equivalence.py`` proves a change changed no result.  The engine groups
consecutive rules with the same ``applies`` function and fact date: the precondition is asked once per
group (once per contract when several groups share it), so the rules of a family share one *named*
function, not one lambda each.  What matters per contract (measured, each kept with a one-line comment
saying why): no validated pydantic model per finding, date or schedule line (the report models are
built from already-valid values by ``report.frozen_constructor``, which checks the names given against
the model's fields); one shared check where rules share a computation, not one per rule; a cheap
``applies``; remembered working-day deadlines (``WorkingCalendar.add_working_days``), computed dates
and month spans (``functools.lru_cache``).  Shortcuts whose gain was within the noise were removed.

Measured figures and the per-family split: ``docs/rules.md`` ("Benchmark").

Plugins add local rules through the hook ``piis_register_rules(registry)`` the same way
(``registry.family(TABLE, source="plugin-name")``, or ``registry.family(TABLE, shared_check,
source=...)``; ids must be new) and CPAS parameters through ``piis_rule_parameters(cpas)``
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
