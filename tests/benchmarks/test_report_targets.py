"""The targets table: each target's measured value found in the results, and judged against its goal."""

from __future__ import annotations

from typing import Any

import report_targets  # type: ignore[import-not-found]


def _step(scenario: str, label: str, **values: float) -> dict[str, Any]:
    return {"scenario": scenario, "label": label, "rate": 200.0, "system": "triage", "rss_mb": 120.0, **values}


LOAD = {
    "results": {
        "steps": [
            _step("sweep", "triage default (ensemble)", overhead_p50_ms=0.9, overhead_p99_ms=3.5),
            _step("sweep", "triage cheap (pinned)", overhead_p50_ms=0.5, overhead_p99_ms=1.0, rss_mb=160.0),
            _step("stream", "triage cheap (pinned)", ttft_overhead_p50_ms=0.8),
        ],
        "capacity": {
            "triage cheap (pinned)": {"sustainable_rps_p99_10ms": 1600.0},
            "triage default (ensemble)": {"sustainable_rps_p99_10ms": 800.0},
        },
    }
}
SATURATION = {"results": {"ratio_default_vs_litellm": {"wrk": 12.5, "own": 9.0}}}


def test_each_target_is_judged_on_its_own_measurement() -> None:
    judged = {
        name: (value, test(value) if value is not None else None)
        for name, _, value, test, _ in report_targets.checks(LOAD, SATURATION)
    }
    assert judged["default profile overhead p50, 200 RPS"] == (0.9, True)
    assert judged["default profile overhead p99, 200 RPS"] == (3.5, False)
    assert judged["pinned tier overhead p50, 200 RPS"] == (0.5, True)
    assert judged["streaming TTFT overhead p50, pinned, 200 RPS"] == (0.8, True)
    assert judged["streaming TTFT overhead p50, default, 200 RPS"] == (None, None)  # not in these results
    assert judged["RSS per worker (max over the sweep)"] == (160.0, False)
    assert judged["sustainable RPS per core, pinned (p99 overhead < 10 ms, no errors)"] == (1600.0, True)
    assert judged["sustainable RPS per core, default profile"] == (800.0, False)
    ratio = "closed-loop saturation (wrk, 32 connections), default profile / LiteLLM, one core"
    assert judged[ratio] == (12.5, True)  # wrk's ratio, not our own generator's


def test_the_table_says_not_measured_rather_than_a_number() -> None:
    lines = report_targets.targets(None, None)
    assert any("not measured" in line and "| – |" in line for line in lines)
    assert len([line for line in lines if line.startswith("| ") and "saturation" in line]) == 1


def test_a_workers_document_of_another_shape_gets_a_generic_table() -> None:
    doc = {
        "results": {"rows": [{"name": "1 worker", "rps": 700.0, "memory": [1]}, {"name": "2 workers", "rps": 1000.5}]}
    }
    lines = report_targets.workers(doc)
    assert "| name | rps |" in lines
    assert "| 2 workers | 1000.50 |" in lines
