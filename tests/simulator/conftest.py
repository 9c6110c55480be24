"""Fixtures of the simulator tests: one real simulator process per module, and clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.simulator.support import start_simulator, stop_simulator


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    proc, url = start_simulator()
    try:
        yield url
    finally:
        assert stop_simulator(proc) == 0


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def sdk(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url + "/v1", api_key="sk-sim", max_retries=0) as client:
        yield client
