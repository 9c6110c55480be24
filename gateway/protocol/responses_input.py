"""Responses ``input`` items as chat messages.

``message`` items keep their role (user, assistant, system, developer); their parts become
chat parts: ``input_text``/``output_text`` → ``text``, ``input_image`` (by URL or data URL) →
``image_url``, ``input_file`` (inline ``file_data``) → ``file``, ``input_audio`` →
``input_audio``. A ``function_call`` item joins the assistant message before it as a tool call
(or starts one); a ``function_call_output`` item becomes a ``tool`` message (text only; one
text part becomes a plain string). ``reasoning``
items are dropped: Triage never produces them, and chat has nowhere to put them. Anything
that needs stored state (``file_id``, ``item_reference``) or a built-in tool's items is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.protocol.errors import InvalidRequest
from gateway.protocol.fields import check, need, unsupported

_ROLES = frozenset({"user", "assistant", "system", "developer"})
_TEXT_PARTS = frozenset({"input_text", "output_text"})
_NO_FILES = "file ids are not supported: Triage has no files API; send the content inline"


def chat_messages(items: list[Any]) -> list[dict[str, Any]]:
    """The chat messages for a list of input items."""
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        param = f"input[{i}]"
        item = check(item, dict, param)
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, param))
        elif kind == "function_call":
            _add_call(messages, item, param)
        elif kind == "function_call_output":
            messages.append(_call_output(item, param))
        elif kind == "reasoning":
            continue
        elif kind == "item_reference":
            raise unsupported(param, "item references need stored items: Triage stores none; send the items")
        else:
            raise unsupported(f"{param}.type", f"input item type {kind!r} is not supported")
    return messages


def _message(item: Mapping[str, Any], param: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in _ROLES:
        raise InvalidRequest(f"{param}.role must be one of user, assistant, system, developer", param=f"{param}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    parts = check(content, list, f"{param}.content")
    return {"role": role, "content": [_part(part, role, f"{param}.content[{j}]") for j, part in enumerate(parts)]}


def _part(part: object, role: str, param: str) -> dict[str, Any]:
    part = check(part, dict, param)
    kind = part.get("type")
    if kind in _TEXT_PARTS:
        return {"type": "text", "text": need(part, "text", str, f"{param}.text")}
    if kind == "refusal" and role == "assistant":
        return {"type": "text", "text": need(part, "refusal", str, f"{param}.refusal")}
    if role != "user" or kind not in {"input_image", "input_file", "input_audio"}:
        raise InvalidRequest(f"{param}.type {kind!r} is not a content part a {role} message can have", param=param)
    if kind == "input_image":
        return _image(part, param)
    if kind == "input_file":
        return _file(part, param)
    audio = need(part, "input_audio", dict, f"{param}.input_audio")
    return {"type": "input_audio", "input_audio": audio}


def _image(part: Mapping[str, Any], param: str) -> dict[str, Any]:
    if part.get("image_url") is None and part.get("file_id") is not None:
        raise unsupported(f"{param}.file_id", _NO_FILES)
    image: dict[str, Any] = {"url": need(part, "image_url", str, f"{param}.image_url")}
    if part.get("detail") is not None:
        image["detail"] = part["detail"]
    return {"type": "image_url", "image_url": image}


def _file(part: Mapping[str, Any], param: str) -> dict[str, Any]:
    if part.get("file_data") is None:
        missing = "file_id" if part.get("file_id") is not None else "file_url"
        if part.get(missing) is not None:
            raise unsupported(
                f"{param}.{missing}", _NO_FILES if missing == "file_id" else "file URLs are not supported"
            )
    file: dict[str, Any] = {"file_data": need(part, "file_data", str, f"{param}.file_data")}
    if part.get("filename") is not None:
        file["filename"] = part["filename"]
    return {"type": "file", "file": file}


def _add_call(messages: list[dict[str, Any]], item: Mapping[str, Any], param: str) -> None:
    call = {
        "id": need(item, "call_id", str, f"{param}.call_id"),
        "type": "function",
        "function": {
            "name": need(item, "name", str, f"{param}.name"),
            "arguments": need(item, "arguments", str, f"{param}.arguments"),
        },
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _call_output(item: Mapping[str, Any], param: str) -> dict[str, Any]:
    call_id = need(item, "call_id", str, f"{param}.call_id")
    output = item.get("output")
    if isinstance(output, str):
        return {"role": "tool", "tool_call_id": call_id, "content": output}
    parts = check(output, list, f"{param}.output")
    texts: list[dict[str, Any]] = []
    for j, part in enumerate(parts):
        part_param = f"{param}.output[{j}]"
        part = check(part, dict, part_param)
        if part.get("type") not in _TEXT_PARTS:
            raise unsupported(part_param, "only text parts can be a function call's output on chat completions")
        texts.append({"type": "text", "text": need(part, "text", str, f"{part_param}.text")})
    return {"role": "tool", "tool_call_id": call_id, "content": texts[0]["text"] if len(texts) == 1 else texts}
