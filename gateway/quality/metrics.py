"""The quality loop's Prometheus metrics, on the app's registry.

Retained quality is counted as two counters so replicas aggregate in PromQL: for each
judged sample, the quality the routed answer scored and the quality the frontier answer
scored (pairwise verdicts: the better answer 1, the worse 0, a tie 0.5 each; a sample
routed to the frontier scores the same on both sides). The share of all-frontier quality
the profile kept over a window is ``increase(routed) / increase(frontier)``; the gauge
``triage_quality_retained_ratio`` is the same ratio since this replica started.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

SHADOW_RESULTS = ("judged", "shed", "failed", "over_budget", "skipped")
VERDICTS = ("routed_better", "tie", "other_better")


class QualityMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.shadow = Counter(
            "triage_shadow_requests",
            "Shadow evaluations by result: judged, shed (queue full), failed, over_budget, skipped (not repeatable).",
            ["profile", "result"],
            registry=r,
        )
        self.verdicts = Counter(
            "triage_judge_verdicts",
            "Judge verdicts on shadowed requests: the routed tier's answer against the other tier's.",
            ["profile", "routed_tier", "verdict"],
            registry=r,
        )
        self.cost = Counter(
            "triage_shadow_cost_usd", "Spend on shadow calls and judge calls (USD).", ["profile"], registry=r
        )
        self.routed_score = Counter(
            "triage_quality_routed_score",
            "Sum of the routed answers' pairwise quality over judged samples.",
            ["profile"],
            registry=r,
        )
        self.frontier_score = Counter(
            "triage_quality_frontier_score",
            "Sum of the frontier answers' pairwise quality over the same samples.",
            ["profile"],
            registry=r,
        )
        self.retained = Gauge(
            "triage_quality_retained_ratio",
            "Estimated share of all-frontier quality the profile's routing kept (judged samples, this replica).",
            ["profile"],
            registry=r,
            multiprocess_mode="liveall",  # --workers: one series per worker process (label pid)
        )
        self.samples = Gauge(
            "triage_quality_samples",
            "Judged samples behind triage_quality_retained_ratio.",
            ["profile"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.alert_below = Gauge(
            "triage_quality_alert_below",
            "The configured quality.alert_below: alert when retained quality over an hour falls below it.",
            ["profile"],
            registry=r,
            multiprocess_mode="max",
        )
        self.feedback = Counter(
            "triage_feedback", "Feedback received by kind: score, up, down.", ["profile", "kind"], registry=r
        )
