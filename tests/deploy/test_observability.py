"""Observability: the Prometheus configs and rules (promtool), the PromQL of the Grafana dashboard
and of the rules against the metrics the gateway really exports, and a real Prometheus scraping a
real gateway after a known sequence of requests. Helpers: observability_support.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.local import processes as procs
from tests.deploy.observability_support import (
    ALERT_BELOW,
    BUDGET_USD,
    CHEAP_MODEL,
    EXERCISED,
    GRAFANA,
    PRICES,
    PROMETHEUS,
    RULES,
    SHOWN,
    Stack,
    binary,
    dashboard,
    dashboard_exprs,
    expand,
    gateway_config,
    query,
    recorded,
    referenced,
    registry_sample_names,
    rule_exprs,
    run,
    samples,
    traffic,
    value,
    wait,
)

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
    needed = ("Spend per hour", "per day", "Route mix", "Frontier share vs target", "Request latency")
    quality = ("Retained quality", "Judged samples", "Judge verdicts", "Shadow evaluations", "Shadow cost", "Feedback")
    for title in (*needed, *quality):
        assert title in titles
    rows = [p["title"] for p in sorted(panels, key=lambda p: p["gridPos"]["y"]) if p["type"] == "row"]
    assert rows[:2] == ["Spend and savings", "Quality"], rows


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


@pytest.fixture(scope="module")
def stack(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus = binary("prometheus")
    directory = tmp_path_factory.mktemp("observability")
    config = gateway_config(sim_url, directory / "outcomes")
    with procs.gateway(config, directory) as gateway_url:
        port = procs.free_port()
        scrape = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(path) for path in RULES],
            "scrape_configs": [{"job_name": "triage", "static_configs": [{"targets": [gateway_url.split("//")[1]]}]}],
        }
        (directory / "prometheus.yml").write_text(yaml.safe_dump(scrape))
        command = [prometheus, f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'tsdb'}",
                   f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]  # fmt: skip
        with (directory / "prometheus.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
        try:
            procs.wait_http(f"http://127.0.0.1:{port}/-/ready", process, timeout_s=30)
            tiers, profiles = frozenset(config["tiers"]), frozenset(config["profiles"])
            stack = Stack(gateway_url, f"http://127.0.0.1:{port}", tiers, profiles=profiles)
            with httpx.Client(timeout=30) as client:
                traffic(client, stack)
                wait(lambda: shadow_jobs(client, stack) == stack.shadowed, "the shadow evaluations")
                stack.metrics_text = client.get(f"{gateway_url}/metrics").text
                wait(lambda: value(client, stack, "sum(triage_requests_total)") == stack.requests, "the scrape")
                shadowed = "sum(triage_shadow_requests_total)"
                wait(lambda: value(client, stack, shadowed) == stack.shadowed, "the scrape of the quality loop")
                # rate() and increase() need two samples of every series (the 5xx, feedback and shadow series came last)
                last = ("triage_requests_total", "triage_feedback_total", "triage_shadow_requests_total")
                two = [f"min(count_over_time({name}[1m])) >= 2" for name in last]
                wait(lambda: all(value(client, stack, q) is not None for q in two), "a second scrape")
                # the recording rules the dashboard reads, evaluated on those samples
                counts = [f"count({record})" for record in sorted(recorded(dashboard_exprs()))]
                wait(lambda: all(value(client, stack, c) is not None for c in counts), "the recording rules")
            yield stack
        finally:
            procs.stop(process)


def shadow_jobs(client: httpx.Client, stack: Stack) -> float:
    """Shadow evaluations the gateway has finished, any result (its own /metrics, before any scrape)."""
    families = text_string_to_metric_families(client.get(f"{stack.gateway}/metrics").text)
    shadow = next((f for f in families if f.name == "triage_shadow_requests"), None)
    return sum(s.value for s in shadow.samples if s.name.endswith("_total")) if shadow else 0.0


def test_scrape_exports_every_family_and_the_referenced_names(stack: Stack) -> None:
    exported = registry_sample_names()
    scraped = {f.name: {s.name for s in f.samples} for f in text_string_to_metric_families(stack.metrics_text)}
    # prometheus_client also exposes each counter's and histogram's `_created` time, parsed as its own family
    triage = {n: found for n, found in scraped.items() if n.startswith("triage_") and not n.endswith("_created")}
    assert triage.keys() == exported.keys()
    empty = [name for name in EXERCISED if not triage[name] & exported[name]]
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
            assert value(client, stack, query) == expected
        assert value(client, stack, 'sum(triage_cost_usd_total{tier="cheap"})') == pytest.approx(spent, rel=1e-9)
        assert value(client, stack, 'sum(triage_savings_usd_total{tier="cheap"})') == pytest.approx(
            would_be - spent, rel=1e-9
        )
        assert value(client, stack, 'sum(triage_requests_total{status_class="5xx"})') == 1
        assert value(client, stack, 'sum(triage_cache_requests_total{result="hit"})') == 1
        assert value(client, stack, 'sum(triage_fallbacks_total{from_tier="dead",to_tier="cheap"})') == 1
        assert value(client, stack, 'sum(triage_upstream_retries_total{tier="flaky"})') == 2


def test_prometheus_sees_breakers_and_budget(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:
        states = {labels["tier"]: state for labels, state in samples(client, stack, "triage_breaker_state")}
        assert states.keys() == stack.tiers, "one breaker state per configured tier"
        assert set(states.values()) <= {0, 1, 2} and states["cheap"] == 0, states

        # the budget's window holds what every request cost (each reservation is settled when its request ends)
        remaining, spent = 'triage_budget_remaining_usd{scope="global"}', "sum(triage_cost_usd_total)"
        settled = f"abs(sum({remaining}) - ({BUDGET_USD} - {spent})) < 1e-9"
        wait(lambda: value(client, stack, settled) is not None, "the budget to match the spend", timeout_s=10)
        cost = value(client, stack, spent)
        assert cost is not None and cost > 0
        assert value(client, stack, remaining) == pytest.approx(BUDGET_USD - cost, abs=1e-9)
        assert value(client, stack, 'triage_budget_spent_usd{scope="global"}') == pytest.approx(cost, abs=1e-9)


def test_prometheus_sees_the_quality_loop(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:

        def by(label: str, promql: str) -> dict[str, float]:
            return {labels[label]: found for labels, found in samples(client, stack, f"sum by ({label}) ({promql})")}

        results = by("result", "triage_shadow_requests_total")
        assert results.keys() <= {"judged", "failed"}, results  # nothing shed, over budget or skipped
        # dead-frontier's answers fell back to cheap: their shadow asks the dead tier, and fails
        assert results.get("failed", 0) >= 1 and sum(results.values()) == stack.shadowed, results
        judged = results.get("judged", 0)
        assert judged >= 3, results
        assert value(client, stack, "sum(triage_judge_verdicts_total)") == judged
        assert value(client, stack, "sum(triage_quality_samples)") == judged
        routed = by("profile", "triage_quality_routed_score_total")
        frontier = by("profile", "triage_quality_frontier_score_total")
        assert routed.keys() == frontier.keys() and sum(frontier.values()) <= judged
        assert by("profile", "triage:quality_judged:increase1h").keys() == routed.keys()
        assert by("profile", "triage:quality_retained:ratio_rate1h").keys() == routed.keys()
        assert by("profile", "triage_quality_alert_below") == dict.fromkeys(stack.profiles, ALERT_BELOW)
        assert (value(client, stack, "sum(triage_shadow_cost_usd_total)") or 0) > 0
        assert by("kind", 'triage_feedback_total{profile="auto"}') == {"up": 1, "down": 1, "score": 1}


def test_dashboard_and_rule_queries_evaluate(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:
        for title, expr in dashboard_exprs():
            result = query(client, stack, expand(expr))["data"]["result"]
            assert result, f"panel {title!r}: {expand(expr)} matched no series"
        for _rule, expr in rule_exprs():
            query(client, stack, expr)
        values = client.get(
            f"{stack.prometheus}/api/v1/label/profile/values", params={"match[]": "triage_requests_total"}
        )
        assert {"auto", "cheap"} <= set(values.json()["data"])  # what the $profile variable offers


def test_prometheus_evaluates_every_rule_without_error(stack: Stack) -> None:
    with httpx.Client(timeout=10) as client:

        def rules() -> list[dict[str, Any]]:
            groups = client.get(f"{stack.prometheus}/api/v1/rules").json()["data"]["groups"]
            return [rule for group in groups for rule in group["rules"]]

        wait(lambda: all(r["lastEvaluation"] > "2000" for r in rules()), "every rule's first evaluation")
        found = rules()
    assert len(found) == len(rule_exprs())
    broken = {r["name"]: r.get("lastError") for r in found if r["health"] != "ok"}
    assert not broken, broken
