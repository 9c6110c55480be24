"""Shared fixtures: a real simulator process, real gateway processes, a real Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.local import processes as procs

PROCESS_FIXTURES = frozenset({"sim_url", "redis_url", "gateway_url", "base_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that starts a real process (``make test-fast`` runs the others).

    A test starts processes when its fixtures include one that does, or when its module
    spawns them itself (the process helpers or ``subprocess``).
    """
    spawns: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        if path not in spawns:
            source = Path(path).read_text()
            spawns[path] = "procs." in source or "subprocess" in source
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) or spawns[path]:
            item.add_marker(pytest.mark.processes)


# litellm, imported in-process by some tests, must use its bundled cost map (no network)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(scope="session")
def sim_url() -> Iterator[str]:
    """One simulator for the session: fast, so tests stay quick."""
    with procs.simulator(["--ttft-ms", "5", "--tokens-per-s", "3000", "--answer-tokens", "24"]) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server started for this test session on a free loopback port."""
    with procs.redis_server(tmp_path_factory.mktemp("redis")) as (url, _process):
        yield url


def tier(sim_url: str, model: str, transport: str, **extra: Any) -> dict[str, Any]:
    prices = {"sim-cheap": (0.10, 0.40), "sim-frontier": (2.50, 10.00), "sim-embedding": (0.02, 0.0)}[model]
    return {
        "model": f"openai/{model}",
        "api_base": sim_url,
        "transport": transport,
        "price": {"input_per_mtok": prices[0], "output_per_mtok": prices[1]},
        "timeout_s": 10,
        "capabilities": ["tools", "images", "json_schema", "completions"],  # the simulator supports all four
        **extra,
    }


def e2e_config(sim_url: str, transport: str) -> dict[str, Any]:
    """Tiers for every end-to-end case; fault tiers use the simulator's x-sim-fault header."""
    key = f"{transport}-{id(sim_url)}"
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", transport),
            "frontier": tier(sim_url, "sim-frontier", transport),
            # the first two calls ever made to this tier fail with 500: retries absorb the burst
            "flaky": tier(
                sim_url,
                "sim-cheap",
                transport,
                max_retries=3,
                extra_headers={"x-sim-fault": f"500;first=2;key=flaky-{key}"},
                fallbacks=[],
            ),
            # always 500: traffic falls back to cheap
            "dead": tier(
                sim_url,
                "sim-frontier",
                transport,
                max_retries=1,
                extra_headers={"x-sim-fault": "500"},
                fallbacks=["cheap"],
            ),
            # streams reset by the peer after 3 content chunks; no fallback so the break is visible
            "resetter": tier(
                sim_url,
                "sim-cheap",
                transport,
                max_retries=0,
                extra_headers={"x-sim-fault": "reset;after=3"},
                fallbacks=[],
            ),
            # a chat-only model: /v1/completions pinned here is a 400 unsupported_feature
            "chat-only": tier(sim_url, "sim-cheap", transport, capabilities=["tools"], fallbacks=[]),
            # /v1/embeddings (model: embed)
            "embed": tier(sim_url, "sim-embedding", transport, kind="embeddings", capabilities=[]),
            # never answers: the per-attempt timeout fires, then 504
            "stuck": tier(
                sim_url,
                "sim-cheap",
                transport,
                max_retries=1,
                timeout_s=0.3,
                extra_headers={"x-sim-fault": "timeout"},
                fallbacks=[],
            ),
        },
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.3},
            "all-frontier": {"router": "heuristic", "frontier_share": 1.0},
            "all-cheap": {"router": "heuristic", "frontier_share": 0.0},
            "dead-frontier": {"router": "heuristic", "frontier_share": 1.0, "frontier_tier": "dead"},
        },
        "limits": {"max_body_bytes": 65536},
    }


@pytest.fixture(scope="session", params=["relay", "litellm"])
def gateway_url(
    request: pytest.FixtureRequest, sim_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A ``triage serve`` process per transport; the e2e tests run against both."""
    directory: Path = tmp_path_factory.mktemp(f"gw-{request.param}")
    with procs.gateway(e2e_config(sim_url, request.param), directory) as url:
        yield url
