"""Issue #20: settled rows of old runs are pruned (prune_after_days); open work, quarantine and each
dossier's last processed record stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from piis_bridge.migrations import upgrade_database
from piis_bridge.pipeline import PipelineOptions
from piis_bridge.pipeline.models import Effect, SyncRun, WorkItem, utcnow
from piis_bridge.pipeline.prune import prune
from piis_bridge.pipeline.runs import create_run
from piis_bridge.pipeline.runtime import Runtime
from tests.pipeline import plugin as pipetest
from tests.pipeline.conftest import make_settings
from tests.pipeline.inline import InlineEnqueuer


def test_old_settled_rows_are_pruned_and_the_setting_decides_how_old(
    tmp_path: Path, make_remote
) -> None:
    remote = make_remote(20)
    settings = make_settings(tmp_path, remote.url)
    upgrade_database(settings.database_url)

    def runtime(days: float) -> Runtime:
        return Runtime(
            settings,
            PipelineOptions(broker_dir=tmp_path / "broker", prune_after_days=days),
            plugins=(("pipetest", pipetest),),
        )

    rt = runtime(30)
    try:
        for _ in range(2):  # two nights: the second fetches new versions of 5 dossiers
            run_id = create_run(rt)
            enq = InlineEnqueuer(rt)
            enq.start(run_id)
            enq.drain(timeout=60)
            remote.state.touch([f"D{n:06d}" for n in range(1, 6)])
        with rt.session() as s:
            s.execute(update(SyncRun).values(finished_at=utcnow() - timedelta(days=40)))
            s.commit()
            effects = s.scalar(select(func.count()).select_from(Effect))
            items = s.scalar(select(func.count()).select_from(WorkItem))
        assert effects > 0 and items == 25
    finally:
        rt.close()
    rt = runtime(60)  # 40 days is not old enough for this setting: nothing goes
    try:
        assert prune(rt) == {"effects": 0, "items": 0}
    finally:
        rt.close()
    rt = runtime(30)
    try:
        gone = prune(rt)
        with rt.session() as s:
            left_items = sorted(s.scalars(select(WorkItem.record_id)))
            left_effects = s.scalar(select(func.count()).select_from(Effect))
    finally:
        rt.close()
    assert gone == {
        "effects": effects,
        "items": 5,
    }  # the first night's items of the 5 dossiers seen again
    assert left_items == sorted(f"D{n:06d}" for n in range(1, 21)) and left_effects == 0
