"""The request options the simulator honours, parsed and checked up front (no I/O here).

``n``, ``stream`` / ``stream_options.include_usage``, ``max_tokens`` / ``max_completion_tokens``, ``stop``
(a string or up to 4 strings), ``logprobs`` / ``top_logprobs`` (0-20) and ``response_format`` (``text``,
``json_object``, ``json_schema`` with ``strict``). Bad values are answered with OpenAI-shaped 400s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.simulator.schema import strict_schema_problem

MAX_CHOICES = 128
MAX_STOP = 4
MAX_TOP_LOGPROBS = 20


class RequestError(Exception):
    """A request the simulator refuses, answered with an OpenAI-shaped error body."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    """``kind`` is "text", "json_object" or "json_schema"; ``schema`` is the JSON schema for the latter."""

    kind: str = "text"
    schema: Any = None


@dataclass(frozen=True, slots=True)
class ChatOptions:
    n: int = 1
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    response_format: ResponseFormat = ResponseFormat()


def _bad(name: str, value: Any) -> RequestError:
    return RequestError(400, f"Invalid value for '{name}': {value!r}.", param=name)


def positive_int(body: dict[str, Any], name: str, maximum: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum and value > maximum):
        raise _bad(name, value)
    return value


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list) and len(value) <= MAX_STOP and all(isinstance(s, str) for s in value):
        return tuple(s for s in value if s)
    message = f"Invalid value for 'stop': expected a string or an array of at most {MAX_STOP} strings."
    raise RequestError(400, message, param="stop")


def _logprobs(body: dict[str, Any]) -> tuple[bool, int]:
    logprobs, top = body.get("logprobs"), body.get("top_logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise _bad("logprobs", logprobs)
    if top is None:
        return bool(logprobs), 0
    if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= MAX_TOP_LOGPROBS:
        raise _bad("top_logprobs", top)
    if not logprobs:
        raise RequestError(400, "'top_logprobs' is only allowed when 'logprobs' is true.", param="top_logprobs")
    return True, top


def _response_format(value: Any) -> ResponseFormat:
    if value is None:
        return ResponseFormat()
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return ResponseFormat(kind)
    if kind != "json_schema":
        message = "Invalid value for 'response_format.type': expected 'text', 'json_object' or 'json_schema'."
        raise RequestError(400, message, param="response_format")
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        message = "Missing required parameter: 'response_format.json_schema.name'."
        raise RequestError(400, message, param="response_format")
    schema = spec.get("schema", {"type": "object"})
    if not isinstance(schema, dict):
        raise _bad("response_format.json_schema.schema", schema)
    problem = strict_schema_problem(schema) if spec.get("strict") is True else None
    if problem is not None:
        message = f"Invalid schema for response_format '{spec['name']}': {problem}"
        raise RequestError(400, message, param="response_format", code="invalid_json_schema")
    return ResponseFormat("json_schema", schema)


def parse_options(body: dict[str, Any]) -> ChatOptions:
    """The request's generation options; raises RequestError on a bad value."""
    stream = body.get("stream") is True
    stream_options = body.get("stream_options")
    logprobs, top_logprobs = _logprobs(body)
    return ChatOptions(
        n=positive_int(body, "n", MAX_CHOICES) or 1,
        stream=stream,
        include_usage=stream and isinstance(stream_options, dict) and stream_options.get("include_usage") is True,
        max_tokens=positive_int(body, "max_completion_tokens") or positive_int(body, "max_tokens"),
        stop=_stop(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top_logprobs,
        response_format=_response_format(body.get("response_format")),
    )


REASONING_MODEL = "sim-reasoning"
FIXED_BY_REASONING = ("temperature", "top_p")


def check_model_params(model: str, body: dict[str, Any]) -> None:
    """Refuse what the model refuses: like OpenAI's reasoning models, sim-reasoning takes no temperature or top_p but 1."""
    if model != REASONING_MODEL:
        return
    for name in FIXED_BY_REASONING:
        value = body.get(name)
        if value is not None and value != 1:
            message = (
                f"Unsupported value: '{name}' does not support {value!r} with this model. "
                "Only the default (1) value is supported."
            )
            raise RequestError(400, message, param=name, code="unsupported_value")
