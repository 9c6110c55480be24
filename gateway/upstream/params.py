"""Which request-body fields may reach a translating transport (litellm, and any later bridge).

litellm takes its *call options* (``api_base``, ``base_url``, ``api_key``,
``mock_response``, ``extra_headers``, callbacks, ...) as keyword arguments next to the
model parameters. Forwarding a client's body as keyword arguments therefore lets the
client choose where the gateway connects and with which key. So the fields forwarded
are an allow-list, by construction: the OpenAI chat-completions request parameters,
plus the names a tier's config explicitly adds (``forward_params``), which may never
be a call option. Every call option comes from the tier's config only.

The relay transport is not affected: it sends the client's JSON as a body to the
tier's own URL with the tier's own headers, so a body field can only be a body field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

# OpenAI's chat-completions request parameters (model, messages and stream are set by the
# transport). ``metadata`` is deliberately absent: litellm reads it as logging metadata
# for its callbacks, not as the OpenAI parameter.
OPENAI_CHAT_PARAMS: frozenset[str] = frozenset(
    {
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "modalities",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)

# OpenAI's legacy text-completions parameters (prompt is set by the transport).
OPENAI_COMPLETION_PARAMS: frozenset[str] = frozenset(
    {
        "best_of",
        "echo",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "stream_options",
        "suffix",
        "temperature",
        "top_p",
        "user",
    }
)

# OpenAI's embeddings parameters (input is set by the transport).
OPENAI_EMBEDDING_PARAMS: frozenset[str] = frozenset({"dimensions", "encoding_format", "user"})

_PARAMS_BY_API: Mapping[str, frozenset[str]] = MappingProxyType(
    {"chat": OPENAI_CHAT_PARAMS, "completions": OPENAI_COMPLETION_PARAMS, "embeddings": OPENAI_EMBEDDING_PARAMS}
)

# litellm's own call options (and the fields the transport sets itself): never forwarded from
# a body, and refused as a tier's ``forward_params``.
CALL_OPTIONS: frozenset[str] = frozenset(
    {
        "model",
        "messages",
        "prompt",
        "input",
        "stream",
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "api_type",
        "organization",
        "deployment_id",
        "custom_llm_provider",
        "mock_response",
        "mock_tool_calls",
        "mock_timeout",
        "mock_delay",
        "extra_headers",
        "headers",
        "extra_body",
        "extra_query",
        "metadata",
        "litellm_metadata",
        "litellm_params",
        "litellm_call_id",
        "litellm_logging_obj",
        "logger_fn",
        "callbacks",
        "success_callback",
        "failure_callback",
        "input_callback",
        "timeout",
        "request_timeout",
        "num_retries",
        "max_retries",
        "fallbacks",
        "context_window_fallback_dict",
        "client",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_region_name",
        "aws_session_token",
        "aws_profile_name",
        "aws_role_name",
        "vertex_project",
        "vertex_location",
        "vertex_credentials",
        "azure_ad_token",
        "azure_ad_token_provider",
        "input_cost_per_token",
        "output_cost_per_token",
        "model_list",
        "proxy_server_request",
        "_skip_mcp_handler",
    }
)


def is_call_option(name: str) -> bool:
    """A name litellm would read as a call option rather than a model parameter."""
    lowered = name.lower()
    return lowered in CALL_OPTIONS or lowered.startswith(("litellm", "mock_", "aws_", "vertex_", "azure_", "api_", "_"))


def forwardable(payload: Mapping[str, Any], extra: Iterable[str] = (), api: str = "chat") -> dict[str, Any]:
    """The body fields a translating transport may pass on: the API's OpenAI parameters plus ``extra``."""
    allowed = _PARAMS_BY_API[api].union(name for name in extra if not is_call_option(name))
    return {name: value for name, value in payload.items() if name in allowed}
