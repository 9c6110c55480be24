"""Issue 12.1: nothing a client sends may change where the gateway connects, or with what key.

Each case sends one litellm call option (or a look-alike) in the request body, against a
tier on the ``litellm`` transport and one on the ``relay``, both holding a provider key.
Every URL-valued option points at a capture socket that must receive nothing; options
that would change the answer or the call (mock_response, the simulator's fault header
in extra_headers, a 1 ns timeout, another provider) must leave the answer untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.local import processes as procs
from gateway.settings import ConfigError, Tier, parse_settings
from gateway.upstream.base import Target
from gateway.upstream.params import CALL_OPTIONS, OPENAI_CHAT_PARAMS, forwardable
from gateway.wiring import build_targets
from tests.conftest import tier
from tests.security.conftest import PROVIDER_KEY, CaptureSocket

KEY_ENV = {"TRIAGE_TEST_PROVIDER_KEY": PROVIDER_KEY}


def smuggled(capture: str) -> dict[str, Any]:
    """One body field per case: litellm call options and the ways a client might sneak one in."""
    return {
        "api_base": capture,
        "base_url": capture,
        "api_key": "sk-client-chosen-key",
        "mock_response": "SMUGGLED ANSWER",
        "mock_tool_calls": [{"id": "x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        "extra_headers": {"x-sim-fault": "500", "Host": "127.0.0.1"},
        "headers": {"x-sim-fault": "500"},
        "extra_body": {"api_base": capture},
        "custom_llm_provider": "anthropic",
        "timeout": 0.000000001,
        "request_timeout": 0.000000001,
        "num_retries": 7,
        "metadata": {"api_base": capture},
        "success_callback": ["webhook"],
        "callbacks": ["webhook"],
        "api_version": "2099-01-01",
        "organization": "org-attacker",
        "litellm_params": {"api_base": capture},
        "deployment_id": "attacker",
    }


@pytest.fixture(scope="module")
def gateway(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keyed = {"api_key_env": "TRIAGE_TEST_PROVIDER_KEY", "max_retries": 1}
    config = {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "litellm", **keyed),
            "frontier": tier(sim_url, "sim-frontier", "relay", **keyed),
        },
        "profiles": {"auto": {"router": "heuristic"}},
    }
    with procs.gateway(config, tmp_path_factory.mktemp("smuggle"), KEY_ENV) as url:
        yield url


def _case_names() -> list[str]:
    return list(smuggled("http://x"))


@pytest.mark.parametrize("tier_name", ["cheap", "frontier"], ids=["litellm", "relay"])
@pytest.mark.parametrize("option", _case_names())
def test_a_body_field_never_redirects_or_rewrites_the_call(
    gateway: str, capture: CaptureSocket, option: str, tier_name: str
) -> None:
    body = {
        "model": tier_name,
        "messages": [{"role": "user", "content": "hello"}],
        option: smuggled(capture.url)[option],
    }
    response = httpx.post(f"{gateway}/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    assert "SMUGGLED" not in content
    assert response.headers["x-triage-tier"] == tier_name
    assert capture.connections == 0 and capture.received == b""
    assert PROVIDER_KEY not in response.text


@pytest.mark.parametrize("tier_name", ["cheap", "frontier"], ids=["litellm", "relay"])
def test_client_headers_never_reach_the_upstream(gateway: str, tier_name: str) -> None:
    """The simulator's own fault header, sent by the client, must not reach the simulator."""
    body = {"model": tier_name, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"x-sim-fault": "500", "x-forwarded-host": "attacker.example", "api-key": "sk-client"}
    response = httpx.post(f"{gateway}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def _target(**tier_fields: Any) -> Target:
    tier_config = Tier(model="anthropic/claude-x", api_base="https://provider.example/v1", **tier_fields)
    return Target(name="t", tier=tier_config, price=tier_config.price or _price(), api_key="sk-tier")


def _price() -> Any:
    from gateway.settings import Price

    return Price(input_per_mtok=1.0, output_per_mtok=1.0)


def test_litellm_keyword_arguments_come_from_the_tier_only() -> None:
    """Every call option a body carries is dropped; the tier's own values are used."""
    from gateway.upstream.litellm_ import LiteLLMTransport

    transport = LiteLLMTransport()
    payload = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0, "unknown_field": 1}
    payload.update({name: "http://attacker.example/v1" for name in CALL_OPTIONS - {"messages"}})
    kwargs = transport._kwargs(_target(extra_headers={"x-tier": "1"}), payload, 5.0)
    assert kwargs["api_base"] == "https://provider.example/v1"
    assert kwargs["api_key"] == "sk-tier"
    assert kwargs["extra_headers"] == {"x-tier": "1"}
    assert kwargs["timeout"] == 5.0 and kwargs["num_retries"] == 0
    assert kwargs["model"] == "anthropic/claude-x"
    assert "attacker" not in repr(kwargs)
    assert set(kwargs) <= OPENAI_CHAT_PARAMS | {
        "model",
        "messages",
        "timeout",
        "num_retries",
        "api_base",
        "api_key",
        "extra_headers",
    }
    assert kwargs["temperature"] == 0 and "unknown_field" not in kwargs


def test_a_tier_may_forward_extra_parameters_but_never_call_options(sim_url: str) -> None:
    target = _target(forward_params=frozenset({"top_k"}))
    assert forwardable({"top_k": 5, "api_base": "x", "messages": []}, target.tier.forward_params) == {"top_k": 5}
    for option in ("api_base", "base_url", "mock_response", "extra_headers", "litellm_params", "aws_region_name"):
        bad = tier(sim_url, "sim-cheap", "litellm", forward_params=[option])
        settings = parse_settings({"tiers": {"cheap": bad, "frontier": tier(sim_url, "sim-frontier", "relay")}})
        with pytest.raises(ConfigError, match="call options"):
            build_targets(settings, environ={})


def test_check_config_refuses_a_call_option_in_forward_params(tmp_path: Path, sim_url: str) -> None:
    import subprocess
    import sys

    import yaml

    path = tmp_path / "bad.yaml"
    bad = tier(sim_url, "sim-cheap", "litellm", forward_params=["api_base"])
    path.write_text(yaml.safe_dump({"tiers": {"cheap": bad, "frontier": tier(sim_url, "sim-frontier", "relay")}}))
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(path)], capture_output=True, text=True, cwd=procs.ROOT
    )
    assert done.returncode == 2
    assert "forward_params" in done.stderr + done.stdout
