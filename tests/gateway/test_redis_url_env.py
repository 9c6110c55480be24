"""``redis.url_env``: the Redis URL from an environment variable (a Kubernetes Secret), read once at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway.settings import DEMO_CONFIG, ConfigError, parse_settings


def _raw(**redis: object) -> dict[str, object]:
    raw = yaml.safe_load(DEMO_CONFIG.read_text())
    raw["redis"] = redis
    return dict(raw)


def test_the_url_comes_from_the_variable() -> None:
    url = "redis+sentinel://:s3cret@sentinel-a:26379,sentinel-b:26379/mymaster/0"
    settings = parse_settings(_raw(url_env="TRIAGE_REDIS_URL"), environ={"TRIAGE_REDIS_URL": url})
    assert settings.redis.url == url and settings.redis.url_env == "TRIAGE_REDIS_URL"


def test_an_unset_variable_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"redis\.url_env: environment variable TRIAGE_REDIS_URL is not set"):
        parse_settings(_raw(url_env="TRIAGE_REDIS_URL"), environ={})


def test_a_malformed_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_raw(url_env="TRIAGE_REDIS_URL"), environ={"TRIAGE_REDIS_URL": "http://:hunter2@x:1"})
    assert "does not hold a Redis URL" in str(caught.value) and "hunter2" not in str(caught.value)


def test_url_and_url_env_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="set one of them, not both"):
        parse_settings(_raw(url="redis://localhost:6379/0", url_env="TRIAGE_REDIS_URL"), environ={})


def test_check_config_reads_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump(_raw(url_env="TRIAGE_TEST_REDIS_URL")))
    command = [sys.executable, "-m", "gateway", "check-config", str(path)]
    missing = subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert missing.returncode == 2 and "TRIAGE_TEST_REDIS_URL is not set" in missing.stderr
    env = {"PATH": "/usr/bin:/bin", "TRIAGE_TEST_REDIS_URL": "redis://127.0.0.1:6379/0"}
    ok = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert ok.returncode == 0, ok.stderr
