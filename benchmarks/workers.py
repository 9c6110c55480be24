"""``triage serve --workers``: closed-loop saturation, CPU per request and memory per worker.

Two scenarios, the default router (``ensemble``) on the ``auto`` profile, one simulator
answering at once (ttft 0, 24 tokens), ``wrk`` (one thread, ``--connections`` keep-alive
connections, POST bodies from a Lua script) as the closed-loop client:

- ``1 worker / 1 core``: ``taskset -c 0 triage serve`` (the default count there is 1);
  wrk and the simulator pinned to core 1, so the gateway has core 0 to itself;
- ``2 workers / 2 cores``: ``triage serve --workers 2``; the gateway, wrk and the
  simulator share both cores.

For each: requests per second, latency, the gateway's CPU ms per request (utime+stime of
the supervisor and workers over the run / requests), and the CPU shares of the client
and the simulator (their utime+stime / wall / 2 cores): what the gateway cannot have. The
ceiling for the two-worker run is the cores left for it (2 - client - simulator CPU),
against the one core of the first. Memory: RSS and PSS (``/proc/PID/smaps_rollup``) of
each worker and of the supervisor after the run. Writes ``benchmarks/results/workers.json``
and ``workers.png``; ``markdown(document)`` is the table ``benchmarks/report_workers.py`` prints.

    .venv/bin/python benchmarks/workers.py [--rounds 4] [--duration-s 10] [--connections 32]

Both gateways run side by side (an idle one costs nothing); ``--rounds`` rounds alternate the
two scenarios, and each reports its round with the most requests per second, the one least
disturbed by other jobs on a shared machine (every round's RPS is in the JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from servers import CLK_TCK, core_jiffies, cpu_seconds  # type: ignore[import-not-found]

from common import RESULTS, ROOT, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about autumn leaves.",
    "Prove that the square root of two is irrational, step by step.",
    "Translate 'good morning' into Spanish.",
    "Design a rate limiter for a distributed API gateway and discuss its failure modes.",
    "Give me three name ideas for a coffee shop.",
    "Explain the difference between TCP and UDP.",
    "Refactor this loop into a list comprehension: for x in xs: ys.append(x * 2)",
]
SIMULATOR = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
CORES = 2
SCENARIOS = (("1 worker / 1 core", 1), ("2 workers / 2 cores", 2))


def lua_script() -> str:
    """wrk: POST the prompts in turn; at the end print one JSON line of totals and percentiles."""
    bodies = [json.dumps({"model": "auto", "messages": [{"role": "user", "content": p}]}) for p in PROMPTS]
    quoted = ", ".join("[[" + body + "]]" for body in bodies)
    return f"""
local bodies = {{{quoted}}}
local i = 0
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/v1/chat/completions", headers, bodies[i])
end
done = function(s, latency, requests)
  local e = s.errors
  io.write(string.format('{{"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50_us": %d, "p99_us": %d}}\\n', s.requests, s.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
"""


def config(sim_url: str, port: int) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tier = {"price": price, "capabilities": ["tools"], "api_base": sim_url, "timeout_s": 10}
    return {
        "listen": {"host": "127.0.0.1", "port": port},
        "tiers": {"cheap": {"model": "openai/sim-cheap", **tier}, "frontier": {"model": "openai/sim-frontier", **tier}},
        "profiles": {"auto": {"router": "ensemble", "frontier_share": 0.3}},
    }


def wrk(url: str, script: Path, duration_s: float, connections: int, core: int | None) -> tuple[dict[str, Any], float]:
    """One wrk run: its JSON totals and its own CPU seconds (utime + stime, from wait4)."""
    pin = ["taskset", "-c", str(core)] if core is not None else []
    command = [*pin, "wrk", "-t1", f"-c{connections}", f"-d{duration_s:g}s", "-s", str(script), url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    line = next(line for line in out.splitlines() if line.startswith("{"))
    return json.loads(line), usage.ru_utime + usage.ru_stime


def smaps(pid: int) -> dict[str, float]:
    """RSS and PSS of one process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            fields[name.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return fields


def busy_s() -> float:
    """CPU seconds both cores spent busy since boot (``/proc/stat``)."""
    return sum(core_jiffies(core)[0] for core in range(CORES)) / CLK_TCK


def worker_pids(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return sorted(found)


@dataclass(frozen=True, slots=True)
class Running:
    name: str
    workers: int
    url: str
    pid: int  # the supervisor's, or the one worker's
    sim_pid: int
    client_core: int | None  # wrk's core (None: unpinned)


@contextlib.contextmanager
def gateway(name: str, workers: int, directory: Path) -> Iterator[Running]:
    """A simulator and a gateway for one scenario, started and ready."""
    sim_core = "1" if workers == 1 else "0,1"
    with procs.simulator(SIMULATOR, prefix=["taskset", "-c", sim_core]) as sim_url:
        port = procs.free_port()
        path = directory / f"triage-{port}.yaml"
        path.write_text(yaml.safe_dump(config(sim_url, port)))
        prefix = ["taskset", "-c", "0"] if workers == 1 else []
        command = [*prefix, sys.executable, "-m", "gateway", "serve", "--config", str(path), "--drain-delay-s", "0"]
        command += [] if workers == 1 else ["--workers", str(workers)]  # taskset -c 0: the default is 1
        url = f"http://127.0.0.1:{port}"
        with (directory / f"triage-{port}.log").open("wb") as log:
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
            try:
                procs.wait_http(f"{url}/readyz", process)
                yield Running(name, workers, url, process.pid, sim_process(sim_url), 1 if workers == 1 else None)
            finally:
                procs.stop(process)


def measure(run: Running, script: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One closed-loop round against ``run``: throughput, latency, CPU per request and CPU shares."""
    gw0, sim0, busy0, t0 = cpu_seconds(run.pid), cpu_seconds(run.sim_pid), busy_s(), time.monotonic()
    totals, client_cpu = wrk(run.url, script, args.duration_s, args.connections, run.client_core)
    wall = time.monotonic() - t0
    gateway_cpu, sim_cpu = cpu_seconds(run.pid) - gw0, cpu_seconds(run.sim_pid) - sim0
    others = max(busy_s() - busy0 - gateway_cpu - sim_cpu - client_cpu, 0.0)
    requests = totals["requests"]
    return {
        "name": run.name,
        "workers": run.workers,
        "requests": requests,
        "errors": totals["errors"] + totals["non2xx"],
        "rps": round(requests / (totals["duration_us"] / 1e6), 1),
        "p50_ms": totals["p50_us"] / 1000,
        "p99_ms": totals["p99_us"] / 1000,
        "gateway_cpu_ms_per_request": round(1000 * gateway_cpu / max(requests, 1), 3),
        "gateway_cpu_share": round(gateway_cpu / wall / CORES, 3),
        "client_cpu_share": round(client_cpu / wall / CORES, 3),
        "simulator_cpu_share": round(sim_cpu / wall / CORES, 3),
        "others_cpu_share": round(others / wall / CORES, 3),  # the rest of the shared machine's load
    }


def memory(run: Running) -> dict[str, Any]:
    """RSS and PSS of each worker, and of the supervisor (None with one worker)."""
    pids = worker_pids(run.pid) if run.workers > 1 else [run.pid]
    return {
        "memory": [{"pid": pid, **smaps(pid)} for pid in pids],
        "supervisor": smaps(run.pid) if run.workers > 1 else None,
    }


def rounds(runs: list[Running], script: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``args.rounds`` rounds, the scenarios alternating; per scenario the round with the most RPS
    (the least disturbed by other jobs on a shared machine), with every round's RPS beside it."""
    for run in runs:
        wrk(run.url, script, args.warmup_s, args.connections, run.client_core)
    seen: dict[str, list[dict[str, Any]]] = {run.name: [] for run in runs}
    for _ in range(args.rounds):
        for run in runs:
            seen[run.name].append(measure(run, script, args))
    best = []
    for run in runs:
        top = max(seen[run.name], key=lambda r: r["rps"])
        rps = [r["rps"] for r in seen[run.name]]
        others = [r["others_cpu_share"] for r in seen[run.name]]
        best.append({**top, "rounds_rps": rps, "rounds_others_cpu_share": others, **memory(run)})
    return best


def summary(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
    """The speed-up, and the ceiling the client's and the simulator's CPU leave the two workers."""
    others = CORES * (two["client_cpu_share"] + two["simulator_cpu_share"])
    return {
        "speedup": round(two["rps"] / one["rps"], 3),
        "cores_left_for_gateway": round(CORES - others, 3),
        "cores_taken_by_other_jobs": round(CORES * two["others_cpu_share"], 3),
        "gateway_cores_used": {run["name"]: round(CORES * run["gateway_cpu_share"], 3) for run in (one, two)},
        "cpu_ms_per_request_ratio": round(two["gateway_cpu_ms_per_request"] / one["gateway_cpu_ms_per_request"], 3),
    }


def table(document: dict[str, Any]) -> list[list[str]]:
    """The rows of the README table: a header, then one row per scenario."""
    rows = [
        [
            "run",
            "RPS",
            "p50 ms",
            "p99 ms",
            "gateway CPU ms/req",
            "client CPU",
            "simulator CPU",
            "other jobs' CPU",
            "RSS / PSS per worker (MiB)",
        ]
    ]
    for run in document["results"]["scenarios"]:
        memory = ", ".join(f"{m['rss_mb']:.0f} / {m['pss_mb']:.0f}" for m in run["memory"])
        rows.append(
            [
                run["name"],
                f"{run['rps']:.0f}",
                f"{run['p50_ms']:.1f}",
                f"{run['p99_ms']:.1f}",
                f"{run['gateway_cpu_ms_per_request']:.2f}",
                f"{100 * run['client_cpu_share']:.0f}%",
                f"{100 * run['simulator_cpu_share']:.0f}%",
                f"{100 * run['others_cpu_share']:.0f}%",
                memory,
            ]
        )
    return rows


def markdown(document: dict[str, Any]) -> str:
    rows = table(document)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    s = document["results"]["summary"]
    lines.append("")
    lines.append(
        f"Two workers on two cores: {s['speedup']:.2f}x the requests per second of one worker on one core; "
        f"the client and the simulator used {CORES - s['cores_left_for_gateway']:.2f} of the two cores, "
        f"leaving {s['cores_left_for_gateway']:.2f} for the gateway (the ceiling); other jobs on the shared machine "
        f"took {s['cores_taken_by_other_jobs']:.2f}; the gateway used "
        f"{s['gateway_cores_used'][document['results']['scenarios'][1]['name']]:.2f} cores. CPU per request, two "
        f"workers against one: {s['cpu_ms_per_request_ratio']:.2f}x. CPU shares are of both cores."
    )
    return "\n".join(lines)


def plot(document: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = document["results"]["scenarios"]
    names = [run["name"] for run in runs]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    axes[0].bar(names, [run["rps"] for run in runs], color="#4c72b0")
    axes[0].set_title("closed-loop saturation (RPS)")
    axes[1].bar(names, [run["gateway_cpu_ms_per_request"] for run in runs], color="#55a868")
    axes[1].set_title("gateway CPU ms per request")
    bottoms = [0.0] * len(runs)
    shares = (("gateway_cpu_share", "gateway"), ("client_cpu_share", "wrk"), ("simulator_cpu_share", "sim"))
    for key, label in (*shares, ("others_cpu_share", "other jobs")):
        values = [100 * run[key] for run in runs]
        axes[2].bar(names, values, bottom=bottoms, label=label)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes[2].set_title("CPU share of both cores (%)")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"triage serve --workers, default router (git {document['git_sha'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration-s", type=float, default=10.0, help="one round of one scenario")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp, contextlib.ExitStack() as stack:
        script = Path(tmp) / "post.lua"
        script.write_text(lua_script())
        started = [stack.enter_context(gateway(name, n, Path(tmp))) for name, n in SCENARIOS]
        runs = rounds(started, script, args)
    settings = {
        "duration_s": args.duration_s,
        "rounds": args.rounds,
        "selection": "per scenario, the round with the most RPS (rounds alternate the scenarios)",
        "warmup_s": args.warmup_s,
        "connections": args.connections,
        "client": "wrk -t1 (closed loop, keep-alive)",
        "router": "ensemble (profile auto)",
        "simulator": " ".join(SIMULATOR),
        "pinning": "1 worker: gateway core 0, wrk + simulator core 1; 2 workers: all on cores 0-1",
        "machine_shared": True,
    }
    results = {"scenarios": runs, "summary": summary(*runs)}
    path = write_result("workers", settings, results)
    document = json.loads(path.read_text())
    plot(document, RESULTS / "workers.png")
    print(markdown(document))
    print(f"wrote {path}")


def sim_process(sim_url: str) -> int:
    """The simulator's pid: the process listening on its port."""
    port = sim_url.rsplit(":", 1)[1].split("/", 1)[0]
    out = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(out.split("pid=", 1)[1].split(",", 1)[0])


if __name__ == "__main__":
    main()
