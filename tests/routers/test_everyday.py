"""Everyday prompts: the demo order, the everyday report, and frontier shares on unseen prompts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from routers.base import RouterScore
from routers.cli import add_arguments, run
from routers.evaluation import everyday_report
from routers.registry import ARTIFACTS_DIR, DEFAULT_ROUTER, EVERYDAY, ROUTING_DEV, build_router
from tests.routers.test_cli import CARD_TOLERANCE

DEV = ROUTING_DEV
EASY = [
    "What is the capital of France?",
    "Translate 'good morning' into Spanish",
    "Tell me a short joke about cats",
    "Summarise Romeo and Juliet in one sentence",
]
HARD = [
    "Prove that there are infinitely many primes.",
    "Implement a lock-free multi-producer multi-consumer queue in C++ and explain the memory ordering.",
    "Design a globally distributed rate limiter for an API gateway handling 1M requests per second.",
]


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


def test_everyday_report_shape() -> None:
    rows = [
        {"kind": "a", "label": 0},
        {"kind": "a", "label": 1},
        {"kind": "b", "label": 0},
    ]
    scores = [RouterScore(0.2, "x", 0.0), RouterScore(0.9, "x", 0.0, True), RouterScore(0.4, "x", 0.0)]
    report = everyday_report(scores, rows)
    assert report["auc"] == 1.0 and report["ood_share"] == pytest.approx(1 / 3)
    assert report["mean_easy"] == pytest.approx(0.3) and report["mean_hard"] == pytest.approx(0.9)
    assert report["kinds"]["a"]["auc"] == 1.0
    assert report["kinds"]["b"]["n"] == 1 and report["kinds"]["b"]["auc"] != report["kinds"]["b"]["auc"]  # NaN


@pytest.mark.model
async def test_demo_prompts_are_ordered() -> None:
    router = build_router(DEFAULT_ROUTER)
    try:
        easy = [(await router.score([{"role": "user", "content": p}])).value for p in EASY]
        hard = [(await router.score([{"role": "user", "content": p}])).value for p in HARD]
    finally:
        await router.aclose()
    assert max(easy) < 0.5 < min(hard), (easy, hard)
    assert min(hard) - max(easy) > 0.3


@pytest.mark.model
def test_eval_reports_the_everyday_heldout_set_and_reproduces_the_card(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    argv = ["eval", "--router", DEFAULT_ROUTER, "--data", str(DEV), "--json", str(out)]
    assert _run(*argv) == 0
    got = json.loads(out.read_text())[DEFAULT_ROUTER]
    card = json.loads((ARTIFACTS_DIR / DEFAULT_ROUTER / "card.json").read_text())["everyday"]["metrics"]
    everyday = got["everyday"]
    assert everyday["n"] == card["n"] == sum(1 for line in EVERYDAY.read_text().splitlines() if '"heldout"' in line)
    for key in ("auc", "mean_easy", "mean_hard", "ood_share"):
        assert everyday[key] == pytest.approx(card[key], abs=CARD_TOLERANCE), key
    assert set(everyday["kinds"]) == set(card["kinds"]) and len(everyday["kinds"]) == 24
    assert everyday["auc"] >= 0.85 and everyday["mean_hard"] - everyday["mean_easy"] >= 0.3
    assert 0.0 <= got["all"]["ood_share"] <= 0.05


@pytest.mark.model
def test_eval_detects_the_everyday_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.json"
    assert _run("eval", "--router", "ngram", "--data", str(EVERYDAY), "--json", str(out)) == 0
    got = json.loads(out.read_text())["ngram"]
    assert set(got) == {"everyday"} and "everyday held-out" in capsys.readouterr().out


@pytest.mark.model
def test_configured_shares_hold_on_unseen_prompts() -> None:
    """Thresholds come from out-of-fold training scores, so unseen prompts of the same kind
    (routing-dev) reach about the configured frontier share."""
    from routers.evaluation import score_rows_sync
    from routers.training.data import read_jsonl

    router = build_router(DEFAULT_ROUTER)
    scores = score_rows_sync(router, read_jsonl(DEV))
    for share in (0.1, 0.3, 0.5, 0.7, 0.9):
        threshold = router.calibration.threshold_for_share(share)
        assert sum(s >= threshold for s in scores) / len(scores) == pytest.approx(share, abs=0.06)
