"""A small OTLP/HTTP traces receiver on a loopback port, for the tracing tests and benchmark.

It decodes each export (``ExportTraceServiceRequest``, protobuf, optionally gzipped) with
``opentelemetry-proto`` (the ``tracing`` extra) and keeps the spans, flattened, in arrival
order; ``keep=False`` only counts them. It answers like a collector: 200 and an empty
``ExportTraceServiceResponse``. Run alone (``python -m gateway.local.otlp_receiver``), it prints its URL, then its
counts every second.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    trace_id: str  # hex, as in a traceparent
    span_id: str
    parent_span_id: str  # "" for a root
    name: str
    kind: int  # the OTLP enum: 1 internal, 2 server, 3 client
    status: int  # 0 unset, 1 ok, 2 error
    attributes: dict[str, Value] = field(default_factory=dict)
    start_ns: int = 0
    end_ns: int = 0
    service: str = ""


def _value(any_value: Any) -> Value:
    """A scalar attribute as it is; anything else (arrays, maps, bytes) as its text form."""
    kind = any_value.WhichOneof("value")
    value = getattr(any_value, kind) if kind is not None else ""
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def decode(body: bytes) -> list[ReceivedSpan]:
    """The spans of one OTLP/HTTP protobuf export."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=span.kind,
                        status=span.status.code,
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        service=str(resource.get("service.name", "")),
                    )
                )
    return spans


class OtlpReceiver:
    """Receives OTLP/HTTP trace exports on ``url`` while running (a context manager)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self.count = 0
        self.exports = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                if receiver.keep:
                    receiver.add(decode(body))
                else:
                    receiver.tally(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")  # an empty ExportTraceServiceResponse
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            self.exports += 1
            self.count += len(spans)
            self._spans.extend(spans)

    def tally(self, body: bytes) -> None:
        """Count an export's spans without keeping them (parsed in C: cheap under load)."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        count = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
        with self._lock:
            self.exports += 1
            self.count += count

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def wait_for(self, done: Callable[[list[ReceivedSpan]], bool], timeout_s: float = 10.0) -> list[ReceivedSpan]:
        """The spans once ``done(spans)`` holds; TimeoutError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            spans = self.spans()
            if done(spans):
                return spans
            if time.monotonic() >= deadline:
                raise TimeoutError(f"after {timeout_s}s the receiver holds {len(spans)} spans")
            time.sleep(0.05)

    def __enter__(self) -> OtlpReceiver:
        threading.Thread(target=self._server.serve_forever, name="otlp-receiver", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def receiving(keep: bool = True) -> Iterator[OtlpReceiver]:
    with OtlpReceiver(keep) as receiver:
        yield receiver


if __name__ == "__main__":
    with receiving(keep=False) as running:
        print(running.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
                print(f"{running.exports} exports, {running.count} spans", flush=True)
