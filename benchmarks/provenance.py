"""Which commit a benchmark ran on, and whether the tree was clean: one commit for a whole ``make bench``.

``run_all.sh`` calls ``provenance.py check`` once before anything runs: it refuses (exit 1) when the
working tree has changes outside the benchmark outputs, unless ``BENCH_ALLOW_DIRTY=1``, and prints
``BENCH_COMMIT=<sha> BENCH_DIRTY=<0|1>`` for the shell to export. Every result file then records that
commit and flag (``common.write_result``), even though the run itself rewrites ``benchmarks/results/``.
A script run alone computes both itself. ``report.py`` checks that all result files name one commit.

    .venv/bin/python benchmarks/provenance.py check
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# what a benchmark run writes itself: changes there do not make the measured code differ
OUTPUTS = ("benchmarks/results/", "benchmarks/README.md")
# result files other tools write (the fuzz test, router training): not part of `make bench`
NOT_FROM_BENCH = frozenset({"fuzz", "router_dev_metrics"})


def changed_paths(porcelain: str) -> list[str]:
    """Paths of ``git status --porcelain`` lines outside the benchmark outputs (a rename counts both sides)."""
    paths: list[str] = []
    for line in porcelain.splitlines():
        if len(line) < 4:
            continue
        for path in line[3:].split(" -> "):
            path = path.strip().strip('"')
            if path and not path.startswith(OUTPUTS):
                paths.append(path)
    return paths


def _git(*argv: str) -> str:
    return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def current() -> tuple[str, bool]:
    """(commit, dirty): from ``BENCH_COMMIT``/``BENCH_DIRTY`` when ``run_all.sh`` set them, else from git."""
    if commit := os.environ.get("BENCH_COMMIT"):
        return commit, os.environ.get("BENCH_DIRTY", "0") == "1"
    try:
        return _git("rev-parse", "HEAD").strip(), bool(changed_paths(_git("status", "--porcelain")))
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True


def check(allow_dirty: bool) -> tuple[int, str]:
    """(exit code, message) for ``run_all.sh``: the export line, or the refusal naming what changed."""
    commit = _git("rev-parse", "HEAD").strip()
    changed = changed_paths(_git("status", "--porcelain"))
    if changed and not allow_dirty:
        listing = "\n  ".join(changed[:20]) + ("\n  ..." if len(changed) > 20 else "")
        return 1, (
            f"refusing to benchmark a dirty tree ({len(changed)} changed path(s)):\n  {listing}\n"
            'commit first, or set BENCH_ALLOW_DIRTY=1 (every result then records "dirty": true)'
        )
    return 0, f"BENCH_COMMIT={commit} BENCH_DIRTY={int(bool(changed))}"


def consistency(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The commit most result files name, the files naming another (or none), and those marked dirty."""
    shas = {name: str(doc.get("git_sha", "unknown")).removesuffix("-dirty") for name, doc in documents.items()}
    counts = Counter(shas.values())
    commit = counts.most_common(1)[0][0] if counts else None
    return {
        "commit": commit,
        "files": sorted(shas),
        "odd": {name: sha for name, sha in sorted(shas.items()) if sha != commit},
        "dirty": sorted(
            n for n, d in documents.items() if d.get("dirty") or str(d.get("git_sha", "")).endswith("-dirty")
        ),
    }


def result_documents(results: Path) -> dict[str, dict[str, Any]]:
    """Every results JSON `make bench` writes, by name (stem)."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(results.glob("*.json")):
        if path.stem in NOT_FROM_BENCH:
            continue
        doc = json.loads(path.read_text())
        if isinstance(doc, dict):
            out[path.stem] = doc
    return out


def main() -> None:
    if sys.argv[1:] != ["check"]:
        sys.exit(__doc__)
    code, message = check(os.environ.get("BENCH_ALLOW_DIRTY") == "1")
    print(message, file=sys.stderr if code else sys.stdout)
    sys.exit(code)


if __name__ == "__main__":
    main()
