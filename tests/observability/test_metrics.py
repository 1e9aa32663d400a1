"""Prometheus metrics: the database collector, the HTTP endpoint, a real celery worker run on Redis, and
no personal data in the exposition."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from piis_bridge.observability.metrics import exposition
from tests.conftest import require_service
from tests.observability.conftest import NOW, Db, settings_for
from tests.observability.test_alerts import valid_niss_in


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_collector_reads_the_database(tmp_path: Path, db: Db) -> None:
    db.run("gent", ended=NOW - dt.timedelta(hours=1), minutes=7)
    db.run("gent", status="failed")
    db.quarantine("liege", 4, stage="map")
    db.forms("gent", "refused", 3, answered=dt.datetime.now(dt.UTC))
    db.forms("gent", "accepted", 2)
    db.circuit("federal:gent", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    s = _samples(exposition(settings_for(tmp_path), db.engine).decode())
    assert s[("piis_database_up", ())] == 1
    assert s[("piis_runs", (("cpas", "gent"), ("status", "finished")))] == 1
    assert s[("piis_runs", (("cpas", "gent"), ("status", "failed")))] == 1
    assert (
        s[("piis_run_last_duration_seconds", (("cpas", "gent"),))] == 300
    )  # the newest: 5 minutes
    assert s[("piis_quarantine_open", (("cpas", "liege"), ("stage", "map")))] == 4
    assert s[("piis_forms", (("cpas", "gent"), ("form", "B"), ("status", "refused")))] == 3
    assert s[("piis_forms_refused_codes", (("code", "B00005"), ("cpas", "gent")))] == 3
    assert s[("piis_circuit_open", (("remote", "federal:gent"),))] == 1
    assert ("piis_nightly_seconds_since_success", (("cpas", "gent"),)) in s


def test_database_down_still_answers(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, database_url="postgresql://u@127.0.0.1:1/x")
    s = _samples(exposition(settings).decode())
    assert s[("piis_database_up", ())] == 0


def test_labels_carry_no_record_id_or_niss(tmp_path: Path, db: Db) -> None:
    niss = "85073003328"
    db.quarantine("gent", 3, reason=f"bad NISS {niss}")
    db.run("gent", counts={"fetched": 1, "record": f"GPMI-{niss}"})
    text = exposition(settings_for(tmp_path), db.engine).decode()
    assert not valid_niss_in(text)
    assert "REC-" not in text  # record ids never become labels


def test_http_endpoints(tmp_path: Path, db: Db) -> None:
    import socket

    from piis_bridge.observability.http import serve

    db.run("gent")
    db.run("liege")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(tmp_path, monitoring={"metrics_port": port})
    ready = threading.Event()
    threading.Thread(
        target=serve,
        args=(settings, "127.0.0.1", settings.monitoring.metrics_port),
        kwargs={"ready": ready},
        daemon=True,
    ).start()
    assert ready.wait(10)
    base = f"http://127.0.0.1:{port}"
    metrics = httpx.get(f"{base}/metrics", timeout=10)
    assert metrics.status_code == 200 and "piis_runs{" in metrics.text
    assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
    ready_ = httpx.get(f"{base}/readyz", timeout=10)
    assert ready_.status_code == 200 and ready_.json()["status"] == "ok"
    assert httpx.get(f"{base}/health", timeout=10).status_code == 200
    assert httpx.post(f"{base}/metrics", timeout=10).status_code == 405
    assert httpx.get(f"{base}/nope", timeout=10).status_code == 404


def test_readyz_is_503_when_the_database_is_not_migrated(tmp_path: Path) -> None:
    from piis_bridge.observability.http import readiness_response

    code, body = readiness_response(settings_for(tmp_path))
    assert code == 503 and body["status"] == "critical"


@pytest.mark.services
def test_metrics_of_a_real_worker_run_on_redis(tmp_path: Path, make_remote, pg_url: str) -> None:
    """The scale-out stack: a celery worker on Redis with PostgreSQL; the monitor aggregates the workers'
    remote-call latencies (multiprocess mode) and reads the run's counts from the database."""
    require_service("redis")
    from piis_bridge.migrations import upgrade_database
    from piis_bridge.pipeline import EmbeddedWorker, PipelineOptions, run_nightly
    from tests.pipeline.conftest import PLUGIN, make_settings
    from tests.pipeline.test_services import purge_queues

    broker = "redis://127.0.0.1:6379/12"
    purge_queues(broker)
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    remote = make_remote(120, bad_every=40)
    settings = make_settings(tmp_path, remote.url, database_url=pg_url, broker_url=broker)
    upgrade_database(pg_url)
    options = PipelineOptions(page_size=50, chunk_size=25, submit_batch=25)
    with EmbeddedWorker(
        settings,
        concurrency=2,
        extra_plugins=[PLUGIN],
        env={"PROMETHEUS_MULTIPROC_DIR": str(prom_dir)},
    ):
        summary = run_nightly(settings, embedded=False, options=options, timeout=90)
    assert summary.status == "finished", summary

    import os

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(prom_dir)
    try:
        text = exposition(settings).decode()
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    s = _samples(text)
    assert s[("piis_runs", (("cpas", "gent"), ("status", "finished")))] == 1
    assert s[("piis_quarantine_open", (("cpas", "gent"), ("stage", "map")))] == 3
    assert s[("piis_stage_units", (("stage", "pull"),))] >= 1
    calls = {
        labels: v for (name, labels), v in s.items() if name == "piis_remote_call_seconds_count"
    }
    fetches = sum(v for labels, v in calls.items() if ("hook", "case_fetch_changes") in labels)
    pushes = sum(v for labels, v in calls.items() if ("hook", "case_push") in labels)
    assert fetches >= 1 and pushes >= 1, calls  # summed over the worker processes
    assert not valid_niss_in(text)


def test_deploy_monitoring_files_use_only_metrics_the_bridge_exposes(
    tmp_path: Path, db: Db
) -> None:
    """The Grafana dashboard and the Prometheus rules in deploy/monitoring name real metrics."""
    import json
    import re

    import yaml

    root = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
    db.run("gent")
    db.circuit("federal:gent", NOW)
    exposed = {
        family.name
        for family in text_string_to_metric_families(
            exposition(settings_for(tmp_path), db.engine).decode()
        )
    }
    exposed |= {f"{name}_{suffix}" for name in exposed for suffix in ("bucket", "count", "sum")}
    rules = yaml.safe_load((root / "piis-bridge-alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((root / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bpiis_[a-z_]+", e)}
    assert used and used <= exposed, used - exposed
    scrape = yaml.safe_load((root / "prometheus.yml").read_text())
    assert scrape["rule_files"] == ["piis-bridge-alerts.yml"]
