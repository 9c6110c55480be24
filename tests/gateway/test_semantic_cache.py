"""The semantic cache behind ``ResponseCache``: eligibility, isolation, exact-first, TTL (in process).

The encoder is a fake with hand-set vectors, so these tests pin the plumbing; what the real
encoders and guards achieve is measured by ``benchmarks/semantic_cache.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from gateway.cache.policy import CacheControl, CachePlan, ResponseCache
from gateway.cache.semantic import SemanticCache
from gateway.cache.semantic_index import SemanticIndex
from gateway.cache.store import MemoryCache
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.settings import CacheSettings, Profile

ANCHOR = "How do I reset my password?"
PARAPHRASE = "What are the steps to reset my password?"  # similarity 0.96 to the anchor below
DISTANT = "How can I reset my password?"  # similarity 0.80: under the threshold


class FakeEncoder:
    name = "static"
    inline = True

    def __init__(self, vectors: Mapping[str, Sequence[float]]) -> None:
        self.vectors = vectors
        self.calls = 0

    def fits(self, text: str) -> bool:
        return len(text) < 200

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls += 1
        rows = np.asarray([self.vectors.get(t, (0.0, 0.0, 1.0)) for t in texts], dtype=np.float32)
        return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


VECTORS = {
    ANCHOR: (1.0, 0.0, 0.0),
    PARAPHRASE: (1.0, 0.29, 0.0),
    DISTANT: (1.0, 0.75, 0.0),
    "How do I reset my password in 2 steps?": (1.0, 0.01, 0.0),
    "Why can't I reset my password?": (1.0, 0.02, 0.0),
}
SEMANTIC = {"enabled": True, "encoder": "static"}
PROFILES = {
    "support": Profile(router="heuristic", cache={"semantic": SEMANTIC}),
    "other": Profile(router="heuristic", cache={"semantic": SEMANTIC}),
    "two-turns": Profile(router="heuristic", cache={"semantic": {**SEMANTIC, "max_turns": 2}}),
    "tools-ok": Profile(router="heuristic", cache={"semantic": {**SEMANTIC, "tools": True, "json_schema": True}}),
    "shared": Profile(router="heuristic", cache={"shared": True, "semantic": SEMANTIC}),
    "exact-only": Profile(router="heuristic"),
}
BODY = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "choices": [], "usage": None}


def build(store: MemoryCache | None = None) -> tuple[ResponseCache, FakeEncoder]:
    encoder = FakeEncoder(VECTORS)
    semantic = SemanticCache({"static": encoder}, SemanticIndex(1000))
    store = MemoryCache(1 << 20, 1000) if store is None else store
    return ResponseCache(store, CacheSettings(), PROFILES, semantic), encoder


def payload(text: str, model: str = "support", **extra: Any) -> dict[str, Any]:
    return {"model": model, "temperature": 0, "messages": [{"role": "user", "content": text}], **extra}


def plan(cache: ResponseCache, body: Mapping[str, Any], tenant: str = "t1", **control: Any) -> CachePlan:
    request = ChatCompletionRequest.model_validate(body)
    return cache.plan(request, body, tenant, CacheControl(**control))


async def store(cache: ResponseCache, body: Mapping[str, Any], tenant: str = "t1") -> None:
    assert await cache.save(
        plan(cache, body, tenant), {**BODY, "id": body["messages"][-1]["content"]}, "cheap", "m", 0.1
    )


async def lookup(cache: ResponseCache, body: Mapping[str, Any], tenant: str = "t1", **control: Any) -> tuple[Any, str]:
    entry, status = await cache.lookup(plan(cache, body, tenant, **control))
    return (entry.body["id"] if entry else None, entry.similarity if entry else None), status


async def test_a_paraphrase_is_answered_with_its_similarity_and_a_distant_one_is_not() -> None:
    cache, encoder = build()
    await store(cache, payload(ANCHOR))
    (answer, similarity), status = await lookup(cache, payload(PARAPHRASE))
    assert (answer, status) == (ANCHOR, "semantic_hit") and similarity == pytest.approx(0.96, abs=0.01)
    assert (await lookup(cache, payload(DISTANT)))[1] == "miss", "0.80 is under the 0.93 threshold"
    calls = encoder.calls
    assert (await lookup(cache, payload(ANCHOR)))[0] == (ANCHOR, None), "the exact cache is consulted first"
    assert (await lookup(cache, payload(ANCHOR)))[1] == "hit"
    assert encoder.calls == calls, "an exact hit embeds nothing"


async def test_the_guards_refuse_near_vectors_that_differ_in_a_number_or_a_negation() -> None:
    cache, _ = build()
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload("How do I reset my password in 2 steps?")))[1] == "miss"
    assert (await lookup(cache, payload("Why can't I reset my password?")))[1] == "miss"


async def test_never_across_tenants_profiles_or_contexts_unless_the_profile_shares() -> None:
    cache, _ = build()
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload(PARAPHRASE), tenant="t2"))[1] == "miss"
    assert (await lookup(cache, payload(PARAPHRASE, model="other")))[1] == "miss"
    assert (await lookup(cache, payload(PARAPHRASE, max_tokens=10)))[1] == "miss", "parameters must be equal"
    system = {"role": "system", "content": "Answer in French."}
    with_system = {**payload(PARAPHRASE), "messages": [system, {"role": "user", "content": PARAPHRASE}]}
    assert (await lookup(cache, with_system))[1] == "miss", "the system prompt must be equal"
    await store(cache, payload(ANCHOR, model="shared"), tenant="t1")
    assert (await lookup(cache, payload(PARAPHRASE, model="shared"), tenant="t2"))[1] == "semantic_hit"


@pytest.mark.parametrize(
    ("model", "extra", "eligible"),
    [
        ("support", {}, True),
        ("support", {"temperature": 0.7}, False),  # not deterministic: no cache at all
        ("support", {"tools": [{"type": "function", "function": {"name": "f"}}]}, False),
        ("tools-ok", {"tools": [{"type": "function", "function": {"name": "f"}}]}, True),
        ("support", {"response_format": {"type": "json_schema", "json_schema": {"name": "s"}}}, False),
        ("tools-ok", {"response_format": {"type": "json_schema", "json_schema": {"name": "s"}}}, True),
        ("support", {"response_format": {"type": "json_object"}}, True),
        ("exact-only", {}, False),
        ("cheap", {}, False),  # a pinned tier has no profile
    ],
)
def test_which_requests_may_be_answered_semantically(model: str, extra: dict[str, Any], eligible: bool) -> None:
    cache, _ = build()
    assert (plan(cache, {**payload(ANCHOR, model=model), **extra}).semantic is not None) is eligible


def test_turns_images_and_the_last_message_decide_eligibility() -> None:
    cache, _ = build()
    turns = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": ANCHOR},
    ]
    assert plan(cache, {**payload(ANCHOR), "messages": turns}).semantic is None, "two user turns, max_turns 1"
    assert plan(cache, {**payload(ANCHOR, model="two-turns"), "messages": turns}).semantic is not None
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    parts = [{"type": "text", "text": ANCHOR}, image]
    assert plan(cache, {**payload(ANCHOR), "messages": [{"role": "user", "content": parts}]}).semantic is None
    assistant_last = [{"role": "user", "content": ANCHOR}, {"role": "assistant", "content": "Sure"}]
    assert plan(cache, {**payload(ANCHOR), "messages": assistant_last}).semantic is None
    tool_result = [*turns[:2], {"role": "tool", "content": "42", "tool_call_id": "c"}, turns[2]]
    two = {**payload(ANCHOR, model="two-turns"), "messages": tool_result}
    assert plan(cache, two).semantic is None, "tool results need tools: true"


async def test_a_semantic_hit_expires_with_the_exact_entry() -> None:
    now = [1000.0]
    cache, _ = build(MemoryCache(1 << 20, 1000, clock=lambda: now[0]))
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload(PARAPHRASE)))[1] == "semantic_hit"
    now[0] += CacheSettings().ttl_s
    assert (await lookup(cache, payload(PARAPHRASE)))[1] == "miss", "its answer expired: no hit"


async def test_index_entries_expire_on_their_own_clock_too() -> None:
    cache, _ = build()
    assert cache.semantic is not None
    cache.semantic.index = SemanticIndex(1000, clock=lambda: time.time() + 3601)
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload(PARAPHRASE)))[1] == "miss"


async def test_cache_control_applies_to_semantic_hits() -> None:
    cache, _ = build()
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload(PARAPHRASE), no_cache=True))[1] == "bypass"
    assert (await lookup(cache, payload(PARAPHRASE), max_age_s=0))[1] == "bypass"
    await asyncio.sleep(0.01)
    assert (await lookup(cache, payload(PARAPHRASE), max_age_s=0.001))[1] == "miss", "too old for this request"
    assert (await lookup(cache, payload(PARAPHRASE)))[1] == "semantic_hit", "and still there for the next"
    no_store = plan(cache, payload("Why is the sky blue?"), no_store=True)
    assert not await cache.save(no_store, BODY, "cheap", "m", 0.1)
    assert cache.semantic is not None and len(cache.semantic.index) == 1, "nothing stored, nothing indexed"


async def test_a_large_bucket_is_scanned_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.cache.semantic.LOOP_ROWS", 0)
    cache, _ = build()
    await store(cache, payload(ANCHOR))
    assert (await lookup(cache, payload(PARAPHRASE)))[1] == "semantic_hit"


def test_the_config_opt_in_and_its_defaults() -> None:
    from gateway.settings import ConfigError, parse_settings

    tiers = {name: {"model": f"openai/{name}", "api_base": "http://127.0.0.1:9/v1"} for name in ("cheap", "frontier")}
    raw: dict[str, Any] = {"tiers": tiers, "profiles": {"faq": {"cache": {"semantic": {"enabled": True}}}, "auto": {}}}
    settings = parse_settings(raw, environ={})
    options = settings.profiles["faq"].cache.semantic
    assert options is not None
    assert (options.threshold, options.max_turns, options.encoder) == (0.93, 1, "embedding")
    assert (options.tools, options.json_schema) == (False, False)
    assert settings.profiles["auto"].cache.semantic is None, "off unless a profile opts in"
    assert settings.cache.semantic_index.max_entries == 50_000
    for bad in ({"threshold": 1.5}, {"max_turns": 0}, {"encoder": "bert"}, {"treshold": 0.9}):
        raw["profiles"]["faq"]["cache"]["semantic"] = {"enabled": True, **bad}
        with pytest.raises(ConfigError, match=r"profiles\.faq\.cache\.semantic"):
            parse_settings(raw, environ={})
