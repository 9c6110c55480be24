"""Pydantic models for the OpenAI wire format the gateway accepts.

Known fields are typed strictly, so a wrong type is a clear 400 naming the field.
Fields the gateway does not know are kept and passed through to the upstream
untouched (``extra="allow"``): OpenAI adds parameters faster than gateways do, and
litellm and OpenAI-protocol servers understand them. The upstream payload is the
client's own JSON, not a re-serialisation of these models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from routers.base import content_text

MAX_JSON_DEPTH = 64  # nesting of objects and arrays in a request body


def too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> str | None:
    """The path of the first container nested deeper than ``limit``, or ``None``.

    Iterative, so a hostile body cannot exhaust the stack; a body the parser accepted
    (up to 1,024 levels) would otherwise fail later, when it is serialised again.
    Paths are built only for the rare body that is too deep.
    """
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth >= limit:
                return _deep_path(value, limit)
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            if depth >= limit:
                return _deep_path(value, limit)
            stack.extend((child, depth + 1) for child in node)
    return None


def _deep_path(value: object, limit: int) -> str:
    stack: list[tuple[object, int, str]] = [(value, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        children: list[tuple[str, object]] = []
        if isinstance(node, dict):
            children = [(str(key), child) for key, child in node.items()]
        elif isinstance(node, list):
            children = [(str(index), child) for index, child in enumerate(node)]
        if children and depth >= limit:
            return path or "body"
        stack.extend((child, depth + 1, f"{path}.{key}" if path else key) for key, child in children)
    return "body"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class ContentPart(_Open):
    type: StrictStr


class CalledFunction(_Open):
    name: StrictStr
    arguments: StrictStr


class ToolCall(_Open):
    id: StrictStr | None = None
    type: StrictStr | None = None
    function: CalledFunction


class Message(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[ContentPart] | None = None
    name: StrictStr | None = None
    tool_call_id: StrictStr | None = None
    tool_calls: list[ToolCall] | None = None

    @property
    def text(self) -> str:
        return content_text(self.content)


class FunctionDef(_Open):
    name: StrictStr = Field(min_length=1, max_length=64)
    description: StrictStr | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Open):
    type: StrictStr
    function: FunctionDef | None = None


class StreamOptions(_Open):
    include_usage: StrictBool | None = None


class ChatCompletionRequest(_Open):
    """``POST /v1/chat/completions``."""

    model: StrictStr = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: StrictInt | None = Field(None, ge=1, le=128)
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    stop: StrictStr | list[StrictStr] | None = None
    seed: StrictInt | None = None
    user: StrictStr | None = None
    tools: list[Tool] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    parallel_tool_calls: StrictBool | None = None
    response_format: dict[str, Any] | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    logprobs: StrictBool | None = None
    top_logprobs: StrictInt | None = Field(None, ge=0, le=20)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "triage"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
