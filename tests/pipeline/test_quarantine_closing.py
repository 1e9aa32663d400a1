"""Issue #14 (outbox part): quarantine entries resolve themselves when the record later goes through,
and ``piis-bridge quarantine dismiss ID --reason`` closes one by hand; both are recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions
from piis_bridge.pipeline.models import QuarantineEntry
from piis_bridge.pipeline.quarantine import QuarantineError, dismiss
from piis_bridge.pipeline.runs import create_run
from piis_bridge.pipeline.runtime import Runtime
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings, pipetest_config
from tests.pipeline.inline import InlineEnqueuer


def _run(rt: Runtime) -> str:
    run_id = create_run(rt)
    enq = InlineEnqueuer(rt)
    enq.start(run_id)
    enq.drain(timeout=60)
    return run_id


def test_an_entry_resolves_itself_when_the_record_goes_through_and_one_is_dismissed_by_hand(
    tmp_path: Path, make_remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = make_remote(30, bad_every=10)  # D000010, D000020, D000030 cannot be mapped
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)
    rt = Runtime(
        settings, PipelineOptions(broker_dir=tmp_path / "broker"), plugins=(("pipetest", pipetest),)
    )
    try:
        first = _run(rt)
        with rt.session() as s:
            entries = {
                e.record_id: e.id
                for e in s.scalars(select(QuarantineEntry).where(QuarantineEntry.status == "open"))
            }
        assert sorted(entries) == ["D000010", "D000020", "D000030"]
        # D000010 is fixed at the source: its next version maps, and its entry closes itself
        for r in remote.state.records:
            if r["record_id"] == "D000010":
                r["bad"] = False
        remote.state.touch(["D000010"])
        second = _run(rt)
        with rt.session() as s:
            fixed = s.get(QuarantineEntry, entries["D000010"])
            assert (
                fixed.status == "resolved" and fixed.closed_reason == f"processed in run {second}"
            )
            assert fixed.closed_at is not None and fixed.run_id == first
            assert s.get(QuarantineEntry, entries["D000020"]).status == "open"
        with pytest.raises(QuarantineError, match="reason is required"):
            dismiss(rt, entries["D000020"], "  ")
    finally:
        rt.close()

    config = pipetest_config(
        tmp_path, remote.url, database_url=settings.database_url, result_backend=False
    )
    monkeypatch.setenv("PIIS_CONFIG", str(config))
    monkeypatch.setenv("PIIS_EXTRA_PLUGINS", "pipetest=tests.pipeline.plugin")
    result = CliRunner().invoke(
        build_app(),
        [
            "quarantine",
            "dismiss",
            str(entries["D000020"]),
            "--reason",
            "test dossier, closed at the source",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dismissed: test dossier, closed at the source" in result.output
    again = CliRunner().invoke(
        build_app(), ["quarantine", "dismiss", str(entries["D000020"]), "--reason", "x"]
    )
    assert again.exit_code == 1 and "is dismissed, not open" in again.output
    rt = Runtime(
        settings, PipelineOptions(broker_dir=tmp_path / "broker"), plugins=(("pipetest", pipetest),)
    )
    try:
        with rt.session() as s:
            e = s.get(QuarantineEntry, entries["D000020"])
            assert (
                e.status == "dismissed" and e.closed_reason == "test dossier, closed at the source"
            )
            assert s.get(QuarantineEntry, entries["D000030"]).status == "open"
    finally:
        rt.close()
