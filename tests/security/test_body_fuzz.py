"""Property-based fuzz of the chat request body, in process: never a 5xx for client input,
every budget reservation released or settled, every request recorded.

The upstream is the in-process fake (it answers every call), so the properties hold for
the gateway's own code: parsing, admission, routing, budgets, cache, serialisation. A
global budget is set, so every routed request reserves; after each request the spend
counter must equal the sum of the recorded requests' costs (nothing left reserved).
Figures: ``TRIAGE_FUZZ_RESULTS=1`` prints the examples run, 5xx found and leaks.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.request.values import RequestRecord
from gateway.settings import parse_settings
from gateway.upstream.base import Target
from gateway.upstream.fake import FakeTransport, Reply
from tests.gateway.request.test_lifecycle import chunks, completion

EXAMPLES = 1000

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
content = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "image_url", "input_text", "x"])},
            optional={
                "text": st.one_of(st.text(max_size=50), json_values),
                "image_url": json_values,
            },
        ),
        max_size=3,
    ),
    json_values,
)
message = st.fixed_dictionaries(
    {"role": st.one_of(st.sampled_from(["system", "user", "assistant", "tool", "developer"]), st.text(max_size=8))},
    optional={
        "content": content,
        "name": st.one_of(st.text(max_size=10), json_values),
        "tool_call_id": json_values,
        "tool_calls": st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.text(max_size=5), "type": st.just("function")},
                    optional={
                        "function": st.one_of(
                            json_values,
                            st.fixed_dictionaries(
                                {"name": st.text(max_size=8), "arguments": st.one_of(st.text(max_size=20), json_values)}
                            ),
                        )
                    },
                ),
                max_size=2,
            ),
        ),
    },
)
valid_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "developer"]), "content": st.text(max_size=300)}
)
valid_bodies = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["auto", "cheap", "frontier"]),
        "messages": st.lists(valid_message, min_size=1, max_size=4).map(
            lambda ms: [*ms, {"role": "user", "content": "and?"}]
        ),
    },
    optional={
        "stream": st.booleans(),
        "temperature": st.sampled_from([0, 0.7]),
        "max_tokens": st.integers(1, 300_000),
        "n": st.integers(1, 4),
        "stop": st.one_of(st.text(max_size=5), st.lists(st.text(max_size=5), max_size=3)),
        "response_format": st.sampled_from([{"type": "json_object"}, {"type": "text"}]),
        "stream_options": st.just({"include_usage": True}),
        "user": st.text(max_size=10),
        "metadata": json_values,
        "api_base": st.just("http://127.0.0.1:1/v1"),
        "unknown_field": json_values,
    },
)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with one field (known or not) replaced by arbitrary JSON."""
    body = dict(draw(valid_bodies))
    field = draw(st.sampled_from([*body, "tools", "tool_choice", "logit_bias", "seed", "top_p", "x"]))
    body[field] = draw(json_values)
    return body


random_bodies = st.fixed_dictionaries(
    {
        "model": st.one_of(st.sampled_from(["auto", "cheap", "frontier", "nope"]), json_values),
        "messages": st.one_of(st.lists(message, min_size=1, max_size=4), json_values),
    },
    optional={
        "stream": st.one_of(st.booleans(), json_values),
        "temperature": st.one_of(st.sampled_from([0, 0.7, 2.5]), json_values),
        "max_tokens": st.one_of(st.integers(-5, 300_000), json_values),
        "n": st.one_of(st.integers(-1, 200), json_values),
        "stop": json_values,
        "tools": json_values,
        "tool_choice": json_values,
        "response_format": st.one_of(
            st.fixed_dictionaries({"type": st.sampled_from(["json_object", "json_schema", "text"])}), json_values
        ),
        "stream_options": json_values,
        "logit_bias": json_values,
        "api_base": st.just("http://127.0.0.1:1/v1"),
        "mock_response": st.text(max_size=10),
        "extra": json_values,
    },
)


bodies = st.one_of(valid_bodies, mutated_bodies(), random_bodies)


def _config() -> Any:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": "http://127.0.0.1:9/v1",
            "price": {"input_per_mtok": 1.0, "output_per_mtok": 4.0},
            "context_window": 400_000,
            "max_retries": 0,
        }
        for name in ("cheap", "frontier")
    }
    return parse_settings(
        {
            "tiers": tiers,
            "profiles": {"auto": {"router": "heuristic"}},
            "budget": {"limit_usd": 1_000_000.0},
            "log_requests": False,
        }
    )


async def _answer(target: Target, payload: Mapping[str, Any]) -> Reply:
    if payload.get("stream"):
        return chunks(["a", "b"])
    return completion()


def test_no_body_gets_a_5xx_leaks_a_reservation_or_goes_unrecorded() -> None:
    stats = {"examples": 0, "5xx": 0, "leaked": 0, "unrecorded": 0}
    statuses: dict[int, int] = {}

    async def run(bodies_: list[bytes]) -> None:
        app = create_app(_config(), environ={}, transports={"relay": FakeTransport(_answer)})
        records: list[RequestRecord] = []
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw", timeout=30)
        async with app.router.lifespan_context(app), client:
            runtime = app.state.runtime
            runtime.listeners.append(records.append)
            for raw in bodies_:
                before = len(records)
                response = await client.post(
                    "/v1/chat/completions", content=raw, headers={"Content-Type": "application/json"}
                )
                await response.aread()
                await asyncio.sleep(0)  # let a stream's background finish run
                stats["examples"] += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                stats["5xx"] += response.status_code >= 500
                stats["unrecorded"] += len(records) != before + 1
                spent = sum(runtime.pipeline.budgets._local.values())
                costs = sum(r.answered.cost or 0.0 for r in records if r.answered is not None and r.routed)
                stats["leaked"] += abs(spent - costs) > 1e-9
                assert response.status_code < 500, (raw[:300], response.text)
                assert (
                    set(response.json()["error"]) == {"message", "type", "param", "code"}
                    if (response.status_code >= 400)
                    else True
                )

    collected: list[bytes] = []

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(bodies)
    def collect(body: dict[str, Any]) -> None:
        collected.append(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))

    collect()
    asyncio.run(run(collected))
    if os.environ.get("TRIAGE_FUZZ_RESULTS"):
        print(f"body fuzz: {stats}, statuses {dict(sorted(statuses.items()))}")
    assert stats == {"examples": len(collected), "5xx": 0, "leaked": 0, "unrecorded": 0}
