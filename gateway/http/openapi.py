"""Request-body schemas of the endpoints that parse raw bodies, for the OpenAPI document.

The handlers read the body themselves (exact 400s, the JSON forwarded untouched), so
FastAPI cannot derive these: they are declared here. The chat request's schema comes
from its pydantic model; the others list the fields Triage reads or passes on (every
endpoint also accepts fields not listed, forwarded as the upstream API defines them).
"""

from __future__ import annotations

from typing import Any

from gateway.protocol.schemas import ChatCompletionRequest

_TEXT_OR_LIST = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
_MODEL = {"type": "string", "description": "a profile (routed) or a tier name (pinned)"}


def _object(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
        "additionalProperties": True,
    }


def components() -> dict[str, Any]:
    """Every request component schema, by name."""
    chat = ChatCompletionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        **chat.pop("$defs", {}),
        "ChatCompletionRequest": chat,
        "CompletionRequest": _object(
            ["model", "prompt"],
            {
                "model": _MODEL,
                "prompt": _TEXT_OR_LIST,
                "max_tokens": {"type": "integer", "minimum": 1},
                "n": {"type": "integer", "minimum": 1},
                "stop": _TEXT_OR_LIST,
                "stream": {"type": "boolean"},
                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                "echo": {"type": "boolean"},
                "suffix": {"type": "string"},
            },
            "Legacy text completion: routed on the prompt, relayed to tiers with the completions capability.",
        ),
        "EmbeddingRequest": _object(
            ["model", "input"],
            {
                "model": {"type": "string", "description": "an embeddings tier (kind: embeddings)"},
                "input": {
                    "oneOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "array", "items": {"type": "integer"}},
                        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                    ]
                },
                "encoding_format": {"type": "string", "enum": ["float", "base64"]},
                "dimensions": {"type": "integer", "minimum": 1},
                "user": {"type": "string"},
            },
            "Embeddings from an embeddings tier; cached by default (deterministic).",
        ),
        "ResponseRequest": _object(
            ["model", "input"],
            {
                "model": _MODEL,
                "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
                "instructions": {"type": "string"},
                "max_output_tokens": {"type": "integer", "minimum": 1},
                "tools": {"type": "array", "items": {"type": "object"}},
                "text": {"type": "object"},
                "stream": {"type": "boolean"},
                "store": {"type": "boolean", "description": "accepted; Triage stores no responses"},
                "previous_response_id": {"type": "string", "description": "not supported: a 400"},
            },
            "OpenAI Responses API: routed like chat, answered as a Response (or its event stream).",
        ),
        "MessagesRequest": _object(
            ["model", "max_tokens", "messages"],
            {
                "model": _MODEL,
                "max_tokens": {"type": "integer", "minimum": 1},
                "messages": {"type": "array", "items": {"type": "object"}},
                "system": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
                "tools": {"type": "array", "items": {"type": "object"}},
                "stop_sequences": {"type": "array", "items": {"type": "string"}},
                "stream": {"type": "boolean"},
            },
            "Anthropic Messages API: routed like chat, answered in Anthropic's shape.",
        ),
    }
