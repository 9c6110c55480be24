"""The out-of-distribution flag: the ``RouterScore`` field, the detector, and the default router."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routers.base import RouterScore
from routers.ood import OodDetector, load_detector
from routers.registry import ARTIFACTS_DIR, DEFAULT_ROUTER, build_router

TYPICAL = [
    "What is the capital of France?",
    "Can you help me write a polite email asking my landlord to fix the heating?",
    "How do I reverse a list in Python?",
    "Explain the difference between a virus and a bacterium.",
    "Which of the following is a noble gas?\nA. Oxygen\nB. Neon\nC. Nitrogen\nD. Carbon\nAnswer:",
    "A train travels 60 miles in 1.5 hours. What is its average speed?",
    "Summarise the plot of Pride and Prejudice in three sentences.",
    "Quelle est la meilleure façon d'apprendre le piano ?",
]
FAR_OFF = [
    "asdkjh qwpoe zxmcnv lkjqwe poiuzxc",
    "qwertyuiop asdfghjkl zxcvbnm",
    "ᚠᚢᚦᚨᚱᚲ ᚷᚹᚺᚾᛁᛃ",
    "",
]


def test_router_score_is_backwards_compatible() -> None:
    old_style = RouterScore(0.4, "ngram", 0.001)
    assert old_style.ood is False
    assert RouterScore(0.4, "ngram", 0.001, True).ood is True
    assert RouterScore(value=0.4, router="x", latency_s=0.0, ood=True).ood
    with pytest.raises(AttributeError):
        old_style.ood = True  # type: ignore[misc]


def test_detector_thresholds_and_round_trip(tmp_path: Path) -> None:
    centroids = np.eye(4, dtype=np.float16)[:2]
    detector = OodDetector(centroids, np.zeros(4, dtype=np.float32), threshold=0.5, piece_threshold=0.6)
    x = np.asarray([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0.8, 0.6, 0, 0]], dtype=np.float32)
    assert detector.flags(x, np.asarray([0.1, 0.1, 0.1, 0.9], dtype=np.float32)) == [False, True, True, True]
    detector.dump(tmp_path / "ood.npz")
    loaded = load_detector(tmp_path)
    assert loaded is not None and loaded.threshold == 0.5 and loaded.piece_threshold == 0.6
    assert load_detector(tmp_path / "missing") is None


def test_shipped_detector_is_small() -> None:
    path = ARTIFACTS_DIR / "static" / "ood.npz"
    assert path.stat().st_size < 300_000
    detector = OodDetector.load(path)
    assert detector.centroids.dtype == np.float16 and 100 <= len(detector.centroids) <= 500


@pytest.mark.model
async def test_default_router_flags_far_off_text_only() -> None:
    router = build_router(DEFAULT_ROUTER)
    try:
        typical = await router.score_batch([[{"role": "user", "content": t}] for t in TYPICAL])
        far = await router.score_batch([[{"role": "user", "content": t}] for t in FAR_OFF])
    finally:
        await router.aclose()
    assert [s.ood for s in typical] == [False] * len(TYPICAL)
    assert [s.ood for s in far] == [True] * len(FAR_OFF)
