"""The ``heuristic`` router: length, code, math and reasoning markers; no dependencies.

Each marker adds to a linear score that a logistic squashes into [0, 1]. The
weights are fitted on the training split (see ``_WEIGHTS``), few and readable on purpose: this router is the floor that learned
routers must beat, and a fallback that needs no artifact beyond its calibration.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from routers.artifact import SyncRouter
from routers.calibration import Calibration

_CODE = re.compile(r"```|\bdef |\bclass |\bfunction\b|\breturn\b|[{};]\s*$|#include|\bSELECT\b|=>", re.M)
_MATH = re.compile(
    r"\d+\s*[-+*/^=%]\s*\d+|\$\d|\d+%|\bsolve\b|\bequation\b|\bintegral\b|\bderivative\b|\bprobability\b", re.I
)
_WORD_PROBLEM = re.compile(r"\bhow (many|much|long|far|old)\b|\bwhat (percentage|fraction)\b|\btotal\b|\beach\b", re.I)
_REASONING = re.compile(
    r"\b(why|explain|prove|derive|analy[sz]e|compare|evaluate|justify|step[- ]by[- ]step|implications?)\b", re.I
)
_CREATIVE = re.compile(r"\b(write|compose|draft|story|poem|essay|email|blog)\b", re.I)
_CHOICES = re.compile(r"^\s*[A-D][.)]\s", re.M)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# Fitted on routing-train.jsonl by ``python -m routers.training.fit_heuristic`` (soft target of
# ``routers.training.fit``); only their ratios matter for ranking. Longer prompts need the
# frontier more; multiple-choice framing and the other markers mostly less, given length.
_BIAS = 0.4179
_WEIGHTS = {
    "log_chars": 0.1023,
    "code": -0.0788,
    "math": -0.0188,
    "word_problem": -0.0158,
    "numbers": -0.0036,
    "reasoning": -0.0677,
    "creative": 0.0287,
    "choices": -0.2235,
}


def features(text: str) -> dict[str, float]:
    """The named features of one prompt text (exposed for tests and training)."""
    return {
        "log_chars": math.log1p(len(text)) - 5.0,
        "code": float(min(len(_CODE.findall(text)), 3)),
        "math": float(min(len(_MATH.findall(text)), 3)),
        "word_problem": float(min(len(_WORD_PROBLEM.findall(text)), 2)),
        "numbers": float(min(len(_NUMBER.findall(text)), 12)),
        "reasoning": float(min(len(_REASONING.findall(text)), 3)),
        "creative": float(min(len(_CREATIVE.findall(text)), 2)),
        "choices": float(len(_CHOICES.findall(text)) >= 3),
    }


class HeuristicRouter(SyncRouter):
    """Scores a prompt from weighted surface markers (~tens of microseconds)."""

    def __init__(self, calibration: Calibration | None = None) -> None:
        super().__init__("heuristic", calibration)

    @classmethod
    def from_artifacts(cls, artifacts: Path) -> HeuristicRouter:
        path = artifacts / "heuristic.calibration.json"
        return cls(Calibration.load(path) if path.exists() else None)

    def logits(self, texts: Sequence[str]) -> list[float]:
        return [_BIAS + sum(_WEIGHTS[k] * v for k, v in features(text).items()) for text in texts]
