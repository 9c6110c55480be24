"""Every Prometheus metric, defined once, on a registry owned by the app (no globals).

Labels are bounded: profile and tier names come from the config (an unknown model is
``unknown``), models from the tiers, reasons and error kinds from fixed sets. Never a
prompt, a user or a key.

Under ``triage serve --workers N`` (``gateway/workers.py``) every worker defines these
metrics in its own process, and prometheus_client's multiprocess mode (the supervisor
sets ``PROMETHEUS_MULTIPROC_DIR`` before a worker imports it) keeps their values in
files there: ``view()`` is the registry to read, the sum over the workers (live and dead:
a counter never goes back when a worker is restarted), whichever worker serves the
scrape. Gauges are set, never incremented; each says how workers combine
(``multiprocess_mode``): ``livemostrecent`` for the states a scrape refreshes (the
freshest worker's reading), ``max`` for values from the config. ``worker_requests``
counts each worker's share (label ``worker``: 0 to N-1, bounded). With one worker (the
multiprocess variable unset) ``view()`` is the app's own registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
FAST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
SCORE_BUCKETS = tuple(i / 20 for i in range(1, 21))
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # set by the --workers supervisor for its workers
WORKER_ENV = "TRIAGE_WORKER"  # the worker's index (0 to N-1), set by the supervisor
FRESHEST: Final = "livemostrecent"  # a gauge a scrape refreshes: the latest reading of a live worker
BREAKER_VALUES: Mapping[str, int] = MappingProxyType({"closed": 0, "half_open": 1, "open": 2})


class Metrics:
    """The gateway's metrics on one registry."""

    def __init__(
        self, registry: CollectorRegistry | None = None, worker: str = "0", multiprocess_dir: str | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = multiprocess_dir
        r = self.registry
        self.worker_requests = Counter(
            "triage_worker_requests",
            "Requests answered by each worker process (--workers; 0 without).",
            ["worker"],
            registry=r,
        )
        self.served = self.worker_requests.labels(worker)
        self.requests = Counter(
            "triage_requests",
            "Requests answered, by API endpoint and outcome.",
            ["profile", "tier", "status_class", "cache", "endpoint"],
            registry=r,
        )
        self.request_duration = Histogram(
            "triage_request_duration_seconds",
            "Whole request, first byte in to last byte out.",
            ["profile", "stream"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "triage_gateway_overhead_seconds",
            "Request duration minus time spent waiting on upstreams.",
            ["stream"],
            buckets=(*FAST_BUCKETS, 0.5, 1.0),
            registry=r,
        )
        self.ttft = Histogram(
            "triage_time_to_first_token_seconds",
            "Streams: request start to the first event sent.",
            ["tier"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_latency = Histogram(
            "triage_upstream_latency_seconds",
            "Time spent on upstream calls per request (all attempts).",
            ["tier"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.router_score = Histogram(
            "triage_router_score", "Router scores, P(frontier needed).", ["router"], buckets=SCORE_BUCKETS, registry=r
        )
        self.router_ood = Counter(
            "triage_router_ood",
            "Routed requests whose prompt was out of the router's training distribution.",
            ["profile", "router"],
            registry=r,
        )
        self.router_latency = Histogram(
            "triage_router_latency_seconds", "Time to score one request.", ["router"], buckets=FAST_BUCKETS, registry=r
        )
        self.decisions = Counter(
            "triage_route_decisions",
            "Route decisions by chosen tier and reason.",
            ["profile", "tier", "reason"],
            registry=r,
        )
        self.tokens = Counter(
            "triage_tokens", "Tokens by model and direction (input, output).", ["model", "direction"], registry=r
        )
        self.cost = Counter("triage_cost_usd", "Spend in USD, priced per tier.", ["tier", "model"], registry=r)
        self.savings = Counter(
            "triage_savings_usd",
            "USD saved against sending the same tokens to the frontier tier (tier=cache for cache hits).",
            ["tier"],
            registry=r,
        )
        self.frontier_target = Gauge(
            "triage_frontier_share_target",
            "Each profile's configured frontier share.",
            ["profile"],
            registry=r,
            multiprocess_mode="max",
        )
        self.cache_requests = Counter(
            "triage_cache_requests", "Cache outcomes (hit, semantic_hit, miss, bypass).", ["result"], registry=r
        )
        self.cache_saved = Counter(
            "triage_cache_saved_usd", "USD that cache hits saved (the cost of the original call).", registry=r
        )
        self.redis_up = Gauge(
            "triage_redis_up",
            "1 while Redis answers, 0 while its stores run in their failure modes (absent without Redis).",
            registry=r,
            multiprocess_mode=FRESHEST,
        )
        self.cache_up = Gauge(
            "triage_cache_up",
            "1 if the cache store answers, 0 while it is bypassed.",
            ["backend"],
            registry=r,
            multiprocess_mode=FRESHEST,
        )
        self.retries = Counter("triage_upstream_retries", "Retried upstream attempts.", ["tier"], registry=r)
        self.fallbacks = Counter(
            "triage_fallbacks",
            "Requests answered by another tier than the decided one.",
            ["from_tier", "to_tier"],
            registry=r,
        )
        self.upstream_errors = Counter(
            "triage_upstream_errors", "Failed upstream attempts by kind.", ["tier", "kind"], registry=r
        )
        self.breaker_state = Gauge(
            "triage_breaker_state",
            "Circuit breaker per tier: 0 closed, 1 half-open, 2 open.",
            ["tier"],
            registry=r,
            multiprocess_mode=FRESHEST,
        )
        self.budget_spent = Gauge(
            "triage_budget_spent_usd",
            "Spend in the budget's current window.",
            ["scope"],
            registry=r,
            multiprocess_mode=FRESHEST,
        )
        self.budget_remaining = Gauge(
            "triage_budget_remaining_usd",
            "Budget left in the current window.",
            ["scope"],
            registry=r,
            multiprocess_mode=FRESHEST,
        )
        self.stream_interruptions = Counter(
            "triage_stream_interruptions", "Streams that broke after their first byte.", ["tier"], registry=r
        )

    def view(self) -> CollectorRegistry:
        """The registry to expose: every worker's samples summed (multiprocess mode), else this one's."""
        if self.multiprocess_dir is None:
            return self.registry
        from prometheus_client.multiprocess import MultiProcessCollector

        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return merged

    def set_health(self, states: Mapping[str, str]) -> None:
        for tier, state in states.items():
            self.breaker_state.labels(tier).set(BREAKER_VALUES[state])

    def set_targets(self, shares: Iterable[tuple[str, float]]) -> None:
        for profile, share in shares:
            self.frontier_target.labels(profile).set(share)


def worker_metrics(environ: Mapping[str, str]) -> Metrics:
    """This process's metrics: under ``--workers``, its worker index and the shared multiprocess directory."""
    return Metrics(worker=environ.get(WORKER_ENV, "0"), multiprocess_dir=environ.get(MULTIPROC_ENV) or None)
