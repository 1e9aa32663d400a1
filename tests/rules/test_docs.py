"""docs/rules.md is generated from the registry; every rule of rules.md section 2 (part 1) is registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.rules.docs import render_markdown
from piis_bridge.rules.registry import build_registry

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

# rules.md section 2: the families of part 1 and how many numbered rules each has.
PART1_FAMILIES = {
    "GEN": 7,
    "OBL": 16,
    "DL": 8,
    "CNT": 17,
    "SIG": 3,
    "EVA": 8,
    "AMD": 4,
    "CS": 12,
    "STU": 11,
}


@pytest.mark.parametrize(("family", "count"), sorted(PART1_FAMILIES.items()))
def test_every_rule_of_the_spec_is_registered(family: str, count: int) -> None:
    registry = build_registry()
    expected = {f"R-{family}-{n:02d}" for n in range(1, count + 1)}
    assert expected <= set(registry.ids())


def test_every_rule_is_documented_in_docs_rules_md() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for r in build_registry():
        assert f"#### {r.id}\n" in text, f"{r.id} is missing from docs/rules.md"
        assert r.citation in text


def test_docs_rules_md_is_up_to_date() -> None:
    expected = render_markdown(build_registry())
    assert DOCS.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is out of date: run `piis-bridge rules docs > docs/rules.md`"
    )


def test_every_setting_is_documented() -> None:
    from piis_bridge.rules.settings import RuleSettings

    text = DOCS.read_text(encoding="utf-8")
    for name, info in RuleSettings.model_fields.items():
        assert info.description, f"setting {name} has no description"
        assert f"`{name}`" in text


def test_every_automated_part1_rule_has_a_test() -> None:
    """Each checked rule of part 1 is named (R-XXX-NN or r_xxx_nn) in at least one test of this folder."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    untested = [
        r.id
        for r in build_registry()
        if r.automated
        and r.family in {*PART1_FAMILIES, "LOC"}
        and r.id not in text
        and r.id.lower().replace("-", "_") not in text
    ]
    assert untested == []
