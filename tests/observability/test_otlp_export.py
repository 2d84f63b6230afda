"""``OTEL_EXPORTER_OTLP_ENDPOINT`` set: a real ``legato dev`` process exports its spans over
OTLP/HTTP to a collector on loopback (here a small HTTP server decoding the protobuf bodies
with the OpenTelemetry protocol package): the execution's span and its step attempts', linked,
and its JSON log lines carry the same trace id."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from legato.core import trace_context
from tests.conftest import Waiter
from tests.processes import Processes

LEGATO = [sys.executable, "-m", "legato.cli"]


class Collector(ThreadingHTTPServer):
    spans: list[Span]


class _Handler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    self.server.spans.extend(scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


def _json_lines(text: str) -> list[dict[str, Any]]:
    """The log's JSON lines (stdout, the execution's table, shares the file)."""
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "level" in value:
            found.append(value)
    return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector(("127.0.0.1", 0), _Handler)
    server.spans = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_legato_dev_exports_spans_over_otlp(
    tmp_path: Path, processes: Processes, collector: Collector, wait_for: Waiter
) -> None:
    host, port = collector.server_address[:2]
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{host!s}:{port}",
        "OTEL_BSP_SCHEDULE_DELAY": "50",  # export within 50 ms, not the default 5 s
        "LEGATO_DB": f"sqlite:///{tmp_path / 'dev.db'}",
        "LEGATO_LOG_FORMAT": "json",
    }
    args = [*LEGATO, "dev", "legato.examples.orders", "--example", "--no-http"]
    dev = processes.spawn("dev", args, env=env)

    async def exported() -> bool:
        if dev.poll() is not None:
            pytest.fail(f"legato dev exited:\n{processes.log_of(dev)}")
        return any(s.name == "execution checkout" for s in list(collector.spans))

    await wait_for(exported)
    dev.send_signal(signal.SIGINT)
    assert dev.wait(30) == 0, processes.log_of(dev)

    spans = list(collector.spans)
    (execution,) = [s for s in spans if s.name == "execution checkout"]
    steps = [s for s in spans if s.name.startswith("step ")]
    assert {s.name for s in steps} >= {"step reserve_stock", "step charge", "step ship"}
    for step in steps:
        assert step.trace_id == execution.trace_id
        assert step.parent_span_id == execution.span_id
    (started,) = [s for s in processes.started if s.proc is dev]
    lines = _json_lines(started.log.read_text())
    completed = [line for line in lines if line.get("event") == "execution.completed"]
    (done,) = completed
    assert bytes.fromhex(done["trace_id"]) == execution.trace_id
    assert execution.span_id == bytes.fromhex(trace_context.span_id(done["execution_id"]))
    assert any(line.get("event") == "traces.exporting" for line in lines)
