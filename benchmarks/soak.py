"""A soak test with chaos: three gateways behind HAProxy, a Redis Cluster, a faulty upstream, an open-loop client.

Three ``triage serve`` replicas share a real Redis Cluster (3 primaries, 3 replicas) and sit
behind HAProxy (health checks on ``/readyz``); the simulator fails a few percent of calls;
an open-loop client sends a steady rate through HAProxy with keys that have rpm, tpm and
budget limits, a third of the requests streamed. During the run one gateway is SIGKILLed
and restarted, another SIGTERMed (it drains) and restarted, and a Redis primary is killed
and fails over. Afterwards the soak checks and reports lost requests, rate-limit accuracy,
budget overshoot, metric agreement and p99 latency per phase (``soak_checks.py``), writes
``benchmarks/results/soak.json`` and ``soak.png``, and exits 1 when a check fails.

    .venv/bin/python benchmarks/soak.py [--minutes 10 | --seconds 75] [--rate 50] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import provenance  # type: ignore[import-not-found]
import soak_checks as checks  # type: ignore[import-not-found]
from soak_chaos import SCHEDULE, Chaos  # type: ignore[import-not-found]
from soak_client import Client, KeySpec, Plan, Record  # type: ignore[import-not-found]
from soak_plot import plot  # type: ignore[import-not-found]
from soak_procs import DRAIN_DELAY_S, HAProxy, Replica, backends_from_log, haproxy_config  # type: ignore[import-not-found]
from soak_scrape import Scraper, Scrapes  # type: ignore[import-not-found]
from soak_setup import (  # type: ignore[import-not-found]
    FAULTS,
    MASTER_ENV,
    MASTER_KEY,
    PRICES,
    SIM_ARGS,
    budget_slot,
    create_keys,
    gateway_config,
    keys,
    spent,
)

from common import RESULTS, machine  # type: ignore[import-not-found]

from gateway.local import processes as procs
from gateway.local import redis_topologies as topo

REPLICAS = ("gw-a", "gw-b", "gw-c")


async def _drive(
    url: str, specs: list[KeySpec], secrets: dict[str, str], chaos: Chaos, replicas: list[Replica]
) -> tuple[list[Record], Scrapes]:
    scraper = Scraper({r.name: r.url for r in replicas})
    stop = asyncio.Event()
    scraping = asyncio.create_task(scraper.run(stop))
    chaos_done = asyncio.create_task(asyncio.to_thread(chaos.run))
    records = await Client(url, specs, secrets, PRICES).run(Plan(specs, chaos.seconds, chaos.start))
    await chaos_done
    await asyncio.sleep(1.0)  # a request is recorded just after its answer: let the last ones land
    stop.set()
    return records, await scraping


def run(seconds: float, rate: float, tmp: Path) -> dict[str, Any]:
    """Start everything, run the soak, stop everything; returns the raw material for the checks."""
    faults = [arg for fault in FAULTS for arg in ("--fault", fault)]
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(procs.simulator([*SIM_ARGS, *faults]))
        redis_url, nodes = stack.enter_context(topo.redis_cluster(tmp / "cluster"))
        config = gateway_config(sim, redis_url)
        replicas = [Replica(name, procs.free_port(), config, tmp, {MASTER_ENV: MASTER_KEY}) for name in REPLICAS]
        for replica in replicas:
            stack.callback(replica.close)
        _start_all(replicas)
        haproxy = HAProxy(procs.free_port(), tmp / "haproxy.cfg")
        stack.callback(haproxy.close)
        haproxy.start(replicas, tmp / "haproxy.log")
        specs = keys(rate)
        secrets, ids = create_keys(haproxy.url, specs)
        slot = budget_slot(ids["budget-frontier"])
        chaos = Chaos(time.time() + 2.0, seconds, replicas[0], replicas[1], replicas, nodes, slot)
        records, scrapes = asyncio.run(_drive(haproxy.url, specs, secrets, chaos, replicas))
        spend = spent(redis_url, ids, specs)
        logged = backends_from_log(tmp / "haproxy.log")
        for record in records:
            record.backend = record.backend or logged.get(record.rid, "")
        logs = {r.name: _tail(r.log) for r in replicas}
    return {"specs": specs, "records": records, "chaos": chaos, "scrapes": scrapes, "spend": spend, "logs": logs}


def _start_all(replicas: list[Replica]) -> None:
    """Start the replicas side by side (each start loads the app for a few seconds)."""
    with concurrent.futures.ThreadPoolExecutor(len(replicas)) as pool:
        for started in [pool.submit(replica.start) for replica in replicas]:
            started.result()


def _tail(path: Path, lines: int = 20) -> list[str]:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace").splitlines()[-lines:]
    return []


def analyse(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    records: list[Record] = raw["records"]
    chaos: Chaos = raw["chaos"]
    events = sorted(chaos.events, key=lambda e: e.at)
    end = max((r.done for r in records if not math.isnan(r.done)), default=time.time())
    window_out = checks.outage(events, end)
    verdict = checks.Verdict(failures=list(chaos.errors))
    bad, flying = checks.lost(records, events)
    verdict.check(not bad, f"{len(bad)} requests lost")
    limits = checks.rate_limits(records, raw["specs"], window_out)
    checks.check_rate_limits(limits, verdict)
    spend = checks.budgets(records, raw["specs"], raw["spend"], window_out, len(REPLICAS))
    checks.check_budgets(spend, verdict)
    agreement = checks.metrics(records, events, raw["scrapes"], flying)
    checks.check_metrics(agreement, verdict)
    outcomes: dict[str, int] = {}
    for r in records:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    results = {
        "requests": len(records),
        "outcomes": outcomes,
        "lost": len(bad),
        "lost_examples": [_describe(r, chaos.start) for r in bad[:20]],
        "in_flight_on_sigkilled": len(flying),
        "in_flight_examples": [_describe(r, chaos.start) for r in flying[:10]],
        "events": [{"t_s": round(e.at - chaos.start, 3), "event": e.name, "detail": e.detail} for e in events],
        "redis_outage_s": [round(t - chaos.start, 3) for t in window_out] if window_out else None,
        "rate_limits": limits,
        "budgets": spend,
        "metrics": agreement,
        "phases": checks.phases(records, events, chaos.start, end),
        "failures": verdict.failures,
        "passed": not verdict.failures,
        "gateway_log_tails": raw["logs"] if verdict.failures else {},
    }
    return results, verdict.failures


def _describe(r: Record, start: float) -> dict[str, Any]:
    return {
        "id": r.rid,
        "t_s": round(r.due - start, 3),
        "key": r.key,
        "stream": r.stream,
        "status": r.status,
        "outcome": r.outcome,
        "code": r.code,
        "backend": r.backend,
        "latency_ms": None if math.isnan(r.done) else round(r.latency_ms, 1),
    }


def report(results: dict[str, Any]) -> str:
    out = [f"soak: {results['requests']} requests, outcomes {results['outcomes']}"]
    out.append(
        f"lost: {results['lost']} (in flight on the SIGKILLed gateway, apart: {results['in_flight_on_sigkilled']})"
    )
    out += [f"  event {e['t_s']:>7.1f} s  {e['event']} {e['detail']}" for e in results["events"]]
    for row in results["rate_limits"]:
        limit = (
            f"rpm {row['rpm']}: {row['admitted_2xx']} 2xx"
            if row["rpm"]
            else f"tpm {row['tpm']}: {row['tokens_2xx']} tokens"
        )
        bound = row["rpm_bound"] or row["tpm_bound"]
        down = (
            f", {row['admitted_while_redis_down']} admitted while Redis was down"
            if row["admitted_while_redis_down"]
            else ""
        )
        out.append(
            f"rate limit {row['key']} window {row['window']}: {limit} (bound {bound}), {row['refused_429']} refused{down}"
        )
    for row in results["budgets"]:
        out.append(
            f"budget {row['key']}: limit ${row['limit_usd']:.6f}, gateway ${row['gateway_spend_usd']:.6f}, "
            f"client ${row['client_spend_redis_up_usd']:.6f} (+${row['client_spend_redis_down_usd']:.6f} served "
            f"while Redis was down), bound ${row['bound_usd']:.6f}"
        )
    m = results["metrics"]
    out.append(
        f"metrics: client {m['client_answers_from_gateways']} vs sum of increase() {m['metrics_increase_summed']:.0f} "
        f"(difference {m['difference']:.0f}, allowed 0..{m['tolerance_unscraped_before_death']})"
    )
    for p in results["phases"]:
        out.append(
            f"  phase {p['phase']:<24} {p['from_s']:>6.1f}-{p['to_s']:>6.1f} s  {p['requests']:>5} req  "
            f"p50 {p['p50_ms']:>6.1f} ms  p99 {p['p99_ms']:>7.1f} ms  lost {p['lost']}  upstream errors "
            f"{p['upstream_errors']}  refused {p['refused']}"
        )
    out.append("PASSED" if results["passed"] else "FAILED:\n  " + "\n  ".join(results["failures"]))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    length.add_argument("--seconds", type=float, help="length of the run in seconds (a smoke run: 60-90)")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second, all keys (default 50)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where soak.json and soak.png go")
    parser.add_argument("--workdir", type=Path, help="keep configs and logs here (default: a temporary directory)")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    with contextlib.ExitStack() as stack:
        tmp = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="triage-soak-")))
        tmp.mkdir(parents=True, exist_ok=True)
        raw = run(seconds, args.rate, tmp)
    config_text = haproxy_config(0, [])
    results, failures = analyse(raw)
    commit, dirty = provenance.current()
    document = {
        "benchmark": "soak",
        "git_sha": commit,
        "dirty": dirty,
        "machine": machine(),
        "config": {
            "seconds": seconds,
            "rate_rps": args.rate,
            "replicas": list(REPLICAS),
            "keys": [dataclasses.asdict(k) for k in raw["specs"]],
            "simulator": [*SIM_ARGS, *FAULTS],
            "schedule": [{"at_fraction": f, "action": a} for f, a in SCHEDULE],
            "drain_delay_s": DRAIN_DELAY_S,
            "haproxy": config_text.split("backend triage", 1)[1].strip().splitlines(),
        },
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(document, indent=2) + "\n")
    title = f"soak: {seconds:.0f} s at {args.rate:.0f} RPS, 3 gateways behind HAProxy, Redis Cluster 3+3"
    plot(raw["records"], raw["chaos"].events, raw["chaos"].start, args.out / "soak.png", title)
    print(report(results))
    print(f"wrote {args.out / 'soak.json'} and {args.out / 'soak.png'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
