"""A recorded load run, rendered as the Grafana dashboard's key panels.

Starts the simulator and a gateway on the demo config (``deploy/config/demo.yaml``: cheap and
frontier tiers at their demo prices, profiles ``auto`` 30% and ``auto-economy`` 10%), sends
open-loop traffic (prompts from ``routers/data/routing/routing-dev.jsonl``) in three phases -- ``auto``,
then ``auto-economy``, then both with many temperature-0 repeats (cache hits) -- a quarter of
it streamed, and scrapes ``/metrics`` every second. The panels are computed from those scrapes
the way the dashboard's PromQL computes them (rates and ``histogram_quantile`` over a window):

    panels_spend.png      spend vs the all-frontier counterfactual, savings by tier (cumulative)
    panels_route_mix.png  route mix over time; frontier share per profile vs its target
    panels_latency.png    request latency p50/p95/p99, time to first token, gateway overhead

plus ``panels.json`` (totals and the series). About 90 s.

    .venv/bin/python benchmarks/render_panels.py [--rate 5] [--phase-s 25] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from common import RESULTS, ROOT, percentile, write_result  # type: ignore[import-not-found]

from routers.registry import ROUTING_DEV

DATA = ROUTING_DEV
DEMO = ROOT / "deploy" / "config" / "demo.yaml"
PHASES = ("auto", "auto-economy", "mixed + repeats")
REPEAT_SHARE = (0.1, 0.1, 0.45)  # share of each phase's requests that repeat an earlier temperature-0 request
WINDOW_S = 10.0  # the rate window of the rendered panels (the dashboard uses $__rate_interval / 5m)
SHARE_WINDOW_S = 20.0  # the frontier share's window: about 50 decisions per profile
Labels = tuple[tuple[str, str], ...]
Snapshot = dict[tuple[str, Labels], float]


def _config(sim_url: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    for tier in config["tiers"].values():
        tier["api_base"] = sim_url
    return {**config, "log_level": "warning"}


def _body(rng: random.Random, phase: int, prompts: list[str], pool: list[dict[str, Any]]) -> dict[str, Any]:
    stream = rng.random() < 0.25
    if pool and rng.random() < REPEAT_SHARE[phase]:
        return {**rng.choice(pool), "stream": stream}
    profile = PHASES[phase] if phase < 2 else rng.choice(["auto", "auto-economy"])
    body: dict[str, Any] = {"model": profile, "messages": [{"role": "user", "content": rng.choice(prompts)}]}
    if rng.random() < 0.2:
        body["temperature"] = 0
        pool.append(body)
    return {**body, "stream": stream}


async def _send(client: httpx.AsyncClient, url: str, body: dict[str, Any], started: float) -> dict[str, Any]:
    sent = time.perf_counter()
    row: dict[str, Any] = {"t": sent - started, "profile": body["model"], "stream": body["stream"], "ttft_s": None}
    async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
        async for _ in response.aiter_bytes():
            row["ttft_s"] = row["ttft_s"] or time.perf_counter() - sent
    headers = response.headers
    row.update(
        latency_s=round(time.perf_counter() - sent, 5),
        t=round(row["t"], 3),
        ttft_s=row["ttft_s"] and round(row["ttft_s"], 5),
    )
    row.update(status=response.status_code, tier=headers.get("x-triage-tier"))
    row.update(cache=headers.get("x-triage-cache"), cost_usd=float(headers.get("x-triage-cost-usd") or 0))
    return row


def _parse(text: str) -> Snapshot:
    snapshot: Snapshot = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("triage_") and not sample.name.endswith("_created"):
                snapshot[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return snapshot


async def _scrape(url: str, stop: asyncio.Event, started: float, out: list[tuple[float, Snapshot]]) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            out.append((time.perf_counter() - started, _parse((await client.get(f"{url}/metrics")).text)))
            if stop.is_set():
                return
            next_at = started + len(out)  # every second, on the second
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def _load(url: str, prompts: list[str], args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[Any]]:
    rng, pool = random.Random(args.seed), list[dict[str, Any]]()
    scrapes: list[tuple[float, Snapshot]] = []
    stop, started = asyncio.Event(), time.perf_counter()
    scraper = asyncio.create_task(_scrape(url, stop, started, scrapes))
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = []
        for i in range(int(args.rate * args.phase_s * len(PHASES))):
            at = 1.0 + i / args.rate  # one scrape before the first request
            await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
            body = _body(rng, min(int((at - 1.0) // args.phase_s), len(PHASES) - 1), prompts, pool)
            tasks.append(asyncio.create_task(_send(client, url, body, started)))
        rows = list(await asyncio.gather(*tasks))
    await asyncio.sleep(1.5)  # one more scrape after the last answer
    stop.set()
    await scraper
    return rows, scrapes


# ---------------------------------------------------------------- PromQL's arithmetic on the scrapes


def total(snapshot: Snapshot, name: str, by: str | None = None, **match: str) -> dict[str, float]:
    """sum by (by) (name{match}) of one scrape."""
    sums: dict[str, float] = {}
    for (sample, labels), value in snapshot.items():
        found = dict(labels)
        if sample == name and all(found.get(k) == v for k, v in match.items()):
            key = found.get(by, "") if by else ""
            sums[key] = sums.get(key, 0.0) + value
    return sums


def delta(
    scrapes: list[tuple[float, Snapshot]], i: int, name: str, by: str | None = None, window: float = WINDOW_S, **m: str
) -> dict[str, float]:
    """increase(name[window]) at scrape i, summed by ``by`` (no extrapolation)."""
    j = max(k for k in range(i + 1) if scrapes[i][0] - scrapes[k][0] >= window or k == 0)
    now, before = total(scrapes[i][1], name, by, **m), total(scrapes[j][1], name, by, **m)
    return {key: value - before.get(key, 0.0) for key, value in now.items()}


def quantile(q: float, buckets: dict[str, float]) -> float | None:
    """histogram_quantile over cumulative bucket counts keyed by ``le``."""
    ordered = sorted((float(le), count) for le, count in buckets.items())
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank, lower, below = q * ordered[-1][1], 0.0, 0.0
    for upper, count in ordered:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = upper, count
    return lower


def quantiles(scrapes: list[Any], family: str, qs: tuple[float, ...], **m: str) -> dict[float, list[float | None]]:
    out: dict[float, list[float | None]] = {q: [] for q in qs}
    for i in range(len(scrapes)):
        buckets = delta(scrapes, i, f"{family}_bucket", "le", WINDOW_S, **m)
        for q in qs:
            out[q].append(quantile(q, buckets))
    return out


# ---------------------------------------------------------------- panels


def _phase_marks(ax: Any, phase_s: float) -> None:
    for k, name in enumerate(PHASES):
        ax.axvline(1.0 + k * phase_s, color="grey", lw=0.6, ls=":")
        ax.text(1.0 + k * phase_s + 0.5, 1.01, name, transform=ax.get_xaxis_transform(), fontsize=7, va="bottom")
    ax.set_title(ax.get_title(), pad=14)  # room for the phase names


def render(scrapes: list[tuple[float, Snapshot]], phase_s: float, targets: dict[str, float]) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s[0] for s in scrapes]
    spend = [sum(total(s, "triage_cost_usd_total").values()) for _, s in scrapes]
    saved = [total(s, "triage_savings_usd_total", "tier") for _, s in scrapes]
    counterfactual = [a + sum(b.values()) for a, b in zip(spend, saved, strict=True)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    left.plot(t, counterfactual, label="all-frontier counterfactual", ls="--", color="tab:red")
    left.plot(t, spend, label="actual spend", color="tab:blue")
    left.fill_between(t, spend, counterfactual, alpha=0.15, color="tab:green", label="saved")
    left.set(title="Cumulative spend vs all-frontier (USD)", xlabel="seconds", ylabel="USD")
    tiers = sorted({k for row in saved for k in row})
    right.stackplot(t, *[[row.get(k, 0.0) for row in saved] for k in tiers], labels=tiers, alpha=0.8)
    right.set(title="Cumulative savings by tier (tier=cache: cache hits)", xlabel="seconds", ylabel="USD")
    for ax in (left, right):
        _phase_marks(ax, phase_s)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(RESULTS / "panels_spend.png", dpi=110)

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    mix = [delta(scrapes, i, "triage_route_decisions_total", "tier") for i in range(len(scrapes))]
    shares = {k: [row.get(k, 0.0) / (sum(row.values()) or 1.0) for row in mix] for k in ("cheap", "frontier")}
    left.stackplot(t, shares["cheap"], shares["frontier"], labels=["cheap", "frontier"], alpha=0.8)
    left.set(title=f"Route mix (decisions by tier, {WINDOW_S:.0f} s window)", xlabel="seconds", ylim=(0, 1))
    for profile, color in (("auto", "tab:blue"), ("auto-economy", "tab:orange")):
        by_tier = [
            delta(scrapes, i, "triage_route_decisions_total", "tier", SHARE_WINDOW_S, profile=profile)
            for i in range(len(t))
        ]
        share = [row.get("frontier", 0.0) / sum(row.values()) if sum(row.values()) else None for row in by_tier]
        right.plot(t, share, color=color, label=f"{profile} frontier share")
        right.axhline(targets[profile], color=color, ls="--", lw=1, label=f"{profile} target {targets[profile]:.0%}")
    right.set(title=f"Frontier share vs target ({SHARE_WINDOW_S:.0f} s window)", xlabel="seconds", ylim=(0, 1))
    for ax in (left, right):
        _phase_marks(ax, phase_s)
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(RESULTS / "panels_route_mix.png", dpi=110)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels: tuple[tuple[str, str, dict[str, str], tuple[float, ...]], ...] = (
        ("Request latency, non-streaming", "triage_request_duration_seconds", {"stream": "false"}, (0.5, 0.95, 0.99)),
        ("Time to first token, streams", "triage_time_to_first_token_seconds", {}, (0.5, 0.95, 0.99)),
        ("Gateway overhead, non-streaming", "triage_gateway_overhead_seconds", {"stream": "false"}, (0.5, 0.99)),
    )
    for ax, (title, family, match, qs) in zip(axes, panels, strict=True):
        for q, values in quantiles(scrapes, family, qs, **match).items():
            ax.plot(t, [v * 1000 if v is not None else None for v in values], label=f"p{q * 100:g}")
        ax.set(title=title, xlabel="seconds", ylabel="ms", yscale="log")
        _phase_marks(ax, phase_s)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(RESULTS / "panels_latency.png", dpi=110)
    series = {"t": t, "spend_usd": spend, "counterfactual_usd": counterfactual, "frontier_share": shares["frontier"]}
    return {name: [round(v, 9) for v in values] for name, values in series.items()}


def summarise(rows: list[dict[str, Any]], final: Snapshot, targets: dict[str, float]) -> dict[str, Any]:
    spend = sum(total(final, "triage_cost_usd_total").values())
    saved = total(final, "triage_savings_usd_total", "tier")
    decisions = {p: total(final, "triage_route_decisions_total", "tier", profile=p) for p in targets}
    whole = {f"p{q * 100:g}_ms": quantile(q, total(final, "triage_request_duration_seconds_bucket", "le", stream="false"))
             for q in (0.5, 0.95, 0.99)}  # fmt: skip
    overhead = total(final, "triage_gateway_overhead_seconds_bucket", "le", stream="false")
    plain = [r["latency_s"] * 1000 for r in rows if not r["stream"] and r["status"] == 200]
    return {
        "requests": len(rows),
        "status": {str(s): sum(r["status"] == s for r in rows) for s in sorted({r["status"] for r in rows})},
        "streams": sum(r["stream"] for r in rows),
        "cache": total(final, "triage_cache_requests_total", "result"),
        "spend_usd": spend,
        "savings_usd_by_tier": saved,
        "savings_usd": sum(saved.values()),
        "all_frontier_counterfactual_usd": spend + sum(saved.values()),
        "savings_share": sum(saved.values()) / (spend + sum(saved.values())),
        "cache_saved_usd": sum(total(final, "triage_cache_saved_usd_total").values()),
        "frontier_share": {p: d.get("frontier", 0) / sum(d.values()) for p, d in decisions.items()},
        "frontier_share_target": targets,
        "metrics_latency_non_stream_ms": {k: v * 1000 if v else v for k, v in whole.items()},
        "metrics_overhead_non_stream_ms": {f"p{q * 100:g}": (quantile(q, overhead) or 0) * 1000 for q in (0.5, 0.99)},
        "client_latency_non_stream_ms": {f"p{q}": percentile(plain, q) for q in (50, 95, 99)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0, help="requests per second (open loop)")
    parser.add_argument("--phase-s", type=float, default=25.0, help="seconds per phase (three phases)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from gateway.local import processes as procs  # after common, which puts the repository on sys.path

    prompts = [json.loads(line)["prompt"] for line in DATA.read_text().split("\n") if line.strip()]
    with procs.simulator([]) as sim_url, tempfile.TemporaryDirectory() as tmp:
        config = _config(sim_url)
        with procs.gateway(config, Path(tmp)) as url:
            rows, scrapes = asyncio.run(_load(url, prompts, args))
    targets = {name: float(config["profiles"][name]["frontier_share"]) for name in PHASES[:2]}  # the profiles sent to
    series = render(scrapes, args.phase_s, targets)
    summary = summarise(rows, scrapes[-1][1], targets)
    run_config = {**vars(args), "prompts": DATA.name, "gateway": "deploy/config/demo.yaml (memory cache)",
                  "simulator": "default speeds (cheap 40 ms + 150 tok/s, frontier 120 ms + 60 tok/s), 40 answer tokens",
                  "phases": PHASES, "repeat_share": REPEAT_SHARE, "stream_share": 0.25, "window_s": WINDOW_S}  # fmt: skip
    path = write_result("panels", run_config, {"summary": summary, "series": series, "requests": rows})
    print(json.dumps(summary, indent=2))
    print(f"wrote {path} and {', '.join(f'panels_{n}.png' for n in ('spend', 'route_mix', 'latency'))}")


if __name__ == "__main__":
    main()
