"""Closed-loop saturation with an independent client: ``wrk`` (Debian), 32 connections, and our own generator.

Single core: the simulator directly, Triage pinned to tier ``cheap``, Triage's ``default`` profile (the
registry's default router) and LiteLLM proxy, each gateway alone on core 0 (``taskset``), wrk and the
simulator on core 1. Each system gets an unrecorded warm-up, then ``--seconds`` of
``wrk -t1 -c32 --latency`` POSTing the load benchmark's bodies (routing-dev prompts, non-streaming);
then the same 32-connection closed loop from ``loadgen.run_closed`` for comparison. Parity as in
``load.py`` (API keys, default request logging, one worker each, Triage's cache off).

Multi-core: Triage's ``default`` profile with ``triage serve --workers N`` vs ``litellm --num_workers N``,
N = the number of cores, unpinned (so they share the cores with wrk and the simulator); Triage then keeps
its keys in a real redis-server so every worker sees the key. Recorded as not available when this
checkout's ``triage serve`` has no ``--workers``. Writes ``benchmarks/results/saturation.json``.

    .venv/bin/python benchmarks/saturation.py [--seconds 15] [--own-seconds 10] [--no-litellm] [--no-multi]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import load_setup as setup  # type: ignore[import-not-found]
import servers  # type: ignore[import-not-found]
import wrk  # type: ignore[import-not-found]
from loadgen import Target, run_closed  # type: ignore[import-not-found]

from common import percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

CONNECTIONS = 32
WARMUP_S = 3
BODIES = 256


def _wrk(target: Target, seconds: float, directory: Path, core: str | None) -> dict[str, Any]:
    """One wrk run against ``target`` (pinned to ``core`` when given); its parsed summary."""
    script = directory / "post.lua"
    path = "/" + target.url.split("/", 3)[3]
    script.write_text(wrk.script(path, [target.bodies(i) for i in range(BODIES)], list(target.headers)))
    base = target.url.removesuffix(path)
    command = [*(["taskset", "-c", core] if core and shutil.which("taskset") else []), "wrk", "-t1"]
    command += [f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--timeout", "10s", "--latency", "-s", str(script), base]
    out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    return wrk.parse(out.stdout)


def _own(target: Target, seconds: float) -> dict[str, Any]:
    """The same closed loop (32 connections) from our own generator."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        samples, window = runner.run(run_closed(target, CONNECTIONS, seconds, warmup_s=1.0))
    ok = [s.latency_ms for s in samples if s.status == 200]
    return {
        "requests": len(samples),
        "rps": len(ok) / window if window > 0 else 0.0,
        "latency_p50_ms": percentile(ok, 50),
        "latency_p99_ms": percentile(ok, 99),
        "errors": len(samples) - len(ok),
    }


def measure(
    label: str, server: servers.Server, target: Target, args: argparse.Namespace, folder: Path, core: str | None
) -> dict[str, Any]:
    """Warm-up, then wrk, then our generator; with the gateway's CPU per request and RSS under wrk."""
    _wrk(target, WARMUP_S, folder, core)
    cpu = servers.cpu_seconds(server.pid)
    row: dict[str, Any] = {"system": label, "wrk": _wrk(target, args.seconds, folder, core)}
    row["cpu_ms_per_request"] = 1000 * (servers.cpu_seconds(server.pid) - cpu) / max(1, row["wrk"]["requests"])
    row["rss_mb"] = servers.rss_mb(server.pid)
    if args.own_seconds > 0:
        row["own"] = _own(target, args.own_seconds)
    w = row["wrk"]
    print(
        f"{label:32s} wrk {w['rps']:8.0f} rps p50 {w['latency_p50_ms']:7.2f} p99 {w['latency_p99_ms']:8.2f} "
        f"err {w['errors']}" + (f" | own {row['own']['rps']:8.0f} rps" if "own" in row else ""),
        flush=True,
    )
    return row


def single_core(sim: servers.Server, args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    prompts = setup.dev_prompts()
    direct = servers.Server(sim.url, sim.pid)
    rows = [
        measure("direct (simulator)", direct, setup.target("direct", sim.url, "pinned", prompts), args, folder, "1")
    ]
    with servers.triage(setup.triage_config(sim.url), folder, core=0) as gw:
        for label, kind in (
            ("triage cheap (pinned)", "pinned"),
            (f"triage default ({setup.default_router()})", "default"),
        ):
            rows.append(
                measure(label, gw, setup.target("triage", gw.url, kind, prompts, key=gw.key), args, folder, "1")
            )
    if not args.no_litellm and servers.litellm_available():
        with servers.litellm_proxy(setup.litellm_models(sim.url), folder, core=0) as lite:
            target = setup.target("litellm", lite.url, "pinned", prompts)
            rows.append(measure("litellm", lite, target, args, folder, "1"))
    return rows


@contextlib.contextmanager
def _redis(folder: Path) -> Iterator[str]:
    with procs.redis_server(folder) as (url, _):
        yield url


def multi_core(sim: servers.Server, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    workers = os.cpu_count() or 1
    if not servers.workers_flag():
        return {"available": False, "reason": "this checkout's `triage serve` has no --workers", "workers": workers}
    prompts, cores = setup.dev_prompts(), f"0-{workers - 1}"
    rows = []
    with _redis(folder) as redis_url:
        config = setup.triage_config(sim.url, redis_url=redis_url)
        with servers.triage(config, folder, core=cores, workers=workers) as gw:
            target = setup.target("triage", gw.url, "default", prompts, key=gw.key)
            rows.append(measure(f"triage default, {workers} workers", gw, target, args, folder, None))
    if not args.no_litellm and servers.litellm_available():
        with servers.litellm_proxy(setup.litellm_models(sim.url), folder, core=cores, workers=workers) as lite:
            target = setup.target("litellm", lite.url, "pinned", prompts)
            rows.append(measure(f"litellm, {workers} workers", lite, target, args, folder, None))
    return {"available": True, "workers": workers, "rows": rows, "parity": setup.parity(workers, "unpinned")}


def ratio(rows: list[dict[str, Any]], client: str, numerator: str, denominator: str) -> float | None:
    """``numerator``'s RPS / ``denominator``'s (system labels starting with those names) for ``client``."""

    def rps(prefix: str) -> float | None:
        row = next((r for r in rows if r["system"].startswith(prefix) and client in r), None)
        return row[client]["rps"] if row else None

    top, bottom = rps(numerator), rps(denominator)
    return top / bottom if top is not None and bottom else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="wrk seconds per system")
    parser.add_argument("--own-seconds", type=float, default=10.0, help="our generator's seconds (0: skip)")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--no-multi", action="store_true", help="leave the multi-core comparison out")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    started = time.monotonic()
    servers.prioritise_self(core=1)
    with tempfile.TemporaryDirectory() as tmp, servers.simulator(setup.SIM_ARGS, Path(tmp), core=1) as sim:
        rows = single_core(sim, args, Path(tmp))
        multi = {"available": False, "reason": "--no-multi"} if args.no_multi else multi_core(sim, args, Path(tmp))
    results = {
        "single_core": rows,
        "ratio_default_vs_litellm": {c: ratio(rows, c, "triage default", "litellm") for c in ("wrk", "own")},
        "ratio_pinned_vs_litellm": {c: ratio(rows, c, "triage cheap", "litellm") for c in ("wrk", "own")},
        "multi_core": multi,
        "wall_s": time.monotonic() - started,
    }
    if multi.get("rows"):
        results["multi_core"]["ratio_triage_vs_litellm"] = ratio(multi["rows"], "wrk", "triage", "litellm")
    config = {
        "client": f"wrk -t1 -c{CONNECTIONS} -d{args.seconds:.0f}s --latency (Debian), then loadgen.run_closed "
        f"({CONNECTIONS} connections, {args.own_seconds:.0f} s)",
        "warmup_s": WARMUP_S,
        "bodies": f"{BODIES} routing-dev prompts, non-streaming, in turn",
        "simulator": " ".join(setup.SIM_ARGS),
        "parity": setup.parity(1),
        "triage": setup.triage_config("SIM"),
        "litellm": servers.litellm_config(setup.litellm_models("SIM")),
    }
    print(f"wrote {write_result('saturation', config, results)} in {results['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
