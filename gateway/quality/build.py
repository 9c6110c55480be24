"""Building the quality loop from the settings (once, at start-up)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry

from gateway.quality.loop import QualityLoop
from gateway.quality.metrics import QualityMetrics
from gateway.quality.requests import RequestIndex
from gateway.quality.shadow import ShadowEvaluator
from gateway.quality.store import build_store
from gateway.settings import BudgetSettings, Settings
from gateway.state.budgets import BudgetStore
from gateway.state.redis import RedisGuard
from gateway.upstream.caller import UpstreamCaller
from policies.types import ProfileView


def build_quality(
    settings: Settings,
    profiles: Mapping[str, ProfileView],
    caller: UpstreamCaller,
    guard: RedisGuard | None,
    registry: CollectorRegistry,
) -> QualityLoop:
    quality = settings.quality
    assert quality is not None
    metrics = QualityMetrics(registry)
    rates = {
        name: profile.shadow_rate if profile.shadow_rate is not None else quality.shadow.rate
        for name, profile in settings.profiles.items()
    }
    for name in settings.profiles:
        metrics.alert_below.labels(name).set(quality.alert_below)
    store = build_store(quality.store, guard)
    spend = BudgetStore(BudgetSettings(limit_usd=quality.shadow.budget_usd, window="day"), guard)
    evaluator = ShadowEvaluator(quality.shadow, quality.store, rates, caller, spend, store, metrics)
    index = RequestIndex(guard, quality.feedback_ttl_s)
    return QualityLoop(quality, profiles, evaluator, index, store, metrics)
