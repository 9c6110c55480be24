"""Labelled routing data: loading the JSONL files and turning outcomes into training targets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routers.base import prompt_text


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
