"""Tracing in process: the app on a fake transport, exporting to a real OTLP/HTTP receiver (a thread).

The end-to-end test (``tests/e2e/test_tracing.py``) covers a gateway process, retries,
fallbacks and ``traceparent`` propagation; these cover streams, failures, the config and
tracing off.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.local.otlp_receiver import OtlpReceiver, ReceivedSpan
from gateway.settings import ConfigError
from gateway.tracing import NOOP_TRACER
from gateway.upstream.base import UpstreamError
from gateway.upstream.fake import FakeTransport
from tests.gateway.request.test_lifecycle import Script, chunks, completion, gateway, post, settings

SERVER, ERROR = 2, 2


def tracing(receiver: OtlpReceiver) -> dict[str, Any]:
    return {"otlp_endpoint": receiver.url, "export_interval_ms": 20}


def tree(spans: list[ReceivedSpan]) -> tuple[ReceivedSpan, list[str]]:
    """The request span and its children's names, in start order (one request per test)."""
    [root] = [s for s in spans if s.kind == SERVER]
    children = sorted((s for s in spans if s.parent_span_id == root.span_id), key=lambda s: s.start_ns)
    assert len(children) == len(spans) - 1
    return root, [s.name for s in children]


async def test_a_stream_has_the_whole_tree_and_its_usage() -> None:
    with OtlpReceiver() as receiver:
        stream = chunks(["a", "b", "c"])
        stream[2]["choices"][0]["finish_reason"] = "stop"  # a finished stream: stored in the cache
        fake = FakeTransport(Script(stream))
        async with gateway(fake, tracing=tracing(receiver)) as (client, _runtime, _recs):
            response = await post(client, model="auto", stream=True, temperature=0)
            assert response.status_code == 200
        spans = receiver.spans()  # the lifespan's end flushed them
    root, names = tree(spans)
    assert names == [
        "triage.cache.lookup",
        "triage.router",
        "triage.policy",
        f"chat openai/sim-{root.attributes['triage.tier']}",
        "triage.cache.store",
    ]
    assert root.attributes["triage.stream"] is True
    assert (root.attributes["gen_ai.usage.input_tokens"], root.attributes["gen_ai.usage.output_tokens"]) == (5, 3)
    assert root.attributes["gen_ai.request.model"] == "auto"


async def test_an_upstream_failure_marks_the_attempts_and_the_request_failed() -> None:
    with OtlpReceiver() as receiver:
        fake = FakeTransport(Script(UpstreamError("timeout", "slow")))
        async with gateway(fake, tracing=tracing(receiver)) as (client, _runtime, _recs):
            response = await post(client, model="cheap", max_tokens=10)
            assert response.status_code == 504
        spans = receiver.spans()
    root, names = tree(spans)
    assert root.status == ERROR and root.attributes["http.response.status_code"] == 504
    attempts = [s for s in spans if s.name.startswith("chat ")]
    assert len(attempts) == 6  # cheap (1 + 2 retries), then its fallback frontier (1 + 2)
    assert {(s.status, s.attributes["error.type"]) for s in attempts} == {(ERROR, "timeout")}
    assert "triage.cache.store" not in names


async def test_a_cache_hit_has_no_router_policy_or_attempt() -> None:
    with OtlpReceiver() as receiver:
        fake = FakeTransport(Script(completion()))
        async with gateway(fake, tracing=tracing(receiver)) as (client, _runtime, _recs):
            for _ in range(2):
                assert (await post(client, model="cheap", temperature=0)).status_code == 200
        spans = receiver.spans()
    hits = [s for s in spans if s.kind == SERVER and s.attributes["triage.cache"] == "hit"]
    assert len(hits) == 1
    assert [s.name for s in spans if s.parent_span_id == hits[0].span_id] == ["triage.cache.lookup"]


async def test_tracing_off_is_the_no_op_tracer() -> None:
    async with gateway(FakeTransport(Script(completion()))) as (_client, runtime, _recs):
        assert runtime.tracer is NOOP_TRACER


@pytest.mark.parametrize(
    "section",
    [
        {"otlp_endpoint": "collector:4318"},
        {"otlp_endpoint": "http://collector:4318/v1/traces", "sample_ratio": 1.5},
        {"otlp_endpoint": "http://collector:4318/v1/traces", "endpoint": "typo"},
        {"service_name": "triage"},
    ],
)
def test_a_bad_tracing_section_is_refused(section: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="tracing"):
        settings(tracing=section)
