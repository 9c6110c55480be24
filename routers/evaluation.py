"""Scoring labelled rows with a router and summarising the results.

Two kinds of labelled rows: outcome rows (``strong_score``/``weak_score``; APGR and CPT per
``source``, ``metrics_by_source``) and everyday rows (a binary ``label`` and ``p_hard`` per
prompt; ranking AUC and mean scores overall and per ``kind``, ``everyday_report``).
``labelled_rows``, ``everyday_file`` and ``prompt_rows`` read and check the CLI's input files;
a file that cannot be used raises ``DataFileError`` naming the file (and the line).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from routers.base import Conversation, Router, RouterScore
from routers.metrics import evaluate, roc_auc

BATCH = 64
Numbered = list[tuple[int, dict[str, Any]]]  # each row with its 1-based line number


class DataFileError(ValueError):
    """A data file the CLI cannot use: missing, unreadable, not JSONL, or a row lacking a field."""


def read_numbered(path: Path) -> Numbered:
    """The JSON object on each non-blank line of ``path``, with its line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a directory, not a JSONL file") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    rows: Numbered = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFileError(
                f"{path}, line {number}: not valid JSON ({exc.msg}, column {exc.colno}); "
                "expected one JSON object per line"
            ) from None
        if not isinstance(row, dict):
            raise DataFileError(f"{path}, line {number}: not a JSON object")
        rows.append((number, row))
    return rows


def checked(path: Path, rows: Numbered, problem: Callable[[dict[str, Any]], str | None]) -> list[dict[str, Any]]:
    """The rows, or ``DataFileError`` at the first one ``problem`` finds fault with."""
    for number, row in rows:
        if (fault := problem(row)) is not None:
            raise DataFileError(f"{path}, line {number}: {fault}")
    return [row for _, row in rows]


def _prompt_problem(row: dict[str, Any]) -> str | None:
    messages = row.get("messages")
    if messages is None:
        return None if "prompt" in row else "needs 'prompt' or 'messages'"
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return "'messages' must be a non-empty list of message objects"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def outcome_problem(row: dict[str, Any]) -> str | None:
    missing = [k for k in ("strong_score", "weak_score") if not _is_number(row.get(k))]
    if missing:
        return f"needs a number in {' and '.join(repr(k) for k in missing)} (an outcome row)"
    return _prompt_problem(row)


def everyday_problem(row: dict[str, Any]) -> str | None:
    if row.get("label") not in (0, 1) or isinstance(row.get("label"), bool):
        return "needs 'label' 0 or 1 (an everyday row)"
    return _prompt_problem(row)


def prompt_problem(row: dict[str, Any]) -> str | None:
    """A row to score: an ``id`` and a ``prompt`` or ``messages``."""
    return "needs 'id' and 'prompt' or 'messages'" if "id" not in row else _prompt_problem(row)


def labelled_rows(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The rows of an outcome file, or of an everyday file (then ``True``): the first row decides."""
    rows = read_numbered(path)
    if not rows:
        raise DataFileError(f"{path}: no rows")
    first = rows[0][1]
    everyday = "label" in first and "strong_score" not in first
    return checked(path, rows, everyday_problem if everyday else outcome_problem), everyday


def everyday_file(path: Path, split: str) -> list[dict[str, Any]]:
    """The rows of an everyday file in ``split``, every row checked."""
    return [r for r in checked(path, read_numbered(path), everyday_problem) if r.get("split") == split]


def prompt_rows(path: Path) -> list[dict[str, Any]]:
    return checked(path, read_numbered(path), prompt_problem)


def conversation(row: dict[str, Any]) -> Conversation:
    """A row's conversation: its ``messages``, or its ``prompt`` as one user turn."""
    if "messages" in row:
        messages: Conversation = row["messages"]
        return messages
    return [{"role": "user", "content": str(row["prompt"])}]


async def score_rows_full(router: Router, rows: Sequence[dict[str, Any]]) -> list[RouterScore]:
    scores: list[RouterScore] = []
    for start in range(0, len(rows), BATCH):
        scores += await router.score_batch([conversation(r) for r in rows[start : start + BATCH]])
    return scores


async def score_rows(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    return [s.value for s in await score_rows_full(router, rows)]


def score_rows_full_sync(router: Router, rows: Sequence[dict[str, Any]]) -> list[RouterScore]:
    """Every row's ``RouterScore`` (value and out-of-distribution flag); closes the router."""

    async def _run() -> list[RouterScore]:
        try:
            return await score_rows_full(router, rows)
        finally:
            await router.aclose()

    return asyncio.run(_run())


def score_rows_sync(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    return [s.value for s in score_rows_full_sync(router, rows)]


def metrics_by_source(scores: Sequence[float], rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``{"all": {...}, "<source>": {...}}`` with n, APGR, CPT(50%), CPT(80%), share for 95% quality."""
    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    out = {"all": evaluate(scores, strong, weak).as_dict()}
    for source in sorted({str(r.get("source", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("source", "")) == source]
        out[source] = evaluate([scores[i] for i in idx], [strong[i] for i in idx], [weak[i] for i in idx]).as_dict()
    return out


def _summary(values: Sequence[float], labels: Sequence[int]) -> dict[str, float]:
    easy = [v for v, y in zip(values, labels, strict=True) if y == 0]
    hard = [v for v, y in zip(values, labels, strict=True) if y == 1]
    return {
        "n": len(values),
        "auc": roc_auc(values, labels),
        "mean_easy": sum(easy) / len(easy) if easy else float("nan"),
        "mean_hard": sum(hard) / len(hard) if hard else float("nan"),
    }


def everyday_report(scores: Sequence[RouterScore], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Ranking AUC (label vs score; NaN where one label is missing), mean score of easy and of hard
    prompts and the share flagged out of distribution, overall and per task ``kind``."""
    values = [s.value for s in scores]
    labels = [int(r["label"]) for r in rows]
    out: dict[str, Any] = _summary(values, labels)
    out["ood_share"] = ood_share(scores)
    kinds: dict[str, dict[str, float]] = {}
    for kind in sorted({str(r.get("kind", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("kind", "")) == kind]
        kinds[kind] = _summary([values[i] for i in idx], [labels[i] for i in idx])
    out["kinds"] = kinds
    return out


def ood_share(scores: Sequence[RouterScore]) -> float:
    return sum(s.ood for s in scores) / max(len(scores), 1)
