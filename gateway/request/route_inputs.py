"""What policies need to know about a request: its size in tokens and the features it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.tokens import PER_MESSAGE_TOKENS, REPLY_PRIMING_TOKENS, TokenCounter
from policies.types import RequestFacts
from routers.base import content_text

IMAGE_PARTS = frozenset({"image_url", "input_image", "image"})


def features(request: ChatCompletionRequest) -> frozenset[str]:
    used: set[str] = set()
    if request.tools:
        used.add("tools")
    if request.response_format and request.response_format.get("type") == "json_schema":
        used.add("json_schema")
    for message in request.messages:
        if isinstance(message.content, list) and any(part.type in IMAGE_PARTS for part in message.content):
            used.add("images")
            break
    return frozenset(used)


def _text_bytes(messages: Sequence[Mapping[str, Any]]) -> int:
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += len(content_text(message.get("content")).encode())
        total += PER_MESSAGE_TOKENS + len(str(message.get("tool_calls") or "").encode())
    return total


def request_facts(
    request: ChatCompletionRequest,
    messages: Sequence[Mapping[str, Any]],
    counter: TokenCounter,
    smallest_window: int,
    expected_output: int,
) -> RequestFacts:
    """Facts for the policies; tiktoken runs only when the prompt might not fit a window.

    A token is at least one byte, so a prompt whose UTF-8 size plus the output fits the
    smallest context window fits every window: then a byte estimate (bytes / 4) is
    enough (it only feeds budget estimates), and the hot path skips tokenising.
    """
    max_output = request.max_completion_tokens or request.max_tokens or 0
    upper_bound = _text_bytes(messages)
    if upper_bound + max_output <= smallest_window:
        prompt_tokens = max(upper_bound // 4, 1)
    else:
        prompt_tokens = counter.prompt_tokens(messages)
    return RequestFacts(prompt_tokens, max_output, expected_output, features(request))
