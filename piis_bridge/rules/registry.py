"""The rule registry: every rule with its id, severity, citation, documentation and validity.

Why a registry rather than a list of functions: the CLI (``rules list``), the generated
docs/rules.md, the versioning by date of the facts (R-GEN-05) and the plugin hook
``piis_register_rules(registry)`` all read the same records, so a rule cannot exist without an
id, a citation and a documentation text.

One registration style: a module lists its rules as a table of ``RuleSpec`` rows (metadata, and the
rule's own check when it has one) and registers the table with ``family(TABLE)`` -- or
``family(TABLE, shared_check)`` when rules genuinely share one computation -- into ``CORE_RULES`` at
import.  Each row becomes one ``Rule`` with its own check, so the engine isolates a failure per rule:
a check that raises loses that rule's findings only.  The engine works on a copy (``build_registry``)
to which plugins add their local rules the same way.  A duplicate id is an error, so a plugin can
never silently replace a legal rule.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

from piis_bridge.rules.results import FamilyCheck, family_check

if TYPE_CHECKING:
    from piis_bridge.model import PIISContract
    from piis_bridge.rules.context import RuleContext

__all__ = [
    "CORE_RULES",
    "CORE_RULE_MODULES",
    "PART2_RULE_MODULES",
    "RULE_MODULES",
    "DuplicateRuleError",
    "Era",
    "PlanEntry",
    "PlanGroup",
    "Rule",
    "RuleError",
    "RuleOptions",
    "RuleRegistry",
    "RuleSpec",
    "Severity",
    "build_registry",
    "family",
]


class Severity(StrEnum):
    """rules.md 2.0.  L = legal (error), A = advisory (warning), X = local policy (configurable),
    H = historical (facts before the reform), LA = legal rule with an advisory part."""

    LEGAL = "L"
    ADVISORY = "A"
    LOCAL = "X"
    HISTORICAL = "H"
    LEGAL_ADVISORY = "L/A"


class Era(StrEnum):
    """Which facts a rule judges (R-GEN-05).  The boundary is ``RuleSettings.reform_date``."""

    ANY = "any"
    REFORM = "reform"  # facts on or after the reform date (2016-11-01)
    HISTORICAL = "historical"  # facts before the reform date


class RuleError(ValueError):
    """A rule record is incomplete or invalid."""


class DuplicateRuleError(RuleError):
    """Two rules with the same id."""


_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_FAMILY_ORDER = [
    "GEN",
    "OBL",
    "DL",
    "CNT",
    "SIG",
    "EVA",
    "AMD",
    "CS",
    "STU",
    "SAN",
    "TRF",
    "SUB",
    "INS",
    "RPT",
    "LOC",
]


def _decision_date(contract: PIISContract) -> date | None:
    return contract.decision.decision_date


@dataclass(frozen=True, slots=True)
class Rule:
    """One numbered rule.

    *check* is ``None`` for a rule that cannot be verified from the data (it is documented, listed
    and cited, and its doc says why).  *fact_date* picks the date of the facts that decides which
    rule set applies (default: the DIS decision date); *applies* is a cheap precondition so the
    engine skips rules that do not concern a contract (e.g. community service).
    """

    id: str
    title: str
    severity: Severity
    citation: str
    doc: str
    check: Callable[[RuleContext], None] | None = None
    era: Era = Era.ANY
    valid_from: date | None = None
    valid_until: date | None = None  # exclusive
    fact_date: Callable[[PIISContract], date | None] = _decision_date
    applies: Callable[[PIISContract], bool] | None = None
    parameters: tuple[str, ...] = ()
    source: str = "core"
    issue_refs: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _ID.match(self.id or ""):
            raise RuleError(f"rule id {self.id!r} is not of the form R-XXX-NN")
        for name in ("title", "citation", "doc"):
            if not (getattr(self, name) or "").strip():
                raise RuleError(f"rule {self.id}: {name} is required")

    @property
    def automated(self) -> bool:
        return self.check is not None

    @property
    def family(self) -> str:
        parts = self.id.split("-")
        return parts[1] if len(parts) > 2 else parts[0]

    def in_force(self, fact: date | None, reform_date: date) -> bool:
        """Whether this rule judges facts dated *fact* (R-GEN-05)."""
        era = self.era
        if fact is None:
            return era is not Era.HISTORICAL and self.valid_until is None
        if era is Era.REFORM and fact < reform_date:
            return False
        if era is Era.HISTORICAL and fact >= reform_date:
            return False
        if self.valid_from is not None and fact < self.valid_from:
            return False
        return self.valid_until is None or fact < self.valid_until

    def sort_key(self) -> tuple[int, str, int, str]:
        family = self.family
        rank = _FAMILY_ORDER.index(family) if family in _FAMILY_ORDER else len(_FAMILY_ORDER)
        tail = self.id.rsplit("-", 1)[-1]
        return (rank, family, int(tail) if tail.isdigit() else 0, self.id)


class RuleOptions(TypedDict, total=False):
    """The keyword options a family's rows share (``RuleSpec("R-SAN-01", ..., **_SAN)``), typed so a
    misspelt or mistyped option fails the type check instead of reaching ``RuleSpec``."""

    era: Era
    valid_from: date | None
    valid_until: date | None
    fact_date: Callable[[PIISContract], date | None] | None
    applies: Callable[[PIISContract], bool] | None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One row of a family's rule table: what ``rules list``, docs/rules.md, the versioning and the
    engine read.

    A module lists its rules as a tuple of these and registers it with :meth:`RuleRegistry.family`.
    A row's *check* is the rule's own check: it records through the context (``ctx.flag``,
    ``ctx.deadline``...) under the running rule.  A row without one is checked by the table's shared
    check (rules that share one computation: it yields results keyed by rule id).  Either way each row
    is one rule the engine runs on its own, so a check that raises loses only its rule's findings.
    ``automated=False`` marks a rule that cannot be checked from the data: it is listed, cited and
    documented, and *doc* says why.
    """

    id: str
    title: str
    severity: Severity
    citation: str
    doc: str
    automated: bool = True
    era: Era = Era.ANY
    valid_from: date | None = None
    valid_until: date | None = None  # exclusive
    fact_date: Callable[[PIISContract], date | None] | None = None  # None: the DIS decision date
    applies: Callable[[PIISContract], bool] | None = None
    parameters: tuple[str, ...] = ()
    check: Callable[[RuleContext], None] | None = None  # None: the table's shared check


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """One automated rule as the engine runs it (:meth:`RuleRegistry.plan`)."""

    rule: Rule
    check: Callable[[RuleContext], None]
    applies: Callable[[PIISContract], bool] | None
    fact_date: Callable[[PIISContract], date | None] | None  # None: the DIS decision date


@dataclass(frozen=True, slots=True)
class PlanGroup:
    """Consecutive automated rules the engine runs together (see :meth:`RuleRegistry.groups_for`)."""

    applies: Callable[[PIISContract], bool] | None
    shared: bool  # another group has the same precondition: the engine remembers its answer
    fact_date: Callable[[PIISContract], date | None] | None  # None: in force checked on the plan
    first: Rule  # carries the era and validity of every rule of the group (for ``in_force``)
    members: tuple[PlanEntry, ...]


def _group(plan: list[PlanEntry]) -> tuple[PlanGroup, ...]:
    """Runs of consecutive entries with the same precondition, fact date and (for a rule with its own
    fact date, checked per contract) era and validity."""
    runs: list[tuple[tuple[object, ...], list[PlanEntry]]] = []
    for entry in plan:
        rule = entry.rule
        window = None if entry.fact_date is None else (rule.era, rule.valid_from, rule.valid_until)
        key = (entry.applies, entry.fact_date, window)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(entry)
        else:
            runs.append((key, [entry]))
    uses: dict[Callable[[PIISContract], bool], int] = {}
    for _, members in runs:
        applies = members[0].applies
        if applies is not None:
            uses[applies] = uses.get(applies, 0) + 1
    groups = []
    for _, members in runs:
        head = members[0]
        shared = head.applies is not None and uses[head.applies] > 1
        groups.append(PlanGroup(head.applies, shared, head.fact_date, head.rule, tuple(members)))
    return tuple(groups)


class RuleRegistry:
    """Rules by id.  Modules and plugins register tables of rows with :meth:`family`; ``add(Rule(...))``
    is the record-level primitive it uses (one finished ``Rule``)."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._sorted: list[Rule] | None = None
        self._plan: list[PlanEntry] | None = None
        self._plans: dict[tuple[object, ...], list[PlanEntry]] = {}
        self._groups: dict[tuple[object, ...], tuple[PlanGroup, ...]] = {}
        self._windowed: tuple[tuple[date | None, date | None], ...] | None = None

    def add(self, new: Rule) -> Rule:
        if not isinstance(new, Rule):
            raise RuleError(f"expected a Rule, got {type(new).__name__}")
        if new.id in self._rules:
            other = self._rules[new.id]
            raise DuplicateRuleError(
                f"rule {new.id} is registered twice (by {other.source} and {new.source})"
            )
        self._rules[new.id] = new
        self._sorted = None
        self._plan = None
        self._plans = {}
        self._groups = {}
        self._windowed = None
        return new

    register = add  # the name the hookspec's documentation uses

    def family(
        self, table: Iterable[RuleSpec], check: FamilyCheck | None = None, *, source: str = "core"
    ) -> tuple[Rule, ...]:
        """Register the rules of *table*, one ``Rule`` per row.  A row with its own ``check`` runs it;
        every other automated row is checked by the shared *check*, which runs once per contract and
        yields its results keyed by rule id (``results.Issue``, ``Due``, ``Section``, ``Subsidy``);
        each rule records its own part when it runs.  An automated row needs a check of its own or a
        shared one; a row with ``automated=False`` (documented, listed, cited) has none."""
        table = tuple(table)
        run = family_check(check) if check is not None else None
        for spec in table:
            if spec.check is not None and not spec.automated:
                raise RuleError(f"rule {spec.id} has a check but is marked automated=False")
            if spec.automated and spec.check is None and run is None:
                raise RuleError(
                    f"rule {spec.id} is automated but has no check of its own and its table no "
                    "shared check"
                )
        return tuple(
            self.add(
                Rule(
                    id=spec.id,
                    title=spec.title,
                    severity=spec.severity,
                    citation=spec.citation,
                    doc=_clean_doc(spec.doc),
                    check=spec.check if spec.check is not None else run if spec.automated else None,
                    era=spec.era,
                    valid_from=spec.valid_from,
                    valid_until=spec.valid_until,
                    fact_date=spec.fact_date or _decision_date,
                    applies=spec.applies,
                    parameters=spec.parameters,
                    source=source,
                )
            )
            for spec in table
        )

    def get(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        if self._sorted is None:
            self._sorted = sorted(self._rules.values(), key=Rule.sort_key)
        return iter(self._sorted)

    def plan(self) -> list[PlanEntry]:
        """The automated rules in order."""
        if self._plan is None:
            self._plan = [
                PlanEntry(
                    r, r.check, r.applies, None if r.fact_date is _decision_date else r.fact_date
                )
                for r in self
                if r.check is not None
            ]
        return self._plan

    def plan_for(self, decision_date: date, reform_date: date) -> list[PlanEntry]:
        """The automated rules to run for a contract whose DIS decision is *decision_date*.  Rules judged
        on the decision date (the default) are already filtered by era and validity; a rule with its
        own ``fact_date`` is kept and the engine checks ``rule.in_force`` per contract.  Cached per
        distinct outcome, so the versioning (R-GEN-05) costs nothing per contract."""
        key = self._plan_key(decision_date, reform_date)
        chosen = self._plans.get(key)
        if chosen is None:
            chosen = self._plans[key] = [
                entry
                for entry in self.plan()
                if entry.fact_date is not None or entry.rule.in_force(decision_date, reform_date)
            ]
        return chosen

    def _plan_key(self, decision_date: date, reform_date: date) -> tuple[object, ...]:
        """What decides which rules are in force on *decision_date*: the era, and the validity window
        of each rule judged on the decision date that has one (few do: the key is cheap to build)."""
        windowed = self._windowed
        if windowed is None:
            windowed = self._windowed = tuple(
                (e.rule.valid_from, e.rule.valid_until)
                for e in self.plan()
                if e.fact_date is None
                and (e.rule.valid_from is not None or e.rule.valid_until is not None)
            )
        inside = []
        for vf, vu in windowed:
            inside.append(
                (vf is None or decision_date >= vf) and (vu is None or decision_date < vu)
            )
        return (reform_date, decision_date < reform_date, tuple(inside))

    def groups_for(self, decision_date: date, reform_date: date) -> tuple[PlanGroup, ...]:
        """:meth:`plan_for` as the engine runs it: consecutive rules that share their ``applies``
        precondition and their fact date (and era and validity) form one group, so the engine asks
        the precondition once for the group (once per contract for a precondition several groups
        share: ``PlanGroup.shared``) and the R-SUB, R-SAN or R-TRF families cost one test when they
        do not concern the contract.  Order of the rules is kept.  Cached like :meth:`plan_for`."""
        key = self._plan_key(decision_date, reform_date)
        groups = self._groups.get(key)
        if groups is None:
            groups = self._groups[key] = _group(self.plan_for(decision_date, reform_date))
        return groups

    def ids(self) -> list[str]:
        return [r.id for r in self]

    def copy(self) -> RuleRegistry:
        other = RuleRegistry()
        other._rules = dict(self._rules)
        return other


def _clean_doc(text: str | None) -> str:
    if not text:
        return ""
    import inspect

    return inspect.cleandoc(text)


CORE_RULES = RuleRegistry()
"""The core rules; filled when the rule modules are imported (see ``build_registry``)."""

family = CORE_RULES.family

CORE_RULE_MODULES = (
    "piis_bridge.rules.general",
    "piis_bridge.rules.obligation",
    "piis_bridge.rules.deadlines",
    "piis_bridge.rules.content",
    "piis_bridge.rules.signatures",
    "piis_bridge.rules.evaluations",
    "piis_bridge.rules.amendments",
    "piis_bridge.rules.community_service",
    "piis_bridge.rules.studies",
    "piis_bridge.rules.local_policy",
)
PART2_RULE_MODULES = (
    "piis_bridge.rules.sanctions",
    "piis_bridge.rules.transfers",
    "piis_bridge.rules.subsidies",
    "piis_bridge.rules.inspection",
    "piis_bridge.rules.agenda",
)
RULE_MODULES = (*CORE_RULE_MODULES, *PART2_RULE_MODULES)
"""Every module that registers core rules, imported by :func:`load_core_rules` in this order."""


def load_core_rules() -> RuleRegistry:
    """Import every rule module (registration happens at import) and return ``CORE_RULES``.

    A listed module that does not exist is an error naming it (a typo would otherwise drop a whole
    family of legal rules without a word); any other import error propagates.
    """
    for name in RULE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                raise RuleError(
                    f"rule module {name!r} (listed in piis_bridge.rules.registry.RULE_MODULES) does "
                    "not exist: correct the name or remove it from the list"
                ) from exc
            raise
    return CORE_RULES


def build_registry(plugin_host: Any = None) -> RuleRegistry:
    """The core rules plus the local rules plugins add through ``piis_register_rules(registry)``.

    *plugin_host* is a ``piis_bridge.hooks.manager.PluginHost`` (or anything with a
    ``register_rules(registry)`` method).
    """
    registry = load_core_rules().copy()
    if plugin_host is not None:
        plugin_host.register_rules(registry)
    return registry
