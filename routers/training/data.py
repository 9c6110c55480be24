"""Labelled routing data: loading the JSONL files and turning outcomes into training targets.

Two sources feed training (``load_training``):

- outcome rows (routing-train: ``strong_score``/``weak_score``; soft target from
  ``routers.training.fit.soft_target``);
- everyday rows (``routers/data/everyday/everyday.jsonl``, ``split == "train"`` only; soft
  target ``p_hard``). Held-out rows are never read for training.

Each row also gets a domain: 1 for closed benchmark questions (outcome rows from
``BENCHMARK_SOURCES``: MMLU multiple choice, GSM8K word problems), 0 for open-ended prompts
(MT-Bench and every everyday row). The domain head learns to tell them apart. Outcome rows
of any other source — a deployment's own outcomes (``triage outcomes export``: source
``triage``) — are domain 1 as well: where real outcomes exist, the outcome heads decide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routers.base import prompt_text
from routers.registry import EVERYDAY

BENCHMARK_SOURCES = ("mmlu", "gsm8k")
OPEN_SOURCES = ("mtbench",)  # outcome rows of open-ended prompts: the everyday heads score them

__all__ = ["EVERYDAY", "TrainingSet", "everyday_rows", "is_everyday", "load_training", "read_jsonl", "row_text"]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled prompt: the view the routers see, its source and the two outcomes."""

    id: str
    text: str
    source: str
    strong: float
    weak: float


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def row_text(row: dict[str, Any]) -> str:
    """The router view of a row with ``prompt`` (a single user turn) or ``messages``."""
    if "messages" in row:
        return prompt_text(row["messages"])
    return prompt_text([{"role": "user", "content": str(row["prompt"])}])


def load_examples(path: Path) -> list[Example]:
    return [
        Example(str(r.get("id", i)), row_text(r), str(r["source"]), float(r["strong_score"]), float(r["weak_score"]))
        for i, r in enumerate(read_jsonl(path))
    ]


def everyday_rows(path: Path, split: str) -> list[dict[str, Any]]:
    """The rows of an everyday file in ``split`` (``train`` or ``heldout``)."""
    return [r for r in read_jsonl(path) if r.get("split") == split]


def is_everyday(rows: list[dict[str, Any]]) -> bool:
    """Rows in the everyday schema (``label``/``p_hard``, no outcomes)."""
    return bool(rows) and all("label" in r and "strong_score" not in r for r in rows)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Outcome rows first, then everyday train rows, with everything the trainers need."""

    texts: list[str]
    target: NDArray[np.float64]  # soft label in [0, 1]
    everyday: NDArray[np.bool_]  # the row is an everyday train row
    domain: NDArray[np.float64]  # 1 = closed benchmark question, 0 = open-ended
    label: NDArray[np.int64]  # everyday binary label; -1 on outcome rows
    strong: NDArray[np.float64]  # outcome scores; NaN on everyday rows
    weak: NDArray[np.float64]
    weight: NDArray[np.float64]  # per outcome row: its file's weight (``--data-weight``); 1 on everyday rows


DataFiles = Path | tuple[tuple[Path, float], ...]


def data_files(data: DataFiles) -> tuple[tuple[Path, float], ...]:
    """One path, or (path, weight) pairs: e.g. a deployment's outcomes mixed with routing-train."""
    return ((data, 1.0),) if isinstance(data, Path) else data


def load_training(data: DataFiles, everyday: Path | None) -> TrainingSet:
    from routers.training.fit import soft_target

    rows: list[dict[str, Any]] = []
    weights: list[float] = []
    for path, weight in data_files(data):
        part = read_jsonl(path)
        rows += part
        weights += [weight] * len(part)
    extra = everyday_rows(everyday, "train") if everyday is not None else []
    p = soft_target([r["strong_score"] for r in rows], [r["weak_score"] for r in rows], [r["category"] for r in rows])
    n, m = len(rows), len(extra)
    nan = np.full(m, np.nan)
    return TrainingSet(
        texts=[row_text(r) for r in rows + extra],
        target=np.r_[p, [float(r["p_hard"]) for r in extra]],
        everyday=np.r_[np.zeros(n, dtype=bool), np.ones(m, dtype=bool)],
        domain=np.r_[[float(r["source"] not in OPEN_SOURCES) for r in rows], np.zeros(m)],
        label=np.r_[np.full(n, -1), [int(r["label"]) for r in extra]].astype(np.int64),
        strong=np.r_[[float(r["strong_score"]) for r in rows], nan],
        weak=np.r_[[float(r["weak_score"]) for r in rows], nan],
        weight=np.r_[weights, np.ones(m)],
    )
