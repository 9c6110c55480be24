"""Fixtures for the end-to-end tests: the official openai SDK pointed at a gateway process."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest


@pytest.fixture
def client(gateway_url: str) -> Iterator[openai.OpenAI]:
    """The official SDK as an app would use it, with its own retries off (the gateway retries)."""
    with openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="unused", max_retries=0, timeout=30) as sdk:
        yield sdk
