"""Each CPAS's local rule parameters (``piis_rule_parameters``) reach the rules in the nightly run:
the same contract is judged differently by two CPAS when only one sets a parameter; wrong
parameters quarantine that CPAS's records with a reason naming the CPAS and the parameter."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions, Runtime
from piis_bridge.pipeline.models import QuarantineEntry, WorkItem
from piis_bridge.pipeline.runner import run_summary
from piis_bridge.pipeline.stages import create_run
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def _run(tmp_path: Path, remote, parameters: dict) -> tuple[Runtime, object]:
    settings = make_settings(
        tmp_path, remote.url, cpas=("gent", "liege"), rule_parameters=parameters
    )
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings, PipelineOptions(broker_dir=tmp_path / "broker"), plugins=(("pipetest", pipetest),)
    )
    enq = InlineEnqueuer(rt)
    run_id = create_run(rt)
    enq.start(run_id)
    enq.drain()
    return rt, run_summary(rt, run_id)


def test_a_local_parameter_changes_the_findings_of_one_cpas_only(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(4)
    # Q-20 / R-SIG-02: at gent the CPAS must sign through its president; the example contract's
    # CPAS signature names another function, so gent gets one more finding than liege.
    rt, summary = _run(tmp_path, remote, {"gent": {"q20_cpas_signer_functions": ["Président"]}})
    assert summary.status == "finished", summary
    with rt.session() as s:
        findings = {(c, f) for c, f in s.execute(select(WorkItem.cpas_id, WorkItem.findings))}
    assert len(findings) == 2, findings
    by_cpas = dict(findings)
    assert by_cpas["gent"] == by_cpas["liege"] + 1
    rt.close()


def test_wrong_parameters_quarantine_that_cpas_only_with_the_reason(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(3)
    rt, summary = _run(tmp_path, remote, {"liege": {"reflection_days": "a week"}})
    assert summary.status == "finished", summary
    assert summary.counts["items_quarantined"] == 3 and summary.counts["processed"] == 3
    with rt.session() as s:
        entries = list(s.scalars(select(QuarantineEntry)))
    assert {e.cpas_id for e in entries} == {"liege"} and {e.stage for e in entries} == {"evaluate"}
    assert "cpas liege: invalid rule parameters: reflection_days:" in entries[0].reason
    rt.close()


def test_rules_date_option_sets_the_day_the_rules_judge(tmp_path: Path, make_remote) -> None:
    """``PIIS_PIPELINE_RULES_DATE`` (the demo's fixed night): the same records judged on two days give
    other deadline alerts; unset, the rules judge today in the configured time zone."""
    from datetime import date

    from piis_bridge.pipeline.models import Effect

    def alerts(day: date | None, folder: Path) -> set[str]:
        folder.mkdir()
        settings = make_settings(folder, remote.url)
        upgrade_database(settings.database_url)
        rt = Runtime(
            settings,
            PipelineOptions(broker_dir=folder / "broker", rules_date=day),
            plugins=(("pipetest", pipetest),),
        )
        enq = InlineEnqueuer(rt)
        run_id = create_run(rt)
        enq.start(run_id)
        enq.drain()
        assert run_summary(rt, run_id).status == "finished"
        with rt.session() as s:
            payloads = [
                p for k, p in s.execute(select(Effect.key, Effect.payload)) if k.startswith("push:")
            ]
        rt.close()
        return {p for p in payloads if "deadline_alert" in p}

    remote = make_remote(2)
    early, late = (
        alerts(date(2016, 11, 2), tmp_path / "early"),
        alerts(date(2040, 1, 1), tmp_path / "late"),
    )
    assert early and len(early) != len(late)  # deadlines still ahead in 2016 are long past in 2040
    assert PipelineOptions(rules_date="2026-11-03").rules_date == date(2026, 11, 3)
