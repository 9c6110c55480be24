"""Open-loop, constant-arrival-rate HTTP/1.1 load generator on raw asyncio streams.

Request ``i`` of a step is due at ``t0 + i / rate``, whatever happened to earlier requests
(open loop: a slow server makes requests queue instead of slowing the generator down, so
queueing shows in the latency). Latency is measured from the *due* time, so a request that
waits for a free connection or for the generator itself is charged that wait (no
coordinated omission); ``lag`` records how late the generator actually sent each request,
as a health check of the generator. Timers have ~1 ms resolution, so at 800 RPS two
requests may leave in the same millisecond, never a burst of dozens.

A small HTTP/1.1 client (keep-alive, Content-Length and chunked bodies) keeps the client's
CPU per request around 0.1 ms, so one core can drive the simulator and the generator at
800 RPS. For streams, TTFT is the time from the due time to the first SSE event whose
delta carries non-empty ``content``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CONTENT = re.compile(rb'"content":\s*"[^"]')
READ_LIMIT = 1 << 22


@dataclass(frozen=True, slots=True)
class Step:
    """One constant-rate step: ``rate`` requests per second for ``duration_s`` after ``warmup_s``."""

    rate: float
    duration_s: float
    warmup_s: float = 1.0
    max_requests: int = 8000
    timeout_s: float = 10.0
    max_connections: int = 1024


@dataclass(slots=True)
class Sample:
    """What one request saw; ``status`` 0 means a timeout or a connection error."""

    due: float
    latency_ms: float = float("nan")
    ttft_ms: float = float("nan")
    lag_ms: float = 0.0
    status: int = 0
    done_at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go: an URL, extra headers, and ``bodies(i)`` -> the JSON body of request ``i``."""

    url: str
    bodies: Callable[[int], bytes]
    headers: Sequence[tuple[str, str]] = ()
    keep_headers: Sequence[str] = ("x-triage-cache", "x-triage-tier")


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class _Pool:
    """Keep-alive connections to one host: an idle stack, and at most ``limit`` in all."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Connection] = []
        self.slots = asyncio.Semaphore(limit)

    async def acquire(self) -> _Connection:
        await self.slots.acquire()
        if self.idle:
            return self.idle.pop()
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, limit=READ_LIMIT)
        except OSError:
            self.slots.release()
            raise
        return _Connection(reader, writer)

    def release(self, conn: _Connection, reusable: bool) -> None:
        if reusable:
            self.idle.append(conn)
        else:
            conn.close()
        self.slots.release()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def _request_head(target: Target, body: bytes) -> bytes:
    parts = urlsplit(target.url)
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Accept: */*",
    ]
    lines += [f"{k}: {v}" for k, v in target.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes, keep: Sequence[str]) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, {
        k: v for k, v in headers.items() if k in keep or k in ("content-length", "transfer-encoding", "connection")
    }


async def _read_body(conn: _Connection, headers: dict[str, str], sample: Sample) -> None:
    reader = conn.reader
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
        return
    if headers.get("transfer-encoding", "").lower() != "chunked":
        await reader.read()  # close-delimited
        return
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return
        data = await reader.readexactly(size + 2)
        if sample.ttft_ms != sample.ttft_ms and CONTENT.search(data):  # NaN: first content not seen yet
            sample.ttft_ms = (time.perf_counter() - sample.due) * 1000


async def _one(pool: _Pool, target: Target, head: bytes, body: bytes, sample: Sample) -> None:
    conn = await pool.acquire()
    reusable = False
    try:
        sample.lag_ms = (time.perf_counter() - sample.due) * 1000
        conn.writer.write(head + body)
        raw = await conn.reader.readuntil(b"\r\n\r\n")
        sample.status, headers = _parse_head(raw, target.keep_headers)
        await _read_body(conn, headers, sample)
        sample.done_at = time.perf_counter()
        sample.latency_ms = (sample.done_at - sample.due) * 1000
        sample.headers = {k: headers[k] for k in target.keep_headers if k in headers}
        reusable = headers.get("connection", "").lower() != "close"
    finally:
        pool.release(conn, reusable)


async def _guarded(pool: _Pool, target: Target, index: int, sample: Sample, timeout_s: float) -> None:
    body = target.bodies(index)
    try:
        await asyncio.wait_for(_one(pool, target, _request_head(target, body), body, sample), timeout_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        if sample.done_at == 0.0:  # no complete response: a timeout or a broken connection
            sample.status = 0


Event = tuple[float, "_Pool", Target, int, Sample]  # due, pool, target, request index, its sample


async def _fire(events: list[Event], timeout_s: float) -> None:
    """Start each event's request at its due time (events sorted by due), then wait for all of them."""
    tasks: list[asyncio.Task[None]] = []
    for due, pool, target, index, sample in events:
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_guarded(pool, target, index, sample, timeout_s)))
    if tasks:
        await asyncio.wait(tasks, timeout=timeout_s + 5)
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)


async def _schedule(
    pool: _Pool, target: Target, rate: float, count: int, start_index: int, timeout_s: float
) -> list[Sample]:
    t0 = time.perf_counter() + 0.01
    samples = [Sample(due=t0 + i / rate) for i in range(count)]
    await _fire([(s.due, pool, target, start_index + i, s) for i, s in enumerate(samples)], timeout_s)
    return samples


async def run_step(target: Target, step: Step) -> tuple[list[Sample], float, int]:
    """Warm up, then run ``step``; returns the measured samples, the window (first due to last
    successful response, in seconds) and the number of requests sent, warm-up included."""
    parts = urlsplit(target.url)
    pool = _Pool(parts.hostname or "127.0.0.1", parts.port or 80, step.max_connections)
    try:
        warm = max(1, min(int(step.rate * step.warmup_s), step.max_requests))
        await _schedule(pool, target, step.rate, warm, 0, step.timeout_s)
        count = max(1, min(int(step.rate * step.duration_s), step.max_requests))
        samples = await _schedule(pool, target, step.rate, count, warm, step.timeout_s)
    finally:
        pool.close()
    done = [s.done_at for s in samples if s.status == 200]
    window = (max(done) - samples[0].due) if done else float("nan")
    return samples, window, warm + count


@dataclass(frozen=True, slots=True)
class Paired:
    """A paired step's samples: ``gateway[i]`` and, for every ``stride``-th request, ``direct[i]`` (else None)."""

    gateway: list[Sample]
    direct: list[Sample | None]
    window_s: float
    sent: int


def _paired_events(
    pools: tuple[_Pool, _Pool], targets: tuple[Target, Target], rate: float, count: int, start: int, stride: int
) -> tuple[list[Event], list[Sample], list[Sample | None]]:
    """Request ``i`` through the gateway at ``t0 + i/rate``; every ``stride``-th also straight to the
    simulator half an interval later, with the same body (the same index), so the two are a pair."""
    t0 = time.perf_counter() + 0.05
    events: list[Event] = []
    gateway: list[Sample] = []
    direct: list[Sample | None] = []
    for i in range(count):
        gateway.append(Sample(due=t0 + i / rate))
        events.append((gateway[-1].due, pools[0], targets[0], start + i, gateway[-1]))
        probe = Sample(due=t0 + (i + 0.5) / rate) if i % stride == 0 else None
        direct.append(probe)
        if probe is not None:
            events.append((probe.due, pools[1], targets[1], start + i, probe))
    return events, gateway, direct


async def run_paired(gateway: Target, direct: Target, step: Step, stride: int = 1) -> Paired:
    """Warm up, then run ``step`` through ``gateway`` with paired direct requests on the same schedule.

    The gateway sees exactly ``step.rate``; the simulator ``rate * (1 + 1/stride)`` in all."""
    pools = tuple(
        _Pool(urlsplit(t.url).hostname or "127.0.0.1", urlsplit(t.url).port or 80, step.max_connections)
        for t in (gateway, direct)
    )
    pair = (pools[0], pools[1])
    try:
        warm = max(1, min(int(step.rate * step.warmup_s), step.max_requests))
        events, _, _ = _paired_events(pair, (gateway, direct), step.rate, warm, 0, stride)
        await _fire(events, step.timeout_s)
        count = max(1, min(int(step.rate * step.duration_s), step.max_requests))
        events, through, probes = _paired_events(pair, (gateway, direct), step.rate, count, warm, stride)
        await _fire(events, step.timeout_s)
    finally:
        for pool in pools:
            pool.close()
    done = [s.done_at for s in through if s.status == 200]
    window = (max(done) - through[0].due) if done else float("nan")
    return Paired(through, probes, window, warm + count)


async def run_closed(
    target: Target, connections: int, duration_s: float, warmup_s: float = 1.0
) -> tuple[list[Sample], float]:
    """Closed loop: ``connections`` clients, each sending its next request when the last one is answered,
    for ``warmup_s`` (not kept) then ``duration_s``; latency from each request's send. Returns the
    measured samples and the measured window in seconds."""
    parts = urlsplit(target.url)
    pool = _Pool(parts.hostname or "127.0.0.1", parts.port or 80, connections)
    counter = iter(range(1 << 30))
    samples: list[Sample] = []
    start = time.perf_counter()
    measure_from, end = start + warmup_s, start + warmup_s + duration_s

    async def client() -> None:
        while (now := time.perf_counter()) < end:
            sample = Sample(due=now)
            await _guarded(pool, target, next(counter), sample, 10.0)
            if now >= measure_from:
                samples.append(sample)

    try:
        await asyncio.gather(*(client() for _ in range(connections)))
    finally:
        pool.close()
    return samples, max(time.perf_counter(), end) - measure_from
