"""``triage router eval --ladder``: what a ladder would cost and how good it would be, on labelled data.

A ladder is rungs cheapest first, each ``NAME:SHARE:INPUT_PRICE:OUTPUT_PRICE`` (USD per million
tokens), e.g. ``small:0.55:0.10:0.40,mid:0.30:0.60:2.40,frontier:0.15:2.50:10``. Each prompt goes
to the rung its score falls in, with the bands the gateway uses (the router's calibration:
``Calibration.band_thresholds``), and gets that rung's measured quality and price.

Quality must be measured, never made up. Rows whose ``scores`` object holds a quality for every
rung by name evaluate the ladder as it is. Outcome rows with only ``strong_score`` and
``weak_score`` (``routing-dev``: GPT-4 and Mixtral) measure two models: a ladder of more than two
rungs is then *not* evaluated (a middle rung's quality would have to be interpolated); the report
says so and evaluates the two two-rung ladders that bracket it, the bottom rung against the top
one: the bottom keeping its share (everything above it on the top rung), and the top keeping its
share (everything below it on the bottom rung).

Cost per 1,000 requests assumes each prompt's tokens are its UTF-8 bytes / 4 (the gateway's own
estimate) and ``output_tokens`` output tokens per request, at the rung's prices.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from routers.calibration import Calibration
from routers.evaluation import DataFileError

SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class RungSpec:
    name: str
    share: float
    input_per_mtok: float
    output_per_mtok: float

    def cost_usd(self, prompt_tokens: int, output_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


def parse_ladder(text: str) -> tuple[RungSpec, ...]:
    """``NAME:SHARE:IN:OUT,...`` cheapest first; shares add up to 1."""
    rungs: list[RungSpec] = []
    for part in text.split(","):
        fields = part.strip().split(":")
        try:
            if len(fields) != 4 or not fields[0]:
                raise ValueError
            rungs.append(RungSpec(fields[0], float(fields[1]), float(fields[2]), float(fields[3])))
        except ValueError:
            raise DataFileError(f"--ladder: {part.strip()!r} is not NAME:SHARE:INPUT_PRICE:OUTPUT_PRICE") from None
    if len(rungs) < 2 or abs(sum(r.share for r in rungs) - 1.0) > SHARE_TOLERANCE:
        raise DataFileError("--ladder: give at least two rungs, cheapest first, whose shares add up to 1")
    return tuple(rungs)


def _tokens(row: dict[str, Any]) -> int:
    text = row["prompt"] if "prompt" in row else " ".join(str(m.get("content", "")) for m in row["messages"])
    return max(len(str(text).encode()) // 4, 1)


def _evaluate(
    scores: Sequence[float],
    qualities: Sequence[Sequence[float]],  # per row, each rung's quality
    tokens: Sequence[int],
    ladder: tuple[RungSpec, ...],
    calibration: Calibration,
    output_tokens: int,
) -> dict[str, Any]:
    bounds = calibration.band_thresholds([r.share for r in ladder])
    counts = [0] * len(ladder)
    quality = cost = 0.0
    for score, row_quality, prompt in zip(scores, qualities, tokens, strict=True):
        rung = bisect.bisect_right(bounds, score)
        counts[rung] += 1
        quality += row_quality[rung]
        cost += ladder[rung].cost_usd(prompt, output_tokens)
    n = len(scores)
    return {
        "ladder": " | ".join(f"{r.name} {r.share:g}" for r in ladder),
        "shares": [c / n for c in counts],
        "cost_per_1k_usd": 1000 * cost / n,
        "quality": quality / n,
    }


def _bracket(ladder: tuple[RungSpec, ...]) -> list[tuple[RungSpec, RungSpec]]:
    bottom, top = ladder[0], ladder[-1]
    below_top = 1.0 - top.share
    return [
        (bottom, RungSpec(top.name, 1.0 - bottom.share, top.input_per_mtok, top.output_per_mtok)),
        (RungSpec(bottom.name, below_top, bottom.input_per_mtok, bottom.output_per_mtok), top),
    ]


def ladder_report(
    scores: Sequence[float],
    rows: Sequence[dict[str, Any]],
    ladder: tuple[RungSpec, ...],
    calibration: Calibration,
    output_tokens: int = 256,
) -> dict[str, Any]:
    """The ladder's measured shares, cost per 1k requests and quality, or its two-rung brackets (see above)."""
    tokens = [_tokens(r) for r in rows]
    names = [r.name for r in ladder]
    full = all(isinstance(r.get("scores"), dict) and all(n in r["scores"] for n in names) for r in rows)
    two = [(float(r["weak_score"]), float(r["strong_score"])) for r in rows] if not full else []
    weak_all = RungSpec(names[0], 1.0, ladder[0].input_per_mtok, ladder[0].output_per_mtok)
    strong_all = RungSpec(names[-1], 1.0, ladder[-1].input_per_mtok, ladder[-1].output_per_mtok)
    report: dict[str, Any] = {"n": len(rows), "output_tokens": output_tokens, "requested": _describe(ladder)}
    if full:
        qualities = [[float(r["scores"][n]) for n in names] for r in rows]
        report["evaluated"] = [_evaluate(scores, qualities, tokens, ladder, calibration, output_tokens)]
        low = [q[0] for q in qualities]
        high = [q[-1] for q in qualities]
    else:
        low, high = [w for w, _ in two], [s for _, s in two]
        ladders = [ladder] if len(ladder) == 2 else _bracket(ladder)
        report["evaluated"] = [_evaluate(scores, two, tokens, pair, calibration, output_tokens) for pair in ladders]
        if len(ladder) > 2:
            models = f"{rows[0].get('weak_model', 'weak_score')} and {rows[0].get('strong_model', 'strong_score')}"
            report["note"] = (
                f"the data has outcomes for two models only ({models}): the quality of "
                f"{', '.join(names[1:-1])} was never measured and is not interpolated; evaluated instead: "
                f"{names[0]} (weak) against {names[-1]} (strong) in the two two-rung ladders that bracket it"
            )
    report["all_bottom"] = {"cost_per_1k_usd": _all_cost(weak_all, tokens, output_tokens), "quality": _mean(low)}
    report["all_top"] = {"cost_per_1k_usd": _all_cost(strong_all, tokens, output_tokens), "quality": _mean(high)}
    gap = report["all_top"]["quality"] - report["all_bottom"]["quality"]
    for row in report["evaluated"]:
        row["pgr"] = (row["quality"] - report["all_bottom"]["quality"]) / gap if gap > 0 else float("nan")
    return report


def _describe(ladder: tuple[RungSpec, ...]) -> str:
    return " | ".join(f"{r.name} {r.share:g} (${r.input_per_mtok:g}/${r.output_per_mtok:g})" for r in ladder)


def _all_cost(rung: RungSpec, tokens: Sequence[int], output_tokens: int) -> float:
    return 1000 * sum(rung.cost_usd(t, output_tokens) for t in tokens) / len(tokens)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def print_ladder(name: str, report: dict[str, Any]) -> None:
    print(
        f"\n{name}: ladder {report['requested']} on {report['n']} prompts ({report['output_tokens']} output tokens each)"
    )
    if "note" in report:
        print(f"  note: {report['note']}")
    print(f"  {'ladder':<34} {'measured shares':<22} {'$ / 1k req':>10} {'quality':>8} {'PGR':>6}")
    for row in report["evaluated"]:
        shares = "/".join(f"{s:.3f}" for s in row["shares"])
        cells = f"{row['cost_per_1k_usd']:>10.4f} {row['quality']:>8.4f} {row['pgr']:>6.3f}"
        print(f"  {row['ladder']:<34} {shares:<22} {cells}")
    for label, key in (("all on the bottom rung", "all_bottom"), ("all on the top rung", "all_top")):
        ref = report[key]
        print(f"  {label:<34} {'':<22} {ref['cost_per_1k_usd']:>10.4f} {ref['quality']:>8.4f}")
