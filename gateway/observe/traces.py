"""The tracer a config asks for: OpenTelemetry when ``tracing`` is set (imported only then), else none."""

from __future__ import annotations

from gateway.settings import Settings
from gateway.tracing import NOOP_TRACER, Tracer


def build_tracer(settings: Settings) -> Tracer:
    if settings.tracing is None:
        return NOOP_TRACER
    from gateway.observe.otel import OtelTracer

    return OtelTracer(settings.tracing)
