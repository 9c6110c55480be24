"""What the load benchmark sends, and to whom: configs of Triage and LiteLLM, request bodies, targets.

Every system gets the same bodies. The simulator answers at once (TTFT 0, 24 tokens), so
what a gateway adds is not hidden behind model time; the faulty tier/model gets the
simulator's per-request fault header ``x-sim-fault: 500;rate=0.2``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from loadgen import Target  # type: ignore[import-not-found]
from servers import LITELLM_KEY, MASTER_KEY_ENV  # type: ignore[import-not-found]

from routers.registry import ROUTING_DEV

DEV = ROUTING_DEV
SIM_ARGS = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
FAULT = "500;rate=0.2"
PROMPTS = 512
CACHED_PROMPTS = 16
PRICE = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}


def default_router() -> str:
    """The registry's ``DEFAULT_ROUTER`` when it exists, else the gateway's default, ``heuristic``."""
    from routers import registry

    return str(getattr(registry, "DEFAULT_ROUTER", "heuristic"))


def triage_config(sim_url: str, cache: bool = False, redis_url: str | None = None) -> dict[str, Any]:
    """Tiers ``cheap``/``frontier`` on the simulator, ``flaky`` (20% 500s, 2 retries within the default
    retry budget of 0.2 retries per request, no fallback) and ``flaky-budget`` (the same, budget 0.5);
    profiles ``auto`` (heuristic) and ``default`` (the registry's default router). Parity with LiteLLM
    proxy: API keys on (``auth.mode: keys``), the default request log (one JSON line per request on
    stdout, at the default ``log_level``), and the response cache off unless ``cache`` (LiteLLM's
    default config has none). ``redis_url``: keys (and the other stores) in Redis, shared by workers."""
    tier = {"api_base": sim_url, "price": PRICE}
    return {
        "tiers": {
            "cheap": {"model": "openai/sim-cheap", **tier},
            "frontier": {"model": "openai/sim-frontier", **tier},
            "flaky": {"model": "openai/sim-cheap", **tier, "extra_headers": {"x-sim-fault": FAULT}, "fallbacks": []},
            "flaky-budget": {
                "model": "openai/sim-cheap",
                **tier,
                "extra_headers": {"x-sim-fault": FAULT},
                "fallbacks": [],
                "retry_budget_ratio": 0.5,
            },
        },
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.3},
            "default": {"router": default_router(), "frontier_share": 0.3},
        },
        "auth": {"mode": "keys", "master_key_env": MASTER_KEY_ENV},
        "cache": {"enabled": cache},
        "log_requests": True,
        **({"redis": {"url": redis_url}} if redis_url else {}),
    }


def litellm_models(sim_url: str) -> dict[str, dict[str, Any]]:
    """The same simulated models for LiteLLM proxy; ``sim-flaky`` carries the fault header."""
    return {
        "sim-cheap": {"model": "openai/sim-cheap", "api_base": sim_url},
        "sim-frontier": {"model": "openai/sim-frontier", "api_base": sim_url},
        "sim-flaky": {
            "model": "openai/sim-cheap",
            "api_base": sim_url,
            "extra_headers": {"x-sim-fault": FAULT},
            "num_retries": 2,
        },
    }


def dev_prompts(limit: int = PROMPTS, seed: int = 0) -> list[str]:
    """``limit`` prompts of routing-dev in a seeded random order (real text, so routers do real work)."""
    with DEV.open(encoding="utf-8") as handle:
        prompts = [str(json.loads(line)["prompt"]) for line in handle if line.strip()]
    random.Random(seed).shuffle(prompts)
    return prompts[:limit]


def bodies(
    model: str,
    prompts: list[str],
    stream: bool = False,
    temperature: float | None = None,
) -> Callable[[int], bytes]:
    """Request ``i`` -> the encoded body for prompt ``i mod len(prompts)``."""

    def body(text: str) -> bytes:
        doc: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
        if stream:
            doc["stream"] = True
        if temperature is not None:
            doc["temperature"] = temperature
        return json.dumps(doc).encode()

    encoded = [body(p) for p in prompts]
    return lambda i: encoded[i % len(encoded)]


def _model(system: str, kind: str) -> str:
    """The model name a system gets for a kind of request (``pinned``, ``flaky``, or a Triage profile)."""
    if system == "direct":
        return "sim-cheap"
    if system == "litellm":
        return "sim-flaky" if kind == "flaky" else "sim-cheap"
    return "cheap" if kind == "pinned" else kind  # a profile, or a tier to pin (flaky, flaky-budget)


def target(
    system: str,
    base: str,
    kind: str,
    prompts: list[str],
    stream: bool = False,
    temperature: float | None = None,
    key: str | None = None,
) -> Target:
    """A target for ``system`` (direct | triage | litellm) at base URL ``base``; ``key``: Triage's API key."""
    body = bodies(_model(system, kind), prompts, stream, temperature)
    if system == "direct":
        headers = [("x-sim-fault", FAULT)] if kind.startswith("flaky") else []
        return Target(f"{base}/chat/completions", body, headers)
    if system == "litellm":
        return Target(f"{base}/v1/chat/completions", body, [("Authorization", f"Bearer {LITELLM_KEY}")])
    return Target(f"{base}/v1/chat/completions", body, [("Authorization", f"Bearer {key}")] if key else [])


def parity(
    workers: int, pinning: str = "each gateway alone on core 0; the simulator and the client on core 1"
) -> dict[str, str]:
    """The settings both gateways run with, stated in every result and in benchmarks/README.md."""
    return {
        "API keys": "Triage: `auth.mode: keys`, one key created through `POST /admin/keys` (no limits), sent as "
        "the bearer token and looked up on every request; LiteLLM: `general_settings.master_key`, sent as the "
        "bearer token",
        "request logging": "each its default, into a log file: Triage one JSON line per request on stdout "
        "(`log_requests: true`, `log_level: info`; uvicorn's access log off, its default); LiteLLM proxy its "
        "default (uvicorn's access line per request at INFO)",
        "workers": f"{workers} per gateway (`triage serve --workers {workers}`, `litellm --num_workers {workers}`)"
        if workers > 1
        else "1 per gateway: one `triage serve` process, `litellm --num_workers 1`",
        "response cache": "Triage's off (`cache.enabled: false`) except in the cache scenario, reported apart; "
        "LiteLLM's default config has none",
        "state": "no database: Triage without `redis.url` (keys in process), LiteLLM without `database_url`"
        if workers == 1
        else "Triage with `redis.url` (so every worker sees the key), LiteLLM without `database_url`",
        "upstream": "the same simulator, the same request bodies; retries: Triage its tier default, LiteLLM its "
        "default (2 on the faulty model for both)",
        "pinning": pinning,
    }
