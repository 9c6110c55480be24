"""One commit per benchmark run: the dirty-tree check and the check that every result names one commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import provenance  # type: ignore[import-not-found]
import pytest

from tests.benchmarks.conftest import BENCHMARKS


def test_changed_paths_leave_out_the_benchmark_outputs() -> None:
    porcelain = "\n".join(
        [
            " M benchmarks/results/load.json",
            "?? benchmarks/results/saturation.json",
            " M benchmarks/README.md",
            " M gateway/app.py",
            "?? notes.txt",
            "R  benchmarks/old.py -> benchmarks/new.py",
            "R  benchmarks/results/a.json -> benchmarks/results/b.json",
        ]
    )
    assert provenance.changed_paths(porcelain) == [
        "gateway/app.py",
        "notes.txt",
        "benchmarks/old.py",
        "benchmarks/new.py",
    ]
    assert provenance.changed_paths("") == []


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository holding a copy of provenance.py, one commit."""
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    shutil.copy(BENCHMARKS / "provenance.py", tmp_path / "benchmarks" / "provenance.py")
    (tmp_path / "app.py").write_text("x = 1\n")
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"]):
        subprocess.run(["git", *argv], cwd=tmp_path, check=True)
    return tmp_path


def _check(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")} | env
    return subprocess.run(
        [sys.executable, str(repo / "benchmarks" / "provenance.py"), "check"],
        cwd="/",
        env=environment,
        capture_output=True,
        text=True,
    )


def test_a_clean_tree_passes_with_its_commit(repo: Path) -> None:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    (repo / "benchmarks" / "results" / "load.json").write_text("{}")  # an output of the last run
    done = _check(repo)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"BENCH_COMMIT={head}", "BENCH_DIRTY=0"]


def test_a_dirty_tree_is_refused_unless_allowed(repo: Path) -> None:
    (repo / "app.py").write_text("x = 2\n")
    refused = _check(repo)
    assert refused.returncode == 1
    assert "app.py" in refused.stderr and "BENCH_ALLOW_DIRTY=1" in refused.stderr
    allowed = _check(repo, BENCH_ALLOW_DIRTY="1")
    assert allowed.returncode == 0
    assert allowed.stdout.split()[1] == "BENCH_DIRTY=1"


def test_results_record_the_run_commit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_COMMIT", "abc123")
    monkeypatch.setenv("BENCH_DIRTY", "1")
    assert provenance.current() == ("abc123", True)
    monkeypatch.setenv("BENCH_DIRTY", "0")
    assert provenance.current() == ("abc123", False)


def test_consistency_names_the_commit_and_the_odd_ones_out(tmp_path: Path) -> None:
    for name, sha, dirty in (("load", "aaa", False), ("cache", "aaa", True), ("faults", "bbb-dirty", False)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"git_sha": sha, "dirty": dirty}))
    (tmp_path / "fuzz.json").write_text(json.dumps({"git_sha": "ccc"}))  # written by a test, not by make bench
    state = provenance.consistency(provenance.result_documents(tmp_path))
    assert state["commit"] == "aaa"
    assert state["files"] == ["cache", "faults", "load"]
    assert state["odd"] == {"faults": "bbb"}
    assert state["dirty"] == ["cache", "faults"]


def test_consistency_of_one_commit_has_no_odd_ones() -> None:
    state = provenance.consistency({"a": {"git_sha": "x"}, "b": {"git_sha": "x"}})
    assert (state["commit"], state["odd"], state["dirty"]) == ("x", {}, [])
