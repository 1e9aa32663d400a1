"""Issue #12: each form reaches the federal service exactly once, with several worker processes.

Counted in the federal simulator's own state (every reception of a ClientReference, duplicates
included), not in its deduplicated answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.realworld import start_world, stop_world


@pytest.fixture
def world(tmp_path: Path):
    w = start_world(tmp_path, 300, ocmws=2)
    try:
        yield w
    finally:
        stop_world(w)


@pytest.mark.parametrize("processes", [2, 4])
def test_each_form_reaches_the_federal_service_once_with_several_workers(
    tmp_path: Path, world, processes: int
) -> None:
    options = PipelineOptions(
        broker_dir=tmp_path / "broker", collect_delay=0.3, chunk_size=10, submit_batch=7
    )
    summary = run_nightly(world.settings(), options=options, concurrency=processes, timeout=240)
    c = summary.counts
    assert summary.status == "finished", summary
    got = world.receptions()
    twice = {ref: n for ref, n in got.items() if n > 1}
    assert not twice, f"{len(twice)} forms reached the federal service more than once"
    assert c["forms"] > 50 and len(got) == c["forms"] - c["forms_quarantined"], c
    assert c["forms_answered"] + c["forms_quarantined"] == c["forms"], c
    assert c["pushed"] >= c["forms_answered"], c
