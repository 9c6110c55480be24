"""The tracing seam: a ``Tracer`` makes one root span per request; spans make their children.

Off (no ``tracing`` section), every span is ``NOOP_SPAN`` and nothing of OpenTelemetry is
imported; on, ``gateway.observe.otel`` implements both protocols with the OpenTelemetry SDK.
The request path holds spans explicitly (the lifecycle's root, ``CallTrace.span`` for the
upstream attempts); only a transport's ``Tracer.inject`` reads the span that is current,
the attempt a ``child`` block opened, to send its ``traceparent`` upstream.
This module imports nothing of ours, so every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol

Attribute = str | int | float | bool


class Span(Protocol):
    def set(self, key: str, value: Attribute | None) -> None:
        """Set one attribute (``None``: not set)."""

    def fail(self, kind: str) -> None:
        """Mark the span failed (status ERROR) with ``error.type`` = ``kind``."""

    def child(self, name: str, client: bool = False) -> AbstractContextManager[Span]:
        """A child span, current while the block runs; ended (ERROR on an exception) when it exits."""

    def end(self) -> None: ...


class Tracer(Protocol):
    def request(self, name: str, carrier: Mapping[str, str]) -> Span:
        """A request's root span, continuing the client's ``traceparent`` if ``carrier`` has one."""

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """Add the current span's ``traceparent`` (and ``tracestate``) to outgoing ``headers``."""

    def shutdown(self) -> None:
        """Export what is buffered, then stop (blocking: call it off the event loop)."""


class NoopSpan:
    """A span that records nothing; its children are itself."""

    __slots__ = ()

    def set(self, key: str, value: Attribute | None) -> None:
        return None

    def fail(self, kind: str) -> None:
        return None

    def child(self, name: str, client: bool = False) -> NoopSpan:
        return self

    def end(self) -> None:
        return None

    def __enter__(self) -> NoopSpan:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None


class NoopTracer:
    """Tracing off."""

    __slots__ = ()

    def request(self, name: str, carrier: Mapping[str, str]) -> Span:
        return NOOP_SPAN

    def inject(self, headers: MutableMapping[str, str]) -> None:
        return None

    def shutdown(self) -> None:
        return None


NOOP_SPAN = NoopSpan()  # stateless: safe to share
NOOP_TRACER = NoopTracer()
