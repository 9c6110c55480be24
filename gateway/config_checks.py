"""The checks behind ``load_settings`` that are not about the file's shape.

``gateway.settings`` holds the pydantic models; this module turns everything else that
can be wrong with a config into plain messages, each starting with the field path, so
that ``load_settings`` can report every problem in one error instead of one a run:

- a YAML syntax error, as ``FILE:LINE:COLUMN``;
- every pydantic validation error, one line each;
- every environment variable the file names (``tiers.*.api_key_env``,
  ``auth.master_key_env``) that is unset, empty or (the master key) too short.

It also holds the checks of an ``api_base`` URL and the warnings that do not stop a
start (an OpenAI-protocol ``api_base`` without ``/v1``). It imports nothing of ours:
``gateway.settings`` re-exports ``ConfigError`` and is where callers import from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError

MASTER_KEY_MIN_CHARS = 16
ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(ValueError):
    """The config file is missing, unreadable or invalid; the message names the field(s)."""


def read_yaml(path: Path) -> object:
    """The parsed YAML at ``path``; a ``ConfigError`` naming the file (and line:column) if it cannot be."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_problem(path, exc)) from None


def validated(model: type[ModelT], raw: object, source: str, environ: Mapping[str, str] | None) -> ModelT:
    """``raw`` as ``model``, or one ``ConfigError`` listing every schema problem and (with ``environ``)
    every key-variable problem, even when the schema fails too."""
    if raw is None:
        raise ConfigError(f"{source}: the file is empty; it needs at least the tiers cheap and frontier")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type(raw).__name__}")
    problems: list[str] = []
    result: ModelT | None = None
    try:
        result = model.model_validate(raw)
    except ValidationError as exc:
        problems += validation_problems(exc)
    if environ is not None:
        problems += env_problems(raw, environ)
    if problems or result is None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise ConfigError("\n  ".join([f"{source}: invalid config ({count})", *problems]))
    return result


def resolve_keys(named: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Each tier's key from the variable it names (tier -> variable); one error listing every unset one."""
    problems = [
        key_problem(f"tiers.{name}.api_key_env", variable, environ.get(variable)) for name, variable in named.items()
    ]
    missing = [problem for problem in problems if problem is not None]
    if missing:
        raise ConfigError("\n".join(missing))
    return {name: environ[variable] for name, variable in named.items()}


def resolve_master(variable: str, environ: Mapping[str, str]) -> str:
    """The master key from ``variable``; unset, empty or too short is a ``ConfigError``."""
    value = environ.get(variable, "")
    problem = master_key_problem(variable, value)
    if problem is not None:
        raise ConfigError(problem)
    return value


def yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """``FILE:LINE:COLUMN: not valid YAML: what``, for PyYAML's error (which names ``<unicode string>``)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        message = f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem and exc.context_mark is not None:
            start = exc.context_mark
            message += f" ({exc.context} started at line {start.line + 1}, column {start.column + 1})"
        return message
    return f"{path}: not valid YAML: {str(exc).replace('<unicode string>', str(path))}"


def validation_problems(exc: ValidationError) -> list[str]:
    """One ``field.path: message`` line per pydantic error (a multi-line message gives several)."""
    problems: list[str] = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        path = ".".join(str(part) for part in error["loc"])
        # a model-level check names its fields itself (one line per problem)
        problems.extend(f"{path}: {line}" if path else line for line in message.splitlines())
    return problems


def key_problem(field: str, variable: str, value: str | None) -> str | None:
    """The problem with a provider key variable, or None when it is set."""
    return None if value else f"{field}: environment variable {variable} is not set"


def master_key_problem(variable: str, value: str | None) -> str | None:
    """The problem with the master key variable, or None when it holds a long enough key."""
    if not value:
        return (
            f"auth.master_key_env: environment variable {variable} is not set "
            f"(auth.mode 'keys' needs a master key of at least {MASTER_KEY_MIN_CHARS} characters in it)"
        )
    if len(value) < MASTER_KEY_MIN_CHARS:
        return (
            f"auth.master_key_env: environment variable {variable} holds {len(value)} characters; "
            f"the master key must have at least {MASTER_KEY_MIN_CHARS}"
        )
    return None


def env_problems(raw: Mapping[str, object], environ: Mapping[str, str]) -> list[str]:
    """Every unset key variable the raw (possibly invalid) file names; what is malformed is left to the schema."""
    problems: list[str] = []
    tiers = raw.get("tiers")
    if isinstance(tiers, Mapping):
        for name, tier in tiers.items():
            variable = tier.get("api_key_env") if isinstance(tier, Mapping) else None
            if isinstance(variable, str) and variable:
                problems.append(key_problem(f"tiers.{name}.api_key_env", variable, environ.get(variable)) or "")
    auth = raw.get("auth")
    if isinstance(auth, Mapping) and auth.get("mode") == "keys":
        variable = auth.get("master_key_env")
        if isinstance(variable, str) and variable:
            problems.append(master_key_problem(variable, environ.get(variable)) or "")
    return [problem for problem in problems if problem]


def http_url(value: str) -> str:
    """``value`` without a trailing slash if it is an http(s) URL with a host and a valid port; else ValueError."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, got {value!r}")
    try:
        port = parts.port
    except ValueError:
        port = 0  # out of range or not a number
    if port == 0:
        raise ValueError(f"{value!r}: the port must be a number from 1 to 65535")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r}: a base URL takes no query or fragment (paths are appended to it)")
    return value.rstrip("/")


def api_base_warning(field: str, api_base: str) -> str | None:
    """A warning for an OpenAI-protocol tier whose ``api_base`` does not end in ``/v1``."""
    if urlsplit(api_base).path.rstrip("/").endswith("/v1"):
        return None
    return (
        f"{field}: {api_base!r} does not end in /v1; this tier speaks the OpenAI protocol "
        f"(an 'openai/...' model with an api_base, relayed or through litellm), so the OpenAI paths are "
        f"appended to it ({api_base}/chat/completions, ...), and OpenAI-compatible servers (OpenAI, vLLM, "
        "Ollama) serve them under /v1. Ignore this if your server serves them at this path."
    )
