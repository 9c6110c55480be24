"""The upstream seam: one interface, two transports (``relay`` and ``litellm``).

A transport sends one request to one tier and either returns the completion or
raises ``UpstreamError``. Retries, deadlines and fallbacks live one level up, in
``gateway.upstream.caller``; transports never retry.

Error kinds (litellm's exception types were the model)::

    UpstreamError
     ├─ rate_limit     429                      retryable, honours Retry-After
     ├─ server         5xx                      retryable
     ├─ timeout        no answer in time        retryable
     ├─ connection     refused, reset, closed   retryable
     ├─ bad_response   200 that is not valid    retryable
     └─ client         other 4xx                passed through to the client, no retry
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from gateway.settings import Price, Tier

Api = Literal["chat", "completions", "embeddings", "responses"]
"""Which OpenAI API a call speaks: chat completions, legacy text completions, embeddings, or Responses."""


# the events that end a Responses API stream (it sends no [DONE])
RESPONSES_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

_PATHS: Mapping[str, str] = MappingProxyType(
    {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings", "responses": "/responses"}
)


def api_path(api: Api) -> str:
    """The path of an API under a tier's ``api_base``."""
    return _PATHS[api]


ErrorKind = Literal["rate_limit", "server", "timeout", "connection", "bad_response", "client"]
RETRYABLE: frozenset[str] = frozenset({"rate_limit", "server", "timeout", "connection", "bad_response"})


class UpstreamError(Exception):
    """One failed call to one tier, classified."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        body: Mapping[str, Any] | None = None,
        maybe_charged: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.body = body
        # the request may have reached the model (and been billed) before this failure
        self.maybe_charged = (
            kind in ("timeout", "connection", "bad_response") if maybe_charged is None else maybe_charged
        )

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __repr__(self) -> str:
        return f"UpstreamError({self.kind!r}, status={self.status}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class Target:
    """A tier made ready to call: its config, its resolved key and its prices."""

    name: str
    tier: Tier
    price: Price
    api_key: str | None = field(default=None, repr=False)
    capabilities: frozenset[str] = frozenset({"tools", "images", "json_schema"})  # resolved at start-up

    @property
    def headers(self) -> dict[str, str]:
        headers = dict(self.tier.extra_headers)
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole (non-streamed) completion: the parsed body and, when relayed, its bytes."""

    data: dict[str, Any]
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """One SSE event of a stream: its JSON text as received and that JSON parsed."""

    raw: bytes
    data: dict[str, Any]


class Transport(Protocol):
    """Sends requests to tiers. ``payload`` is the client's JSON body (model excluded)."""

    async def complete(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> Completion:
        """One non-streamed call."""
        ...

    def stream(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> AsyncIterator[Chunk]:
        """One streamed call: yields each SSE ``data:`` event, ``[DONE]`` excluded.

        Raises ``UpstreamError`` if the upstream fails, including a stream that ends
        before ``[DONE]`` and an event that is not valid JSON.
        """
        ...

    async def aclose(self) -> None:
        """Close connection pools."""
        ...


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header given in seconds; HTTP dates are ignored."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0)


def error_for_status(
    status: int, message: str, retry_after: float | None, body: Mapping[str, Any] | None
) -> UpstreamError:
    """Classify an HTTP error status from an upstream."""
    if status == 429:
        return UpstreamError("rate_limit", message, status=status, retry_after=retry_after, body=body)
    if status >= 500 or status == 408:
        return UpstreamError("server", message, status=status, retry_after=retry_after, body=body)
    return UpstreamError("client", message, status=status, body=body)
