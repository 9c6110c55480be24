"""Every API endpoint × {stream, non-stream} × {relay, litellm}, through the official SDKs only.

The SDKs' typed objects must parse without a warning, and the ``x-triage-*`` headers
must be on every answer (``gateway_url`` runs each test on both transports).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import anthropic
import openai
import pytest

HEADERS = ("x-triage-tier", "x-triage-cache", "x-triage-request-id")
ROUTED = (
    *HEADERS,
    "x-triage-score",
)  # and x-triage-cost-usd on whole answers (a stream's cost comes after its headers)


@pytest.fixture
def claude(gateway_url: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gateway_url, api_key="unused", max_retries=0, timeout=30) as sdk:
        yield sdk


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _routed(headers: object, whole: bool = False) -> None:
    for name in (*ROUTED, "x-triage-cost-usd") if whole else ROUTED:
        assert name in headers, name  # type: ignore[operator]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_responses(client: openai.OpenAI, stream: bool) -> None:
    request = {
        "model": "auto",
        "input": "Name a colour.",
        "instructions": "Answer in one word.",
        "max_output_tokens": 40,
    }
    if not stream:
        raw = client.responses.with_raw_response.create(**request)  # type: ignore[call-overload]
        response = raw.parse()
        assert response.status in ("completed", "incomplete") and response.output_text
        assert response.usage is not None and response.usage.total_tokens > 0
        _routed(raw.headers, whole=True)
        return
    with client.responses.with_streaming_response.create(**request, stream=True) as raw:  # type: ignore[call-overload]
        _routed(raw.headers)
        events = list(raw.parse())
    kinds = [event.type for event in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert events[-1].response.usage.total_tokens > 0  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_completions(client: openai.OpenAI, stream: bool) -> None:
    if not stream:
        raw = client.completions.with_raw_response.create(model="auto", prompt="Once upon a time", max_tokens=10)
        assert raw.parse().choices[0].text
        _routed(raw.headers, whole=True)
        return
    with client.completions.with_streaming_response.create(
        model="auto", prompt="Once upon a time", max_tokens=10, stream=True
    ) as raw:
        _routed(raw.headers)
        text = "".join(chunk.choices[0].text for chunk in raw.parse() if chunk.choices)
    assert text


def test_embeddings(client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="embed", input=["one", "two"])
    assert len(raw.parse().data) == 2
    for name in (*HEADERS, "x-triage-cost-usd"):
        assert name in raw.headers


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_messages(claude: anthropic.Anthropic, stream: bool) -> None:
    request = {"model": "auto", "max_tokens": 40, "messages": [{"role": "user", "content": "Name a colour."}]}
    if not stream:
        raw = claude.messages.with_raw_response.create(**request)  # type: ignore[call-overload]
        message = raw.parse()
        assert message.type == "message" and message.content[0].type == "text" and message.content[0].text
        assert message.stop_reason in ("end_turn", "max_tokens") and message.usage.output_tokens > 0
        _routed(raw.headers, whole=True)
        return
    with claude.messages.with_streaming_response.create(**request, stream=True) as raw:  # type: ignore[call-overload]
        _routed(raw.headers)
        events = list(raw.parse())
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "content_block_delta" in kinds and "message_delta" in kinds
