"""/v1/responses relayed natively to tiers that speak the Responses API, translated for the rest.

The simulator serves /v1/responses itself. Tiers declaring the ``responses`` capability
(relay transport) get the client's request as it is and the answer comes back as the
simulator made it; the others are asked through chat completions and the answer is
translated. The two are told apart by ids: a translated Response derives its message id
from its own id (both from the chat completion's), a native one does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import Response

from gateway.local import processes as procs
from tests.conftest import tier

NATIVE = ["tools", "images", "json_schema", "responses"]


def _config(sim_url: str) -> dict[str, Any]:
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay", capabilities=NATIVE),
            "frontier": tier(sim_url, "sim-frontier", "relay", capabilities=NATIVE),
            "translated": tier(sim_url, "sim-cheap", "relay", fallbacks=[]),
            "via-litellm": tier(sim_url, "sim-cheap", "litellm", capabilities=NATIVE, fallbacks=[]),
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
    }


@pytest.fixture(scope="module")
def sdk(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    with (
        procs.gateway(_config(sim_url), tmp_path_factory.mktemp("responses-native")) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0) as client,
    ):
        yield client


def _native(response: Response) -> bool:
    return response.output[0].id.removeprefix("msg_") != response.id.removeprefix("resp_")


def test_a_routed_request_to_responses_tiers_is_relayed_natively(sdk: openai.OpenAI) -> None:
    raw = sdk.responses.with_raw_response.create(model="auto", input="Name a river.", max_output_tokens=30)
    response = raw.parse()
    assert _native(response) and response.output_text
    assert raw.headers["x-triage-tier"] in ("cheap", "frontier") and "x-triage-score" in raw.headers
    assert float(raw.headers["x-triage-cost-usd"]) > 0  # priced from the Responses usage


@pytest.mark.parametrize(("tier_name", "native"), [("translated", False), ("via-litellm", False), ("cheap", True)])
def test_only_relay_tiers_with_the_capability_get_the_native_request(
    sdk: openai.OpenAI, tier_name: str, native: bool
) -> None:
    response = sdk.responses.create(model=tier_name, input="Name a mountain.", max_output_tokens=30)
    assert _native(response) is native and response.output_text


def test_a_native_stream_keeps_its_event_lines_and_is_priced(sdk: openai.OpenAI, sim_url: str) -> None:
    with sdk.responses.with_streaming_response.create(
        model="cheap", input="Count to three.", max_output_tokens=30, stream=True
    ) as raw:
        lines = list(raw.iter_lines())
    kinds = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    data = [line for line in lines if line.startswith("data: ")]
    assert kinds[0] == "response.created" and kinds[-1] in ("response.completed", "response.incomplete")
    assert len(kinds) == len(data) and "data: [DONE]" not in data
    with sdk.responses.stream(model="cheap", input="Count to four.", max_output_tokens=30) as stream:
        final = stream.get_final_response()
    assert _native(final) and final.usage is not None and final.usage.output_tokens > 0


def test_a_native_answer_is_cached_and_a_hit_is_told_back_as_a_response(sdk: openai.OpenAI) -> None:
    ask = {"model": "cheap", "input": "Cache this native answer.", "temperature": 0, "max_output_tokens": 30}
    first = sdk.responses.with_raw_response.create(**ask)  # type: ignore[call-overload]
    again = sdk.responses.with_raw_response.create(**ask)  # type: ignore[call-overload]
    assert first.headers["x-triage-cache"] == "miss" and again.headers["x-triage-cache"] == "hit"
    assert again.parse().output_text == first.parse().output_text
    with sdk.responses.stream(**ask) as stream:  # a streamed hit: replayed, translated
        assert stream.get_final_response().output_text == first.parse().output_text


def test_native_requests_are_counted_as_responses(sdk: openai.OpenAI) -> None:
    base = str(sdk.base_url).removesuffix("/v1/")
    metrics = httpx.get(f"{base}/metrics", timeout=10).text
    assert any('endpoint="responses"' in line and 'tier="cheap"' in line for line in metrics.splitlines())
