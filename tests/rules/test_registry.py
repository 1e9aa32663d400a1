"""The rule registry: ids, citations, documentation, duplicates, versioning (R-GEN-05), plugins."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from piis_bridge.model import PIISContract
from piis_bridge.rules import evaluate
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import (
    DuplicateRuleError,
    Era,
    Rule,
    RuleError,
    RuleRegistry,
    RuleSpec,
    Severity,
    build_registry,
)
from piis_bridge.rules.results import Result, issue
from piis_bridge.rules.settings import REFORM_DATE
from tests.rules._core import make, u25_contract  # noqa: F401 - fixture

REFORM = date(2016, 11, 1)


def test_every_core_rule_has_id_citation_and_documentation() -> None:
    registry = build_registry()
    assert len(registry) > 0
    for r in registry:
        assert r.id.startswith("R-"), r.id
        assert r.citation.strip().startswith("["), f"{r.id} has no bracketed citation"
        assert len(r.doc) >= 40, f"{r.id} has no real documentation"
        assert r.title.strip(), r.id


def test_duplicate_ids_are_an_error() -> None:
    registry = build_registry()
    with pytest.raises(DuplicateRuleError, match="R-DL-01"):
        registry.add(
            Rule(
                id="R-DL-01",
                title="again",
                severity=Severity.LEGAL,
                citation="[x]",
                doc="a doc text",
            )
        )


@pytest.mark.parametrize(
    ("field", "value"), [("id", "bad id"), ("citation", " "), ("doc", ""), ("title", "")]
)
def test_incomplete_rules_are_refused(field: str, value: str) -> None:
    data = {
        "id": "R-LOC-99",
        "title": "t",
        "severity": Severity.LOCAL,
        "citation": "[local]",
        "doc": "some doc",
    }
    data[field] = value
    with pytest.raises(RuleError):
        Rule(**data)


@pytest.mark.parametrize(
    ("era", "fact", "in_force"),
    [
        (Era.REFORM, date(2016, 10, 31), False),
        (Era.REFORM, REFORM, True),
        (Era.REFORM, date(2016, 11, 2), True),
        (Era.HISTORICAL, date(2016, 10, 31), True),
        (Era.HISTORICAL, REFORM, False),
        (Era.ANY, date(1999, 1, 1), True),
    ],
)
def test_r_gen_05_versioning_by_date_of_facts(era: Era, fact: date, in_force: bool) -> None:
    r = Rule(
        id="R-X-01", title="t", severity=Severity.LEGAL, citation="[c]", doc="doc text", era=era
    )
    assert r.in_force(fact, REFORM_DATE) is in_force


def test_a_plugin_adds_a_local_rule_through_the_hook(u25_contract) -> None:
    class Host:
        def register_rules(self, registry: RuleRegistry) -> None:
            def _local(ctx: RuleContext) -> None:
                ctx.flag(f"Contract {ctx.cid}: local rule fired.", "contract_id")

            row = RuleSpec(
                "R-LOC-42",
                title="Local: contract id has a CPAS prefix",
                severity=Severity.LOCAL,
                citation="[local council decision 2026-01]",
                doc="A local rule contributed by a plugin: flags every contract (for the test).",
                check=_local,
            )
            registry.family((row,), source="myplugin")

    registry = build_registry(Host())
    assert "R-LOC-42" in registry and registry.get("R-LOC-42").source == "myplugin"
    report = evaluate(u25_contract, on=date(2026, 11, 22), registry=registry)
    [finding] = report.by_rule("R-LOC-42")
    assert finding.level.value == "warning"  # local policy defaults to warning
    # the core registry is not changed by a plugin
    assert "R-LOC-42" not in build_registry()


def _always(contract: PIISContract) -> bool:
    return True


def _fires(ctx: RuleContext) -> None:
    ctx.flag(f"Contract {ctx.cid}: fired.", "contract_id")


def _boom(ctx: RuleContext) -> None:
    raise KeyError("12345678901")  # a NISS-like value must not leak


def _row(rule_id: str, check: Callable[[RuleContext], None] | None = None) -> RuleSpec:
    return RuleSpec(
        rule_id,
        title="t",
        severity=Severity.LEGAL,
        citation="[x]",
        doc="a test rule",
        applies=_always,
        check=check,
    )


def test_a_row_that_raises_loses_only_its_own_findings() -> None:
    """Each row of a table is one rule the engine runs on its own: the rows beside a broken one (same
    table, same precondition, run in the same group) and the core rules keep every finding."""
    contract = make("sanction-history")  # core findings and dates to keep
    on = date(2026, 11, 22)
    baseline = evaluate(contract, on=on, registry=build_registry())
    registry = build_registry()
    registry.family(
        (_row("R-LOC-76", _fires), _row("R-LOC-77", _boom), _row("R-LOC-78", _fires)), source="t"
    )
    groups = registry.groups_for(contract.decision.decision_date, REFORM_DATE)
    together = [[e.rule.id for e in g.members] for g in groups if g.applies is _always]
    assert together == [["R-LOC-76", "R-LOC-77", "R-LOC-78"]]  # one group: isolation is per row

    report = evaluate(contract, on=on, registry=registry)
    assert report.rule_failures == ("R-LOC-77: KeyError",)
    assert "12345678901" not in report.model_dump_json()
    mine = [f.rule_id for f in report.findings if f.rule_id in ("R-LOC-76", "R-LOC-77", "R-LOC-78")]
    assert mine == ["R-LOC-76", "R-LOC-78"]
    others = [f for f in report.findings if f.rule_id not in ("R-LOC-76", "R-LOC-78")]
    assert others == list(baseline.findings) and others
    assert report.dates == baseline.dates and report.date_for("R-DL-01") is not None
    assert report.rules_evaluated == baseline.rules_evaluated + 3


def test_a_shared_check_that_raises_spares_the_rows_with_their_own_check(u25_contract) -> None:
    """A table with a shared check: when it raises, each rule it checks reports the failure, and a row
    of the same table with its own check still records its findings."""

    def _shared(ctx: RuleContext) -> Iterator[Result]:
        yield issue("R-LOC-86", "never recorded")
        raise ZeroDivisionError

    registry = build_registry()
    registry.family(
        (_row("R-LOC-86"), _row("R-LOC-87", _fires), _row("R-LOC-88")), _shared, source="t"
    )
    report = evaluate(u25_contract, on=date(2026, 11, 22), registry=registry)
    assert report.rule_failures == ("R-LOC-86: ZeroDivisionError", "R-LOC-88: ZeroDivisionError")
    mine = [f.rule_id for f in report.findings if f.rule_id.startswith("R-LOC-8")]
    assert mine == ["R-LOC-87"]


def test_a_row_with_a_check_cannot_be_marked_not_automated() -> None:
    row = RuleSpec(
        "R-LOC-95",
        title="t",
        severity=Severity.LEGAL,
        citation="[x]",
        doc="d",
        automated=False,
        check=_fires,
    )
    with pytest.raises(RuleError, match="R-LOC-95 has a check but is marked automated=False"):
        RuleRegistry().family((row,))
