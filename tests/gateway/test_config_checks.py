"""The checks behind load_settings: key variables on the raw file, URL shapes, YAML positions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gateway.config_checks import api_base_warning, env_problems, http_url, yaml_problem


def test_env_problems_read_the_raw_file_even_when_it_is_malformed() -> None:
    raw = {
        "tiers": {
            "cheap": {"api_key_env": "A", "timeout_s": "not a number"},
            "frontier": "not a mapping",
            "spare": {"api_key_env": 42},  # the schema reports the type; no env problem on top
            "set": {"api_key_env": "B"},
        },
        "auth": {"mode": "keys", "master_key_env": "M"},
    }
    assert env_problems(raw, {"B": "sk"}) == [
        "tiers.cheap.api_key_env: environment variable A is not set",
        "auth.master_key_env: environment variable M is not set "
        "(auth.mode 'keys' needs a master key of at least 16 characters in it)",
    ]
    assert env_problems({"tiers": ["x"], "auth": {"mode": "none", "master_key_env": "M"}}, {}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://h/v1/", "http://h/v1"),
        ("https://h:1", "https://h:1"),
        ("http://10.0.0.1:65535/openai/v1", "http://10.0.0.1:65535/openai/v1"),
        ("https://[::1]:8000/v1/", "https://[::1]:8000/v1"),
    ],
)
def test_http_url_accepts_valid_urls(value: str, expected: str) -> None:
    assert http_url(value) == expected


@pytest.mark.parametrize("value", ["http://h:65536", "http://h:-1", "ftp://h", "h:80", "http://h/#x"])
def test_http_url_refuses_the_rest(value: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        http_url(value)


def test_api_base_warning_only_without_v1() -> None:
    assert api_base_warning("tiers.x.api_base", "http://h:8000/v1") is None
    assert api_base_warning("tiers.x.api_base", "http://h:8000/openai/v1/") is None
    warning = api_base_warning("tiers.x.api_base", "http://h:8000/v1beta/openai")
    assert warning is not None and warning.startswith("tiers.x.api_base: 'http://h:8000/v1beta/openai'")


def test_yaml_problem_has_a_position_or_at_least_the_file() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load("a: [1\n")
    assert yaml_problem(Path("t.yaml"), caught.value).startswith("t.yaml:2:1: not valid YAML: expected ',' or ']'")
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load("a: \x00")
    problem = yaml_problem(Path("t.yaml"), caught.value)
    assert problem.startswith("t.yaml") and "<unicode string>" not in problem
