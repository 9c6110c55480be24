"""What every POST endpoint does before its answer: read the JSON body and the fault header, and the faults that
happen instead of a response (error statuses, a hang, a reset before any byte)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from gateway.simulator.faults import FaultSpec, parse_header
from gateway.simulator.options import RequestError
from gateway.simulator.wire import Request, error_payload, json_response, reset_connection

TIMEOUT_FAULT_S = 300.0
EARLY_FAULTS = frozenset({"429", "500", "503", "timeout"})

_ERROR_FAULTS: Mapping[str, tuple[str, str, str | None]] = MappingProxyType(
    {
        "429": ("Rate limit reached for requests (simulated).", "rate_limit_error", "rate_limit_exceeded"),
        "500": ("The server had an error while processing your request (simulated).", "server_error", None),
        "503": ("The engine is currently overloaded, please try again later (simulated).", "server_error", None),
    }
)


def json_body(request: Request) -> Any:
    """The request's parsed JSON body; a RequestError (400) when it is not JSON."""
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        message = "We could not parse the JSON body of your request. The body must be valid JSON."
        raise RequestError(400, message) from None


def fault_specs(request: Request) -> tuple[FaultSpec, ...]:
    """The request's ``x-sim-fault`` specs; a RequestError (400) when the header is malformed."""
    try:
        return parse_header(request.headers.get("x-sim-fault", ""))
    except ValueError as exc:
        raise RequestError(400, f"Bad x-sim-fault header: {exc}") from None


def is_early(fault: FaultSpec | None, stream: bool) -> bool:
    """Whether ``fault`` replaces the response (a reset only does so for a non-streamed answer)."""
    return fault is not None and (fault.kind in EARLY_FAULTS or (fault.kind == "reset" and not stream))


async def early_fault(
    fault: FaultSpec, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keep: bool
) -> tuple[int, bool]:
    """Faults that happen instead of a response: error statuses, a hang, or a reset."""
    if fault.kind in _ERROR_FAULTS:
        message, error_type, code = _ERROR_FAULTS[fault.kind]
        status = int(fault.kind)
        extra = ((b"Retry-After", fault.retry_after.encode()),) if status == 429 else ()
        writer.write(json_response(status, error_payload(message, error_type, None, code), keep, extra))
        return status, keep
    if fault.kind == "reset":
        reset_connection(writer)
        return 0, False
    await _hang(reader)
    return 0, False


async def _hang(reader: asyncio.StreamReader) -> None:
    """Never answer: wait (discarding input) until the client goes away or TIMEOUT_FAULT_S passes."""
    try:
        async with asyncio.timeout(TIMEOUT_FAULT_S):
            while await reader.read(65536):
                pass
    except TimeoutError:
        pass
