"""Chat-completion bodies and stream chunks brought to the shape of OpenAI's published schema.

OpenAI's OpenAPI document (3.0, so ``nullable``) separates *optional* from *nullable*: a
response message must carry ``content`` and ``refusal`` (each may be ``null``), a choice must
carry ``logprobs`` (``null`` when not asked for), a stream choice must carry ``finish_reason``
(``null`` until its last chunk), while ``tool_calls``, ``function_call``, ``usage``,
``system_fingerprint`` and the usage details may be absent but are never ``null``.

litellm gets this wrong in small ways (``tool_calls: null``, ``refusal`` moved under
``provider_specific_fields``, no ``logprobs``, no ``finish_reason`` on chunks, usage details
``null``, a trailing usage chunk with an empty choice). These pure functions fix the bodies the
gateway serialises itself: the litellm transport's and the cache's. Relayed bodies are passed on
byte for byte and never come here. Bodies of other objects (embeddings, text completions) are
returned unchanged.
"""

from __future__ import annotations

from typing import Any

# keys that are required and nullable: a ``None`` here is kept (and a missing one becomes ``None``)
_MESSAGE_REQUIRED = ("content", "refusal")
_DELTA_NULLABLE = frozenset({"content", "refusal"})


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A ``chat.completion`` body as the spec has it; a new dict, ``body`` is not modified."""
    if body.get("object", "chat.completion") != "chat.completion":
        return body
    out = _without_nulls(body)
    choices = out.get("choices")
    if isinstance(choices, list):
        out["choices"] = [_choice(c) if isinstance(c, dict) else c for c in choices]
    if isinstance(out.get("usage"), dict):
        out["usage"] = usage(out["usage"])
    return out


def chat_chunk(chunk: dict[str, Any]) -> dict[str, Any]:
    """A ``chat.completion.chunk`` as the spec has it; a new dict, ``chunk`` is not modified.

    ``usage`` may be ``null`` on a chunk and is kept so. A chunk that carries usage and only
    choices with nothing in them (litellm's trailing usage chunk) gets ``choices: []``, as
    OpenAI sends it.
    """
    if chunk.get("object", "chat.completion.chunk") != "chat.completion.chunk":
        return chunk
    out = {k: v for k, v in chunk.items() if v is not None or k == "usage"}
    choices = out.get("choices")
    if isinstance(choices, list):
        if isinstance(out.get("usage"), dict) and all(_empty_chunk_choice(c) for c in choices):
            choices = []
        out["choices"] = [_chunk_choice(c) if isinstance(c, dict) else c for c in choices]
    if isinstance(out.get("usage"), dict):
        out["usage"] = usage(out["usage"])
    return out


def usage(value: dict[str, Any]) -> dict[str, Any]:
    """Usage without ``null`` entries, in it or in its token details."""
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _choice(choice: dict[str, Any]) -> dict[str, Any]:
    out = dict(choice)
    extra = out.get("provider_specific_fields")
    if isinstance(out.get("message"), dict):
        out["message"] = _message(out["message"])
    if isinstance(extra, dict) and not extra:
        del out["provider_specific_fields"]
    out["logprobs"] = _logprobs(out.get("logprobs"))
    return out


def _message(message: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if v is not None or k in _MESSAGE_REQUIRED}
    extra = out.get("provider_specific_fields")
    if isinstance(extra, dict) and "refusal" in extra:
        # litellm moves OpenAI's own ``refusal`` under its provider fields: put it back
        if out.get("refusal") is None:
            out["refusal"] = extra["refusal"]
        extra = {k: v for k, v in extra.items() if k != "refusal"}
        if extra:
            out["provider_specific_fields"] = extra
        else:
            del out["provider_specific_fields"]
    for key in _MESSAGE_REQUIRED:
        out.setdefault(key, None)
    return out


def _logprobs(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {"content": None, "refusal": None, **value}


def _empty_chunk_choice(choice: Any) -> bool:
    return (
        isinstance(choice, dict)
        and not choice.get("delta")
        and choice.get("finish_reason") is None
        and choice.get("logprobs") is None
    )


def _chunk_choice(choice: dict[str, Any]) -> dict[str, Any]:
    out = _without_nulls(choice)
    delta = out.get("delta")
    if isinstance(delta, dict):
        out["delta"] = _delta(delta)
    elif "delta" not in out:
        out["delta"] = {}
    out["logprobs"] = _logprobs(choice.get("logprobs"))
    out["finish_reason"] = choice.get("finish_reason")
    return out


def _delta(delta: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in delta.items() if v is not None or k in _DELTA_NULLABLE}
    extra = out.get("provider_specific_fields")
    if isinstance(extra, dict) and not extra:
        del out["provider_specific_fields"]
    calls = out.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [_tool_call_chunk(c) if isinstance(c, dict) else c for c in calls]
    return out


def _tool_call_chunk(call: dict[str, Any]) -> dict[str, Any]:
    out = _without_nulls(call)
    if isinstance(out.get("function"), dict):
        out["function"] = _without_nulls(out["function"])
    return out
