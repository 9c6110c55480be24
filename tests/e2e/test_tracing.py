"""OpenTelemetry traces end to end: a gateway process exporting to a real OTLP/HTTP receiver.

The upstream is a tiny OpenAI-protocol server in this module that records each call's
``traceparent``: its ``/fail`` tier always answers 500 (one retry, then the fallback), its
``/ok`` tier answers. The done-when of the tracing issue: the span tree of a request that
retried once and fell back, continuing the client's trace and propagated upstream.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

from gateway.local import processes as procs
from gateway.local.otlp_receiver import OtlpReceiver, ReceivedSpan

SERVER, CLIENT, ERROR = 2, 3, 2  # OTLP span kinds and status code
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


class Upstream:
    """Records ``(path, traceparent)`` of every call; ``/fail/...`` answers 500, the rest a completion."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                upstream.calls.append((self.path, self.headers.get("traceparent", "")))
                if self.path.startswith("/fail/"):
                    self._send(500, {"error": {"message": "injected", "type": "server_error"}})
                    return
                message = {"role": "assistant", "content": "traced answer"}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                self._send(
                    200,
                    {
                        "id": "chatcmpl-trace",
                        "object": "chat.completion",
                        "created": 1,
                        "model": body["model"],
                        "choices": [choice],
                        "usage": USAGE,
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


def tier(base: str, model: str, transport: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": f"openai/{model}",
        "api_base": base,
        "transport": transport,
        "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
        "capabilities": ["tools"],
        "timeout_s": 10,
        **extra,
    }


def config(upstream: Upstream, receiver: OtlpReceiver, transport: str, log_prompts: bool = False) -> dict[str, Any]:
    return {
        "tiers": {
            "cheap": tier(f"{upstream.base}/ok/v1", "up-cheap", transport, fallbacks=[]),
            # always 500: one retry, then the fallback to cheap
            "frontier": tier(f"{upstream.base}/fail/v1", "up-frontier", transport, max_retries=1, fallbacks=["cheap"]),
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 1.0}},
        "tracing": {"otlp_endpoint": receiver.url, "service_name": "triage-test", "export_interval_ms": 50},
        "log_prompts": log_prompts,
    }


def traced_request(url: str, prompt: str) -> tuple[str, str, openai.types.chat.ChatCompletion, dict[str, str]]:
    """One request continuing a client trace; returns its trace id, the client's span id, the answer, headers."""
    trace_id, parent = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    headers = {"traceparent": f"00-{trace_id}-{parent}-01"}
    with openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": prompt}], temperature=0, extra_headers=headers
        )
    return trace_id, parent, raw.parse(), dict(raw.headers)


def request_spans(receiver: OtlpReceiver, trace_id: str) -> list[ReceivedSpan]:
    def complete(spans: list[ReceivedSpan]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        return any(s.kind == SERVER for s in mine) and any(s.name == "triage.cache.store" for s in mine)

    return sorted((s for s in receiver.wait_for(complete) if s.trace_id == trace_id), key=lambda s: s.start_ns)


@pytest.mark.parametrize("transport", ["relay", "litellm"])
def test_span_tree_of_a_request_that_retried_once_and_fell_back(
    transport: str, upstream: Upstream, tmp_path: Path
) -> None:
    prompt = f"tell me about the tracing canary {uuid.uuid4().hex}"
    with OtlpReceiver() as receiver, procs.gateway(config(upstream, receiver, transport), tmp_path) as url:
        trace_id, client_span, answer, headers = traced_request(url, prompt)
        spans = request_spans(receiver, trace_id)
    assert answer.choices[0].message.content == "traced answer"
    assert headers["x-triage-tier"] == "cheap"

    [root] = [s for s in spans if s.kind == SERVER]
    assert root.parent_span_id == client_span  # continues the client's trace
    assert root.service == "triage-test"
    children = [s for s in spans if s.parent_span_id == root.span_id]
    assert len(children) == len(spans) - 1, "every span is the request span's child"
    assert [s.name for s in children] == [
        "triage.cache.lookup",
        "triage.router",
        "triage.policy",
        "chat openai/up-frontier",
        "chat openai/up-frontier",
        "chat openai/up-cheap",
        "triage.cache.store",
    ]
    lookup, router, policy, first, retry, fallback, _store = children
    assert lookup.attributes["triage.cache"] == "miss"
    assert router.attributes["triage.router"] == "heuristic"
    assert isinstance(router.attributes["triage.score"], float)
    assert policy.attributes["triage.tier"] == "frontier"

    attempts = [first, retry, fallback]
    assert [s.kind for s in attempts] == [CLIENT] * 3
    assert [(s.attributes["triage.tier"], s.attributes["triage.attempt"]) for s in attempts] == [
        ("frontier", 1),
        ("frontier", 2),
        ("cheap", 1),
    ]
    assert [s.status == ERROR for s in attempts] == [True, True, False]
    assert first.attributes["error.type"] == retry.attributes["error.type"] == "server"
    assert fallback.attributes["gen_ai.operation.name"] == "chat"
    assert fallback.attributes["gen_ai.request.model"] == "openai/up-cheap"
    assert fallback.attributes["gen_ai.system"] == "openai"

    attributes = root.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "auto"
    assert attributes["gen_ai.response.model"] == "openai/up-cheap"
    assert attributes["gen_ai.usage.input_tokens"] == USAGE["prompt_tokens"]
    assert attributes["gen_ai.usage.output_tokens"] == USAGE["completion_tokens"]
    assert (attributes["triage.tier"], attributes["triage.routed_tier"]) == ("cheap", "frontier")
    assert attributes["triage.score"] == router.attributes["triage.score"]
    assert isinstance(attributes["triage.reason"], str) and attributes["triage.reason"]
    assert (attributes["triage.cache"], attributes["triage.endpoint"]) == ("miss", "chat")
    assert attributes["http.response.status_code"] == 200
    assert (attributes["triage.attempts"], attributes["triage.retries"], attributes["triage.fallbacks"]) == (3, 1, 1)

    # each upstream call carried the client's trace id, its parent being that attempt's span
    assert [path.split("/")[1] for path, _ in upstream.calls] == ["fail", "fail", "ok"]
    sent = [traceparent.split("-") for _, traceparent in upstream.calls]
    assert [(t[1], t[2]) for t in sent] == [(trace_id, s.span_id) for s in attempts]

    values = [str(v) for s in spans for v in s.attributes.values()]
    assert not any("canary" in v for v in values), "no prompt text on spans without log_prompts"


def test_log_prompts_puts_the_prompt_on_the_request_span(upstream: Upstream, tmp_path: Path) -> None:
    prompt = f"a logged canary {uuid.uuid4().hex}"
    with OtlpReceiver() as receiver, procs.gateway(config(upstream, receiver, "relay", True), tmp_path) as url:
        trace_id, _, _, _ = traced_request(url, prompt)
        spans = request_spans(receiver, trace_id)
    [root] = [s for s in spans if s.kind == SERVER]
    assert root.attributes["triage.prompt"] == prompt
    assert all("canary" not in str(v) for s in spans if s is not root for v in s.attributes.values())


def test_tracing_off_imports_no_opentelemetry_sdk(tmp_path: Path) -> None:
    """Without a ``tracing`` section a runtime is built without loading the SDK or the exporter."""
    script = (
        "import sys\n"
        "from gateway.settings import parse_settings\n"
        "from gateway.wiring import build_runtime\n"
        "tier = {'model': 'openai/m', 'api_base': 'http://127.0.0.1:9/v1', 'price': {'input_per_mtok': 1, 'output_per_mtok': 1}}\n"
        "runtime = build_runtime(parse_settings({'tiers': {'cheap': tier, 'frontier': tier}}), environ={})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter', 'gateway.observe.otel'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=procs.ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
