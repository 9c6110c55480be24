"""Building the runtime objects from settings: transports, targets, routers, pipeline.

Everything here runs once, in ``lifespan`` (or in ``triage check-config``), never
at import time. Errors surface as ``ConfigError`` naming the field.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from gateway.cache.policy import CacheControl, ResponseCache
from gateway.cache.semantic import build_semantic_cache
from gateway.cache.store import build_cache
from gateway.observe.metrics import Metrics, worker_metrics
from gateway.observe.record import record
from gateway.observe.request_log import configure as configure_request_log
from gateway.observe.request_log import log_request
from gateway.observe.traces import build_tracer
from gateway.protocol.errors import Scrubber
from gateway.quality.loop import QualityLoop
from gateway.request.auth import Authenticator
from gateway.request.cost import resolve_capabilities, resolve_price
from gateway.request.lifecycle import RequestLifecycle
from gateway.request.pipeline import GLOBAL_BUDGET, Pipeline
from gateway.request.profiles import build_profiles, build_routers
from gateway.request.sticky import Stickiness
from gateway.request.values import Endpoint, RequestRecord
from gateway.settings import ConfigError, Settings, resolve_master_key, resolve_secrets
from gateway.state.breakers import Breakers
from gateway.state.budgets import BudgetStore
from gateway.state.keys import KeyStore
from gateway.state.ratelimit import RateLimiter
from gateway.state.redis import RedisGuard, build_guard
from gateway.tracing import NOOP_TRACER, Tracer
from gateway.upstream.base import Target, Transport
from gateway.upstream.caller import UpstreamCaller
from gateway.upstream.params import is_call_option
from routers.base import Router

log = logging.getLogger("triage.wiring")


@dataclass(slots=True)
class Runtime:
    """What the app holds while it serves; closed on shutdown."""

    settings: Settings
    pipeline: Pipeline
    routers: dict[str, Router]
    transports: dict[str, Transport]
    cache: ResponseCache
    metrics: Metrics
    request_log: logging.Logger
    auth: Authenticator
    limiter: RateLimiter
    redis: RedisGuard | None = None  # the one Redis connection guard (None: state in process)
    quality: QualityLoop | None = None  # the quality loop (``quality`` section)
    tracer: Tracer = NOOP_TRACER  # OpenTelemetry (``tracing`` section)
    ready: bool = False
    draining: bool = False  # set on SIGTERM: readiness fails and new requests get 503 shutting_down
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    listeners: list[Callable[[RequestRecord], None]] = field(default_factory=list)  # told of every finished request
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def start(self) -> None:
        """Start the background work (breaker sync) inside the serving loop; then ready."""
        interval = self.settings.breaker.sync_interval_s
        loop = asyncio.get_running_loop()
        self.tasks.append(loop.create_task(self.pipeline.breakers.sync_forever(interval)))
        if self.cache.semantic is not None:  # rebuilds its index from Redis, then keeps it current
            self.tasks.append(self.cache.semantic.start())
        if self.quality is not None:
            self.tasks.append(loop.create_task(self.quality.evaluator.run()))
            self.listeners.append(self.quality.observe)
        self.ready = True

    async def refresh_gauges(self) -> None:
        """Set the gauges a scrape reads: cache and Redis state, breakers, the global budget."""
        store, metrics = self.cache.store, self.metrics
        metrics.cache_up.labels(store.backend).set(1 if store.state == "ok" else 0)
        if self.redis is not None:
            metrics.redis_up.set(1 if await self.redis.ping() == "ok" else 0)
        now = time.time()
        metrics.set_health(self.pipeline.breakers.health(now))
        limit = self.settings.budget.limit_usd
        if limit is not None:
            snapshot = await self.pipeline.budgets.snapshot(GLOBAL_BUDGET, now, limit)
            metrics.budget_spent.labels(snapshot.scope).set(snapshot.spent_usd)
            metrics.budget_remaining.labels(snapshot.scope).set(max(snapshot.limit_usd - snapshot.spent_usd, 0.0))

    async def reload_routers(self) -> list[str]:
        """Rebuild every profile's router and calibration, then swap them in at once.

        Loading runs in a worker thread; if any router fails to load, nothing changes and
        ``ConfigError`` says why (the old routers keep serving). Returns the profiles reloaded.
        """
        async with self._reload_lock:
            try:
                routers = await asyncio.to_thread(build_routers, self.settings)
            except ConfigError as exc:
                log.error("router reload failed; still serving the previous routers: %s", exc)
                raise
            old = self.routers
            self.pipeline.profiles = build_profiles(self.settings, routers)
            self.routers = routers
            if self.quality is not None:
                self.quality.profiles = {name: route.view for name, route in self.pipeline.profiles.items()}
            log.info("routers reloaded: %s", ", ".join(f"{n}={r.name}" for n, r in routers.items()))
            # in-flight requests may still hold the old routers: close them a little later
            self.tasks.append(asyncio.get_running_loop().create_task(_close_later(old.values(), 30.0)))
            return sorted(routers)

    def ready_state(self) -> dict[str, object]:
        """What ``/readyz`` reports besides Redis: the routers and the cache backend's state."""
        store = self.cache.store
        routers = sorted({router.name for router in self.routers.values()})
        return {"routers": routers, "cache": {"backend": store.backend, "state": store.state}}

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.metrics.view())

    async def redis_state(self) -> str:
        """``off`` without Redis, else ``ok``/``down`` from an active ping."""
        return "off" if self.redis is None else await self.redis.ping()

    def record(self, rec: RequestRecord) -> None:
        """Metrics and the JSON log line of one finished request."""
        store = self.cache.store
        record(self.metrics, rec, store.backend, store.state == "ok")
        if self.settings.log_requests:
            log_request(self.request_log, rec)
        for listener in self.listeners:
            listener(rec)

    def lifecycle(
        self,
        control: CacheControl,
        tier_header: str | None,
        client_request_id: str | None = None,
        endpoint: Endpoint = "chat",
        conversation: str | None = None,
        carrier: Mapping[str, str] | None = None,
    ) -> RequestLifecycle:
        """The owner of one new request; ``carrier``: its headers (a client's ``traceparent``)."""
        return RequestLifecycle(
            self.pipeline,
            self.limiter,
            self.settings,
            self.record,
            control,
            tier_header,
            client_request_id,
            endpoint,
            conversation,
            self.tracer.request(f"triage {endpoint}", carrier or {}),
        )

    async def aclose(self) -> None:
        self.ready = False
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await _close_routers(self.routers.values())
        await asyncio.gather(*(t.aclose() for t in self.transports.values()), return_exceptions=True)
        await self.cache.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await asyncio.to_thread(self.tracer.shutdown)  # exports the spans still buffered


def build_targets(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Target]:
    for name, tier in settings.tiers.items():
        refused = sorted(option for option in tier.forward_params if is_call_option(option))
        if refused:
            raise ConfigError(
                f"tiers.{name}.forward_params: {', '.join(refused)}: litellm call options come from "
                "the tier's config, never from a request body"
            )
    keys = resolve_secrets(settings, environ)
    return {
        name: Target(
            name=name,
            tier=tier,
            price=resolve_price(name, tier),
            api_key=keys.get(name),
            capabilities=resolve_capabilities(tier),
        )
        for name, tier in settings.tiers.items()
    }


async def _close_routers(routers: Iterable[Router]) -> None:
    unique = {id(r): r for r in routers}.values()
    await asyncio.gather(*(r.aclose() for r in unique), return_exceptions=True)


async def _close_later(routers: Iterable[Router], delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    await _close_routers(routers)


def build_transports(settings: Settings, tracer: Tracer = NOOP_TRACER) -> dict[str, Transport]:
    needed = {tier.resolved_transport for tier in settings.tiers.values()}
    transports: dict[str, Transport] = {}
    if "relay" in needed:
        from gateway.upstream.relay import RelayTransport

        transports["relay"] = RelayTransport.create(tracer=tracer)
    if "litellm" in needed:
        from gateway.upstream.litellm_ import LiteLLMTransport

        transports["litellm"] = LiteLLMTransport(log_prompts=settings.log_prompts, tracer=tracer)
    return transports


def validate_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """The checks that need no model load or connection: secrets, prices, router names."""
    from routers.registry import ROUTERS

    build_targets(settings, environ)
    resolve_master_key(settings, environ)
    for name, profile in settings.profiles.items():
        if profile.router not in ROUTERS:
            known = ", ".join(sorted(ROUTERS))
            raise ConfigError(f"profiles.{name}.router: unknown router {profile.router!r}; known routers: {known}")


def build_runtime(
    settings: Settings, environ: Mapping[str, str] | None = None, transports: Mapping[str, Transport] | None = None
) -> Runtime:
    """Validate everything a config implies and build the objects that serve it.

    ``transports`` replaces the ones the tiers name (``relay``, ``litellm``): the seam
    where tests put ``gateway.upstream.fake.FakeTransport``.
    """
    targets = build_targets(settings, environ)
    routers = build_routers(settings)
    profiles = build_profiles(settings, routers)
    tracer = build_tracer(settings)
    transports = dict(transports) if transports is not None else build_transports(settings, tracer)
    master_key = resolve_master_key(settings, environ)
    scrub = Scrubber([*(t.api_key for t in targets.values() if t.api_key), *([master_key] if master_key else [])])
    redis = build_guard(settings.redis)
    semantic = build_semantic_cache(settings, redis)
    cache = ResponseCache(build_cache(settings.cache, redis), settings.cache, settings.profiles, semantic)
    breakers = Breakers(targets, settings.breaker.config, redis)
    budgets = BudgetStore(settings.budget, redis)
    caller = UpstreamCaller(targets, transports, observer=breakers.record)
    from gateway.request.tokens import TokenCounter

    header_pins = frozenset(name for name, p in settings.profiles.items() if p.allow_tier_header)
    ood_to_frontier = frozenset(name for name, p in settings.profiles.items() if p.ood == "frontier")
    pipeline = Pipeline(
        profiles,
        caller,
        cache,
        scrub,
        settings.limits.request_deadline_s,
        TokenCounter(),
        breakers,
        budgets,
        header_pins,
        ood_to_frontier,
        Stickiness({name: p.sticky for name, p in settings.profiles.items() if p.sticky is not None}, redis),
    )
    metrics = worker_metrics(os.environ if environ is None else environ)
    metrics.set_targets((name, profile.frontier_share) for name, profile in settings.profiles.items())
    quality = None
    if settings.quality is not None:
        from gateway.quality.build import build_quality

        views = {name: route.view for name, route in profiles.items()}
        quality = build_quality(settings, views, caller, redis, metrics.registry)
    return Runtime(
        quality=quality,
        settings=settings,
        pipeline=pipeline,
        routers=routers,
        transports=transports,
        cache=cache,
        metrics=metrics,
        request_log=configure_request_log(),
        auth=Authenticator(
            settings.auth.mode,
            resolve_master_key(settings, environ),
            KeyStore(redis, settings.auth.verified_cache_s),
        ),
        limiter=RateLimiter(redis),
        redis=redis,
        tracer=tracer,
    )
