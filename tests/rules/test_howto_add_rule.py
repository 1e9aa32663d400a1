"""The "add a rule" how-to of docs/architecture.md, followed literally; the loud failure of a typo.

Why: a how-to that nobody runs drifts from the code (issue 21 found the one in ``rules/__init__.py``
describing a registration style the code no longer used).  This test writes new rule modules the way
docs/architecture.md says -- a ``RuleSpec`` row carrying its own check in the module's table,
``family(TABLE)``; and rules sharing one computation: rows without a check, ``family(TABLE,
shared_check)`` with a shared check yielding results keyed by rule id -- adds them to ``RULE_MODULES``
and runs the real CLI: the rules must be in ``rules list`` and their findings in ``rules check``.  The CLI runs in a child process so the new rule
never joins the registry of the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from piis_bridge.rules import registry as registry_module
from piis_bridge.rules.registry import RuleError, load_core_rules

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sanction-history.json"

# Steps 1 and 2 of docs/architecture.md: the check, and its row (metadata + check) in the table.
NEW_MODULE = """
from piis_bridge.i18n import N_
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family


def _howto_01(ctx: RuleContext) -> None:
    for i, s in enumerate(ctx.contract.sanctions):
        ctx.flag(
            N_("Contract {contract}: sanction {sanction} seen by the how-to rule."),
            f"sanctions[{i}]",
            contract=ctx.cid,
            sanction=s.sanction_id,
        )


HOWTO_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-HOWTO-01",
        title="A rule added by following the how-to",
        severity=Severity.ADVISORY,
        citation="[docs/architecture.md]",
        doc="Flags every contract that records a sanction.",
        check=_howto_01,
    ),
)
family(HOWTO_RULES)
"""

# Step 3: rules sharing one computation: rows without a check, one shared check yielding by rule id.
SHARED_MODULE = """
from collections.abc import Iterator

from piis_bridge.i18n import N_
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family
from piis_bridge.rules.results import Result, issue

SHARED_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-HOWTO-02",
        title="Counted sanctions",
        severity=Severity.ADVISORY,
        citation="[docs/architecture.md]",
        doc="Reports how many sanctions the contract records.",
    ),
    RuleSpec(
        "R-HOWTO-03",
        title="Counted sanctions, as an error",
        severity=Severity.LEGAL,
        citation="[docs/architecture.md]",
        doc="Reports the same count at the legal level.",
    ),
)


def _shared_results(ctx: RuleContext) -> Iterator[Result]:
    count = len(ctx.contract.sanctions)
    if count:
        for rule_id in ("R-HOWTO-02", "R-HOWTO-03"):
            yield issue(
                rule_id,
                N_("Contract {contract}: {count} sanctions counted once."),
                ("sanctions",),
                contract=ctx.cid,
                count=count,
            )


family(SHARED_RULES, _shared_results)
"""

# Step 4: a new module is added to RULE_MODULES; step 5: the CLI.
RUN_CLI = """
import sys
from piis_bridge.rules import registry
registry.RULE_MODULES = (*registry.RULE_MODULES, "howto_rule", "howto_shared")
from piis_bridge.cli import main
main(sys.argv[1:])
"""


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_a_rule_added_as_docs_architecture_says_is_listed_and_reported(tmp_path: Path) -> None:
    (tmp_path / "howto_rule.py").write_text(textwrap.dedent(NEW_MODULE), encoding="utf-8")
    (tmp_path / "howto_shared.py").write_text(textwrap.dedent(SHARED_MODULE), encoding="utf-8")

    listed = _cli(tmp_path, "rules", "list", "--no-plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in json.loads(listed.stdout) if r["id"].startswith("R-HOWTO-")}
    assert sorted(rows) == ["R-HOWTO-01", "R-HOWTO-02", "R-HOWTO-03"]
    assert rows["R-HOWTO-01"]["title"] == "A rule added by following the how-to"
    assert rows["R-HOWTO-01"]["automated"] is True and rows["R-HOWTO-01"]["severity"] == "A"
    assert all(r["automated"] for r in rows.values())

    human = _cli(tmp_path, "rules", "list", "--no-plugins")
    assert human.returncode == 0, human.stderr
    assert "R-HOWTO-01" in human.stdout and "R-HOWTO-03" in human.stdout

    checked = _cli(tmp_path, "rules", "check", str(EXAMPLE), "--no-plugins", "--json")
    assert checked.returncode in (0, 1), checked.stderr  # 1: the example has legal errors
    reports = json.loads(checked.stdout)["reports"]
    mine = [f for r in reports for f in r["findings"] if f["rule_id"] == "R-HOWTO-01"]
    assert mine and all(f["level"] == "warning" for f in mine)
    assert "seen by the how-to rule" in mine[0]["message"]
    shared = [f for r in reports for f in r["findings"] if f["rule_id"].startswith("R-HOWTO-0")]
    levels = {f["rule_id"]: f["level"] for f in shared if "counted once" in f["message"]}
    assert levels == {"R-HOWTO-02": "warning", "R-HOWTO-03": "error"}


def test_a_misspelt_rule_module_stops_the_load_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "RULE_MODULES", ("piis_bridge.rules.sanctionz",))
    with pytest.raises(RuleError, match=r"piis_bridge\.rules\.sanctionz.*RULE_MODULES"):
        load_core_rules()


def test_an_automated_row_without_any_check_is_refused() -> None:
    from piis_bridge.rules.registry import RuleRegistry, RuleSpec, Severity

    row = RuleSpec("R-HOWTO-02", title="t", severity=Severity.LEGAL, citation="[x]", doc="d")
    with pytest.raises(RuleError, match="R-HOWTO-02 is automated but has no check of its own"):
        RuleRegistry().family((row,))
