"""JSON Schemas for the OpenAI chat-completions responses, transcribed by hand.

This is a hand transcription of the required / nullable rules of the response schemas in
openai/openai-openapi (``openapi.yaml``, MIT licence): ``CreateChatCompletionResponse``,
``CreateChatCompletionStreamResponse``, ``ListModelsResponse`` and ``ErrorResponse``, with the
component schemas they reference. The document itself could not be fetched on the machine this
was written on (only package registries are reachable and it is not published to one), so the
rules were written out from the published spec rather than generated from it.

The spec is OpenAPI 3.0: a property is ``nullable: true`` or it is not, and a property that is
optional may be absent but, unless nullable, never ``null``. ``nullable`` below turns that into
JSON Schema (``anyOf`` with ``null``). As in the spec, objects allow properties they do not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}


def nullable(schema: Schema) -> Schema:
    """OpenAPI 3.0's ``nullable: true``."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None) -> Schema:
    """An object with these required and optional properties (others allowed, as in the spec)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


# --- components ------------------------------------------------------------------------------------------------

FINISH_REASON = enum("stop", "length", "tool_calls", "content_filter", "function_call")

TOP_LOGPROB = obj({"token": STRING, "logprob": NUMBER, "bytes": nullable(array(INTEGER))})
TOKEN_LOGPROB = obj({**TOP_LOGPROB["properties"], "top_logprobs": array(TOP_LOGPROB)})
# a choice's ``logprobs``: both lists required, each nullable
CHOICE_LOGPROBS = obj({"content": nullable(array(TOKEN_LOGPROB)), "refusal": nullable(array(TOKEN_LOGPROB))})

FUNCTION_CALL = obj({"name": STRING, "arguments": STRING})
MESSAGE_TOOL_CALL = obj({"id": STRING, "type": enum("function"), "function": FUNCTION_CALL})
URL_CITATION = obj(
    {"type": enum("url_citation"), "url_citation": obj({"end_index": INTEGER, "start_index": INTEGER, "url": STRING})}
)
AUDIO = obj({"id": STRING, "expires_at": INTEGER, "data": STRING, "transcript": STRING})

RESPONSE_MESSAGE = obj(
    {
        "role": enum("assistant"),
        "content": nullable(STRING),
        "refusal": nullable(STRING),
    },
    {
        "tool_calls": array(MESSAGE_TOOL_CALL),
        "annotations": array(URL_CITATION),
        "function_call": FUNCTION_CALL,  # deprecated
        "audio": nullable(AUDIO),
    },
)

COMPLETION_TOKENS_DETAILS = obj(
    {},
    {
        "accepted_prediction_tokens": INTEGER,
        "audio_tokens": INTEGER,
        "reasoning_tokens": INTEGER,
        "rejected_prediction_tokens": INTEGER,
    },
)
PROMPT_TOKENS_DETAILS = obj({}, {"audio_tokens": INTEGER, "cached_tokens": INTEGER})
USAGE = obj(
    {"prompt_tokens": INTEGER, "completion_tokens": INTEGER, "total_tokens": INTEGER},
    {"completion_tokens_details": COMPLETION_TOKENS_DETAILS, "prompt_tokens_details": PROMPT_TOKENS_DETAILS},
)
SERVICE_TIER = nullable(enum("auto", "default", "flex", "scale", "priority"))

# --- CreateChatCompletionResponse ------------------------------------------------------------------------------

CHOICE = obj(
    {
        "index": INTEGER,
        "message": RESPONSE_MESSAGE,
        "finish_reason": FINISH_REASON,
        "logprobs": nullable(CHOICE_LOGPROBS),
    }
)

CREATE_CHAT_COMPLETION_RESPONSE = obj(
    {
        "id": STRING,
        "object": enum("chat.completion"),
        "created": INTEGER,
        "model": STRING,
        "choices": array(CHOICE),
    },
    {"usage": USAGE, "system_fingerprint": STRING, "service_tier": SERVICE_TIER},
)

# --- CreateChatCompletionStreamResponse ------------------------------------------------------------------------

TOOL_CALL_CHUNK = obj(
    {"index": INTEGER},
    {"id": STRING, "type": enum("function"), "function": obj({}, {"name": STRING, "arguments": STRING})},
)
DELTA = obj(
    {},
    {
        "role": enum("developer", "system", "user", "assistant", "tool"),
        "content": nullable(STRING),
        "refusal": nullable(STRING),
        "tool_calls": array(TOOL_CALL_CHUNK),
        "function_call": obj({}, {"name": STRING, "arguments": STRING}),  # deprecated
    },
)
CHUNK_CHOICE = obj(
    {"index": INTEGER, "delta": DELTA, "finish_reason": nullable(FINISH_REASON)},
    {"logprobs": nullable(CHOICE_LOGPROBS)},
)

CREATE_CHAT_COMPLETION_STREAM_RESPONSE = obj(
    {
        "id": STRING,
        "object": enum("chat.completion.chunk"),
        "created": INTEGER,
        "model": STRING,
        "choices": array(CHUNK_CHOICE),
    },
    {"usage": nullable(USAGE), "system_fingerprint": STRING, "service_tier": SERVICE_TIER},
)

# --- ListModelsResponse, ErrorResponse -------------------------------------------------------------------------

MODEL = obj({"id": STRING, "object": enum("model"), "created": INTEGER, "owned_by": STRING})
LIST_MODELS_RESPONSE = obj({"object": enum("list"), "data": array(MODEL)})

ERROR_RESPONSE = obj(
    {"error": obj({"message": STRING, "type": STRING, "param": nullable(STRING), "code": nullable(STRING)})}
)

SCHEMAS: Mapping[str, Schema] = {
    "CreateChatCompletionResponse": CREATE_CHAT_COMPLETION_RESPONSE,
    "CreateChatCompletionStreamResponse": CREATE_CHAT_COMPLETION_STREAM_RESPONSE,
    "ListModelsResponse": LIST_MODELS_RESPONSE,
    "Model": MODEL,
    "ErrorResponse": ERROR_RESPONSE,
}


def violations(name: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks schema ``name``, one line each (path: message); empty when it conforms."""
    validator = Draft202012Validator(SCHEMAS[name])
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
