"""Periodic scrapes of every replica's ``/metrics`` and a reset-aware increase of a counter.

Each replica is scraped directly (not through HAProxy) every ``interval_s``. A replica's
counters start again from zero when its process restarts, and a SIGKILLed process's last
increments vanish with it; so the increase of ``triage_requests_total`` is computed the
way Prometheus's ``increase()`` treats resets, without its extrapolation: per replica and
label set, a *generation* of the series lasts while its ``triage_requests_created``
timestamp (prometheus_client's per-series creation time) stays the same and its value
does not drop; each generation adds its last value minus its baseline (0 for a series
created after the soak began, else its first scraped value).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import aiohttp

COUNTER = "triage_requests_total"
CREATED = "triage_requests_created"


@dataclass(slots=True)
class Generation:
    created: float
    baseline: float
    last: float


@dataclass
class Scrapes:
    """Everything scraped: the counter's generations, scrape times and ``triage_redis_up`` per replica."""

    started: float
    current: dict[tuple[str, str], Generation] = field(default_factory=dict)
    closed: dict[str, float] = field(default_factory=dict)  # per label set: increase of ended generations
    times: dict[str, list[float]] = field(default_factory=dict)  # successful scrapes (send time) per replica
    failures: dict[str, int] = field(default_factory=dict)
    redis_up: list[tuple[float, str, float]] = field(default_factory=list)

    def add(self, replica: str, at: float, text: str) -> None:
        totals, created = _parse(text)
        for labels, value in totals.items():
            self._sample(replica, labels, value, created.get(labels, 0.0))
        for line in text.splitlines():
            if line.startswith("triage_redis_up "):
                self.redis_up.append((at, replica, float(line.split()[-1])))
        self.times.setdefault(replica, []).append(at)

    def _sample(self, replica: str, labels: str, value: float, created: float) -> None:
        key = (replica, labels)
        generation = self.current.get(key)
        if generation is not None and generation.created == created and value >= generation.last:
            generation.last = value
            return
        if generation is not None:  # a reset: a new process (new creation time) or a drop
            self.closed[labels] = self.closed.get(labels, 0.0) + generation.last - generation.baseline
        fresh = created >= self.started or generation is not None
        self.current[key] = Generation(created, 0.0 if fresh else value, value)

    def increase(self) -> dict[str, float]:
        """The counter's increase since the soak began, per label set, summed over replicas."""
        total = dict(self.closed)
        for (_replica, labels), generation in self.current.items():
            total[labels] = total.get(labels, 0.0) + generation.last - generation.baseline
        return total

    def last_scrape_before(self, replica: str, moment: float) -> float:
        """The send time of the replica's last successful scrape before ``moment`` (the soak's start if none)."""
        return max((t for t in self.times.get(replica, []) if t <= moment), default=self.started)


def _parse(text: str) -> tuple[dict[str, float], dict[str, float]]:
    totals: dict[str, float] = {}
    created: dict[str, float] = {}
    for line in text.splitlines():
        for name, into in ((COUNTER, totals), (CREATED, created)):
            if line.startswith(name + "{"):
                labels, _, value = line[len(name) :].rpartition(" ")
                into[labels] = float(value)
    return totals, created


def by_label(increase: dict[str, float], label: str) -> dict[str, float]:
    """Sum an ``increase()`` result by one label (``status_class``, ``endpoint``, ...)."""
    out: dict[str, float] = {}
    for labels, value in increase.items():
        fields = dict(part.split("=", 1) for part in labels.strip("{}").split(",") if "=" in part)
        name = fields.get(label, '""').strip('"')
        out[name] = out.get(name, 0.0) + value
    return out


class Scraper:
    """Scrapes ``replicas`` (name -> base URL) every ``interval_s`` until ``stop`` is set."""

    def __init__(self, replicas: dict[str, str], interval_s: float = 2.0) -> None:
        self.replicas = replicas
        self.interval_s = interval_s
        self.scrapes = Scrapes(started=time.time())

    async def run(self, stop: asyncio.Event) -> Scrapes:
        timeout = aiohttp.ClientTimeout(total=max(self.interval_s - 0.2, 0.5))
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not stop.is_set():
                await self.scrape_all(session)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
            await self.scrape_all(session)  # the final state, after the last answer
        return self.scrapes

    async def scrape_all(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(*(self._one(session, name, url) for name, url in self.replicas.items()))

    async def _one(self, session: aiohttp.ClientSession, name: str, url: str) -> None:
        at = time.time()
        try:
            async with session.get(f"{url}/metrics") as response:
                text = await response.text() if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            text = None
        if text is None:
            self.scrapes.failures[name] = self.scrapes.failures.get(name, 0) + 1
            return
        self.scrapes.add(name, at, text)
