"""The PIIS rules core: every rule of rules.md section 2 with its id, severity and citation.

Public API::

    from piis_bridge.rules import evaluate, evaluate_many, RuleSettings
    report = evaluate(contract, on=date(2026, 11, 22))          # -> Report (pydantic)
    report.findings, report.dates, report.obligations, report.has_errors

How to add a rule
-----------------
1. Pick the module of its family (``obligation.py`` for R-OBL, ``deadlines.py`` for R-DL, ...;
   part 2 owns ``sanctions.py``, ``transfers.py``, ``subsidies.py``, ``inspection.py``,
   ``agenda.py``).  A new module must be listed in ``registry.CORE_RULE_MODULES`` (or already is
   in ``PART2_RULE_MODULES``): modules register their rules when imported.
2. Write the check and decorate it::

       from piis_bridge.rules.registry import Era, Severity, rule, document
       from piis_bridge.rules.context import RuleContext

       @rule("R-SAN-03", title="A formal warning precedes any sanction", severity=Severity.LEGAL,
             citation="[002 L407, L411; 000 L150]", era=Era.REFORM,
             applies=lambda c: bool(c.sanctions), parameters=("sanction_max_months",))
       def _san_03(ctx: RuleContext) -> None:
           \"\"\"Plain-language documentation: this docstring IS the rule's doc in docs/rules.md.\"\"\"
           for i, s in enumerate(ctx.contract.sanctions):
               if s.warning_id is None:
                   ctx.flag(f"Contract {ctx.cid}: sanction {s.sanction_id} has no formal warning.",
                            f"sanctions[{i}].warning_id")

   - ``ctx.flag`` records a finding at the rule's own level (L/H -> error, A -> warning,
     X -> ``settings.local_policy_level``); ``ctx.error/warning/info`` force a level (the
     advisory half of an L/A rule).  Rule id and citation are attached automatically.
   - ``ctx.deadline(label, due, done, *fields)`` records a computed date and returns its status
     (met / late / pending / overdue on ``ctx.on``); ``ctx.add_date`` records any other date.
   - Dates: use ``piis_bridge.rules.calendar`` (``add_months`` D1, ``first_day_of_month_after``
     D2, ``ctx.calendar.add_working_days`` D3, ``add_calendar_days`` D4, ``age_on`` D5).  Never
     ``timedelta(days=90)`` for "3 months", never a naive Monday-Friday loop.
   - Parameters: read ``ctx.settings.<name>`` (``settings.py``); never hard-code a legal value.
     A new parameter is a new documented field of ``RuleSettings``.
   - ``ctx.obligations`` holds the R-OBL summary (beneficiary first, then the partner);
     ``ctx.cache`` shares values between rules of one contract; ``ctx.subsidy`` (a
     ``report.SubsidySchedule``) and ``ctx.sections[name]`` carry area results into the report.
   - Messages name the contract by ``ctx.cid`` and people by role; never a NISS, never a name.
3. A rule that cannot be checked from the data is still registered with ``document(id, title=,
   severity=, citation=, doc=)`` so it is listed, cited and documented.
4. ``era=Era.REFORM`` / ``Era.HISTORICAL`` version the rule by the date of the facts (R-GEN-05,
   default fact date: the DIS decision date; pass ``fact_date=`` for another one).
5. Add boundary tests in ``tests/rules/test_<family>.py`` (day before / of / after each
   deadline, holidays, month ends), then regenerate the docs:
   ``piis-bridge rules docs > docs/rules.md`` (a test fails when they are out of date).

Performance (100,000 contracts must take well under a minute: ~350 us per contract for ALL rules)
------------------------------------------------------------------------------------------------
``benchmarks/bench_rules.py`` measures it (``--by-family`` for the split) and
``benchmarks/check_rules_equivalence.py`` proves a speed-up changed no result.  How the engine runs
rules: consecutive rules with the same ``applies`` function and fact date form one group, whose
precondition is asked once per contract (and remembered for other groups sharing it).  So give rules
of one family that share a precondition the *same* named function, not one lambda each.  In a check
function:

- never build validated pydantic models per contract (``Model(...)`` costs 5-20 us each, and
  ``model_dump`` more): findings and dates go through ``ctx`` (unvalidated construction; equal
  computed dates are one shared frozen object); for your own frozen output models use
  ``report.frozen_constructor(Model)`` (``report.fast_construct`` for others), every field given;
- compute what several rules share once per contract and keep it in ``ctx.cache``; a family whose
  rules share one computation groups its issues and dates by rule id once (``_issues.group_by_rule``,
  ``record_own``) instead of scanning them all in every rule;
- use ``ctx.signed_date`` (computed once) rather than ``contract.signed_date`` (scans the
  signatures on every access);
- keep ``applies=`` cheap: it filters out rules that do not concern the contract before any work;
- dates: ``calendar.add_months`` and ``WorkingCalendar.add_working_days`` remember their results,
  ``calendar.iso(day)`` is ``day.isoformat()`` remembered (formatting a date costs more than a lookup);
- Python 3.11 specifics that show at 100,000 contracts: reading an enum member (``Level.ERROR``)
  goes through the enum metaclass's ``__getattr__`` hook, so hot modules keep the members they test
  as module constants; a comprehension or generator expression is a function call, so per-contract
  loops over a few items are written as plain ``for`` loops;
- never ``model_dump`` per contract: ``ctx.sections[name]`` may hold a pydantic model as is, it is
  serialised only when JSON output is asked for (``Report.to_json_dict``).

Measured figures and the per-family split: ``docs/rules.md`` ("Benchmark").

Plugins add local rules through the hook ``piis_register_rules(registry)`` (``registry.rule(...)``
or ``registry.add(Rule(...))``, ids must be new) and CPAS parameters through
``piis_rule_parameters(cpas)`` (applied with ``RuleSettings.with_parameters``).
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
