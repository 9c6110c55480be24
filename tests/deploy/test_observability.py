"""Observability: the Prometheus configs and rules (promtool), the PromQL of the Grafana dashboard
and of the rules against the metrics the gateway really exports, and a real Prometheus scraping a
real gateway after a known sequence of requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import Metrics
from tests import procs
from tests.conftest import e2e_config, tier

PROMETHEUS = procs.ROOT / "deploy" / "prometheus"
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
GRAFANA = procs.ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "triage.json"
METRIC_NAME = re.compile(r"\btriage_[a-z0-9_]+")
# Grafana's template variables, as the dashboard would expand them
VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h", "$profile": ".*"}
CHEAP_MODEL = "openai/sim-cheap"
# the families the dashboard must show and the test traffic must exercise (metrics added later bring their panels)
# fmt: off
SHOWN = frozenset(f"triage_{name}" for name in (
    "requests", "request_duration_seconds", "gateway_overhead_seconds", "time_to_first_token_seconds",
    "upstream_latency_seconds", "router_score", "router_latency_seconds", "route_decisions", "tokens", "cost_usd",
    "savings_usd", "frontier_share_target", "cache_requests", "cache_saved_usd", "cache_up", "upstream_retries",
    "fallbacks", "upstream_errors", "stream_interruptions",
))
# fmt: on
PRICES = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00)}  # tests/conftest.py's tier(): USD per Mtok
# procs.gateway runs `python -m gateway serve --config F`; this appends --drain-delay-s 0 so the
# gateway stops at once instead of draining for 5 s (the signal reaches python: exec)
NO_DRAIN = ["sh", "-c", 'exec "$@" --drain-delay-s 0', "sh"]


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install prometheus)")
    return found


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


def referenced(exprs: list[tuple[str, str]]) -> set[str]:
    return {name for _, expr in exprs for name in METRIC_NAME.findall(expr)}


def registry_sample_names() -> dict[str, set[str]]:
    """Family name -> the sample names Prometheus stores for it (counter: _total; histogram: _bucket/_sum/_count)."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    return {f.name: {f.name + s for s in suffixes[f.type]} for f in Metrics().registry.collect()}


def run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=60, cwd=procs.ROOT)


# ---------------------------------------------------------------------------- promtool, no servers


@pytest.mark.parametrize("name", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_promtool_check_config(name: str, tmp_path: Path) -> None:
    promtool = binary("promtool")
    done = run([promtool, "check", "config", PROMETHEUS / name])
    if done.returncode != 0 and "field kubernetes_sd_configs not found" in done.stdout + done.stderr:
        # Debian's build has no Kubernetes discovery: check everything else with static targets
        document = yaml.safe_load((PROMETHEUS / name).read_text())
        for job in document["scrape_configs"]:
            assert job.pop("kubernetes_sd_configs")[0]["role"] == "pod"
            job["static_configs"] = [{"targets": ["127.0.0.1:8080"]}]
        document["rule_files"] = [str(PROMETHEUS / "rules" / "*.yml")]
        (tmp_path / name).write_text(yaml.safe_dump(document))
        done = run([promtool, "check", "config", tmp_path / name])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 rule files found" in done.stdout


def test_promtool_check_and_unit_test_rules() -> None:
    promtool = binary("promtool")
    done = run([promtool, "check", "rules", *RULES])
    assert done.returncode == 0, done.stdout + done.stderr
    done = run([promtool, "test", "rules", PROMETHEUS / "tests" / "triage.rules.test.yml"])
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_for_severity_and_annotations() -> None:
    alerts = [
        r for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"] if "alert" in r
    ]
    assert len(alerts) >= 8
    for alert in alerts:
        assert alert.get("for"), alert["alert"]
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}, alert["alert"]
        assert {"summary", "description", "runbook"} <= alert["annotations"].keys(), alert["alert"]


# ---------------------------------------------------------------------------- the dashboard, no servers


def test_dashboard_shape() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 39 and board["uid"] == "triage-gateway"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["profile"]["allValue"] == ".*" and variables["profile"]["includeAll"]
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "panel ids must be unique"
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
    titles = " | ".join(p["title"] for p in panels)
    for needed in ("Spend per hour", "per day", "Route mix", "Frontier share vs target", "Request latency"):
        assert needed in titles


def test_provisioning_files() -> None:
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    assert source["datasources"][0]["type"] == "prometheus"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "triage.yaml").read_text())
    assert provider["providers"][0]["type"] == "file" and provider["providers"][0]["options"]["path"]


def test_referenced_metrics_are_in_the_registry() -> None:
    exported = registry_sample_names()
    names = set().union(*exported.values())
    for source, exprs in (("dashboard", dashboard_exprs()), ("rules", rule_exprs())):
        unknown = referenced(exprs) - names
        assert not unknown, f"{source} references metrics the gateway does not export: {sorted(unknown)}"
    assert exported.keys() >= SHOWN
    unused = {family for family in SHOWN if not exported[family] & referenced(dashboard_exprs())}
    assert not unused, f"metrics no dashboard panel shows: {sorted(unused)}"


# ---------------------------------------------------------------------------- a real gateway and Prometheus


@dataclass
class Stack:
    gateway: str
    prometheus: str
    metrics_text: str = ""
    cheap_tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0})
    requests: int = 0


def _config(sim_url: str) -> dict[str, Any]:
    """e2e tiers, but only `cheap` uses sim-cheap (so its tokens are known exactly) and a private burst key."""
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
    return config


def _send(client: httpx.Client, stack: Stack, model: str, content: str, stream: bool = False, **extra: Any) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
    if stream:
        body["stream_options"] = {"include_usage": True}
    usage = None
    with client.stream("POST", f"{stack.gateway}/v1/chat/completions", json=body) as response:
        text = response.read().decode()
    stack.requests += 1
    if not response.is_success:
        return
    if stream:
        chunks = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
        usage = next((c["usage"] for c in chunks if c.get("usage")), None)
    else:
        usage = json.loads(text)["usage"]
    if response.headers["x-triage-model"] == CHEAP_MODEL and response.headers["x-triage-cache"] != "hit":
        assert usage is not None, "a cheap answer without usage: its tokens would be unknown"
        stack.cheap_tokens["input"] += usage["prompt_tokens"]
        stack.cheap_tokens["output"] += usage["completion_tokens"]


def _traffic(client: httpx.Client, stack: Stack) -> None:
    """Requests that give every metric family samples."""
    for i in range(3):  # the known sequence: three non-streaming requests pinned to cheap
        _send(client, stack, "cheap", f"Give me {i + 2} name ideas for a coffee shop.")
    _send(client, stack, "auto", "Prove that there are infinitely many primes, step by step.")
    _send(client, stack, "all-frontier", "Write a haiku about routing.")
    _send(client, stack, "all-cheap", "What is the capital of France?")
    _send(client, stack, "auto", "What is 2 + 2?", temperature=0)  # miss
    _send(client, stack, "auto", "What is 2 + 2?", temperature=0)  # hit
    _send(client, stack, "cheap", "Stream me a short story.", stream=True)  # time to first token
    _send(client, stack, "flaky", "Retry me.")  # two 500s, then an answer: retries, upstream errors
    _send(client, stack, "dead-frontier", "Fall back, please.")  # dead -> cheap: a fallback
    _send(client, stack, "resetter", "Break this stream.", stream=True)  # a stream interruption
    _send(client, stack, "broken", "Fail.")  # 502: a 5xx


def _query(client: httpx.Client, stack: Stack, promql: str) -> dict[str, Any]:
    response = client.get(f"{stack.prometheus}/api/v1/query", params={"query": promql})
    document: dict[str, Any] = response.json()
    assert response.status_code == 200 and document["status"] == "success", f"{promql}: {document}"
    return document


def _value(client: httpx.Client, stack: Stack, promql: str) -> float | None:
    result = _query(client, stack, promql)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _wait(predicate: Any, what: str, timeout_s: float = 25.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus = binary("prometheus")
    directory = tmp_path_factory.mktemp("observability")
    with procs.gateway(_config(sim_url), directory, prefix=NO_DRAIN) as gateway_url:
        port = procs.free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in RULES],
            "scrape_configs": [{"job_name": "triage", "static_configs": [{"targets": [gateway_url.split("//")[1]]}]}],
        }
        (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
        command = [prometheus, f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]  # fmt: skip
        with (directory / "prometheus.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
        try:
            procs.wait_http(f"http://127.0.0.1:{port}/-/ready", process, timeout_s=30)
            stack = Stack(gateway_url, f"http://127.0.0.1:{port}")
            with httpx.Client(timeout=30) as client:
                _traffic(client, stack)
                stack.metrics_text = client.get(f"{gateway_url}/metrics").text
                _wait(lambda: _value(client, stack, "sum(triage_requests_total)") == stack.requests, "the scrape")
                # rate() and increase() need two samples of every series (the 5xx series came last)
                two = "min(count_over_time(triage_requests_total[1m])) >= 2"
                _wait(lambda: _value(client, stack, two) is not None, "a second scrape")
            yield stack
        finally:
            procs.stop(process)


def test_scrape_exports_every_family_and_the_referenced_names(stack: Stack) -> None:
    exported = registry_sample_names()
    scraped = {f.name: {s.name for s in f.samples} for f in text_string_to_metric_families(stack.metrics_text)}
    # prometheus_client also exposes each counter's and histogram's `_created` time, parsed as its own family
    triage = {n: samples for n, samples in scraped.items() if n.startswith("triage_") and not n.endswith("_created")}
    assert triage.keys() == exported.keys()
    empty = [name for name in SHOWN if not triage[name] & exported[name]]
    assert not empty, f"families without samples after the traffic: {empty}"
    names = set().union(*triage.values())
    for source, exprs in (("dashboard", dashboard_exprs()), ("rules", rule_exprs())):
        unknown = referenced(exprs) - names
        assert not unknown, f"{source} references metrics absent from a real scrape: {sorted(unknown)}"


def test_prometheus_sees_exact_tokens_cost_and_savings(stack: Stack) -> None:
    tokens_in, tokens_out = stack.cheap_tokens["input"], stack.cheap_tokens["output"]
    assert tokens_out >= 3 * 24  # the three pinned requests (24 answer tokens each) and more
    (cheap_in, cheap_out), (frontier_in, frontier_out) = PRICES["cheap"], PRICES["frontier"]
    spent = (tokens_in * cheap_in + tokens_out * cheap_out) / 1e6
    would_be = (tokens_in * frontier_in + tokens_out * frontier_out) / 1e6
    with httpx.Client(timeout=10) as client:
        for direction, expected in stack.cheap_tokens.items():
            query = f'sum(triage_tokens_total{{model="{CHEAP_MODEL}",direction="{direction}"}})'
            assert _value(client, stack, query) == expected
        assert _value(client, stack, 'sum(triage_cost_usd_total{tier="cheap"})') == pytest.approx(spent, rel=1e-9)
        assert _value(client, stack, 'sum(triage_savings_usd_total{tier="cheap"})') == pytest.approx(
            would_be - spent, rel=1e-9
        )
        assert _value(client, stack, 'sum(triage_requests_total{status_class="5xx"})') == 1
        assert _value(client, stack, 'sum(triage_cache_requests_total{result="hit"})') == 1
        assert _value(client, stack, 'sum(triage_fallbacks_total{from_tier="dead",to_tier="cheap"})') == 1
        assert _value(client, stack, 'sum(triage_upstream_retries_total{tier="flaky"})') == 2


def test_dashboard_and_rule_queries_evaluate(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:
        for title, expr in dashboard_exprs():
            result = _query(client, stack, expand(expr))["data"]["result"]
            assert result, f"panel {title!r}: {expand(expr)} matched no series"
        for _rule, expr in rule_exprs():
            _query(client, stack, expr)
        values = client.get(
            f"{stack.prometheus}/api/v1/label/profile/values", params={"match[]": "triage_requests_total"}
        )
        assert {"auto", "cheap"} <= set(values.json()["data"])  # what the $profile variable offers


def test_prometheus_evaluates_every_rule_without_error(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:

        def rules() -> list[dict[str, Any]]:
            groups = client.get(f"{stack.prometheus}/api/v1/rules").json()["data"]["groups"]
            return [rule for group in groups for rule in group["rules"]]

        _wait(lambda: all(r["lastEvaluation"] > "2000" for r in rules()), "every rule's first evaluation")
        found = rules()
    assert len(found) == len(rule_exprs())
    broken = {r["name"]: r.get("lastError") for r in found if r["health"] != "ok"}
    assert not broken, broken
