"""The gateway config inside each rendered ConfigMap (prod: Secret) passes ``triage check-config``, run for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gateway.cli import build_parser
from gateway.local.processes import ROOT
from tests.deploy.conftest import K8S, KUSTOMIZATIONS, gateway_container, kustomize, mounted_config


def _config_file(path: str, directory: Path) -> Path:
    """The config file the gateway container's ``--config`` names, from its ConfigMap (prod: Secret)."""
    manifests = kustomize(K8S / path)
    args = build_parser().parse_args(gateway_container(manifests)["args"])
    holder, text = mounted_config(manifests, args.config)
    assert holder["metadata"]["name"].startswith("triage-config-"), "generated, with a content hash"
    file = directory / "triage.yaml"
    file.write_text(text)
    return file


def _check_config(file: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway", "check-config", str(file)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def _key_variables(file: Path) -> set[str]:
    tiers = yaml.safe_load(file.read_text())["tiers"]
    return {tier["api_key_env"] for tier in tiers.values() if tier.get("api_key_env")}


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_configmap_config_passes_check_config(path: str, tmp_path: Path) -> None:
    file = _config_file(path, tmp_path)
    keys = _key_variables(file)
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **{name: "sk-dummy-for-check" for name in keys}}
    done = _check_config(file, env)
    assert done.returncode == 0, done.stderr
    assert f"{file}: ok" in done.stdout


def test_check_config_names_a_missing_provider_key(tmp_path: Path) -> None:
    file = _config_file("overlays/prod", tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in _key_variables(file)}
    done = _check_config(file, env)
    assert done.returncode == 2
    assert "api_key_env: environment variable" in done.stderr
