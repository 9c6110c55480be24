"""What policies need to know about a request: its size in tokens and the features it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.tokens import TokenCounter, estimate_prompt_tokens, prompt_bytes
from policies.types import RequestFacts

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


def request_facts(
    request: ChatCompletionRequest,
    messages: Sequence[Mapping[str, Any]],
    counter: TokenCounter,
    smallest_window: int,
    expected_output: int,
    api: str = "chat",
) -> RequestFacts:
    """Facts for the policies; tiktoken runs only when the prompt might not fit a window.

    A token is at least one byte, so a prompt whose UTF-8 size plus the output fits the
    smallest context window fits every window: then a byte estimate (bytes / 4) is
    enough (it only feeds budget estimates), and the hot path skips tokenising.
    """
    max_output = request.max_completion_tokens or request.max_tokens or 0
    if prompt_bytes(messages) + max_output <= smallest_window:
        prompt_tokens = estimate_prompt_tokens(messages)
    else:
        prompt_tokens = counter.prompt_tokens(messages)
    used = features(request) | {"completions"} if api == "completions" else features(request)
    return RequestFacts(prompt_tokens, max_output, expected_output, used, request.n or 1, wants_reasoning(request))


def wants_reasoning(request: ChatCompletionRequest) -> bool:
    """The request sets ``reasoning_effort`` (other than ``none``): a ladder's reasoning rung may serve it."""
    effort = (request.model_extra or {}).get("reasoning_effort")
    return isinstance(effort, str) and effort != "none"
