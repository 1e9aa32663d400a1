"""``piis-bridge rules check / list / docs``: exit codes, stable JSON, readable table, no NISS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from tests.rules._core import EXAMPLES, raw

EXAMPLE_FILES = sorted(str(p) for p in EXAMPLES.glob("*.json"))
NISSES = [raw(Path(p).stem)["beneficiary"]["niss"] for p in EXAMPLE_FILES]


@pytest.fixture(scope="module")
def app():
    return build_app()


def _run(app, *args: str):  # noqa: ANN001, ANN202
    return CliRunner().invoke(app, ["rules", *args], catch_exceptions=False)


def _file(tmp_path: Path, name: str, contracts: list[dict[str, Any]]) -> str:
    path = tmp_path / name
    path.write_text(
        json.dumps({"format": "piis-bridge/contracts", "schema_version": 1, "contracts": contracts})
    )
    return str(path)


def test_check_examples_json_is_stable_and_clean(app) -> None:  # noqa: ANN001
    result = _run(app, "check", *EXAMPLE_FILES, "--on", "2026-11-22", "--json", "--no-plugins")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["format"] == "piis-bridge/rules-check" and body["version"] == 1
    assert body["summary"]["contracts"] == 5 and body["summary"]["contracts_with_errors"] == 0
    report = body["reports"][0]
    assert report["format"] == "piis-bridge/rules-report"
    assert set(report) >= {
        "contract_id",
        "reference_date",
        "rule_set",
        "findings",
        "dates",
        "obligations",
        "subsidy",
        "sections",
        "rules_evaluated",
        "rule_failures",
    }
    for niss in NISSES:
        assert niss not in result.stdout


def test_check_exits_1_on_a_legal_error_and_names_rule_and_field(app, tmp_path: Path) -> None:  # noqa: ANN001
    bad = raw("u25-employment-project")
    bad["interview_requests"] = [{"requested_date": "2026-11-09", "held_date": "2026-11-18"}]
    path = _file(tmp_path, "bad.json", [bad, raw("studies")])
    result = _run(app, "check", path, "--on", "2026-11-22", "--no-plugins")
    assert result.exit_code == 1
    assert "R-DL-05" in result.stdout and "2026-11-17" in result.stdout
    assert "LGE-2026-0142" in result.stdout and bad["beneficiary"]["niss"] not in result.stdout
    js = json.loads(_run(app, "check", path, "--on", "2026-11-22", "--json", "--no-plugins").stdout)
    [finding] = [f for f in js["reports"][0]["findings"] if f["rule_id"] == "R-DL-05"]
    assert finding["level"] == "error" and finding["fields"] == ["interview_requests[0].held_date"]
    assert finding["severity"] == "L"
    assert js["summary"]["contracts_with_errors"] == 1


def test_check_reports_invalid_records_and_goes_on(app, tmp_path: Path) -> None:  # noqa: ANN001
    broken = raw("studies")
    broken["end_date"] = "2020-01-01"
    path = _file(tmp_path, "mixed.json", [broken, raw("u25-employment-project")])
    result = _run(app, "check", path, "--on", "2026-11-22", "--json", "--no-plugins")
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert body["summary"]["contracts"] == 1 and body["summary"]["problems"] == 1
    assert (
        body["problems"][0]["record"].startswith("#0")
        and "end_date" in body["problems"][0]["field"]
    )
    assert broken["beneficiary"]["niss"] not in result.stdout


def test_check_settings_file_with_per_cpas_overrides(app, tmp_path: Path) -> None:  # noqa: ANN001
    contract = raw("u25-employment-project")
    contract["interview_requests"] = [{"requested_date": "2025-07-08", "held_date": "2025-07-16"}]
    path = _file(tmp_path, "c.json", [contract])
    assert _run(app, "check", path, "--on", "2026-11-22", "--no-plugins").exit_code == 1
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"cpas": {"62063": {"recurring_closure_days": [[7, 11]]}}}))
    assert (
        _run(
            app, "check", path, "--on", "2026-11-22", "--no-plugins", "--settings", str(settings)
        ).exit_code
        == 0
    )


def test_check_rejects_a_bad_date(app) -> None:  # noqa: ANN001
    result = CliRunner().invoke(
        app, ["rules", "check", EXAMPLE_FILES[0], "--on", "22/11/2026", "--no-plugins"]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_list_gives_every_rule_with_severity_and_citation(app) -> None:  # noqa: ANN001
    result = _run(app, "list", "--json", "--no-plugins")
    rows = json.loads(result.stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["R-DL-05"]["severity"] == "L" and by_id["R-DL-05"]["citation"].startswith(
        "[002 L218"
    )
    assert by_id["R-SIG-02"]["severity"] == "X" and by_id["R-EVA-08"]["severity"] == "H"
    table = _run(app, "list", "--no-plugins").stdout
    assert "R-OBL-09" in table and "[002 L651]" in table


def test_docs_command_prints_the_generated_docs(app) -> None:  # noqa: ANN001
    result = _run(app, "docs")
    assert result.stdout == (EXAMPLES.parent / "docs" / "rules.md").read_text(encoding="utf-8")
