"""The router seam: a classifier that turns a conversation into a score.

``score`` is P(the frontier model is needed), a float in [0, 1]. Higher means the
cheap model is less likely to answer as well as the frontier model. Routers never
decide a route; policies turn scores into routes.

What a router sees (``prompt_text``, the "view" of a conversation):

1. The last ``user`` message, its text parts joined by newlines. If it is longer than
   ``USER_CHARS`` (4,000) characters, its first 3,000 and last ~1,000 characters joined
   by " … " (a pasted document usually comes before the actual question).
2. If there is any context, a blank line and then, one line each:
   ``[system] <system or developer prompt>`` (the last one; capped at ``SYSTEM_CHARS`` = 400
   characters, head and tail) and the ``CONTEXT_TURNS`` (2) most recent other non-empty turns
   (earlier user turns, assistant turns, tool results, in conversation order) as
   ``[<role>] <text>``, each capped at ``TURN_CHARS`` = 300 characters (head and tail).
3. The whole view is cut to ``max_chars`` (default ``MAX_VIEW_CHARS`` = 6,000).
   With no user message at all the view is the system prompt (capped).

So a single user turn is scored exactly as the training prompts were, and long pasted
documents or tool results cost at most a few thousand characters. Encoders cap again in
tokens: ``embedding`` reads the first 96 tokens of the view, ``static`` the first 512.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from routers.calibration import Calibration

USER_CHARS = 4000
SYSTEM_CHARS = 400
TURN_CHARS = 300
CONTEXT_TURNS = 2
MAX_VIEW_CHARS = 6000

Message = Mapping[str, Any]
Conversation = Sequence[Message]


@dataclass(frozen=True, slots=True)
class RouterScore:
    """One router verdict: the score, the router that gave it and how long it took.

    ``ood`` is True when the prompt is unlike every prompt the router was trained on
    (its score is then an extrapolation; see routers/README.md). Routers that cannot
    tell leave it False.
    """

    value: float
    router: str
    latency_s: float
    ood: bool = False


class RouterUnavailable(RuntimeError):
    """The router cannot score right now (artifact missing, inference failed)."""


class MissingArtifact(RouterUnavailable, FileNotFoundError):
    """A router's artifact file is missing: raised at start-up, so it is an ``OSError`` too."""


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


def prompt_text(messages: Conversation, max_chars: int = MAX_VIEW_CHARS) -> str:
    """The text a router looks at (the "view"; see the module docstring for the exact rules).

    Content may be a string or a list of OpenAI content parts; only text parts count.
    A single user turn with no other context is returned as it is (up to the caps), so
    the view of a one-turn request equals the training prompts.
    """
    system = ""
    last_user = -1
    texts: list[tuple[str, str]] = []
    for message in messages:
        role = str(message.get("role") or "")
        text = content_text(message.get("content"))
        if role in ("system", "developer"):
            system = text
            continue
        texts.append((role, text))
        if role == "user":
            last_user = len(texts) - 1
    if last_user < 0:
        return _head_tail(system, max_chars)
    view = _head_tail(texts[last_user][1], USER_CHARS)
    context = [f"[system] {_head_tail(system, SYSTEM_CHARS)}"] if system.strip() else []
    others = [t for i, t in enumerate(texts) if i != last_user and t[1].strip()][-CONTEXT_TURNS:]
    context += [f"[{role}] {_head_tail(text, TURN_CHARS)}" for role, text in others]
    if context:
        view = view + "\n\n" + "\n".join(context)
    return view[:max_chars]


def _head_tail(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its head and tail joined by " … "."""
    if len(text) <= limit:
        return text
    head = (limit * 3) // 4
    tail = max(limit - head - 3, 0)
    return text[:head] + " … " + (text[-tail:] if tail else "")


TEXT_PARTS = frozenset({"text", "input_text", "output_text"})


def content_text(content: object) -> str:
    """The text of a message's content: a string, or its text parts joined by newlines.

    The one definition, used by the routers and the gateway alike. A text part is a
    mapping (or an object) whose ``type`` is ``text`` (Chat Completions) or
    ``input_text``/``output_text`` (Responses API) and whose ``text`` is a string;
    images, audio and other parts carry no text.
    """
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts: list[str] = []
    for part in content:
        if isinstance(part, Mapping):
            kind, text = part.get("type"), part.get("text")
        else:
            kind, text = getattr(part, "type", None), getattr(part, "text", None)
        if kind in TEXT_PARTS and isinstance(text, str):
            texts.append(text)
    return "\n".join(texts)
