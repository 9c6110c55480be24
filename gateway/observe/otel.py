"""The OpenTelemetry implementation of ``gateway.tracing``: imported only when ``tracing`` is set.

Spans go to a ``BatchSpanProcessor`` (exported off the event loop, in the SDK's worker
thread) and out over OTLP/HTTP protobuf to ``tracing.otlp_endpoint``. The provider is this
object's own, never OpenTelemetry's global one; the W3C trace-context propagator is too.
An exception leaving a ``child`` block marks the span ERROR with its class name only (an
exception's message may quote an upstream's reply).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.config_tracing import TracingSettings
from gateway.tracing import Attribute, Span


class OtelSpan:
    __slots__ = ("_failed", "_span", "_tracer")

    def __init__(self, span: trace.Span, tracer: trace.Tracer) -> None:
        self._span, self._tracer = span, tracer
        self._failed = False

    def set(self, key: str, value: Attribute | None) -> None:
        if value is not None:
            self._span.set_attribute(key, value)

    def fail(self, kind: str) -> None:
        self._failed = True
        self._span.set_attribute("error.type", kind)
        self._span.set_status(Status(StatusCode.ERROR, kind))

    @contextmanager
    def child(self, name: str, client: bool = False) -> Iterator[Span]:
        kind = SpanKind.CLIENT if client else SpanKind.INTERNAL
        parent = trace.set_span_in_context(self._span)
        span = self._tracer.start_span(name, context=parent, kind=kind)
        with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            child = OtelSpan(span, self._tracer)
            try:
                yield child
            except Exception as exc:
                if not child._failed:
                    child.fail(type(exc).__name__)
                raise

    def end(self) -> None:
        self._span.end()


class OtelTracer:
    """Traces exported over OTLP/HTTP; ``shutdown`` flushes what is buffered."""

    def __init__(self, settings: TracingSettings) -> None:
        resource = Resource.create({"service.name": settings.service_name})
        sampler = ParentBased(TraceIdRatioBased(settings.sample_ratio))
        self._provider = TracerProvider(resource=resource, sampler=sampler)
        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint, timeout=settings.export_timeout_s)
        self._provider.add_span_processor(
            BatchSpanProcessor(
                exporter,
                schedule_delay_millis=settings.export_interval_ms,
                max_export_batch_size=settings.export_batch_size,
                max_queue_size=max(2048, 16 * settings.export_batch_size),
            )
        )
        self._tracer = self._provider.get_tracer("triage")
        self._propagator = TraceContextTextMapPropagator()

    def request(self, name: str, carrier: Mapping[str, str]) -> Span:
        context = self._propagator.extract(carrier)
        return OtelSpan(self._tracer.start_span(name, context=context, kind=SpanKind.SERVER), self._tracer)

    def inject(self, headers: MutableMapping[str, str]) -> None:
        self._propagator.inject(headers)

    def shutdown(self) -> None:
        self._provider.shutdown()
