"""``wrk`` (Debian's package), the independent load client: its Lua request script and its report, parsed.

``wrk -t1 -c32 -d15s --latency -s script.lua URL`` is a closed loop: 32 connections, each sending its
next request as soon as the last is answered. The script POSTs the benchmark's JSON bodies in turn
(the same bytes as our own generator sends) with the given headers. ``parse`` reads the summary wrk
prints: requests, duration, requests/s, the latency distribution (50/75/90/99%), non-2xx responses
and socket errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)(us|ms|s|m)\s*$")
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+(\S+)\s*$")
_TOTAL = re.compile(r"^\s*(\d+) requests in (\S+),")
_RATE = re.compile(r"^Requests/sec:\s+(\d+(?:\.\d+)?)")
_NON2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def milliseconds(text: str) -> float:
    """wrk's ``812.00us`` / ``1.23ms`` / ``2.01s`` / ``1.00m`` -> milliseconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def _long_string(text: str) -> str:
    """``text`` as a Lua long string whose level does not occur inside it."""
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def script(path: str, bodies: Sequence[bytes], headers: Sequence[tuple[str, str]]) -> str:
    """A wrk Lua script POSTing ``bodies`` to ``path`` in turn, each with ``headers`` and JSON content type."""
    lines = ["local bodies = {"]
    lines += [f"  {_long_string(body.decode())}," for body in bodies]
    lines += ["}", 'local headers = {["Content-Type"] = "application/json"}']
    lines += [f"headers[ {_long_string(name)} ] = {_long_string(value)}" for name, value in headers]
    lines += [
        "local i = 0",
        "request = function()",
        "  i = i + 1",
        f"  return wrk.format('POST', {_long_string(path)}, headers, bodies[(i % #bodies) + 1])",
        "end",
    ]
    return "\n".join(lines) + "\n"


def parse(output: str) -> dict[str, Any]:
    """wrk's summary as numbers: requests, duration_s, rps, latency_p50/75/90/99_ms, non_2xx, socket_errors,
    errors (their sum). Raises ValueError when the summary is not there (wrk failed)."""
    out: dict[str, Any] = {"non_2xx": 0, "socket_errors": 0}
    for line in output.splitlines():
        if match := _PERCENTILE.match(line):
            out[f"latency_p{match[1]}_ms"] = milliseconds(match[2])
        elif match := _TOTAL.match(line):
            out["requests"], out["duration_s"] = int(match[1]), milliseconds(match[2]) / 1000
        elif match := _RATE.match(line):
            out["rps"] = float(match[1])
        elif match := _NON2XX.match(line):
            out["non_2xx"] = int(match[1])
        elif match := _SOCKET.match(line):
            out["socket_errors"] = sum(int(g) for g in match.groups())
    missing = [k for k in ("requests", "rps", "latency_p50_ms", "latency_p99_ms") if k not in out]
    if missing:
        raise ValueError(f"wrk output without {', '.join(missing)}: {output[-500:]!r}")
    out["errors"] = out["non_2xx"] + out["socket_errors"]
    return out
