"""Router quality on routing-dev: every registered router, RouteLLM metrics and the cost-quality plot.

Uses the routers package's own evaluation (``routers.evaluation``, ``routers.metrics``,
``routers.plots``), as ``triage router eval`` does, for every name in
``routers.registry.ROUTERS``. Writes ``benchmarks/results/quality.json`` and ``quality.png``.

    .venv/bin/python benchmarks/router_quality.py [--routers heuristic,ensemble] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from common import RESULTS, write_result  # type: ignore[import-not-found]

from routers.evaluation import metrics_by_source, score_rows_sync
from routers.plots import cost_quality_plot
from routers.registry import ROUTERS, ROUTING_DEV, build_router

DEV = ROUTING_DEV


def read_rows(path: Path, limit: int | None) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return rows[:limit] if limit else rows


def evaluate(names: list[str], rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    results: dict[str, Any] = {}
    scores: dict[str, list[float]] = {}
    for name in names:
        started = time.perf_counter()
        scores[name] = score_rows_sync(build_router(name), rows)
        elapsed = time.perf_counter() - started
        results[name] = {
            "metrics": metrics_by_source(scores[name], rows),
            "score_seconds": elapsed,
            "ms_per_prompt": 1000 * elapsed / len(rows),
        }
        m = results[name]["metrics"]["all"]
        print(
            f"{name:10s} APGR {m['apgr']:.3f} CPT50 {m['cpt50']:.3f} CPT80 {m['cpt80']:.3f} "
            f"95%q share {m['share_for_95']:.3f}  ({elapsed:.1f} s, batched)",
            flush=True,
        )
    return results, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routers", help="comma-separated names (default: every registered router)")
    parser.add_argument("--limit", type=int, help="only the first N rows of routing-dev")
    args = parser.parse_args()
    names = args.routers.split(",") if args.routers else list(ROUTERS)
    rows = read_rows(DEV, args.limit)
    results, scores = evaluate(names, rows)
    from routers import registry

    strong = sum(float(r["strong_score"]) for r in rows) / len(rows)
    weak = sum(float(r["weak_score"]) for r in rows) / len(rows)
    config = {
        "data": DEV.name,
        "rows": len(rows),
        "routers": names,
        "batch": "routers.evaluation.BATCH",
        "default_router": getattr(registry, "DEFAULT_ROUTER", None),
    }
    summary = {"quality_all_frontier": strong, "quality_all_cheap": weak, "routers": results}
    path = write_result("quality", config, summary)
    cost_quality_plot(scores, rows, RESULTS / "quality.png", title=f"routing-dev ({len(rows)} prompts)")
    print(f"wrote {path} and {RESULTS / 'quality.png'}")


if __name__ == "__main__":
    main()
