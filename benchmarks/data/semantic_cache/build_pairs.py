"""Build ``pairs.jsonl``, the semantic cache's evaluation set, from the hand-written sources.

Sources (all in this folder, written by hand; see ``CARD.md``):

- ``groups.jsonl``: questions with four wordings that deserve the same answer;
- ``families.json``: question templates (four wordings) filled with slot values; two values
  differing in one slot are a hard negative of that slot's kind (``number``, ``units``,
  ``entity``), two values in swapped order are an ``entity`` negative;
- ``negatives.jsonl``: hand-written hard negatives (negation, language, antonym, code,
  quote, topic, entity, number, units).

Positives are every pair of wordings within a group (and within one family value); a
seeded sample of unrelated questions gives ``unrelated`` negatives. Deterministic:

    .venv/bin/python benchmarks/data/semantic_cache/build_pairs.py
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def family_rows(family: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    variants: list[str] = family["variants"]
    values: list[list[str]] = family["values"]
    rows = []
    for value in values:
        texts = [v.format(*value) for v in variants]
        for a, b in itertools.combinations(texts, 2):
            rows.append({"a": a, "b": b, "same": True, "kind": "paraphrase", "source": family["family"]})
    for first, second in itertools.combinations(values, 2):
        differing = [i for i, (x, y) in enumerate(zip(first, second, strict=True)) if x != y]
        if len(differing) == 1:
            kind = family["kinds"][differing[0]]
        elif len(first) == 2 and first == second[::-1]:
            kind = "entity"  # the same names in swapped order
        else:
            continue
        k = rng.randrange(len(variants))
        l_ = k if rng.random() < 0.5 else rng.randrange(len(variants))
        a, b = variants[k].format(*first), variants[l_].format(*second)
        rows.append({"a": a, "b": b, "same": False, "kind": kind, "source": family["family"]})
    return rows


def build() -> list[dict[str, Any]]:
    rng = random.Random(21)
    groups = [json.loads(line) for line in (HERE / "groups.jsonl").read_text().splitlines() if line.strip()]
    rows: list[dict[str, Any]] = []
    for group in groups:
        for a, b in itertools.combinations(group["texts"], 2):
            rows.append({"a": a, "b": b, "same": True, "kind": "paraphrase", "source": group["group"]})
    for family in json.loads((HERE / "families.json").read_text()):
        rows.extend(family_rows(family, rng))
    for line in (HERE / "negatives.jsonl").read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append({"a": item["a"], "b": item["b"], "same": False, "kind": item["kind"], "source": "hand"})
    anchors = [g["texts"][rng.randrange(4)] for g in groups]
    for _ in range(120):
        a, b = rng.sample(anchors, 2)
        rows.append({"a": a, "b": b, "same": False, "kind": "unrelated", "source": "sampled"})
    return rows


def main() -> None:
    rows = build()
    path = HERE / "pairs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    print(f"wrote {len(rows)} pairs to {path}: {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
