"""Helpers of tests/deploy/test_observability.py: the dashboard's and rules' PromQL, the metric
names the gateway exports, the gateway config and traffic of the real-Prometheus test, and a few
Prometheus HTTP API calls."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from gateway.local import processes as procs
from gateway.observe.metrics import Metrics
from gateway.quality.metrics import QualityMetrics
from tests.conftest import e2e_config, tier

PROMETHEUS = procs.ROOT / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
GRAFANA = procs.ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "triage.json"
METRIC_NAME = re.compile(r"\btriage_[a-z0-9_]+")
RECORDED_NAME = re.compile(r"\btriage:[a-z0-9_:]+")  # a recording rule's series
# Grafana's template variables, as the dashboard would expand them
VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$profile": ".*"}
CHEAP_MODEL = "openai/sim-cheap"
# the families the dashboard must show and the test traffic must exercise (metrics added later bring their panels)
# fmt: off
SHOWN = frozenset(f"triage_{name}" for name in (
    "requests", "request_duration_seconds", "gateway_overhead_seconds", "time_to_first_token_seconds",
    "upstream_latency_seconds", "router_score", "router_latency_seconds", "route_decisions", "tokens", "cost_usd",
    "savings_usd", "frontier_share_target", "cache_requests", "cache_saved_usd", "cache_up", "upstream_retries",
    "fallbacks", "upstream_errors", "stream_interruptions", "breaker_state", "budget_spent_usd",
    "budget_remaining_usd",
    # the quality loop (the gateway's `quality:` section)
    "shadow_requests", "judge_verdicts", "shadow_cost_usd", "quality_routed_score", "quality_frontier_score",
    "quality_alert_below", "feedback",
))
# and the families the traffic must give samples: the since-start gauges are for spot checks, not a panel
EXERCISED = SHOWN | {"triage_quality_retained_ratio", "triage_quality_samples"}
# fmt: on
PRICES = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00)}  # tests/conftest.py's tier(): USD per Mtok
BUDGET_USD = 100.0  # the gateway's global budget (budget.limit_usd), so the budget gauges have samples
ALERT_BELOW = 0.8  # quality.alert_below


def binary(name: str) -> str:
    return procs.tool(name, "apt-get install prometheus")


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every dashboard query."""
    return [(p["title"], t["expr"]) for p in dashboard()["panels"] for t in p.get("targets", [])]


def rule_exprs() -> list[tuple[str, str]]:
    """(alert or record name, PromQL) of every rule."""
    found = []
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [(rule.get("alert") or rule["record"], rule["expr"]) for rule in group["rules"]]
    return found


def expand(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unexpanded template variable in {expr}"
    return expr


def recorded(exprs: list[tuple[str, str]]) -> set[str]:
    """The recording rules' series the expressions use."""
    return {name for _, expr in exprs for name in RECORDED_NAME.findall(expr)}


def referenced(exprs: list[tuple[str, str]]) -> set[str]:
    """The gateway's metric names the expressions use, through the recording rules they use too."""
    rules = dict(rule_exprs())
    names: set[str] = set()
    pending = [expr for _, expr in exprs]
    while pending:
        expr = pending.pop()
        names |= set(METRIC_NAME.findall(expr))
        for record in RECORDED_NAME.findall(expr):
            assert record in rules, f"{record} is not a recording rule in {[str(path) for path in RULES]}"
            pending.append(rules[record])
    return names


def registry_sample_names() -> dict[str, set[str]]:
    """Family name -> the sample names Prometheus stores for it (counter: _total; histogram: _bucket/_sum/_count).

    The gateway's metrics and the quality loop's, on one registry as the runtime builds them."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    registry = Metrics().registry
    QualityMetrics(registry)
    return {f.name: {f.name + s for s in suffixes[f.type]} for f in registry.collect()}


def run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=60, cwd=procs.ROOT)


# ---------------------------------------------------------------------------- a real gateway and Prometheus


@dataclass
class Stack:
    gateway: str
    prometheus: str
    tiers: frozenset[str] = frozenset()
    metrics_text: str = ""
    profiles: frozenset[str] = frozenset()  # the routed profiles: their answers are shadowed
    cheap_tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0})
    requests: int = 0
    shadowed: int = 0  # requests the quality loop shadows (every routed, successful, non-cached answer)


def gateway_config(sim_url: str, outcomes: Path) -> dict[str, Any]:
    """e2e tiers, but only `cheap` uses sim-cheap (so its tokens are known exactly) and a private burst key;
    a global budget of BUDGET_USD; the quality loop shadowing every routed answer (judged by the frontier
    tier; shadow calls are counted apart from the tiers' tokens and cost)."""
    config = e2e_config(sim_url, "relay")
    key = f"observability-{uuid.uuid4().hex}"
    tiers = config["tiers"]
    tiers["flaky"] = {
        **tier(sim_url, "sim-frontier", "relay"),
        **{k: tiers["flaky"][k] for k in ("max_retries", "fallbacks")},
    }
    tiers["flaky"]["extra_headers"] = {"x-sim-fault": f"500;first=2;key={key}"}
    tiers["resetter"] = {**tiers["resetter"], "model": "openai/sim-frontier"}
    tiers["broken"] = tier(
        sim_url, "sim-frontier", "relay", max_retries=0, fallbacks=[], extra_headers={"x-sim-fault": "500"}
    )
    del tiers["stuck"]
    quality = {
        "shadow": {"rate": 1.0, "judge_tier": "frontier", "concurrency": 2},
        "store": {"path": str(outcomes), "prompts": False},
        "alert_below": ALERT_BELOW,
    }
    return {**config, "budget": {"limit_usd": BUDGET_USD}, "quality": quality}


def send(client: httpx.Client, stack: Stack, model: str, content: str, stream: bool = False, **extra: Any) -> str:
    """Send one chat request; its request id."""
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
    if stream:
        body["stream_options"] = {"include_usage": True}
    usage = None
    with client.stream("POST", f"{stack.gateway}/v1/chat/completions", json=body) as response:
        text = response.read().decode()
    stack.requests += 1
    request_id = str(response.headers.get("x-triage-request-id", ""))
    if not response.is_success:
        return request_id
    if model in stack.profiles and response.headers["x-triage-cache"] != "hit":
        stack.shadowed += 1
    if stream:
        chunks = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
        usage = next((c["usage"] for c in chunks if c.get("usage")), None)
    else:
        usage = json.loads(text)["usage"]
    if response.headers["x-triage-model"] == CHEAP_MODEL and response.headers["x-triage-cache"] != "hit":
        assert usage is not None, "a cheap answer without usage: its tokens would be unknown"
        stack.cheap_tokens["input"] += usage["prompt_tokens"]
        stack.cheap_tokens["output"] += usage["completion_tokens"]
    return request_id


def traffic(client: httpx.Client, stack: Stack) -> None:
    """Requests that give every metric family samples."""
    for i in range(3):  # the known sequence: three non-streaming requests pinned to cheap
        send(client, stack, "cheap", f"Give me {i + 2} name ideas for a coffee shop.")
    routed = send(client, stack, "auto", "Prove that there are infinitely many primes, step by step.")
    send(client, stack, "all-frontier", "Write a haiku about routing.")
    send(client, stack, "all-cheap", "What is the capital of France?")
    send(client, stack, "auto", "What is 2 + 2?", temperature=0)  # miss
    send(client, stack, "auto", "What is 2 + 2?", temperature=0)  # hit
    send(client, stack, "cheap", "Stream me a short story.", stream=True)  # time to first token
    send(client, stack, "flaky", "Retry me.")  # two 500s, then an answer: retries, upstream errors
    send(client, stack, "dead-frontier", "Fall back, please.")  # dead -> cheap: a fallback
    send(client, stack, "resetter", "Break this stream.", stream=True)  # a stream interruption
    send(client, stack, "broken", "Fail.")  # 502: a 5xx
    for feedback in ({"thumbs": "up"}, {"thumbs": "down"}, {"score": 0.7}):
        response = client.post(f"{stack.gateway}/v1/feedback", json={"request_id": routed, **feedback})
        assert response.status_code == 200, response.text


def query(client: httpx.Client, stack: Stack, promql: str) -> dict[str, Any]:
    response = client.get(f"{stack.prometheus}/api/v1/query", params={"query": promql})
    document: dict[str, Any] = response.json()
    assert response.status_code == 200 and document["status"] == "success", f"{promql}: {document}"
    return document


def samples(client: httpx.Client, stack: Stack, promql: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of every series of an instant query."""
    return [(r["metric"], float(r["value"][1])) for r in query(client, stack, promql)["data"]["result"]]


def value(client: httpx.Client, stack: Stack, promql: str) -> float | None:
    found = samples(client, stack, promql)
    return found[0][1] if found else None


def wait(predicate: Any, what: str, timeout_s: float = 25.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
