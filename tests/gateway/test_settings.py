"""Config validation: every invalid field gives a message that names it."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.settings import (
    DEMO_CONFIG,
    ConfigError,
    config_warnings,
    load_settings,
    parse_settings,
    resolve_master_key,
    resolve_secrets,
)
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


def test_every_schema_and_key_variable_problem_comes_in_one_error() -> None:
    config = demo()
    config["tiers"]["cheap"]["timeout_s"] = 0
    config["tiers"]["cheap"]["api_key_env"] = "TRIAGE_TEST_UNSET_A"
    config["tiers"]["frontier"]["api_key_env"] = "TRIAGE_TEST_UNSET_B"
    config["profiles"]["auto"]["frontier_tier"] = "nowhere"
    config["tiers"]["frontier"]["fallbacks"] = ["elsewhere"]
    config["auth"] = {"mode": "keys", "master_key_env": "TRIAGE_TEST_UNSET_MASTER"}
    with pytest.raises(ConfigError) as caught:
        parse_settings(config, "triage.yaml", environ={})
    assert str(caught.value).splitlines() == [
        "triage.yaml: invalid config (4 problems)",
        "  tiers.cheap.timeout_s: Input should be greater than 0",
        "  tiers.cheap.api_key_env: environment variable TRIAGE_TEST_UNSET_A is not set",
        "  tiers.frontier.api_key_env: environment variable TRIAGE_TEST_UNSET_B is not set",
        "  auth.master_key_env: environment variable TRIAGE_TEST_UNSET_MASTER is not set "
        "(auth.mode 'keys' needs a master key of at least 16 characters in it)",
    ]
    # cross-field checks run only once the fields themselves are valid; then they all come at once
    del config["tiers"]["cheap"]["timeout_s"]
    with pytest.raises(ConfigError) as caught:
        parse_settings(config, environ={})
    assert "profiles.auto.frontier_tier: no tier named 'nowhere'" in str(caught.value)
    assert "tiers.frontier.fallbacks: 'elsewhere' is not another tier" in str(caught.value)
    assert "(5 problems)" in str(caught.value)


def test_key_variables_are_checked_only_when_an_environment_is_given() -> None:
    config = demo()
    config["tiers"]["frontier"]["api_key_env"] = "TRIAGE_TEST_UNSET_KEY"
    assert parse_settings(config).tiers["frontier"].api_key_env == "TRIAGE_TEST_UNSET_KEY"
    settings = parse_settings(config, environ={"TRIAGE_TEST_UNSET_KEY": "sk-1"})
    assert resolve_secrets(settings, {"TRIAGE_TEST_UNSET_KEY": "sk-1"}) == {"frontier": "sk-1"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "environment variable TRIAGE_TEST_MASTER is not set"),
        ("", "environment variable TRIAGE_TEST_MASTER is not set"),
        ("short", "environment variable TRIAGE_TEST_MASTER holds 5 characters; the master key must have at least 16"),
    ],
)
def test_master_key_problems_say_what_is_wrong(value: str | None, message: str) -> None:
    config = demo()
    config["auth"] = {"mode": "keys", "master_key_env": "TRIAGE_TEST_MASTER"}
    environ = {} if value is None else {"TRIAGE_TEST_MASTER": value}
    with pytest.raises(ConfigError, match=rf"auth\.master_key_env: {message}"):
        parse_settings(config, environ=environ)
    with pytest.raises(ConfigError, match=rf"auth\.master_key_env: {message}"):
        resolve_master_key(parse_settings(config), environ)
    assert resolve_master_key(parse_settings(config), {"TRIAGE_TEST_MASTER": "m" * 16}) == "m" * 16


def test_resolve_secrets_lists_every_unset_variable() -> None:
    config = demo()
    config["tiers"]["cheap"]["api_key_env"] = "TRIAGE_TEST_UNSET_A"
    config["tiers"]["frontier"]["api_key_env"] = "TRIAGE_TEST_UNSET_B"
    with pytest.raises(ConfigError) as caught:
        resolve_secrets(parse_settings(config), {"TRIAGE_TEST_UNSET_A": ""})
    assert "tiers.cheap.api_key_env: environment variable TRIAGE_TEST_UNSET_A is not set" in str(caught.value)
    assert "tiers.frontier.api_key_env: environment variable TRIAGE_TEST_UNSET_B is not set" in str(caught.value)


@pytest.mark.parametrize(
    ("api_base", "message"),
    [
        ("http://vllm:80000/v1", "the port must be a number from 1 to 65535"),
        ("http://vllm:0/v1", "the port must be a number from 1 to 65535"),
        ("http://vllm:port/v1", "the port must be a number from 1 to 65535"),
        ("http:///v1", "must be an http:// or https:// URL with a host"),
        ("vllm:8000/v1", "must be an http:// or https:// URL with a host"),
        ("http://[::1/v1", "is not a valid URL"),
        ("http://vllm:8000/v1?key=x", "takes no query or fragment"),
    ],
)
def test_api_base_must_be_a_usable_url(api_base: str, message: str) -> None:
    config = demo()
    config["tiers"]["cheap"]["api_base"] = api_base
    with pytest.raises(ConfigError, match=rf"tiers\.cheap\.api_base: .*{re.escape(message)}"):
        parse_settings(config)


def test_openai_protocol_api_base_without_v1_is_a_warning() -> None:
    config = demo()
    assert config_warnings(parse_settings(config)) == []
    config["tiers"]["cheap"]["api_base"] = "http://vllm:8000"
    config["tiers"]["frontier"] = {"model": "anthropic/claude-x", "api_base": "https://proxy.example/anthropic"}
    config["tiers"]["litellm-openai"] = {
        "model": "openai/gpt-4o",
        "api_base": "https://gw.example/openai",
        "transport": "litellm",
    }
    warnings = config_warnings(parse_settings(config))
    assert len(warnings) == 2  # not the anthropic tier: it does not speak the OpenAI protocol
    assert warnings[0].startswith("tiers.cheap.api_base: 'http://vllm:8000' does not end in /v1")
    assert "http://vllm:8000/chat/completions" in warnings[0] and "'openai/...' model" in warnings[0]
    assert warnings[1].startswith("tiers.litellm-openai.api_base:")


def test_yaml_error_names_the_file_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("listen:\n  port: 8080\n    host: x\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    assert str(caught.value).startswith(f"{bad}:3:9: not valid YAML: mapping values are not allowed here")
    assert "<unicode string>" not in str(caught.value)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(ConfigError, match="the file is empty"):
        load_settings(empty)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(binary)
