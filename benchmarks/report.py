"""Write ``benchmarks/README.md`` from the JSON results: every table there is regenerated from them.

.venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import report_load as load_sections  # type: ignore[import-not-found]
import report_sections as sections  # type: ignore[import-not-found]
import report_targets as extra  # type: ignore[import-not-found]

from common import ROOT  # type: ignore[import-not-found]

README = ROOT / "benchmarks" / "README.md"

INTRO = """# Benchmarks

`make bench` runs `benchmarks/run_all.sh` (about 25 minutes on 2 cores): it refuses a working tree with
uncommitted changes outside `benchmarks/results/` and this file (`BENCH_ALLOW_DIRTY=1` runs anyway, and
every result then records `"dirty": true`), installs LiteLLM proxy 1.106.2 into its own venv
(`.venv-litellm-proxy/`, once) and py-spy, runs every benchmark below, each writing JSON (commit, dirty
flag, config, config hash, machine) and PNG plots to `benchmarks/results/`, all naming the commit the run
started on, and regenerates this file with `benchmarks/report.py`. Each script also runs alone, from any
directory (`.venv/bin/python benchmarks/<name>.py --help`).

| script | what it measures | results |
|---|---|---|
| `load.py` | open-loop load, Triage vs LiteLLM proxy, each paired request by request with the simulator directly: rate sweep, streaming TTFT, cache on (apart), 20% upstream faults; CPU and RSS per gateway; a py-spy profile at 200 RPS | `load.json`, `load.png`, `profile_cheap_200rps.{svg,txt}` |
| `saturation.py` | closed-loop saturation, 32 connections, with `wrk` (Debian) and with our own generator: direct, Triage pinned and default profile, LiteLLM, one core each; and both gateways with one worker per core | `saturation.json` |
| `workers.py` | multi-worker scaling of `triage serve --workers N` (when the script exists) | `workers.json` |
| `overhead.py`, `cache.py` | sequential overhead (relay and litellm transports) and cache hit/miss latency | `overhead.json`, `cache.json` |
| `semantic_cache.py` | the semantic cache on its labelled pairs (precision of hits on hard negatives, recall on paraphrases, per encoder and threshold), a replayed workload's hit rate, lookup latency with Redis | `semantic_cache.json`, `semantic_cache.png` |
| `ladder_overhead.py`, `shadow_overhead.py`, `tracing_overhead.py`, `endpoints.py` | what a ladder, shadowing, tracing and the Responses/Messages endpoints add to a request (cited in the main README) | `<name>.json`, `<name>.png` |
| `faults.py`, `router_latency.py`, `render_panels.py` | requests lost under injected faults and the breaker's reaction; router latency per router; the dashboard's panels from a recorded run | `faults.json`, `router_latency.{json,png}`, `panels*.{json,png}` |
| `router_quality.py` | every registered router on routing-dev: APGR, CPT, share for 95% quality | `quality.json`, `quality.png` |
| `cost_report.py` | routing-dev prompts through the gateway, priced as gpt-4o vs a self-hosted 8B model, per profile | `cost.json`, `cost.png` |
| `soak.py` (`make soak`, not in `make bench`) | 10 minutes of chaos: three gateways behind HAProxy on a Redis Cluster, a faulty upstream, an open-loop client; lost requests, rate-limit and budget accuracy, metric agreement, p99 per phase (see "Soak" below and the README's "Soak test") | `soak.json`, `soak.png` |

## Method

- **Open loop.** `loadgen.py` starts request *i* at `t0 + i/rate` whatever the earlier requests
  did (a constant arrival rate, not a number of users), on a small raw-asyncio HTTP/1.1 client
  (keep-alive, ~0.1 ms CPU per request) under uvloop. Latency counts from the *scheduled* start, so a
  server that falls behind shows queueing instead of slowing the client down. Each step has a 1 s
  warm-up, then 5 s measured, at most 8000 requests, a 10 s timeout per request (a timeout is an error).
- **Paired overhead.** In every step request *i* goes through the gateway at its due time and, with the
  same body, straight to the simulator half an interval later (`loadgen.run_paired`): every request up
  to 400 RPS, every k-th above so the direct side stays at most 400 RPS. *Overhead* percentiles are
  percentiles of the per-pair differences (gateway latency - direct latency; a pair counts when both
  answered 200), so p50 <= p90 <= p99 always holds; the raw percentiles of both sides are listed too.
- **Pinning.** Each gateway alone on core 0 (`taskset -c 0`); the load generator and the simulator on
  core 1; all of them at `nice -10` when run as root. Other jobs on this shared 2-core machine still
  add noise to absolute numbers: each step records the share of core 0 busy with other processes
  (`foreign_core_load`), and a step above 25% is repeated once (both results are in the JSON).
- **Parity.** Both gateways check an API key, log requests their default way, run one worker each and
  (but for the cache table) no cache; the table below states each setting.
- **Simulator.** TTFT 0, 24 answer tokens at 10^6 tokens/s: upstream time is ~1 ms, so gateway time
  is not hidden. Prompts: 512 real routing-dev prompts in a seeded order, the same bytes for every
  system.
- **CPU and memory.** utime+stime of the gateway process (and its children) from `/proc/PID/stat`
  before and after a step, divided by the requests of the step; RSS is `VmRSS` after the step.
- **Sustainable RPS.** The highest offered rate whose paired p99 overhead stays under the bound (10 ms,
  and 50 ms for comparison with LiteLLM), with no client error and >= 95% of the offered rate achieved.
  A sweep stops after two rates in a row with p99 overhead > 100 ms or errors > 1%, or once it
  achieves < 90% of the offered rate.
- **Saturation, independently.** `wrk -t1 -c32` (Debian's wrk, a Lua script POSTing the same bodies),
  closed loop, 15 s per system after a 3 s warm-up, then the same 32-connection closed loop from our
  generator for 10 s: the headline ratio does not rest on our generator alone.
- **Systems.** Triage pinned to tier `cheap` (relay only, comparable with LiteLLM, which does no
  classification), profile `auto` (heuristic router) and profile `default` (the registry's
  `DEFAULT_ROUTER`). LiteLLM proxy 1.106.2 with the same simulated models (`openai/sim-cheap`,
  `openai/sim-frontier`), default routing, no database, `LITELLM_LOCAL_MODEL_COST_MAP=True`.
- **Soak.** `soak.py` (modules `soak_*.py`) runs three `triage serve` replicas sharing a Redis
  Cluster (3 primaries, 3 replicas, `cluster-node-timeout` 1 s) behind HAProxy 2.6 (health
  checks `GET /readyz` every 500 ms, `fall 2 rise 2`; `retry-on conn-failure 503`, `retries 3`,
  `option redispatch 1`, `http-reuse never`), against the simulator with 2% 500s, 1% 503s and
  1% mid-stream resets. The client sends 50 RPS open loop, a third streamed, over six keys (an
  open one, rpm 20 and 40, tpm 1500, a $0.004 frontier budget, a $0.002 auto budget), and
  records each request's due time, latency, status, error shape, replica (HAProxy's `X-Backend`
  header or its log) and cost. At 14% of the run one gateway is SIGKILLed (restarted at 22%),
  at 34% another is SIGTERMed (it drains; restarted at 44%), at 56% the Redis primary holding a
  budget counter is killed. Each replica's `/metrics` is scraped directly every 2 s; the
  increase of `triage_requests_total` is reset-aware (a new `_created` timestamp or a drop
  starts a new generation). The machine is shared, so latency is noisy; the checks are not.
"""


def main() -> None:
    parts: list[str] = [
        INTRO,
        "<!-- Everything below is generated by benchmarks/report.py from "
        "benchmarks/results/*.json: edit report.py, not this file. -->",
        "",
        *extra.commit_check(),
    ]
    doc, saturation = sections.load("load"), sections.load("saturation")
    if doc is not None:
        parts += load_sections.parity(doc, saturation) + extra.targets(doc, saturation)
        parts += load_sections.headline(doc) + load_sections.sweep_table(doc)
    parts += extra.saturation(saturation) + extra.workers(sections.load("workers"))
    if doc is not None:
        parts += load_sections.scenarios(doc) + sections.profile(doc)
    if (doc := sections.load("quality")) is not None:
        parts += sections.quality(doc)
    if (doc := sections.load("cost")) is not None:
        parts += sections.cost(doc)
    parts += sections.older(sections.load("overhead"), sections.load("cache"))
    README.write_text("\n".join(parts))
    print(f"wrote {README}")


if __name__ == "__main__":
    main()
