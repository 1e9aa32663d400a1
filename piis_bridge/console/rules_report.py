"""The rules report of one pulled version of a dossier, computed again from its stored source record.

Why computed and not stored: the pipeline stores the source record of every version it pulled
(``sync_item.payload``) and the number of findings, not the report; mapping that record with the
CPAS's case-system plugin and applying the rules with the CPAS's parameters (the same
``Runtime.rules`` the pipeline uses) gives the findings with rule id, citation and computed dates as
the pipeline saw them, on the date asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from piis_bridge.hooks.types import SourceRecord
from piis_bridge.logging import redact
from piis_bridge.rules import evaluate

__all__ = ["VersionReport", "version_report"]


@dataclass(frozen=True)
class VersionReport:
    ok: bool
    problems: list[str]
    findings: list[dict[str, Any]]
    dates: list[dict[str, Any]]


def version_report(
    rt: Any, cpas_id: str, payload: str, on: date, language: str = "en"
) -> VersionReport:
    """The report of one stored version; the findings' messages in *language* (the console user's)."""
    from piis_bridge.i18n import translator
    from piis_bridge.i18n.findings import render

    record = SourceRecord.model_validate_json(payload)
    outcome = rt.host.case_map_record(cpas_id, record, run_id="console")
    if not getattr(outcome, "ok", False) or outcome.contract is None:
        problems = [
            f"{p.field or '(record)'}: {p.reason}" for p in getattr(outcome, "problems", [])
        ]
        return VersionReport(
            False, redact(problems) or ["the case-system plugin could not map this record"], [], []
        )
    settings, registry = rt.rules(cpas_id)
    report = evaluate(outcome.contract, on=on, settings=settings, registry=registry)
    t = translator(language)
    findings = [
        {
            "rule_id": f.rule_id,
            "level": str(getattr(f.level, "value", f.level)),
            "message": redact(render(f, t)),
            "citation": f.citation,
        }
        for f in report.findings
    ]
    dates = [
        {"rule_id": d.rule_id, "label": d.label, "date": d.date, "status": d.status.value}
        for d in report.dates
    ]
    return VersionReport(True, [], findings, dates)
