"""The client-library suite: every client library against the real gateway on the demo config.

``make test-clients`` runs it in its own virtualenv (``.venv-clients``), so the libraries'
pins never meet the project's. One simulator and one ``triage serve`` process, on the
embedded demo config with its tiers pointed at the simulator's free port, serve the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gateway.local import processes as procs
from gateway.settings import DEMO_CONFIG

# litellm, used here as a client, must use its bundled cost map (no network)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# the model names the demo config offers: a routed profile and the two pinned tiers
PROFILE = "auto"
UNKNOWN_MODEL = "no-such-model"


@pytest.fixture(scope="session")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a gateway serving the demo config on a simulator of its own."""
    with procs.simulator(["--ttft-ms", "5", "--tokens-per-s", "3000", "--answer-tokens", "24"]) as sim_url:
        config = yaml.safe_load(Path(DEMO_CONFIG).read_text())
        config["log_requests"] = False  # one JSON line per request would drown pytest's output
        for tier in config["tiers"].values():
            tier["api_base"] = sim_url
        with procs.gateway(config, tmp_path_factory.mktemp("gateway")) as url:
            yield url


@pytest.fixture(scope="session")
def base_url(gateway_url: str) -> str:
    """The OpenAI base URL every client library is given."""
    return f"{gateway_url}/v1"
