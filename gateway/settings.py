"""The config root model and ``load_settings(path)``.

One YAML file, read with PyYAML's safe loader, validated into frozen pydantic models
that reject unknown keys. Secrets appear in the file only as environment-variable
names (``api_key_env``); ``load_settings`` resolves them once, here, and nowhere else.
A bad file raises one ``ConfigError`` listing every problem, each naming its field
(the checks beyond the schema live in ``gateway.config_checks``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from gateway.config_checks import ConfigError as ConfigError  # defined there, imported from here
from gateway.config_checks import api_base_warning, http_url, read_yaml, resolve_keys, resolve_master, validated
from gateway.config_ladder import DropParams, Ladder, Sticky, fill_ladder_ends, rung_problems
from gateway.config_redis import parse_redis_url, redis_url_from_env
from gateway.config_semantic import SemanticCacheOptions, SemanticIndexSettings
from gateway.config_tracing import TracingSettings
from policies.health import BreakerConfig
from policies.types import Capability

REQUIRED_TIERS = ("cheap", "frontier")
DEMO_CONFIG = Path(__file__).resolve().parent / "config" / "demo.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Listen(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)


class Price(_Frozen):
    """USD per million tokens; overrides litellm's bundled cost map for a tier."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)


class Tier(_Frozen):
    """One upstream model: what litellm calls it, where it lives and what it costs."""

    model: str = Field(min_length=1, description="a litellm model string, e.g. openai/gpt-4o")
    # chat (the default) and reasoning tiers answer chat-style APIs; an embeddings tier serves
    # /v1/embeddings only, and is never a profile's tier or a chat tier's fallback
    kind: Literal["chat", "reasoning", "embeddings"] = "chat"
    api_base: str | None = None
    api_key_env: str | None = None
    context_window: int = Field(8192, gt=0)
    price: Price | None = None
    timeout_s: float = Field(30.0, gt=0)
    connect_timeout_s: float = Field(5.0, gt=0)
    transport: Literal["relay", "litellm"] | None = None
    max_retries: int = Field(2, ge=0, le=10)
    fallbacks: tuple[str, ...] | None = None
    extra_headers: dict[str, str] = Field(default_factory=dict)
    # the features the tier supports; unset: what litellm's model map says about the model
    # (vision, function calling, response schema), or text + tools for a model it does not know
    capabilities: frozenset[Capability] | None = None
    retry_budget_ratio: float = Field(0.5, ge=0.0, le=10.0)  # retries allowed per request, on average, per tier
    # body fields beyond OpenAI's parameters that the litellm transport passes on (e.g. top_k);
    # litellm call options are refused when the runtime is built (gateway.upstream.params)
    forward_params: frozenset[str] = frozenset()
    # body fields removed before every call to this tier (e.g. temperature, which some reasoning models refuse)
    drop_params: DropParams = frozenset()

    @field_validator("api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @model_validator(mode="after")
    def _relay_needs_openai(self) -> Tier:
        if self.transport == "relay" and not self.speaks_openai:
            raise ValueError("transport 'relay' needs an OpenAI-protocol model ('openai/...') with an api_base")
        return self

    @property
    def speaks_openai(self) -> bool:
        return self.model.startswith("openai/") and self.api_base is not None

    @property
    def resolved_transport(self) -> Literal["relay", "litellm"]:
        """``relay`` by default for OpenAI-protocol upstreams, ``litellm`` for the rest."""
        if self.transport is not None:
            return self.transport
        return "relay" if self.speaks_openai else "litellm"

    @property
    def upstream_model(self) -> str:
        """The model name the upstream itself knows (the litellm provider prefix removed)."""
        return self.model.split("/", 1)[1] if "/" in self.model else self.model


class ProfileCache(_Frozen):
    """Per-profile overrides of the global ``cache`` section; unset fields inherit it."""

    enabled: bool | None = None
    ttl_s: int | None = Field(None, ge=1)
    shared: bool = False  # True: one namespace for every tenant (cross-tenant hits allowed)
    nondeterministic: bool | None = None  # True: cache even when temperature is not 0
    semantic: SemanticCacheOptions | None = None  # near-duplicate prompts answered from the cache (opt-in)


class Profile(_Frozen):
    """A client-visible model name: which router scores, and what share goes to the frontier."""

    router: str = "ensemble"  # routers.registry.DEFAULT_ROUTER
    frontier_share: float = Field(0.3, ge=0.0, le=1.0)
    description: str = ""
    cheap_tier: str = "cheap"
    frontier_tier: str = "frontier"
    cache: ProfileCache = Field(default_factory=ProfileCache)
    over_budget: Literal["degrade", "reject"] = "degrade"  # past a budget: fall back to cheap, or refuse (429)
    allow_tier_header: bool = False  # let clients pin a tier with the x-triage-tier header
    shadow_rate: float | None = Field(None, ge=0.0, le=1.0)  # overrides quality.shadow.rate; 0 opts out
    router_artifact: str | None = None  # load the router from this folder instead of the shipped artifact
    # a prompt unlike everything the router was trained on: route by its score anyway, or send it to the frontier
    ood: Literal["prior", "frontier"] = "prior"
    # tiers cheapest first with the share each should get; replaces cheap_tier/frontier_tier/frontier_share
    ladder: Ladder | None = None
    sticky: Sticky | None = None  # conversations never step down the ladder for ttl_s after their last turn

    @model_validator(mode="before")
    @classmethod
    def _ladder_ends(cls, data: object) -> object:
        return fill_ladder_ends(data)


class ShadowSettings(_Frozen):
    """Shadow evaluation: re-ask the other tier off the request path and have a judge compare."""

    rate: float = Field(ge=0.0, le=1.0)  # share of routed requests shadowed (per profile: shadow_rate)
    judge_tier: str  # the tier that judges (pairwise, both orders)
    queue_size: int = Field(1000, ge=1)  # pending shadow jobs; more are shed (and counted)
    concurrency: int = Field(8, ge=1)  # shadow jobs running at once
    budget_usd: float = Field(5.0, gt=0)  # spend cap per UTC day on shadow and judge calls
    timeout_s: float = Field(60.0, gt=0)  # per shadow or judge call; never retried
    judge_max_tokens: int = Field(512, ge=16)
    max_answer_chars: int = Field(12_000, ge=100)  # answers are cut to this in the judge prompt


class OutcomeStoreSettings(_Frozen):
    path: str  # files under this folder (no redis.url); with redis.url a capped Redis Stream is used
    prompts: bool  # store the router's view of each prompt (needed to retrain on outcomes)
    answers: bool = False  # store both answers (needed for --format openai-chat)
    ttl_days: float = Field(30.0, gt=0)
    max_rows: int = Field(1_000_000, ge=1)  # the Redis Stream's cap


class QualitySettings(_Frozen):
    shadow: ShadowSettings
    store: OutcomeStoreSettings
    alert_below: float = Field(0.9, ge=0.0, le=1.0)  # the retained-quality alert's threshold
    feedback_ttl_s: int = Field(7 * 86400, ge=60)  # how long a request id accepts feedback


class RedisSettings(_Frozen):
    # Redis Cluster (also implied by a redis+cluster:// URL); declared before url, whose check reads it
    cluster: bool = False
    url: str | None = Field(None, validate_default=True)  # the forms are in gateway.config_redis
    # or: the environment variable holding the URL (a Kubernetes Secret), read once at start-up
    url_env: str | None = Field(None, min_length=1)
    op_timeout_ms: float = Field(50.0, gt=0)  # longest a request waits on one Redis call before bypassing it
    connect_timeout_ms: float = Field(100.0, gt=0)
    retry_interval_s: float = Field(1.0, gt=0)  # after a failure, Redis is skipped this long, then probed again
    warn_interval_s: float = Field(30.0, gt=0)  # at most one "Redis is down" warning per interval
    max_connections: int = Field(64, ge=1)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("cluster"):
                raise ValueError("redis.cluster: true needs a redis.url (a cluster node's redis:// URL)")
            return value
        parse_redis_url(value, bool(info.data.get("cluster")))
        return value

    @model_validator(mode="after")
    def _one_source(self) -> RedisSettings:
        if self.url is not None and self.url_env is not None:
            raise ValueError("redis.url and redis.url_env: set one of them, not both")
        return self


class CacheSettings(_Frozen):
    enabled: bool = True
    ttl_s: int = Field(3600, ge=1)
    nondeterministic: bool = False  # cache only temperature-0 requests unless a profile opts in
    max_entry_bytes: int = Field(256 * 1024, gt=0)
    memory_max_bytes: int = Field(64 * 1024 * 1024, gt=0)  # the embedded LRU's bound (no redis.url)
    memory_max_entries: int = Field(10000, gt=0)
    semantic_index: SemanticIndexSettings = Field(default_factory=SemanticIndexSettings)


class BreakerSettings(_Frozen):
    """A circuit breaker per tier; opens are shared through Redis when ``redis.url`` is set."""

    failure_threshold: int = Field(5, ge=1)  # consecutive failures that open it
    error_rate: float = Field(0.5, gt=0.0, le=1.0)  # or this failure rate...
    min_calls: int = Field(20, ge=1)  # ...over at least this many calls in the window
    window_s: float = Field(30.0, gt=0)
    cooldown_s: float = Field(10.0, gt=0)  # open this long, then one half-open probe at a time
    sync_interval_s: float = Field(0.5, gt=0)  # how often a replica reads the others' breaker states

    @property
    def config(self) -> BreakerConfig:
        """The policy's view of these settings (one place maps one to the other)."""
        return BreakerConfig(self.failure_threshold, self.error_rate, self.min_calls, self.window_s, self.cooldown_s)


class BudgetSettings(_Frozen):
    """A global spend window; ``limit_usd: null`` means no budget."""

    limit_usd: float | None = Field(None, gt=0)
    window: Literal["hour", "day"] = "day"
    soft_fraction: float = Field(0.8, ge=0.0, le=1.0)  # from here to the limit the frontier share shrinks to 0
    expected_output_tokens: int = Field(512, ge=1)  # the output estimate for requests that set no max tokens


class AuthSettings(_Frozen):
    """``none``: anyone who can reach the port (logged loudly); ``keys``: API keys, admin by master key."""

    mode: Literal["none", "keys"] = "none"
    master_key_env: str | None = None  # the env var holding the master key (required with mode: keys)
    verified_cache_s: float = Field(60.0, ge=0)  # when Redis fails, keys verified this recently still work

    @model_validator(mode="after")
    def _keys_need_master(self) -> AuthSettings:
        if self.mode == "keys" and not self.master_key_env:
            raise ValueError("master_key_env: required with mode 'keys' (the env var holding the master key)")
        return self


class CorsSettings(_Frozen):
    """CORS is off unless origins are listed."""

    allow_origins: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = (
        "authorization",
        "content-type",
        "x-triage-tier",
        "x-triage-conversation",
        "cache-control",
    )


class UiSettings(_Frozen):
    """The read-only status page at ``/ui`` (off: both routes are 404); same auth as ``/admin``."""

    enabled: bool = False
    refresh_s: float = Field(5.0, ge=1.0)  # how often the page reloads its data


class Limits(_Frozen):
    max_body_bytes: int = Field(4 * 1024 * 1024, gt=0)
    max_messages: int = Field(2048, gt=0)
    max_content_chars: int = Field(1_000_000, gt=0)  # per message, summed over its text parts
    request_deadline_s: float = Field(120.0, gt=0)
    header_timeout_s: float = Field(10.0, gt=0)  # a request's headers must arrive within this


class Settings(_Frozen):
    """The whole config file."""

    listen: Listen = Field(default_factory=Listen)
    tiers: dict[str, Tier]
    profiles: dict[str, Profile] = Field(default_factory=dict)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    limits: Limits = Field(default_factory=Limits)
    ui: UiSettings = Field(default_factory=UiSettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    quality: QualitySettings | None = None  # the quality loop (off without this section)
    tracing: TracingSettings | None = None  # OpenTelemetry traces over OTLP/HTTP (off without this section)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_requests: bool = True  # one JSON line per request on stdout (logger triage.request)
    log_prompts: bool = False  # include prompt text in the per-request log line (off: no prompt text is logged)

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        """Every cross-field problem at once, one line each (each line names its field)."""
        problems = [f"tiers: missing required tier {name!r}" for name in REQUIRED_TIERS if name not in self.tiers]
        problems += [
            f"profiles.{name}: a profile may not share its name with a tier"
            for name in self.profiles
            if name in self.tiers
        ]
        for name, profile in self.profiles.items():
            problems += rung_problems(name, profile.ladder, self.tiers)
            for field in () if profile.ladder is not None else ("cheap_tier", "frontier_tier"):
                if getattr(profile, field) not in self.tiers:
                    problems.append(f"profiles.{name}.{field}: no tier named {getattr(profile, field)!r}")
                elif self.tiers[getattr(profile, field)].kind == "embeddings":
                    problems.append(f"profiles.{name}.{field}: {getattr(profile, field)!r} is an embeddings tier")
        if self.quality is not None and self.quality.shadow.judge_tier not in self.tiers:
            problems.append(f"quality.shadow.judge_tier: no tier named {self.quality.shadow.judge_tier!r}")
        for name, tier in self.tiers.items():
            for fallback in tier.fallbacks or ():
                if fallback not in self.tiers or fallback == name:
                    problems.append(f"tiers.{name}.fallbacks: {fallback!r} is not another tier")
                elif (self.tiers[fallback].kind == "embeddings") != (tier.kind == "embeddings"):
                    problems.append(f"tiers.{name}.fallbacks: {fallback!r} serves another API (kind)")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def parse_settings(raw: object, source: str = "config", *, environ: Mapping[str, str] | None = None) -> Settings:
    """Validate already-parsed YAML; raise one ``ConfigError`` listing every problem, each naming its field.

    With ``environ``, the key variables the file names are checked too (unset, empty, a short
    master key), even when the schema fails: schema and environment problems come in one list.
    """
    settings = validated(Settings, raw, source, environ)
    env_url = redis_url_from_env(settings.redis.url_env, settings.redis.cluster, source, environ)
    if env_url is None:
        return settings
    return settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": env_url})})


def load_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the YAML file at ``path`` (with ``environ``: and its key variables)."""
    path = Path(path)
    return parse_settings(read_yaml(path), str(path), environ=environ)


def config_warnings(settings: Settings) -> list[str]:
    """What is allowed but probably wrong: printed by check-config, logged when serving starts."""
    return [
        warning
        for name, tier in settings.tiers.items()
        if tier.speaks_openai and tier.api_base is not None
        for warning in [api_base_warning(f"tiers.{name}.api_base", tier.api_base)]
        if warning is not None
    ]


def resolve_master_key(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The master key with ``auth.mode: keys``; an unset or short variable is a config error."""
    if settings.auth.mode != "keys" or settings.auth.master_key_env is None:
        return None
    return resolve_master(settings.auth.master_key_env, os.environ if environ is None else environ)


def resolve_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The API key of each tier that names one, read from the environment once.

    A tier whose ``api_key_env`` names an unset variable is a config error (all of them
    in one): failing at start-up beats a 401 from the provider on the first request.
    """
    named = {name: tier.api_key_env for name, tier in settings.tiers.items() if tier.api_key_env is not None}
    return resolve_keys(named, os.environ if environ is None else environ)
