#!/usr/bin/env bash
# Install LiteLLM proxy into its own venv (idempotent): benchmarks/load.py compares Triage with it.
# It lives apart from the project's venv: litellm[proxy] pins its own FastAPI, uvicorn and pydantic.
#   bash benchmarks/litellm_proxy/install.sh [VENV]   (default: .venv-litellm-proxy, or $LITELLM_PROXY_VENV)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${1:-${LITELLM_PROXY_VENV:-.venv-litellm-proxy}}"
VERSION="1.106.2"   # pinned: unpinned, pip backtracks through litellm releases for minutes
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/litellm" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$VERSION')" 2>/dev/null; then
  echo "LiteLLM proxy $VERSION already in $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "litellm[proxy]==$VERSION"
echo "installed LiteLLM proxy $VERSION into $VENV"
