"""``triage router ...``: train, evaluate and batch-score routers.

The main CLI mounts this module by calling ``add_arguments(parser)`` on its ``router``
sub-parser and ``run(args)`` to execute. Heavy libraries (scikit-learn, torch,
matplotlib) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from routers.registry import DEFAULT_ROUTER, ROUTERS, RouterOptions, build_router

TRAINABLE = ("ngram", "static", "embedding", "ensemble")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train``, ``eval`` and ``score`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="router_command", required=True)
    train = sub.add_parser("train", help="fit a router on labelled data and write its artifact folder")
    train.add_argument("--type", dest="router_type", choices=TRAINABLE, required=True)
    train.add_argument("--data", type=Path, required=True, help="training JSONL (prompt, strong_score, ...)")
    train.add_argument("--out", type=Path, required=True, help="artifact folder, e.g. routers/artifacts/ngram/")
    train.add_argument("--dev", type=Path, help="labelled JSONL whose metrics go into the card (never trained on)")
    train.add_argument("--seed", type=int, default=0)
    ev = sub.add_parser("eval", help="routing metrics on labelled data, overall and per source")
    ev.add_argument("--router", action="append", choices=sorted(ROUTERS), required=True, help="repeatable")
    ev.add_argument("--data", type=Path, required=True)
    ev.add_argument("--plot", type=Path, help="write a cost-quality curve PNG")
    ev.add_argument("--json", type=Path, help="also write the metrics as JSON")
    ev.add_argument("--artifacts", type=Path, help="artifact root (default: the packaged artifacts)")
    score = sub.add_parser("score", help="score prompts: {id, prompt|messages} lines in, {id, score} lines out")
    score.add_argument("--router", choices=sorted(ROUTERS), default=DEFAULT_ROUTER)
    score.add_argument("--in", dest="infile", type=Path, required=True)
    score.add_argument("--out", dest="outfile", type=Path, required=True)
    score.add_argument("--artifacts", type=Path, help="artifact root (default: the packaged artifacts)")


def run(args: argparse.Namespace) -> int:
    commands = {"train": _train, "eval": _eval, "score": _score}
    return commands[args.router_command](args)


def _options(args: argparse.Namespace) -> RouterOptions:
    artifacts = getattr(args, "artifacts", None)
    return RouterOptions(artifacts=artifacts) if artifacts else RouterOptions()


def _train(args: argparse.Namespace) -> int:
    from routers.training.train import TrainJob, train

    card = train(TrainJob(args.router_type, args.data, args.out, args.dev, args.seed))
    print(json.dumps({k: card[k] for k in ("router", "params", "git_sha")}, indent=1))
    if "dev" in card:
        _print_table(card["router"], card["dev"]["metrics"])
    return 0


def _eval(args: argparse.Namespace) -> int:
    from routers.evaluation import metrics_by_source, score_rows_sync
    from routers.training.data import read_jsonl

    rows = read_jsonl(args.data)
    results: dict[str, dict[str, Any]] = {}
    all_scores: dict[str, list[float]] = {}
    for name in dict.fromkeys(args.router):
        all_scores[name] = score_rows_sync(build_router(name, _options(args)), rows)
        results[name] = metrics_by_source(all_scores[name], rows)
        _print_table(name, results[name])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.plot:
        from routers.plots import cost_quality_plot

        cost_quality_plot(all_scores, rows, args.plot, title=args.data.name)
        print(f"wrote {args.plot}")
    return 0


def _print_table(name: str, metrics: dict[str, dict[str, float]]) -> None:
    print(f"\n{name}")
    print(f"  {'source':<10} {'n':>6} {'APGR':>7} {'CPT50':>7} {'CPT80':>7} {'95%q':>7}")
    for source, m in metrics.items():
        cells = " ".join(f"{m[k]:>7.4f}" for k in ("apgr", "cpt50", "cpt80", "share_for_95"))
        print(f"  {source:<10} {int(m['n']):>6} {cells}")


def _score(args: argparse.Namespace) -> int:
    from routers.evaluation import score_rows_sync
    from routers.training.data import read_jsonl

    rows = read_jsonl(args.infile)
    bad = [i for i, r in enumerate(rows) if "id" not in r or ("prompt" not in r and "messages" not in r)]
    if bad:
        print(f"line {bad[0] + 1}: each line needs 'id' and 'prompt' or 'messages'", file=sys.stderr)
        return 2
    scores = score_rows_sync(build_router(args.router, _options(args)), rows)
    with args.outfile.open("w", encoding="utf-8") as handle:
        for row, value in zip(rows, scores, strict=True):
            handle.write(json.dumps({"id": row["id"], "score": value}) + "\n")
    print(f"scored {len(rows)} prompts with {args.router} -> {args.outfile}")
    return 0
