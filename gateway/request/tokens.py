"""Counting tokens with tiktoken when an upstream does not report usage.

Upstream usage is the truth and always preferred (streams always ask for it). This
counter prices what has no usage: a stream cut before its usage chunk, or an
upstream that never reports usage. The encoding is loaded once, at start-up, from
the files litellm ships (``TIKTOKEN_CACHE_DIR``, set here unless the environment sets it), so no network.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.request.cost import Usage
from routers.base import content_text

PER_MESSAGE_TOKENS = 3  # OpenAI's chat framing: role and separators per message
REPLY_PRIMING_TOKENS = 3


def use_bundled_encodings() -> None:
    """Point tiktoken at the encoding files litellm's wheel ships, unless told otherwise."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec is not None and spec.origin is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(Path(spec.origin).parent / "litellm_core_utils" / "tokenizers")


def prompt_bytes(messages: Iterable[Mapping[str, Any]]) -> int:
    """An upper bound on a prompt's tokens (a token is at least one byte), framing included."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += len(content_text(message.get("content")).encode())
        total += PER_MESSAGE_TOKENS + len(str(message.get("tool_calls") or "").encode())
    return total


def estimate_prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """The cheap estimate used where tiktoken is not worth it: UTF-8 bytes / 4."""
    return max(prompt_bytes(messages) // 4, 1)


def output_tokens(max_tokens: int | None, expected: int, choices: int | None) -> int:
    """The output an estimate assumes: max tokens (or the expected output), times ``n``."""
    return (max_tokens or expected) * (choices or 1)


class TokenCounter:
    """tiktoken counts, for prompts that might not fit a window and answers without usage.

    The encoding (~35 MB per process) is loaded on the first count, not at start-up: most
    requests never need it (upstreams report usage; most prompts fit by their byte size).
    That first count takes ~0.1 s once per worker.
    """

    def __init__(self, encoding: str = "cl100k_base") -> None:
        self._name = encoding
        self._encoding: Any = None

    def count(self, text: str) -> int:
        if self._encoding is None:
            use_bundled_encodings()
            import tiktoken

            self._encoding = tiktoken.get_encoding(self._name)
        return len(self._encoding.encode(text, disallowed_special=()))

    def prompt_tokens(self, messages: Iterable[Mapping[str, Any]]) -> int:
        total = REPLY_PRIMING_TOKENS
        for message in messages:
            total += PER_MESSAGE_TOKENS + self.count(content_text(message.get("content")))
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                total += self.count(str(function.get("name", ""))) + self.count(str(function.get("arguments", "")))
        return total

    def usage(self, messages: Iterable[Mapping[str, Any]], completion_text: str) -> Usage:
        return Usage(self.prompt_tokens(messages), self.count(completion_text))
