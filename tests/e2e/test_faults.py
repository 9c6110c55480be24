"""End to end under injected upstream faults: retries, fallbacks, broken streams, timeouts."""

from __future__ import annotations

import time

import openai
import pytest

HELLO = [{"role": "user", "content": "Say hello to the routing gateway."}]


def test_burst_of_500s_is_absorbed_by_retries(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="flaky", messages=HELLO)
    assert raw.headers["x-triage-tier"] == "flaky"
    assert raw.parse().choices[0].message.content
    again = client.chat.completions.with_raw_response.create(model="flaky", messages=HELLO)
    assert again.headers["x-triage-tier"] == "flaky"


def test_dead_tier_falls_back_to_the_other_tier(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="dead-frontier", messages=HELLO)
    assert raw.headers["x-triage-tier"] == "cheap"
    assert "fell back from dead to cheap" in raw.headers["x-triage-reason"]
    assert raw.parse().choices[0].message.content.startswith("[sim-cheap]")


def test_dead_tier_falls_back_before_the_first_byte_of_a_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="dead-frontier", messages=HELLO, stream=True
    ) as response:
        assert response.headers["x-triage-tier"] == "cheap"
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    assert text.startswith("[sim-cheap]")


def test_connection_reset_mid_stream_sends_an_error_event(client: openai.OpenAI) -> None:
    started = time.monotonic()
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model="resetter", messages=HELLO, stream=True):
            received.append(chunk)
    assert time.monotonic() - started < 10, "a broken stream must not hang"
    assert received, "the chunks before the reset reached the client"
    assert "stream" in str(caught.value.message)


def test_reset_before_any_byte_is_a_502(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="resetter", messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.body["type"] == "upstream_error"  # type: ignore[index]


def test_upstream_that_never_answers_is_a_504(client: openai.OpenAI) -> None:
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="stuck", messages=HELLO)
    assert caught.value.status_code == 504
    assert caught.value.body["code"] == "upstream_timeout"  # type: ignore[index]
    assert time.monotonic() - started < 5
