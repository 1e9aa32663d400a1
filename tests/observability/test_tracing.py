"""OpenTelemetry: a real embedded run exports its spans over OTLP/HTTP to a receiver on loopback; the
run id is the trace id, remote calls are children of their stage, and no attribute carries personal data."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.observability.test_alerts import _valid_niss_in
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


def test_a_run_is_one_trace_with_stage_and_remote_spans(tmp_path: Path, make_remote) -> None:
    receiver = OtlpReceiver()
    try:
        remote = make_remote(60, bad_every=20)
        base = make_settings(tmp_path, remote.url)
        settings = base.model_copy(
            update={
                "monitoring": base.monitoring.model_copy(update={"tracing_endpoint": receiver.url})
            }
        )
        options = PipelineOptions(
            page_size=50, chunk_size=25, submit_batch=25, broker_dir=tmp_path / "broker"
        )
        summary = run_nightly(settings, options=options, extra_plugins=[PLUGIN], timeout=90)
        assert summary.status == "finished", summary
    finally:
        receiver.close()
    spans = receiver.spans
    names = {s.name for s in spans}
    assert {
        "piis.pipeline.pull",
        "piis.pipeline.process",
        "piis.pipeline.submit",
        "piis.pipeline.push",
    } <= names
    assert {"remote case_fetch_changes", "remote federal_submit", "remote case_push"} <= names
    assert {s.trace_id.hex() for s in spans} == {summary.run_id}
    by_id = {s.span_id: s for s in spans}
    fetch = next(s for s in spans if s.name == "remote case_fetch_changes")
    assert by_id[fetch.parent_span_id].name == "piis.pipeline.pull"
    pull = by_id[fetch.parent_span_id]
    attributes = {a.key: a.value.string_value for a in pull.attributes}
    assert attributes == {"piis.stage": "pull", "piis.run_id": summary.run_id, "piis.cpas": "gent"}
    keys = {a.key for s in spans for a in s.attributes}
    assert keys <= {"piis.stage", "piis.run_id", "piis.cpas", "piis.role", "piis.hook"}
    assert not _valid_niss_in(" ".join(str(s) for s in spans))


def test_tracing_is_off_by_default(tmp_path: Path) -> None:
    from piis_bridge.observability import tracing
    from tests.observability.conftest import settings_for

    assert settings_for(tmp_path).monitoring.tracing_endpoint is None
    assert tracing.configure(settings_for(tmp_path)) is False and not tracing.enabled()
