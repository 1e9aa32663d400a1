"""docs/rules-i18n.md is what the generator writes from the registry and the catalogues."""

from __future__ import annotations

from piis_bridge.i18n.docs import DOC_PATH, render_markdown


def test_rules_i18n_md_is_up_to_date() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_markdown(), (
        "run `python -m piis_bridge.i18n docs` and commit docs/rules-i18n.md"
    )


def test_every_rule_has_one_row_with_four_titles() -> None:
    text = render_markdown()
    assert (
        "| R-SAN-03 | A formal warning precedes any sanction | Une mise en demeure précède toute sanction | "
        "Een aanmaning gaat aan elke sanctie vooraf | Eine Inverzugsetzung geht jeder Sanktion voraus |"
        in text
    )
    rows = [line for line in text.splitlines() if line.startswith("| R-")]
    assert len(rows) >= 148 and all(line.count(" | ") == 4 for line in rows)
