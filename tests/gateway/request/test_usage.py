"""Reading an upstream's ``usage``: chat's, and embeddings' (which has no completion tokens)."""

from __future__ import annotations

from gateway.request.cost import Usage


def test_chat_usage_is_read_as_given() -> None:
    assert Usage.from_body({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}) == Usage(12, 5)


def test_embeddings_usage_has_no_completion() -> None:
    assert Usage.from_body({"prompt_tokens": 9, "total_tokens": 9}) == Usage(9, 0)


def test_a_usage_without_completion_or_total_is_malformed() -> None:
    # the caller then counts with tiktoken rather than charging nothing for the answer
    assert Usage.from_body({"prompt_tokens": 9}) is None
    assert Usage.from_body({"prompt_tokens": 9, "total_tokens": 3}) is None
    assert Usage.from_body(None) is None
