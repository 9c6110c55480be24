"""``triage router eval --ladder``: cost per 1k requests and quality of a ladder, measured, never interpolated."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from routers.calibration import Calibration
from routers.cli import add_arguments, run
from routers.evaluation import DataFileError
from routers.ladder_eval import ladder_report, parse_ladder
from routers.registry import ROUTING_DEV

LADDER = "small:0.55:0.10:0.40,mid:0.30:0.60:2.40,frontier:0.15:2.50:10.00"


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


@pytest.mark.parametrize(
    "text",
    ["small:0.5:0.1:0.4", "small:0.5:0.1,frontier:0.5:2:10", "a:0.5:0.1:0.4,b:0.6:1:1", "a:x:0.1:0.4,b:1:1:1"],
)
def test_a_malformed_ladder_is_refused(text: str) -> None:
    with pytest.raises(DataFileError, match="--ladder"):
        parse_ladder(text)


def rows(n: int, with_scores: bool) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _ in range(n):
        row: dict[str, object] = {"prompt": "x" * 400, "weak_score": 0.0, "strong_score": 1.0}
        if with_scores:
            row["scores"] = {"small": 0.2, "mid": 0.6, "frontier": 1.0}
        out.append(row)
    return out


def test_a_ladder_with_every_rungs_quality_measured_is_evaluated_as_it_is() -> None:
    scores = [(i + 0.5) / 100 for i in range(100)]  # uniform: 55 / 30 / 15 prompts
    report = ladder_report(scores, rows(100, True), parse_ladder(LADDER), Calibration.uniform(), output_tokens=100)
    (row,) = report["evaluated"]
    assert row["shares"] == pytest.approx([0.55, 0.30, 0.15])
    assert row["quality"] == pytest.approx(0.55 * 0.2 + 0.30 * 0.6 + 0.15 * 1.0)
    per_request = {"small": 100 * 0.1 + 100 * 0.4, "mid": 100 * 0.6 + 100 * 2.4, "frontier": 100 * 2.5 + 100 * 10}
    expected = 1000 * (0.55 * per_request["small"] + 0.30 * per_request["mid"] + 0.15 * per_request["frontier"]) / 1e6
    assert row["cost_per_1k_usd"] == pytest.approx(expected)
    assert "note" not in report


def test_two_model_data_says_so_and_evaluates_the_two_rung_ladders_that_bracket_the_ladder() -> None:
    scores = [(i + 0.5) / 100 for i in range(100)]
    report = ladder_report(scores, rows(100, False), parse_ladder(LADDER), Calibration.uniform())
    assert "two models only" in report["note"] and "mid was never measured and is not interpolated" in report["note"]
    upper, lower = report["evaluated"]
    assert upper["ladder"] == "small 0.55 | frontier 0.45" and upper["shares"] == pytest.approx([0.55, 0.45])
    assert lower["ladder"] == "small 0.85 | frontier 0.15" and lower["shares"] == pytest.approx([0.85, 0.15])
    assert upper["quality"] == pytest.approx(0.45) and upper["pgr"] == pytest.approx(0.45)
    assert lower["cost_per_1k_usd"] < upper["cost_per_1k_usd"]


def test_router_eval_prints_the_ladder_view_on_routing_dev(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "metrics.json"
    argv = ["eval", "--router", "ngram", "--data", str(ROUTING_DEV), "--no-everyday", "--ladder", LADDER]
    assert _run(*argv, "--json", str(out)) == 0
    printed = capsys.readouterr().out
    assert "two models only (mistralai/Mixtral-8x7B-Instruct-v0.1 and gpt-4-1106-preview)" in printed
    report = json.loads(out.read_text())["ngram"]["ladder"]
    assert report["n"] == 2300
    for row in report["evaluated"]:
        wanted = [float(part.split()[1]) for part in row["ladder"].split(" | ")]
        assert row["shares"] == pytest.approx(wanted, abs=0.03)  # the calibrated bands hold on held-out prompts
        assert report["all_bottom"]["quality"] < row["quality"] < report["all_top"]["quality"]
        assert report["all_bottom"]["cost_per_1k_usd"] < row["cost_per_1k_usd"] < report["all_top"]["cost_per_1k_usd"]


def test_a_ladder_needs_outcome_rows(capsys: pytest.CaptureFixture[str]) -> None:
    from routers.registry import EVERYDAY

    assert _run("eval", "--router", "heuristic", "--data", str(EVERYDAY), "--ladder", LADDER) == 2
    assert "--ladder needs outcome rows" in capsys.readouterr().err
