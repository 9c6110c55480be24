"""The ``litellm`` transport: every provider litellm knows (Anthropic, Bedrock, Vertex, ...).

Only an allow-list of body fields is forwarded (``gateway.upstream.params``): unknown
fields are dropped here, since litellm would read some of them as call options.
litellm is imported when this transport is built, so a config whose tiers all use
the relay never pays for the import. Calls go out with ``num_retries=0``: retries
and fallbacks are the caller's, so that both transports behave the same. litellm's chat
bodies and chunks are brought to OpenAI's published schema (``gateway.upstream.conform``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from gateway.tracing import NOOP_TRACER, Tracer
from gateway.upstream import conform
from gateway.upstream.base import (
    Api,
    Chunk,
    Completion,
    Target,
    UpstreamError,
    error_for_status,
    retry_after_seconds,
)
from gateway.upstream.params import forwardable


class LiteLLMTransport:
    """Calls ``litellm.acompletion`` and maps its exceptions onto ``UpstreamError``."""

    def __init__(self, log_prompts: bool = False, tracer: Tracer = NOOP_TRACER) -> None:
        import litellm

        self._litellm = litellm
        self._tracer = tracer
        litellm.drop_params = False
        litellm.suppress_debug_info = True
        litellm.telemetry = False
        if not log_prompts:
            # litellm (and the clients under it) log request bodies, prompt text included, at DEBUG:
            # keep them at INFO or above unless the config allows prompts in logs
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "httpx", "httpcore"):
                logger = logging.getLogger(name)
                logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))

    def _kwargs(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> dict[str, Any]:
        # an allow-list of model parameters: a client's body never supplies a call option
        # (api_base, api_key, mock_response, extra_headers, ...); those come from the tier only
        kwargs: dict[str, Any] = forwardable(payload, target.tier.forward_params, api)
        kwargs.update(model=target.tier.model, timeout=timeout_s, num_retries=0)
        if api == "chat":
            kwargs["messages"] = payload["messages"]
        elif api == "completions":
            kwargs["prompt"] = payload["prompt"]
        else:
            kwargs["input"] = payload["input"]
            if "dimensions" in kwargs:
                # litellm refuses `dimensions` for OpenAI-protocol models it does not know to take it;
                # the upstream decides (its own 400 reaches the client)
                kwargs["allowed_openai_params"] = ["dimensions"]
        if "tools" in kwargs:
            # litellm 1.106 otherwise imports its MCP gateway bridge (and the optional `mcp`
            # package) for every request with tools; Triage never routes tools to MCP.
            kwargs["_skip_mcp_handler"] = True
        if target.tier.api_base:
            kwargs["api_base"] = target.tier.api_base
        if target.api_key:
            kwargs["api_key"] = target.api_key
        elif target.tier.speaks_openai:
            kwargs["api_key"] = "no-key"  # a keyless OpenAI-protocol server; litellm's client insists on one
        headers = dict(target.tier.extra_headers)
        self._tracer.inject(headers)  # the current attempt span's traceparent (tracing on)
        if headers:
            kwargs["extra_headers"] = headers
        return kwargs

    def _call(self, api: Api) -> Any:
        if api == "responses":
            raise UpstreamError("client", "the litellm transport relays no Responses API requests", status=400)
        litellm = self._litellm
        return {"chat": litellm.acompletion, "completions": litellm.atext_completion, "embeddings": litellm.aembedding}[
            api
        ]

    async def complete(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> Completion:
        try:
            response = await self._call(api)(**self._kwargs(target, payload, timeout_s, api))
        except Exception as exc:
            raise self._map(target, exc) from exc
        data = response.model_dump(exclude_none=False)
        data.pop("_hidden_params", None)
        data.pop("_response_ms", None)
        if api == "chat":
            return Completion(data=conform.chat_completion(data))
        return Completion(data=_text_completion(data) if api == "completions" else _embeddings(data))

    async def stream(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> AsyncIterator[Chunk]:
        kwargs = self._kwargs(target, payload, timeout_s, api)
        kwargs["stream"] = True
        try:
            response = await self._call(api)(**kwargs)
            async for chunk in response:
                data = chunk.model_dump(exclude_none=True)
                data.pop("_hidden_params", None)
                if api == "chat":
                    data = conform.chat_chunk(data)
                elif api == "completions":
                    data = _text_chunk(data)
                yield Chunk(orjson.dumps(data), data)
        except UpstreamError:
            raise
        except Exception as exc:
            raise self._map(target, exc) from exc

    def _map(self, target: Target, exc: Exception) -> UpstreamError:
        errors = self._litellm.exceptions
        text = f"{target.name}: {type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
        if isinstance(exc, errors.Timeout):
            return UpstreamError("timeout", text)
        if isinstance(exc, errors.APIConnectionError):
            return UpstreamError("connection", text)
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and status >= 400:
            response = getattr(exc, "response", None)
            headers = getattr(response, "headers", None) or {}
            return error_for_status(status, text, retry_after_seconds(headers.get("retry-after")), None)
        return UpstreamError("bad_response", text)

    async def aclose(self) -> None:
        return None


def _text_choice(choice: dict[str, Any]) -> dict[str, Any]:
    return {
        **choice,
        "text": choice.get("text") or "",
        "logprobs": choice.get("logprobs"),
        "finish_reason": choice.get("finish_reason"),
    }


def _text_chunk(data: dict[str, Any]) -> dict[str, Any]:
    """A ``text_completion`` chunk as OpenAI sends it: every choice has text and finish_reason; usage alone."""
    choices = [c for c in data.get("choices") or () if c.get("text") or c.get("finish_reason") or not data.get("usage")]
    return {**data, "choices": [_text_choice(c) for c in choices]}


def _text_completion(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "choices": [_text_choice(c) for c in data.get("choices") or ()], "usage": _usage(data)}


def _embeddings(data: dict[str, Any]) -> dict[str, Any]:
    """An embeddings list as OpenAI sends it: usage carries prompt and total tokens only."""
    usage = data.get("usage") or {}
    return {
        **data,
        "usage": {"prompt_tokens": usage.get("prompt_tokens", 0), "total_tokens": usage.get("total_tokens", 0)},
    }


def _usage(data: dict[str, Any]) -> dict[str, Any] | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    return {k: v for k, v in usage.items() if v is not None}
