"""``triage check-config``, run for real on temp files: every problem in one run, warnings on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = ("TRIAGE_TEST_CHEAP_KEY", "TRIAGE_TEST_FRONTIER_KEY", "TRIAGE_TEST_MASTER_KEY")


def config() -> dict[str, Any]:
    """Two relay tiers and one cheap router: the file servable once the key variables are set."""
    price = {"input_per_mtok": 1.0, "output_per_mtok": 2.0}
    return {
        "tiers": {
            "cheap": {"model": "openai/sim-cheap", "api_base": "http://127.0.0.1:9/v1", "price": price},
            "frontier": {"model": "openai/sim-frontier", "api_base": "http://127.0.0.1:9/v1", "price": price},
        },
        "profiles": {"auto": {"router": "heuristic"}},
    }


def check_config(tmp_path: Path, content: dict[str, Any] | str, **env: str) -> subprocess.CompletedProcess[str]:
    file = tmp_path / "triage.yaml"
    file.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    environ = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    environ.update(LITELLM_LOCAL_MODEL_COST_MAP="True", **env)
    command = [sys.executable, "-m", "gateway", "check-config", "--config", str(file)]
    return subprocess.run(command, capture_output=True, text=True, env=environ, cwd=ROOT, timeout=120)


def test_every_problem_is_listed_in_one_run(tmp_path: Path) -> None:
    bad = config()
    bad["tiers"]["cheap"].update(api_key_env="TRIAGE_TEST_CHEAP_KEY", api_base="http://vllm:80000/v1", timeout_s=0)
    bad["tiers"]["frontier"]["api_key_env"] = "TRIAGE_TEST_FRONTIER_KEY"
    bad["auth"] = {"mode": "keys", "master_key_env": "TRIAGE_TEST_MASTER_KEY"}
    bad["listen"] = {"colour": "blue"}
    done = check_config(tmp_path, bad)
    assert done.returncode == 2, done.stderr
    assert "invalid config (6 problems)" in done.stderr
    for expected in (
        "listen.colour: Extra inputs are not permitted",
        "tiers.cheap.api_base: 'http://vllm:80000/v1': the port must be a number from 1 to 65535",
        "tiers.cheap.timeout_s: Input should be greater than 0",
        "tiers.cheap.api_key_env: environment variable TRIAGE_TEST_CHEAP_KEY is not set",
        "tiers.frontier.api_key_env: environment variable TRIAGE_TEST_FRONTIER_KEY is not set",
        "auth.master_key_env: environment variable TRIAGE_TEST_MASTER_KEY is not set",
    ):
        assert f"\n  {expected}" in done.stderr, done.stderr
    assert done.stderr.count("triage: config error") == 1


def test_an_unset_master_key_is_named_as_unset(tmp_path: Path) -> None:
    keys = config()
    keys["auth"] = {"mode": "keys", "master_key_env": "TRIAGE_TEST_MASTER_KEY"}
    for env in ({}, {"TRIAGE_TEST_MASTER_KEY": ""}):
        done = check_config(tmp_path, keys, **env)
        assert done.returncode == 2
        assert "auth.master_key_env: environment variable TRIAGE_TEST_MASTER_KEY is not set" in done.stderr
    short = check_config(tmp_path, keys, TRIAGE_TEST_MASTER_KEY="short")
    assert short.returncode == 2
    assert "TRIAGE_TEST_MASTER_KEY holds 5 characters; the master key must have at least 16" in short.stderr


def test_an_api_base_port_out_of_range_is_an_error(tmp_path: Path) -> None:
    bad = config()
    bad["tiers"]["frontier"]["api_base"] = "https://api.example:80000/v1"
    done = check_config(tmp_path, bad)
    assert done.returncode == 2
    assert "tiers.frontier.api_base: 'https://api.example:80000/v1': the port must be a number from 1 to 65535" in (
        done.stderr
    )


def test_an_openai_api_base_without_v1_is_a_warning_not_an_error(tmp_path: Path) -> None:
    warned = config()
    warned["tiers"]["cheap"]["api_base"] = "http://127.0.0.1:9"
    done = check_config(tmp_path, warned)
    assert done.returncode == 0, done.stderr
    assert "ok (1 warning(s), on stderr)" in done.stdout
    assert "triage: config warning: tiers.cheap.api_base: 'http://127.0.0.1:9' does not end in /v1" in done.stderr
    assert "speaks the OpenAI protocol" in done.stderr


def test_a_yaml_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    done = check_config(tmp_path, "tiers:\n  cheap: {model: openai/x\n  frontier: {}\n")
    assert done.returncode == 2
    assert f"{tmp_path / 'triage.yaml'}:3:11: not valid YAML: " in done.stderr, done.stderr
    assert "flow mapping started at line 2, column 10" in done.stderr
    assert "<unicode string>" not in done.stderr


def test_the_file_is_named_once(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "gateway", "check-config"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "name the config file once, as FILE or --config FILE" in done.stderr
