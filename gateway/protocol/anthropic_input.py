"""Anthropic Messages ``messages`` (and ``system``) as chat messages.

A user message's ``tool_result`` blocks become ``tool`` messages, placed first (Anthropic puts
them first too); its other blocks then form one user message: ``text`` → text parts, ``image``
(base64 or URL source) → ``image_url`` parts, a base64 ``document`` → a ``file`` part and a
plain-text one → a text part. Chat tool messages hold text only, so images inside a tool result
move to the user message that follows the tool messages (the tool message says so if it has no
text of its own); a result of one text block becomes a plain string. ``is_error`` has no chat
equivalent and is dropped.

An assistant message's ``text`` blocks become its content and its ``tool_use`` blocks its tool
calls (``input`` serialised as the ``arguments`` string); ``thinking`` and
``redacted_thinking`` blocks are dropped (chat has nowhere to put them). ``cache_control`` and
``citations`` are dropped everywhere. Server-tool blocks and file references are a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from gateway.protocol.errors import InvalidRequest
from gateway.protocol.fields import check, need, unsupported

_DROPPED = frozenset({"thinking", "redacted_thinking"})
IMAGE_IN_NEXT_MESSAGE = "(the result is the image in the next message)"


def system_message(value: object) -> dict[str, Any] | None:
    """The chat system message for Anthropic's ``system`` (a string or a list of text blocks)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return {"role": "system", "content": value}
    blocks = check(value, list, "system")
    parts = []
    for i, block in enumerate(blocks):
        block = check(block, dict, f"system[{i}]")
        if block.get("type") != "text":
            raise InvalidRequest(f"system[{i}].type must be text", param=f"system[{i}].type")
        parts.append({"type": "text", "text": need(block, "text", str, f"system[{i}].text")})
    return {"role": "system", "content": parts}


def chat_messages(value: object) -> list[dict[str, Any]]:
    """The chat messages for Anthropic's ``messages``."""
    messages = check(value, list, "messages")
    if not messages:
        raise InvalidRequest("messages must not be empty", param="messages")
    chat: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        param = f"messages[{i}]"
        message = check(message, dict, param)
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"{param}.role must be user or assistant", param=f"{param}.role")
        content = message.get("content")
        if isinstance(content, str):
            chat.append({"role": role, "content": content})
            continue
        blocks = check(content, list, f"{param}.content")
        chat.extend(_user(blocks, param) if role == "user" else _assistant(blocks, param))
    return chat


def _user(blocks: list[Any], param: str) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []  # images from tool results
    parts: list[dict[str, Any]] = []
    for j, block in enumerate(blocks):
        block_param = f"{param}.content[{j}]"
        block = check(block, dict, block_param)
        if block.get("type") == "tool_result":
            tools.append(_tool_result(block, block_param, moved))
        else:
            parts.append(_part(block, block_param, images_only=False))
    user = [{"role": "user", "content": moved + parts}] if moved or parts else []
    return tools + user


def _part(block: Mapping[str, Any], param: str, *, images_only: bool) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "image":
        return {"type": "image_url", "image_url": {"url": _source_url(block, param)}}
    if kind == "text" and not images_only:
        return {"type": "text", "text": need(block, "text", str, f"{param}.text")}
    if kind == "document" and not images_only:
        return _document(block, param)
    raise unsupported(f"{param}.type", f"content block type {kind!r} is not supported here")


def _source_url(block: Mapping[str, Any], param: str) -> str:
    source = need(block, "source", dict, f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        media = need(source, "media_type", str, f"{param}.source.media_type")
        return f"data:{media};base64,{need(source, 'data', str, f'{param}.source.data')}"
    if kind == "url":
        return need(source, "url", str, f"{param}.source.url")
    raise unsupported(f"{param}.source.type", f"image source type {kind!r} is not supported: send base64 or a URL")


def _document(block: Mapping[str, Any], param: str) -> dict[str, Any]:
    source = need(block, "source", dict, f"{param}.source")
    kind = source.get("type")
    if kind == "text":
        return {"type": "text", "text": need(source, "data", str, f"{param}.source.data")}
    if kind != "base64":
        raise unsupported(f"{param}.source.type", f"document source type {kind!r} is not supported: send base64")
    media = need(source, "media_type", str, f"{param}.source.media_type")
    data = need(source, "data", str, f"{param}.source.data")
    file = {"file_data": f"data:{media};base64,{data}"}
    if isinstance(block.get("title"), str):
        file["filename"] = block["title"]
    return {"type": "file", "file": file}


def _tool_result(block: Mapping[str, Any], param: str, moved: list[dict[str, Any]]) -> dict[str, Any]:
    call_id = need(block, "tool_use_id", str, f"{param}.tool_use_id")
    content = block.get("content")
    if content is None or isinstance(content, str):
        return {"role": "tool", "tool_call_id": call_id, "content": content or ""}
    texts: list[dict[str, Any]] = []
    for k, item in enumerate(check(content, list, f"{param}.content")):
        item_param = f"{param}.content[{k}]"
        item = check(item, dict, item_param)
        if item.get("type") == "text":
            texts.append({"type": "text", "text": need(item, "text", str, f"{item_param}.text")})
        else:
            moved.append(_part(item, item_param, images_only=True))
    if not texts:
        return {"role": "tool", "tool_call_id": call_id, "content": IMAGE_IN_NEXT_MESSAGE if moved else ""}
    return {"role": "tool", "tool_call_id": call_id, "content": texts[0]["text"] if len(texts) == 1 else texts}


def _assistant(blocks: list[Any], param: str) -> list[dict[str, Any]]:
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for j, block in enumerate(blocks):
        block_param = f"{param}.content[{j}]"
        block = check(block, dict, block_param)
        kind = block.get("type")
        if kind == "text":
            text.append(need(block, "text", str, f"{block_param}.text"))
        elif kind == "tool_use":
            arguments = orjson.dumps(need(block, "input", dict, f"{block_param}.input")).decode()
            name = need(block, "name", str, f"{block_param}.name")
            function = {"name": name, "arguments": arguments}
            calls.append({"id": need(block, "id", str, f"{block_param}.id"), "type": "function", "function": function})
        elif kind not in _DROPPED:
            raise unsupported(f"{block_param}.type", f"assistant content block type {kind!r} is not supported")
    if not text and not calls:
        return []
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text else None}
    if calls:
        message["tool_calls"] = calls
    return [message]
