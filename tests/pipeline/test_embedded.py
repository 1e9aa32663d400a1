"""End to end, embedded default: filesystem broker + SQLite + a real celery worker subprocess."""

from __future__ import annotations

from pathlib import Path

from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.conftest import PLUGIN, make_settings


def test_embedded_run_submits_every_form_once_and_quarantines_bad_records(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(300, bad_every=50, two_forms_every=7)
    settings = make_settings(tmp_path, remote.url)
    options = PipelineOptions(
        page_size=100, chunk_size=50, submit_batch=40, broker_dir=tmp_path / "broker"
    )
    summary = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)

    st = remote.state
    bad = 300 // 50
    good = [r for r in st.records if not r["bad"]]
    expected_forms = sum(r["forms"] for r in good)
    assert summary.status == "finished", summary
    assert summary.counts["fetched"] == 300
    assert summary.counts["items_quarantined"] == bad
    assert summary.counts["quarantine_by_stage"] == {"map": bad}
    assert summary.counts["forms"] == summary.counts["forms_answered"] == expected_forms
    assert len(st.effects) == expected_forms
    assert st.out_of_order == 0
    answers = [p for p in st.pushes.values() if p["kind"] == "federal_answer"]
    assert len(answers) == expected_forms and max(st.push_calls.values()) == 1
    assert summary.counts["pushed"] == len(st.pushes)  # answers + deadline alerts of the rules
    assert set(summary.stages) >= {"pull", "evaluate", "submit", "push"}
