"""The ``tracing`` section: OpenTelemetry traces exported over OTLP/HTTP (off without it).

``tracing: {otlp_endpoint: http://collector:4318/v1/traces}`` turns it on; see
``gateway.observe.tracing`` for the spans and README, "Tracing", for what they carry.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.config_checks import http_url


class TracingSettings(BaseModel):
    """``tracing``: one trace per request, batched to an OTLP/HTTP traces endpoint."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    otlp_endpoint: str  # the full traces URL, e.g. http://collector:4318/v1/traces
    service_name: str = Field("triage", min_length=1)
    sample_ratio: float = Field(1.0, ge=0.0, le=1.0)  # share of new traces kept (a client's sampled flag wins)
    # small, frequent batches: encoding a span is Python work in the exporter's thread, and long
    # bursts of it hold the GIL from the event loop (measured: p99 2.2 s at 200 RPS with 1 s batches)
    export_interval_ms: int = Field(100, ge=1)  # the batch processor's schedule delay
    export_batch_size: int = Field(128, ge=1)  # at most this many spans per export request
    export_timeout_s: float = Field(10.0, gt=0)  # per export request to the endpoint

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)
