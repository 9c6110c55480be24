"""The ``router`` CLI: ``score`` on unlabelled files, ``eval`` reproducing the cards."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from routers.artifact import load_card
from routers.cli import add_arguments, run
from routers.registry import ARTIFACTS_DIR, DEFAULT_ROUTER, ROUTING_DEV

DEV = ROUTING_DEV
# How closely `eval` must reproduce a card's metrics (absolute). With onnxruntime and tokenizers
# pinned (pyproject.toml), what is left is float rounding in CPU-specific kernels (float32 matmuls,
# onnxruntime's int8 encoder): on a machine other than the one that wrote the cards the worst
# difference measured was 2.0e-6 (`embedding`, dev MMLU APGR; static and ensemble <= 2e-7).
# 1e-5 leaves 5x margin and still fails on the 2.3e-3 APGR drift of issue #16 (0.6665 vs 0.6688)
# or on any change to an artifact or a metric. See "Reproducing the cards" in routers/README.md.
CARD_TOLERANCE = 1e-5


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return run(parser.parse_args(list(argv)))


def _unlabelled(tmp_path: Path) -> Path:
    infile = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "prompt": "What is the capital of France?"},
        {"id": 7, "messages": [{"role": "user", "content": "Prove Fermat's little theorem."}]},
        {"id": "c", "prompt": "Integrate x^2 sin(x) dx."},
    ]
    infile.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return infile


@pytest.mark.parametrize("router", ["heuristic", "ngram"])
def test_score_on_a_file_without_labels(tmp_path: Path, router: str) -> None:
    out = tmp_path / "out.jsonl"
    assert _run("score", "--router", router, "--in", str(_unlabelled(tmp_path)), "--out", str(out)) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["a", 7, "c"]
    assert all(set(r) == {"id", "score"} and 0.0 <= r["score"] <= 1.0 for r in lines)


@pytest.mark.model
def test_score_uses_the_default_router(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    assert _run("score", "--in", str(_unlabelled(tmp_path)), "--out", str(out)) == 0
    assert DEFAULT_ROUTER in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 3


def test_score_rejects_lines_without_prompt(tmp_path: Path) -> None:
    infile = tmp_path / "in.jsonl"
    infile.write_text(json.dumps({"id": "x", "text": "no prompt field"}) + "\n")
    assert _run("score", "--router", "heuristic", "--in", str(infile), "--out", str(tmp_path / "o.jsonl")) == 2


def test_unknown_router_is_rejected_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        _run("eval", "--router", "nope", "--data", "x.jsonl")


@pytest.mark.parametrize(
    "router",
    ["ngram", "heuristic", *(pytest.param(n, marks=pytest.mark.model) for n in ("static", "ensemble", "embedding"))],
)
def test_eval_reproduces_the_card(tmp_path: Path, router: str) -> None:
    metrics_file = tmp_path / "m.json"
    plot: Path | None = tmp_path / "curve.png"
    argv = ["eval", "--router", router, "--router", "random", "--data", str(DEV), "--json", str(metrics_file)]
    try:  # the plot needs matplotlib (the dev extra); the numbers must match without it too
        import matplotlib  # noqa: F401

        argv += ["--plot", str(plot)]
    except ImportError:
        plot = None
    assert _run(*argv) == 0
    assert plot is None or plot.stat().st_size > 10_000
    got = json.loads(metrics_file.read_text())[router]
    if router == "heuristic":  # its artifact predates the one-folder-per-router layout
        card = json.loads((ARTIFACTS_DIR / "heuristic.card.json").read_text())["dev"]["metrics"]
    else:
        card = load_card(ARTIFACTS_DIR / router)["dev"]["metrics"]
    for source in ("all", "mmlu", "gsm8k"):
        for key in ("apgr", "cpt50", "cpt80", "share_for_95"):
            assert got[source][key] == pytest.approx(card[source][key], abs=CARD_TOLERANCE), (source, key)


def _outcomes(path: Path, flip: bool) -> Path:
    """Outcome rows in routing-train's schema: proofs need the frontier, capitals do not (or the reverse)."""
    rows = []
    for i in range(60):
        proof = i % 2 == 0
        needs = proof != flip
        prompt = f"Prove the lemma about primes number {i}" if proof else f"What is the capital of country {i}?"
        rows.append(
            {
                "id": f"r{i}",
                "prompt": prompt,
                "source": "triage",
                "category": "auto",
                "strong_model": "s",
                "weak_model": "w",
                "strong_score": 1.0,
                "weak_score": 0.0 if needs else 1.0,
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_train_mixes_weighted_files_and_score_reads_an_artifact_folder(tmp_path: Path) -> None:
    """A deployment's outcomes (weight 3) mixed with contrary data (weight 0.2): the outcomes win."""
    ours, theirs = _outcomes(tmp_path / "ours.jsonl", False), _outcomes(tmp_path / "theirs.jsonl", True)
    out = tmp_path / "ours-ngram"
    assert (
        _run(
            "train",
            "--type",
            "ngram",
            "--data",
            str(ours),
            "--data",
            str(theirs),
            "--data-weight",
            "3",
            "--data-weight",
            "0.2",
            "--no-everyday",
            "--out",
            str(out),
        )
        == 0
    )
    card = load_card(out)
    assert [f["weight"] for f in card["training_data"]["files"]] == [3.0, 0.2]
    prompts = tmp_path / "in.jsonl"
    prompts.write_text(
        '{"id": "p", "prompt": "Prove the lemma about primes number 7"}\n'
        '{"id": "c", "prompt": "What is the capital of country 7?"}\n'
    )
    scored = tmp_path / "scores.jsonl"
    assert _run("score", "--router", "ngram", "--artifact", str(out), "--in", str(prompts), "--out", str(scored)) == 0
    scores = {row["id"]: row["score"] for row in map(json.loads, scored.read_text().splitlines())}
    assert scores["p"] > scores["c"]
    assert (
        _run(
            "train",
            "--type",
            "ngram",
            "--data",
            str(ours),
            "--data-weight",
            "0",
            "--no-everyday",
            "--out",
            str(tmp_path / "x"),
        )
        == 2
    )
    assert _run("eval", "--router", "ngram", "--router", "heuristic", "--artifact", str(out), "--data", str(ours)) == 2
