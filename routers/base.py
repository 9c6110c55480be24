"""The router seam: a classifier that turns a conversation into a score.

``score`` is P(the frontier model is needed), a float in [0, 1]. Higher means the
cheap model is less likely to answer as well as the frontier model. Routers never
decide a route; policies turn scores into routes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from routers.calibration import Calibration

Message = Mapping[str, Any]
Conversation = Sequence[Message]


@dataclass(frozen=True, slots=True)
class RouterScore:
    """One router verdict: the score, the router that gave it and how long it took."""

    value: float
    router: str
    latency_s: float


class RouterUnavailable(RuntimeError):
    """The router cannot score right now (artifact missing, inference failed)."""


@runtime_checkable
class Router(Protocol):
    """A classifier behind one interface. Implementations must not block the event loop."""

    name: str
    calibration: Calibration  # score quantiles on the training prompts

    async def score(self, messages: Conversation) -> RouterScore:
        """Score one conversation."""
        ...

    async def score_batch(self, conversations: Sequence[Conversation]) -> list[RouterScore]:
        """Score many conversations at once (one score per conversation, same order)."""
        ...

    async def aclose(self) -> None:
        """Release threads, sessions or other resources."""
        ...


def prompt_text(messages: Conversation, max_chars: int = 8000) -> str:
    """The text a router looks at: the last user turn, plus the system prompt if any.

    Content may be a string or a list of OpenAI content parts; only text parts count.
    The result is capped at ``max_chars`` so a huge prompt cannot make scoring slow.
    """
    system = ""
    user = ""
    for message in messages:
        role = message.get("role")
        text = _content_text(message.get("content"))
        if role == "system" or role == "developer":
            system = text
        elif role == "user":
            user = text
    joined = f"{system}\n{user}" if system and user else (user or system)
    return joined[:max_chars]


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        return "\n".join(str(p) for p in parts)
    return ""
