"""Config validation: every invalid field gives a message that names it."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import DEMO_CONFIG, ConfigError, load_settings, parse_settings, resolve_secrets
from gateway.wiring import validate_settings

ROOT = Path(__file__).resolve().parents[2]


def demo() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(DEMO_CONFIG.read_text()))


def test_demo_and_deploy_configs_load() -> None:
    settings = load_settings(ROOT / "deploy" / "config" / "demo.yaml")
    assert set(settings.tiers) >= {"cheap", "frontier"}
    assert settings.tiers["cheap"].resolved_transport == "relay"
    assert settings.redis.url is None
    example = load_settings(ROOT / "deploy" / "config" / "example.yaml")
    validate_settings(example, {"VLLM_API_KEY": "k1", "OPENAI_API_KEY": "k2", "TRIAGE_MASTER_KEY": "m" * 32})


def test_settings_are_frozen() -> None:
    settings = parse_settings(demo())
    with pytest.raises(ValueError, match="frozen"):
        settings.tiers["cheap"].timeout_s = 1  # type: ignore[misc]


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    node = config
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    node[last] = value


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("listen.port", 70000, "listen.port"),
        ("listen.colour", "blue", "listen.colour"),
        ("tiers.cheap.timeout_s", -1, "tiers.cheap.timeout_s"),
        ("tiers.cheap.api_base", "ftp://x", "tiers.cheap.api_base"),
        ("tiers.cheap.price", {"input_per_mtok": 1}, "tiers.cheap.price.output_per_mtok"),
        ("tiers.cheap.transport", "carrier-pigeon", "tiers.cheap.transport"),
        ("tiers.cheap.modle", "typo", "tiers.cheap.modle"),
        ("tiers.frontier.fallbacks", ["nowhere"], "tiers.frontier.fallbacks"),
        ("profiles.auto.frontier_share", 1.5, "profiles.auto.frontier_share"),
        ("profiles.auto.frontier_tier", "nowhere", "profiles.auto.frontier_tier"),
        ("redis.url", "http://localhost", "redis.url"),
        ("cache.ttl_s", "forever", "cache.ttl_s"),
        ("auth.mode", "maybe", "auth.mode"),
        ("unknown_section", {}, "unknown_section"),
    ],
)
def test_invalid_field_is_named(path: str, value: Any, named: str) -> None:
    config = demo()
    _set(config, path, value)
    with pytest.raises(ConfigError) as caught:
        parse_settings(config, "triage.yaml")
    assert named in str(caught.value)


def test_missing_required_tier_is_named() -> None:
    config = demo()
    del config["tiers"]["frontier"]
    with pytest.raises(ConfigError, match=r"frontier"):
        parse_settings(config)


def test_profile_may_not_shadow_a_tier() -> None:
    config = demo()
    config["profiles"]["cheap"] = {"router": "heuristic"}
    with pytest.raises(ConfigError, match=r"profiles\.cheap"):
        parse_settings(config)


def test_relay_needs_an_openai_protocol_upstream() -> None:
    config = demo()
    config["tiers"]["frontier"] = {"model": "anthropic/claude-sonnet-4-5", "transport": "relay"}
    with pytest.raises(ConfigError, match=r"tiers\.frontier"):
        parse_settings(config)


def test_unknown_router_is_named() -> None:
    config = demo()
    config["profiles"]["auto"]["router"] = "oracle"
    with pytest.raises(ConfigError, match=r"profiles\.auto\.router: unknown router 'oracle'"):
        validate_settings(parse_settings(config))


def test_unset_key_variable_is_named() -> None:
    config = demo()
    config["tiers"]["frontier"]["api_key_env"] = "TRIAGE_TEST_UNSET_KEY"
    with pytest.raises(ConfigError, match=r"tiers\.frontier\.api_key_env: environment variable TRIAGE_TEST_UNSET_KEY"):
        resolve_secrets(parse_settings(config), {})


def test_unpriced_unknown_model_is_named() -> None:
    config = demo()
    del config["tiers"]["cheap"]["price"]
    with pytest.raises(ConfigError, match=r"tiers\.cheap\.price"):
        validate_settings(parse_settings(config))


def test_price_comes_from_litellm_cost_map_when_not_set() -> None:
    config = demo()
    config["tiers"]["frontier"] = {"model": "openai/gpt-4o", "api_base": "https://api.openai.com/v1"}
    from gateway.request.cost import resolve_price

    price = resolve_price("frontier", parse_settings(config).tiers["frontier"])
    assert price.input_per_mtok == pytest.approx(2.5)
    assert price.output_per_mtok == pytest.approx(10.0)


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(scalar)


def _triage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=120)


def test_check_config_cli(tmp_path: Path) -> None:
    ok = _triage("check-config", str(DEMO_CONFIG))
    assert ok.returncode == 0, ok.stderr
    assert "ok" in ok.stdout and "profile auto" in ok.stdout
    config = demo()
    config["tiers"]["cheap"]["timeout_s"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    failed = _triage("check-config", str(bad))
    assert failed.returncode == 2
    assert "tiers.cheap.timeout_s" in failed.stderr


def test_serve_refuses_a_bad_config_before_binding(tmp_path: Path) -> None:
    config = demo()
    config["profiles"]["auto"]["router"] = "oracle"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    failed = _triage("serve", "--config", str(bad))
    assert failed.returncode == 2
    assert "profiles.auto.router" in failed.stderr


@pytest.mark.parametrize("command", ["serve", "simulate", "check-config", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = _triage(command, "--help")
    assert result.returncode == 0
    assert "usage: triage" in result.stdout


def test_capabilities_default_to_what_litellm_knows_about_the_model() -> None:
    from gateway.request.cost import resolve_capabilities
    from gateway.settings import Tier

    assert resolve_capabilities(Tier(model="openai/gpt-4o")) == {"tools", "images", "json_schema"}
    assert resolve_capabilities(Tier(model="openai/Qwen/Qwen2.5-7B-Instruct", api_base="http://vllm:8000/v1")) == {
        "tools"
    }
    assert resolve_capabilities(Tier(model="openai/x", capabilities=frozenset({"images"}))) == {"images"}
