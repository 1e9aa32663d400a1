"""OpenTelemetry: a real embedded run exports its spans over OTLP/HTTP to a receiver on loopback; the
run id is the trace id, remote calls are children of their stage, each dossier has its own trace with a
span per stage, and no attribute carries personal data."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.observability.test_alerts import valid_niss_in
from tests.pipeline.conftest import PLUGIN, make_settings


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[Any] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                request = ExportTraceServiceRequest()
                request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        receiver.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _traced_run(tmp_path: Path, make_remote, *, dossiers: bool = True) -> tuple[Any, list[Any]]:
    receiver = OtlpReceiver()
    try:
        remote = make_remote(60, bad_every=20)
        base = make_settings(tmp_path, remote.url)
        settings = base.model_copy(
            update={
                "monitoring": base.monitoring.model_copy(
                    update={"tracing_endpoint": receiver.url, "tracing_dossiers": dossiers}
                )
            }
        )
        options = PipelineOptions(
            page_size=50, chunk_size=25, submit_batch=25, broker_dir=tmp_path / "broker"
        )
        summary = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)
        assert summary.status == "finished", summary
    finally:
        receiver.close()
    return summary, receiver.spans


def _attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        out[a.key] = getattr(a.value, kind) if kind else None
    return out


def test_a_run_is_one_trace_with_stage_and_remote_spans(tmp_path: Path, make_remote) -> None:
    summary, spans = _traced_run(tmp_path, make_remote)
    run_spans = [s for s in spans if not s.name.startswith("dossier ")]
    names = {s.name for s in run_spans}
    assert {
        "piis.pipeline.pull",
        "piis.pipeline.process",
        "piis.pipeline.submit",
        "piis.pipeline.push",
    } <= names
    assert {"remote case_fetch_changes", "remote federal_submit", "remote case_push"} <= names
    assert {s.trace_id.hex() for s in run_spans} == {summary.run_id}
    by_id = {s.span_id: s for s in run_spans}
    fetch = next(s for s in run_spans if s.name == "remote case_fetch_changes")
    assert by_id[fetch.parent_span_id].name == "piis.pipeline.pull"
    pull = by_id[fetch.parent_span_id]
    assert _attributes(pull) == {
        "piis.stage": "pull",
        "piis.run_id": summary.run_id,
        "piis.cpas": "gent",
    }
    keys = {a.key for s in spans for a in s.attributes}
    assert keys <= {
        "piis.stage",
        "piis.run_id",
        "piis.cpas",
        "piis.role",
        "piis.hook",
        # the dossier spans: the bridge's own item number and outcomes, never the vendor's record id
        "piis.item",
        "piis.outcome",
        "piis.forms",
        "piis.state",
        "piis.answer",
        "piis.kind",
    }
    assert not valid_niss_in(" ".join(str(s) for s in spans))


def test_each_dossier_has_its_own_trace_with_a_span_per_stage(tmp_path: Path, make_remote) -> None:
    from sqlalchemy import create_engine, select

    from piis_bridge.observability.tracing import dossier_trace_id
    from piis_bridge.pipeline.models import Effect, WorkItem

    summary, spans = _traced_run(tmp_path, make_remote)
    engine = create_engine(f"sqlite:///{tmp_path}/app.sqlite3")
    with engine.connect() as conn:
        items = dict(
            conn.execute(
                select(WorkItem.id, WorkItem.state).where(WorkItem.run_id == summary.run_id)
            ).all()
        )
        form_items = {
            i
            for (i,) in conn.execute(
                select(Effect.item_id).where(Effect.run_id == summary.run_id, Effect.kind == "form")
            )
        }
    engine.dispose()
    assert len(items) == 60 and form_items

    dossier = [s for s in spans if s.name.startswith("dossier ")]
    by_trace: dict[str, list[Any]] = {}
    for span in dossier:
        by_trace.setdefault(span.trace_id.hex(), []).append(span)
    # one trace per record of the run, named by the bridge's item number, apart from the run's trace
    assert set(by_trace) == {dossier_trace_id(summary.run_id, i) for i in items}
    assert summary.run_id not in by_trace
    run_span_ids = {s.span_id for s in spans if s.trace_id.hex() == summary.run_id}
    for item_id, state in items.items():
        trace = by_trace[dossier_trace_id(summary.run_id, item_id)]
        roots = [s for s in trace if s.name == "dossier process"]
        assert len(roots) == 1, (item_id, [s.name for s in trace])
        root = roots[0]
        assert not root.parent_span_id
        assert _attributes(root)["piis.outcome"] == state
        assert _attributes(root)["piis.item"] == item_id
        # every later stage is a child of the dossier's root, written by another task
        for span in trace:
            if span is not root:
                assert span.parent_span_id == root.span_id
            assert span.links and all(link.span_id in run_span_ids for link in span.links)
        stages = {s.name for s in trace}
        if item_id in form_items:
            assert {"dossier submit", "dossier push"} <= stages, stages
        else:
            assert "dossier submit" not in stages
    # the operator's way in: `monitor trace RUN --cpas C --record R` names the dossier's trace
    from tests.observability.test_health import run_cli

    record_id = "D000040"  # quarantined at map (bad NISS checksum): the case an operator looks into
    shown = run_cli(
        tmp_path, "monitor", "trace", summary.run_id, "--cpas", "gent", "--record", record_id
    )
    assert shown.returncode == 0, shown.stderr
    with engine.connect() as conn:
        item_id = conn.scalar(
            select(WorkItem.id).where(
                WorkItem.run_id == summary.run_id, WorkItem.record_id == record_id
            )
        )
    assert dossier_trace_id(summary.run_id, item_id) in shown.stdout
    assert record_id not in shown.stdout + shown.stderr
    assert run_cli(tmp_path, "monitor", "trace", summary.run_id).stdout.split() == [
        "run",
        "trace",
        summary.run_id,
    ]
    missing = run_cli(
        tmp_path, "monitor", "trace", summary.run_id, "--cpas", "gent", "--record", "nope"
    )
    assert missing.returncode == 1 and "was not part of run" in missing.stderr
    assert run_cli(tmp_path, "monitor", "trace", "0" * 32).returncode == 1
    engine.dispose()
    answers = {_attributes(s).get("piis.answer") for s in dossier if s.name == "dossier submit"}
    assert answers == {"ACCEPTED"}, answers  # the pipetest federal side accepts every form


def test_dossier_traces_can_be_turned_off(tmp_path: Path, make_remote) -> None:
    summary, spans = _traced_run(tmp_path, make_remote, dossiers=False)
    assert spans and not [s for s in spans if s.name.startswith("dossier ")]
    assert {s.trace_id.hex() for s in spans} == {summary.run_id}


def test_tracing_is_off_by_default(tmp_path: Path) -> None:
    from piis_bridge.observability import tracing
    from tests.observability.conftest import settings_for

    assert settings_for(tmp_path).monitoring.tracing_endpoint is None
    assert tracing.configure(settings_for(tmp_path)) is False and not tracing.enabled()
