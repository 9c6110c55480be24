"""Hostile input against a real gateway: schemathesis over the OpenAPI document, then raw bodies.

Every response must be below 500 (the simulator here injects no faults, so any 5xx is a
gateway bug), and every 4xx is OpenAI-shaped JSON. The run's example and 5xx counts are
written to ``benchmarks/results/fuzz.json`` when ``TRIAGE_FUZZ_RESULTS=1`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from gateway.local import processes as procs
from tests.conftest import tier

ROOT = Path(__file__).resolve().parents[2]
RESULT = ROOT / "benchmarks" / "results" / "fuzz.json"
MAX_BODY_BYTES = 1_000_000
CHAT_EXAMPLES = 200
OTHER_EXAMPLES = 75  # across every other operation
# Models a client may name; the rest of the generated names are unknown (404).
KNOWN_MODELS = ("auto", "cheap", "frontier")
ERROR_FIELDS = {"message", "type", "param", "code"}


@dataclass
class FuzzStats:
    """What the module's tests sent and what came back, written once at teardown."""

    examples: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    by_kind: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int) -> None:
        self.examples += 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        statuses = self.by_kind.setdefault(kind, {})
        statuses[status] = statuses.get(status, 0) + 1

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.by_status.items() if status >= 500)


def _fuzz_config(sim_url: str) -> dict[str, Any]:
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay"),
            "frontier": tier(sim_url, "sim-frontier", "relay"),
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "limits": {"max_body_bytes": MAX_BODY_BYTES},
    }


@pytest.fixture(scope="module")
def fuzz_stats() -> Iterator[FuzzStats]:
    stats = FuzzStats()
    yield stats
    # Only on request (TRIAGE_FUZZ_RESULTS=1): a test run must not rewrite tracked files.
    if stats.examples and os.environ.get("TRIAGE_FUZZ_RESULTS") == "1":
        _write_result(stats)


@pytest.fixture(scope="module")
def fuzz_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway on a fast simulator of its own: 1 ms TTFT, 8-token answers."""
    fast = ["--ttft-ms", "1", "--tokens-per-s", "5000", "--answer-tokens", "8"]
    with procs.simulator(fast) as sim_url, procs.gateway(_fuzz_config(sim_url), tmp_path_factory.mktemp("fuzz")) as url:
        yield url


@pytest.fixture(scope="module")
def api_schema(fuzz_gateway: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_gateway}/openapi.json")


def _git_sha() -> str:
    run = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return run.stdout.strip() or "unknown"


def _write_result(stats: FuzzStats) -> None:
    document = {
        "benchmark": "fuzz",
        "git_sha": _git_sha(),
        "config": {"chat_examples": CHAT_EXAMPLES, "other_operations_examples": OTHER_EXAMPLES},
        "results": {
            "examples": stats.examples,
            "server_errors": stats.server_errors,
            "by_status": {str(k): v for k, v in sorted(stats.by_status.items())},
            "by_kind": {
                kind: {str(k): v for k, v in sorted(statuses.items())}
                for kind, statuses in sorted(stats.by_kind.items())
            },
            "failures": stats.failures,
        },
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nfuzz: {stats.examples} examples, {stats.server_errors} 5xx, by status {stats.by_status}")


def assert_openai_error(response: httpx.Response | Any, context: str, anthropic: bool = False) -> None:
    """A 4xx/5xx body is ``{"error": {"message", "type", "param", "code"}}`` served as JSON.

    On /v1/messages (``anthropic``): Anthropic's ``{"type": "error", "error": {"type", "message"}}``.
    """
    content_type = response.headers.get("content-type", "")
    if isinstance(content_type, list):  # schemathesis' Response keeps every value of a header
        content_type = ",".join(content_type)
    assert content_type.startswith("application/json"), context
    body = json.loads(response.content)
    if anthropic:
        assert isinstance(body, dict) and set(body) == {"type", "error"} and body["type"] == "error", context
        assert set(body["error"]) == {"type", "message"} and body["error"]["message"], context
        return
    assert isinstance(body, dict) and set(body) == {"error"}, context
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_FIELDS, context
    assert isinstance(error["message"], str) and error["message"], context
    assert isinstance(error["type"], str) and error["type"], context


def check_response(
    stats: FuzzStats, kind: str, response: httpx.Response | Any, context: str, anthropic: bool = False
) -> None:
    stats.record(kind, response.status_code)
    if response.status_code >= 500:
        stats.failures.append(f"{response.status_code}: {context} -> {response.content[:300]!r}")
    assert response.status_code < 500, f"{context} -> {response.status_code} {response.content[:500]!r}"
    if response.status_code >= 400:
        assert_openai_error(response, f"{context} -> {response.status_code} {response.content[:500]!r}", anthropic)


# schemathesis' own pytest integration (``from_fixture(...).parametrize()``) breaks on pytest 9.2
# (it sets ``request.node._nodeid``), so its case strategies are drawn with plain hypothesis instead.
def _settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _cases(operations: Any) -> st.SearchStrategy[schemathesis.Case[Any]]:
    """Schema-valid and schema-violating cases for ``operations``, half and half."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    return st.one_of(*(operations.as_strategy(mode) for mode in modes))


def _send(case: schemathesis.Case[Any], model: str | None, stats: FuzzStats) -> None:
    # A positive body has a schema-valid shape; naming a real model makes it reach the upstream.
    mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
    if model is not None and mode == GenerationMode.POSITIVE and isinstance(case.body, dict):
        case.body["model"] = model
    response = case.call(timeout=30)
    kind = f"{case.method} {case.operation.path} {mode.value}"
    context = f"{case.method} {case.formatted_path} body={_body(case)} query={case.query}"
    check_response(stats, kind, response, context, case.operation.path == "/v1/messages")


def _body(case: schemathesis.Case[Any]) -> str:
    return repr(case.body)[:300] if isinstance(case.body, dict | list | str | int | float | bool) else "-"


def test_chat_completions_fuzz(api_schema: schemathesis.BaseSchema, fuzz_stats: FuzzStats) -> None:
    operation = api_schema["/v1/chat/completions"]["POST"]

    @_settings(CHAT_EXAMPLES)
    @given(case=_cases(operation), model=st.sampled_from([*KNOWN_MODELS, None]))
    def run(case: schemathesis.Case[Any], model: str | None) -> None:
        _send(case, model, fuzz_stats)

    run()


def test_other_operations_fuzz(api_schema: schemathesis.BaseSchema, fuzz_stats: FuzzStats) -> None:
    operations = api_schema.exclude(path="/v1/chat/completions")

    @_settings(OTHER_EXAMPLES)
    @given(case=_cases(operations))
    def run(case: schemathesis.Case[Any]) -> None:
        _send(case, None, fuzz_stats)

    run()


def _chat(**extra: Any) -> dict[str, Any]:
    return {"model": "cheap", "messages": [{"role": "user", "content": "Hi"}], **extra}


HOSTILE: dict[str, tuple[bytes, set[int]]] = {
    "nested-10000": (b"[" * 10_000, {400}),
    "nested-object-10000": (b'{"a":' * 10_000, {400}),
    "string-10mb": (json.dumps(_chat(padding="x" * 10_000_000)).encode(), {413}),
    "invalid-utf8": (b'{"model": "cheap", "messages": [{"role": "user", "content": "\xff\xfe\xc3\x28"}]}', {400}),
    "duplicate-keys": (b'{"model": "nope", "model": "cheap", "messages": [{"role": "user", "content": "Hi"}]}', {200}),
    "nan": (b'{"model": "cheap", "temperature": NaN, "messages": [{"role": "user", "content": "Hi"}]}', {400}),
    "infinity": (b'{"model": "cheap", "top_p": Infinity, "messages": [{"role": "user", "content": "Hi"}]}', {400}),
    "huge-number": (json.dumps(_chat(max_tokens=10**400)).encode(), {400}),
    "max-tokens-as-string": (json.dumps(_chat(max_tokens="16")).encode(), {400}),
    "n-as-string": (json.dumps(_chat(n="1")).encode(), {400}),
    "seed-as-float": (json.dumps(_chat(seed=1.5)).encode(), {400}),
    "escaped-null-bytes": (json.dumps(_chat(messages=[{"role": "user", "content": "a\u0000b\u0000"}])).encode(), {200}),
    "raw-null-byte": (b'{"model": "cheap", "messages": [{"role": "user", "content": "a\x00b"}]}', {400}),
    "lone-surrogate": (b'{"model": "cheap", "messages": [{"role": "user", "content": "\\ud800"}]}', {200, 400}),
    "messages-5000": (
        json.dumps(_chat(messages=[{"role": "user", "content": f"m{i}"} for i in range(5000)])).encode(),
        {200, 400},
    ),
    "empty-body": (b"", {400}),
    "json-array": (b"[]", {400}),
    "json-string": (b'"hi"', {400}),
    "json-null": (b"null", {400}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_body(name: str, fuzz_gateway: str, fuzz_stats: FuzzStats) -> None:
    body, expected = HOSTILE[name]
    response = httpx.post(
        f"{fuzz_gateway}/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    check_response(fuzz_stats, "hostile", response, f"hostile body {name}")
    assert response.status_code in expected, f"{name}: {response.status_code} {response.content[:300]!r}"
