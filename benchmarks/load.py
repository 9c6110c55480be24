"""Load test: Triage vs LiteLLM proxy, each against the simulator directly, open loop, in one run.

Every step is a constant arrival rate (``loadgen``) with a warm-up. Overhead comes from paired
samples (``paired``): request *i* goes through the gateway at its due time and, with the same body,
straight to the simulator half an interval later (every request up to 400 RPS, every k-th above so
the direct side stays <= 400 RPS); the overhead percentiles are percentiles of the per-pair
differences. Each gateway is pinned alone to core 0; this generator and the simulator share core 1.
Parity: both gateways check an API key (Triage ``auth.mode: keys`` with a key made through
``/admin/keys``, LiteLLM its master key), both log requests their default way, one worker each;
Triage's response cache is off except in the ``cache`` scenario (a second gateway with it on).
Scenarios:

- ``sweep``: real routing-dev prompts, non-streaming, rising rates: Triage pinned to ``cheap``
  (pure relay overhead), profile ``auto`` (heuristic router) and ``default`` (the registry's
  default router), and LiteLLM proxy (``sim-cheap``). A label stops after two rates in a row
  with p99 overhead > 100 ms or errors > 1%, or once it achieves < 90% of the offered rate.
- ``stream``: the same prompts streamed; TTFT overhead.
- ``cache``: temperature 0, 16 repeated prompts, profile ``auto``, on the cache-on gateway
  (LiteLLM runs its default config, which has no cache).
- ``faults``: 20% upstream 500s (``x-sim-fault``); Triage and LiteLLM retry up to 2 times.

Then a 200-RPS ``cheap`` run under py-spy (flame graph + top frames). Writes
``benchmarks/results/load.json``, ``load.png`` and ``profile_*``.

    .venv/bin/python benchmarks/load.py [--duration 5] [--quick] [--no-litellm] [--no-profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hotpath  # type: ignore[import-not-found]
import load_setup as setup  # type: ignore[import-not-found]
import load_stats as stats  # type: ignore[import-not-found]
import paired  # type: ignore[import-not-found]
import servers  # type: ignore[import-not-found]
from loadgen import Step, Target, run_paired, run_step  # type: ignore[import-not-found]

from common import RESULTS, write_result  # type: ignore[import-not-found]

TRIAGE_RATES = (20.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1200.0, 1500.0, 1600.0)
LITELLM_RATES = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0, 120.0)
STOP_P99_MS, STOP_ERRORS = 100.0, 0.01
PROFILE_RATE, PROFILE_S = 200.0, 12
NOISY = 0.25  # a step whose gateway's core was > 25% busy with other processes is repeated once
DIRECT_MAX_RPS = 400.0  # paired direct requests: every one up to this rate, every k-th above it


@dataclass(slots=True)
class Run:
    """The servers of this run and the steps measured so far."""

    sim: servers.Server
    triage: servers.Server
    cached: servers.Server  # the same Triage config with the response cache on
    litellm: servers.Server | None
    step: Step
    prompts: list[str]
    steps: list[dict[str, Any]] = field(default_factory=list)
    noisy: list[dict[str, Any]] = field(default_factory=list)


def stride(rate: float) -> int:
    """Pair every ``stride``-th request with a direct one, so the direct side stays <= DIRECT_MAX_RPS."""
    return max(1, math.ceil(rate / DIRECT_MAX_RPS))


async def _once(server: servers.Server, target: Target, direct: Target, step: Step) -> tuple[dict[str, Any], float]:
    """One paired step; returns its summary and the share of core 0 (the gateway's) busy with other processes."""
    cpu_before = servers.cpu_seconds(server.pid)
    busy_before, all_before = servers.core_jiffies(0)
    result = await run_paired(target, direct, step, stride(step.rate))
    cpu = servers.cpu_seconds(server.pid) - cpu_before
    busy_after, all_after = servers.core_jiffies(0)
    foreign = max(0.0, (busy_after - busy_before - cpu * servers.CLK_TCK) / max(1, all_after - all_before))
    summary = stats.summarise(result.gateway, result.window_s, cpu, result.sent, servers.rss_mb(server.pid))
    return {**summary, **paired.summary(result.gateway, result.direct), "stride": stride(step.rate)}, foreign


async def measure(
    run: Run,
    scenario: str,
    label: str,
    system: str,
    rate: float,
    kind: str = "pinned",
    stream: bool = False,
    temperature: float | None = None,
    prompts: list[str] | None = None,
    server: servers.Server | None = None,
) -> dict[str, Any]:
    """Measure a paired step; one disturbed by foreign load (> 25% of core 0) is repeated once, and the
    disturbed result kept in ``run.noisy``."""
    server = server or {"triage": run.triage, "litellm": run.litellm}[system]
    assert server is not None
    texts = prompts or run.prompts
    target = setup.target(system, server.url, kind, texts, stream, temperature, server.key)
    direct = setup.target("direct", run.sim.url, kind, texts, stream, temperature)
    meta = {"scenario": scenario, "label": label, "system": system, "rate": rate}
    step = replace(run.step, rate=rate)
    summary, foreign = await _once(server, target, direct, step)
    if foreign > NOISY:
        run.noisy.append({**meta, **summary, "foreign_core_load": foreign})
        summary, again = await _once(server, target, direct, step)
        summary["repeated_after_foreign_load"], foreign = foreign, again
    row = {**meta, **summary, "foreign_core_load": foreign}
    run.steps.append(row)
    print(
        f"{scenario:7s} {label:28s} {rate:6.0f} rps: ok {row['ok']:5d} err {row['errors']:4d} "
        f"achieved {row['achieved_rps']:7.1f} p50 {row['latency_p50_ms']:8.2f} p99 {row['latency_p99_ms']:8.2f} "
        f"paired ovh p50 {row['overhead_p50_ms']:7.2f} p99 {row['overhead_p99_ms']:7.2f} ({row['pairs']} pairs)"
        f" cpu/req {row['cpu_ms_per_request']:6.2f} ms rss {row['rss_mb']:4.0f} MB"
        f" foreign {foreign:4.0%}{' (repeated)' if 'repeated_after_foreign_load' in row else ''}",
        flush=True,
    )
    return row


def _broken(row: dict[str, Any]) -> bool:
    return row.get("overhead_p99_ms", 0.0) > STOP_P99_MS or row["error_rate"] > STOP_ERRORS


def _stop(history: list[dict[str, Any]]) -> bool:
    """Stop a label after two broken rates in a row (one noisy step on this shared machine is not
    enough), or at once when it achieved less than 90% of the offered rate (saturated)."""
    last = history[-1]
    return last["achieved_rps"] < 0.9 * last["rate"] or (len(history) > 1 and all(map(_broken, history[-2:])))


async def prime(run: Run) -> None:
    """Unrecorded warm-up of each gateway (imports, pools, caches): LiteLLM's first seconds are slow."""
    for kind in ("pinned", "auto", "default"):
        for gateway in (run.triage, run.cached):
            await run_step(
                setup.target("triage", gateway.url, kind, run.prompts, key=gateway.key), Step(100.0, 2.0, 0.5)
            )
    if run.litellm is not None:
        await run_step(setup.target("litellm", run.litellm.url, "pinned", run.prompts), Step(20.0, 5.0, 1.0))


async def sweep(run: Run, triage_rates: tuple[float, ...], litellm_rates: tuple[float, ...]) -> None:
    router = setup.default_router()
    active = {"triage cheap (pinned)": "pinned", "triage auto (heuristic)": "auto"}
    if router != "heuristic":
        active[f"triage default ({router})"] = "default"
    history: dict[str, list[dict[str, Any]]] = {label: [] for label in [*active, "litellm"]}
    for rate in triage_rates:
        if not active:
            break
        for label, kind in list(active.items()):
            history[label].append(await measure(run, "sweep", label, "triage", rate, kind))
            if _stop(history[label]):
                del active[label]
    for rate in litellm_rates if run.litellm else ():
        history["litellm"].append(await measure(run, "sweep", "litellm", "litellm", rate))
        if _stop(history["litellm"]):
            break


async def scenarios(run: Run, quick: bool) -> None:
    cached = run.prompts[: setup.CACHED_PROMPTS]
    for rate in (20.0,) if quick else (20.0, 200.0):
        await measure(run, "stream", "triage cheap (pinned)", "triage", rate, stream=True)
    await measure(run, "stream", "triage default", "triage", 200.0, "default", stream=True)
    for rate in (200.0,) if quick else (200.0, 800.0):
        await measure(
            run,
            "cache",
            "triage auto (cache on)",
            "triage",
            rate,
            "auto",
            temperature=0.0,
            prompts=cached,
            server=run.cached,
        )
    for rate in (50.0,) if quick else (50.0, 200.0):
        await measure(run, "faults", "triage flaky (budget 0.2)", "triage", rate, "flaky")
        await measure(run, "faults", "triage flaky (budget 0.5)", "triage", rate, "flaky-budget")
    if run.litellm is None:
        return
    await measure(run, "stream", "litellm", "litellm", 10.0, stream=True)
    await measure(run, "cache", "litellm", "litellm", 20.0, temperature=0.0, prompts=cached)
    await measure(run, "faults", "litellm flaky (2 retries)", "litellm", 20.0, "flaky")


async def profile(run: Run) -> dict[str, Any] | None:
    """A 200-RPS ``cheap`` run under py-spy twice: a flame graph SVG, then raw stacks for the top frames."""
    if servers.pyspy_binary() is None:
        print("py-spy not installed: no profile")
        return None
    out: dict[str, Any] = {}
    step = replace(run.step, rate=PROFILE_RATE, duration_s=PROFILE_S + 1.5, warmup_s=0.5)
    target = setup.target("triage", run.triage.url, "pinned", run.prompts, key=run.triage.key)
    for fmt, name in (("flamegraph", "profile_cheap_200rps.svg"), ("raw", "profile_cheap_200rps.txt.raw")):
        path = Path(tempfile.gettempdir()) / name if fmt == "raw" else RESULTS / name
        before = servers.cpu_split(run.triage.pid)
        with servers.pyspy(run.triage.pid, path, fmt, PROFILE_S, core=1):
            samples, _, total = await run_step(target, step)
        user, system = (1000 * (b - a) / total for a, b in zip(before, servers.cpu_split(run.triage.pid), strict=True))
        out[fmt] = {
            "ok": sum(s.status == 200 for s in samples),
            "sent": len(samples),
            "cpu_user_ms_per_request": user,
            "cpu_sys_ms_per_request": system,
        }
    result = hotpath.summary(Path(tempfile.gettempdir()) / "profile_cheap_200rps.txt.raw")
    cpu = out["raw"]
    header = (
        f"py-spy record --rate {servers.PYSPY_HZ} --nonblocking, {PROFILE_S} s of Triage (tier cheap, real "
        f"prompts) at {PROFILE_RATE:.0f} RPS open loop, gateway pinned to core 0\n"
        f"gateway CPU per request during the run (/proc): user {cpu['cpu_user_ms_per_request']:.2f} ms, "
        f"kernel {cpu['cpu_sys_ms_per_request']:.2f} ms (kernel time, mostly loopback TCP, shows in py-spy "
        f"only as the Python frame that made the system call)"
    )
    hotpath.write_text(result, RESULTS / "profile_cheap_200rps.txt", header)
    return {**result, "runs": out, "svg": "profile_cheap_200rps.svg", "text": "profile_cheap_200rps.txt"}


async def phases(run: Run, args: argparse.Namespace) -> dict[str, Any] | None:
    triage_rates = TRIAGE_RATES[:3] if args.quick else TRIAGE_RATES
    litellm_rates = LITELLM_RATES[:2] if args.quick else LITELLM_RATES
    await prime(run)
    await sweep(run, triage_rates, litellm_rates)
    await scenarios(run, args.quick)
    return None if args.no_profile else await profile(run)


def _source() -> dict[str, Any]:
    """Where the gateway under test was imported from, its commit and uncommitted changes (the working
    tree is shared with other engineers, and a clone may run the main tree's editable install)."""
    import gateway

    root = Path(gateway.__file__).resolve().parents[1]

    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=root, capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--porcelain", "--", "gateway", "routers", "policies").splitlines()
    return {"root": str(root), "commit": git("rev-parse", "HEAD"), "uncommitted": [line[3:] for line in dirty]}


def _config(args: argparse.Namespace, prompts: int, use_litellm: bool) -> dict[str, Any]:
    """What load.json records of this run's setup (the parity settings included)."""
    return {
        "source_under_test": _source(),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "quick": args.quick,
        "simulator": " ".join(setup.SIM_ARGS),
        "prompts": f"{prompts} routing-dev prompts, seeded order",
        "triage": setup.triage_config("SIM"),
        "triage_cache_on": setup.triage_config("SIM", cache=True),
        "parity": setup.parity(1),
        "overhead": f"paired: each request through the gateway and, half an interval later with the same body, "
        f"straight to the simulator (every request up to {DIRECT_MAX_RPS:.0f} RPS, every k-th above); "
        "percentiles of the per-pair differences",
        "litellm": servers.litellm_config(setup.litellm_models("SIM")) if use_litellm else None,
        "litellm_version": "1.106.2",
        "pinning": "each gateway alone on core 0; simulator + load generator on core 1",
        "stop": f"two rates in a row with p99 overhead > {STOP_P99_MS} ms or errors > {STOP_ERRORS:.0%}, "
        "or achieved < 90% of offered",
        "latency": "from each request's scheduled start (open loop), so queueing counts",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per step")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per step")
    parser.add_argument("--quick", action="store_true", help="a few rates and scenarios only (smoke test)")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    servers.prioritise_self(core=1)  # the generator shares core 1 with the simulator
    started = time.monotonic()
    use_litellm = not args.no_litellm and servers.litellm_available()
    step = Step(rate=1.0, duration_s=args.duration, warmup_s=args.warmup)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        directory = Path(tmp)
        sim = stack.enter_context(servers.simulator(setup.SIM_ARGS, directory, core=1))
        triage = stack.enter_context(servers.triage(setup.triage_config(sim.url), directory, core=0))
        cached = stack.enter_context(servers.triage(setup.triage_config(sim.url, cache=True), directory, core=0))
        litellm = (
            stack.enter_context(servers.litellm_proxy(setup.litellm_models(sim.url), directory, core=0))
            if use_litellm
            else None
        )
        run = Run(sim, triage, cached, litellm, step, setup.dev_prompts())
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            prof = runner.run(phases(run, args))
    config = _config(args, len(run.prompts), use_litellm)
    results = {
        "steps": run.steps,
        "capacity": stats.capacity(run.steps),
        "profile": prof,
        "noisy_steps": run.noisy,
        "wall_s": time.monotonic() - started,
    }
    path = write_result("load", config, results)
    stats.plot(run.steps, RESULTS / "load.png")
    print(f"capacity: {results['capacity']}\nwrote {path} in {results['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
