"""The gated blend and the Platt map: strictly monotone scores, gating, round trips."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from routers.blend import BENCHMARK, OPEN, GatedBlend, Platt, Term
from routers.registry import ARTIFACTS_DIR

BLEND = GatedBlend(
    gate="m.domain",
    terms=(Term("m.outcome", BENCHMARK, 2.0), Term("m.everyday", OPEN, 1.5)),
    gate_weight=-0.5,
    bias=0.1,
    platt=Platt(3.0, -0.2),
)


def test_platt_is_strictly_increasing_and_invertible() -> None:
    platt = Platt(4.4, -0.3)
    logits = [x / 10 for x in range(-50, 51)]  # beyond |a * z| ~ 37 a float64 sigmoid saturates
    scores = [platt(z) for z in logits]
    assert all(b > a for a, b in itertools.pairwise(scores))
    assert scores[0] < 0.01 and scores[-1] > 0.99
    for z in (-2.0, 0.0, 0.7):
        assert platt.inverse(platt(z)) == pytest.approx(z)


@pytest.mark.parametrize("a", [0.0, -1.0, float("nan"), float("inf")])
def test_platt_rejects_non_increasing_maps(a: float) -> None:
    with pytest.raises(ValueError):
        Platt(a, 0.0)


def test_gate_chooses_the_heads_of_the_domain() -> None:
    bench = {"m.domain": 30.0, "m.outcome": 1.0, "m.everyday": 5.0}
    open_ = {"m.domain": -30.0, "m.outcome": 1.0, "m.everyday": 5.0}
    assert BLEND.logit(bench) == pytest.approx(0.1 - 0.5 + 2.0 * 1.0, abs=1e-6)
    assert BLEND.logit(open_) == pytest.approx(0.1 + 1.5 * 5.0, abs=1e-6)
    assert BLEND.score(open_) == pytest.approx(BLEND.platt(BLEND.logit(open_)))
    assert BLEND.heads == ("m.domain", "m.outcome", "m.everyday")


def test_blend_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "blend.json"
    BLEND.dump(path, {"members": []})
    assert GatedBlend.load(path) == BLEND
    assert json.loads(path.read_text())["members"] == []
    with pytest.raises(ValueError):
        Term("x", "elsewhere", 1.0)


@pytest.mark.parametrize("name", ["ngram", "static", "ensemble", "embedding"])
def test_shipped_blends_are_calibrated_by_an_increasing_map(name: str) -> None:
    blend = GatedBlend.load(ARTIFACTS_DIR / name / "blend.json")
    assert blend.platt.a > 0.0
    card = json.loads((ARTIFACTS_DIR / name / "card.json").read_text())
    assert card["params"]["platt"] == {"a": blend.platt.a, "b": blend.platt.b}


@pytest.mark.model
def test_scores_are_strictly_monotone_in_the_blend_logit() -> None:
    from routers.ensemble import EnsembleRouter

    router = EnsembleRouter.from_artifacts(ARTIFACTS_DIR / "ensemble")
    texts = [f"Question {i}: " + "explain why " * (i % 7) + "the sky is blue" * (i % 3) for i in range(40)]
    logits = router.logits(texts)
    scores = router.score_texts(texts)
    pairs = sorted(zip(logits, scores, strict=True))
    assert all(s2 > s1 for (z1, s1), (z2, s2) in itertools.pairwise(pairs) if z2 > z1 + 1e-9)
