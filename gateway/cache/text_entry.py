"""Legacy text completions in the cache: assembling a streamed one, replaying a stored one.

The counterpart of ``gateway.cache.entry`` for ``/v1/completions``: an entry's body is a
whole ``text_completion`` (choices of ``text``); a streamed miss is assembled from its
``text_completion`` chunks and stored once every choice finished; a hit on a streaming
request is replayed as such chunks (``finish_reason`` null until each choice's last).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.cache.entry import chunk_event


@dataclass(slots=True)
class _Choice:
    text: list[str] = field(default_factory=list)
    finish_reason: str | None = None


class TextAssembler:
    """Rebuilds the whole ``text_completion`` from a stream's chunks."""

    def __init__(self) -> None:
        self._choices: dict[int, _Choice] = {}
        self._head: dict[str, Any] = {}
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        if not self._head:
            self._head = {k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if chunk.get(k)}
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            state = self._choices.setdefault(int(choice.get("index", 0)), _Choice())
            if isinstance(choice.get("text"), str):
                state.text.append(choice["text"])
            if choice.get("finish_reason"):
                state.finish_reason = choice["finish_reason"]

    def text(self) -> str:
        """Everything generated so far, for counting tokens."""
        return "".join("".join(state.text) for state in self._choices.values())

    def completion(self) -> dict[str, Any] | None:
        """The assembled ``text_completion``; ``None`` if a choice never finished."""
        if not self._choices or any(c.finish_reason is None for c in self._choices.values()):
            return None
        choices = [
            {"index": i, "text": "".join(self._choices[i].text), "logprobs": None, "finish_reason": c.finish_reason}
            for i, c in sorted(self._choices.items())
        ]
        return {**self._head, "object": "text_completion", "choices": choices, "usage": self.usage}


def replay_text_events(body: dict[str, Any], include_usage: bool) -> Iterator[bytes]:
    """SSE ``data:`` events for a cached ``text_completion``, ``[DONE]`` excluded."""
    head = {k: body[k] for k in ("id", "created", "model", "system_fingerprint") if body.get(k) is not None}
    head["object"] = "text_completion"
    for choice in body.get("choices") or ():
        index = choice.get("index", 0)
        if choice.get("text"):
            yield chunk_event(head, [{"index": index, "text": choice["text"], "logprobs": None, "finish_reason": None}])
        yield chunk_event(
            head, [{"index": index, "text": "", "logprobs": None, "finish_reason": choice.get("finish_reason")}]
        )
    if include_usage and body.get("usage"):
        yield chunk_event({**head, "usage": body["usage"]}, [])


def is_text_completion(body: dict[str, Any]) -> bool:
    return body.get("object") == "text_completion"
