"""The rule registry: ids, citations, documentation, duplicates, versioning (R-GEN-05), plugins."""

from __future__ import annotations

from datetime import date

import pytest

from piis_bridge.rules import evaluate
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import (
    DuplicateRuleError,
    Era,
    Rule,
    RuleError,
    RuleRegistry,
    Severity,
    build_registry,
)
from piis_bridge.rules.settings import REFORM_DATE
from tests.rules._core import u25_contract  # noqa: F401 - fixture

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
            @registry.rule(
                "R-LOC-42",
                title="Local: contract id has a CPAS prefix",
                severity=Severity.LOCAL,
                citation="[local council decision 2026-01]",
                source="myplugin",
            )
            def _local(ctx: RuleContext) -> None:
                """A local rule contributed by a plugin: flags every contract (for the test)."""
                ctx.flag(f"Contract {ctx.cid}: local rule fired.", "contract_id")

    registry = build_registry(Host())
    assert "R-LOC-42" in registry and registry.get("R-LOC-42").source == "myplugin"
    report = evaluate(u25_contract, on=date(2026, 11, 22), registry=registry)
    [finding] = report.by_rule("R-LOC-42")
    assert finding.level.value == "warning"  # local policy defaults to warning
    # the core registry is not changed by a plugin
    assert "R-LOC-42" not in build_registry()


def test_a_failing_rule_does_not_hide_the_others(u25_contract) -> None:
    registry = build_registry()

    def _boom(ctx: RuleContext) -> None:
        raise KeyError("12345678901")  # a NISS-like value must not leak

    registry.add(
        Rule(
            id="R-LOC-77",
            title="broken",
            severity=Severity.LEGAL,
            citation="[x]",
            doc="a broken rule",
            check=_boom,
        )
    )
    report = evaluate(u25_contract, on=date(2026, 11, 22), registry=registry)
    assert report.rule_failures == ("R-LOC-77: KeyError",)
    assert report.has_errors
    assert report.date_for("R-DL-01") is not None
