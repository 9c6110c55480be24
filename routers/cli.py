"""``triage router ...``: train, evaluate and batch-score routers.

The main CLI mounts this module by calling ``add_arguments(parser)`` on its ``router``
sub-parser and ``run(args)`` to execute. Heavy libraries (scikit-learn, torch,
matplotlib) are imported inside the commands that need them. A file that cannot be read or
written, a row lacking a field, or a missing router artifact is reported in one line on stderr
with exit status 2 (as ``triage check-config`` does), never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from routers.base import RouterUnavailable
from routers.evaluation import DataFileError
from routers.registry import DEFAULT_ROUTER, EVERYDAY, ROUTERS, RouterOptions, build_router

TRAINABLE = ("ngram", "static", "embedding", "ensemble")


class _OneLineParser(argparse.ArgumentParser):
    """A usage error (an unknown ``--router``, a missing option) is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train``, ``eval`` and ``score`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="router_command", required=True, parser_class=_OneLineParser)
    train = sub.add_parser("train", help="fit a router on labelled data and write its artifact folder")
    train.add_argument("--type", dest="router_type", choices=TRAINABLE, required=True)
    train.add_argument(
        "--data",
        type=Path,
        action="append",
        required=True,
        help="training JSONL (prompt, strong_score, ...); repeat to mix files, e.g. your outcomes and routing-train",
    )
    train.add_argument(
        "--data-weight",
        type=float,
        action="append",
        default=[],
        help="the weight of each --data file's rows, in order (default 1 each)",
    )
    train.add_argument("--out", type=Path, required=True, help="artifact folder, e.g. routers/artifacts/ngram/")
    train.add_argument("--dev", type=Path, help="labelled JSONL whose metrics go into the card (never trained on)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--everyday", type=Path, default=EVERYDAY, help="everyday prompts JSONL; only split == train rows are used"
    )
    train.add_argument("--no-everyday", action="store_true", help="train on the outcome data alone")
    train.add_argument(
        "--everyday-weight", type=float, default=None, help="weight of one everyday row in the blend fit (default 1)"
    )
    ev = sub.add_parser("eval", help="routing metrics on labelled data, overall and per source")
    ev.add_argument("--router", action="append", choices=sorted(ROUTERS), required=True, help="repeatable")
    ev.add_argument("--data", type=Path, required=True)
    ev.add_argument("--plot", type=Path, help="write a cost-quality curve PNG")
    ev.add_argument("--json", type=Path, help="also write the metrics as JSON")
    ev.add_argument("--artifacts", type=Path, help="artifact root (default: the packaged artifacts)")
    ev.add_argument(
        "--artifact", type=Path, help="one router's own folder (e.g. retrained on outcomes); needs a single --router"
    )
    ev.add_argument(
        "--everyday", type=Path, default=EVERYDAY, help="everyday prompts JSONL; its split == heldout rows are reported"
    )
    ev.add_argument("--no-everyday", action="store_true", help="skip the everyday held-out report")
    ev.add_argument("--calibration-plot", type=Path, help="write score histograms (everyday held-out) and Platt curve")
    ev.add_argument(
        "--ladder",
        help="also evaluate a ladder, cheapest first: NAME:SHARE:IN:OUT,... (USD per million tokens), e.g. "
        "small:0.55:0.1:0.4,mid:0.3:0.6:2.4,frontier:0.15:2.5:10 (cost per 1k requests and quality)",
    )
    ev.add_argument("--output-tokens", type=int, default=256, help="output tokens per request in --ladder's cost")
    score = sub.add_parser("score", help="score prompts: {id, prompt|messages} lines in, {id, score} lines out")
    score.add_argument("--router", choices=sorted(ROUTERS), default=DEFAULT_ROUTER)
    score.add_argument("--in", dest="infile", type=Path, required=True)
    score.add_argument("--out", dest="outfile", type=Path, required=True)
    score.add_argument("--artifacts", type=Path, help="artifact root (default: the packaged artifacts)")
    score.add_argument("--artifact", type=Path, help="the router's own folder (e.g. retrained on outcomes)")


def run(args: argparse.Namespace) -> int:
    commands = {"train": _train, "eval": _eval, "score": _score}
    try:
        return commands[args.router_command](args)
    except (DataFileError, RouterUnavailable) as exc:
        print(f"triage router {args.router_command}: {exc}", file=sys.stderr)
        return 2


def _options(args: argparse.Namespace) -> RouterOptions:
    """``--artifacts`` is a root holding ``<router>/`` folders; ``--artifact`` one router's own folder."""
    artifacts = getattr(args, "artifacts", None)
    folder = getattr(args, "artifact", None)
    for given in (artifacts, folder):
        if given is not None and not given.is_dir():
            raise DataFileError(f"{given}: no such artifact folder")
    return RouterOptions(artifacts=artifacts or RouterOptions().artifacts, folder=folder)


def _check_outputs(*paths: Path | None) -> None:
    """Fail before any scoring if an output cannot be a file: its folder is missing, or it is a folder."""
    for path in paths:
        if path is not None and path.is_dir():
            raise DataFileError(f"{path}: is a directory; give a file name")
        if path is not None and not path.parent.is_dir():
            raise DataFileError(f"{path}: its folder {path.parent} does not exist")


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Report a failed write of ``path`` as a ``DataFileError``."""
    try:
        yield
    except OSError as exc:
        raise DataFileError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def _train(args: argparse.Namespace) -> int:
    from routers.training.train import EVERYDAY_WEIGHT, TrainJob, train

    everyday = None if args.no_everyday else args.everyday
    weight = EVERYDAY_WEIGHT if args.everyday_weight is None else args.everyday_weight
    weights = [*args.data_weight, *[1.0] * len(args.data)][: len(args.data)]
    if len(args.data_weight) > len(args.data) or any(w <= 0 for w in weights):
        print("triage router train: one positive --data-weight per --data file, at most", file=sys.stderr)
        return 2
    data = args.data[0] if len(args.data) == 1 else tuple(zip(args.data, weights, strict=True))
    job = TrainJob(args.router_type, data, args.out, args.dev, args.seed, everyday=everyday, everyday_weight=weight)
    card = train(job)
    print(json.dumps({k: card[k] for k in ("router", "params", "cv", "git_sha")}, indent=1))
    if "dev" in card:
        _print_table(card["router"], card["dev"]["metrics"])
    if "everyday" in card:
        _print_everyday(card["router"], card["everyday"]["metrics"])
    return 0


def _eval(args: argparse.Namespace) -> int:
    if args.artifact is not None and len(set(args.router)) != 1:
        print("triage router eval: --artifact names one router's folder: give exactly one --router", file=sys.stderr)
        return 2
    from routers.evaluation import (
        everyday_file,
        everyday_report,
        labelled_rows,
        metrics_by_source,
        ood_share,
        score_rows_full_sync,
    )
    from routers.ladder_eval import ladder_report, parse_ladder, print_ladder

    _check_outputs(args.json, args.plot, args.calibration_plot)
    ladder = parse_ladder(args.ladder) if args.ladder else None
    rows, data_is_everyday = labelled_rows(args.data)
    if ladder is not None and data_is_everyday:
        raise DataFileError(f"{args.data}: --ladder needs outcome rows (strong_score, weak_score), not everyday labels")
    if data_is_everyday:  # an everyday file given as --data: report its held-out rows (all rows if unsplit)
        held = [r for r in rows if r.get("split", "heldout") == "heldout"]
        everyday, rows = held, []
    else:
        everyday = [] if args.no_everyday or args.everyday is None else everyday_file(args.everyday, "heldout")
    results: dict[str, dict[str, Any]] = {}
    all_scores: dict[str, list[float]] = {}
    everyday_scores: dict[str, list[float]] = {}
    for name in dict.fromkeys(args.router):
        results[name] = {}
        if rows:
            router = build_router(name, _options(args))
            scored = score_rows_full_sync(router, rows)
            all_scores[name] = [s.value for s in scored]
            results[name] = metrics_by_source(all_scores[name], rows)
            results[name]["all"]["ood_share"] = ood_share(scored)
            _print_table(name, results[name])
            if ladder is not None:
                report = ladder_report(all_scores[name], rows, ladder, router.calibration, args.output_tokens)
                results[name]["ladder"] = report
                print_ladder(name, report)
        if everyday:
            scored = score_rows_full_sync(build_router(name, _options(args)), everyday)
            everyday_scores[name] = [s.value for s in scored]
            results[name]["everyday"] = everyday_report(scored, everyday)
            _print_everyday(name, results[name]["everyday"])
    if args.json:
        with _writing(args.json):
            args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.plot and all_scores:
        from routers.plots import cost_quality_plot

        with _writing(args.plot):
            cost_quality_plot(all_scores, rows, args.plot, title=args.data.name)
        print(f"wrote {args.plot}")
    if args.calibration_plot and everyday_scores:
        _calibration_plot(args, everyday_scores, everyday)
    return 0


def _calibration_plot(args: argparse.Namespace, scores: dict[str, list[float]], rows: list[dict[str, Any]]) -> None:
    from routers.plots import calibration_plot

    name = next(iter(scores))
    router = build_router(name, _options(args))
    platt = getattr(router, "platt", None)
    with _writing(args.calibration_plot):
        calibration_plot(name, scores[name], [int(r["label"]) for r in rows], platt, args.calibration_plot)
    print(f"wrote {args.calibration_plot}")


def _print_everyday(name: str, m: dict[str, Any]) -> None:
    print(f"\n{name}: everyday held-out (ood share {m['ood_share']:.3f})")
    print(f"  {'kind':<18} {'n':>4} {'AUC':>6} {'easy':>6} {'hard':>6}")
    print(f"  {'all':<18} {int(m['n']):>4} {m['auc']:>6.3f} {m['mean_easy']:>6.3f} {m['mean_hard']:>6.3f}")
    for kind, k in m["kinds"].items():
        print(f"  {kind:<18} {int(k['n']):>4} {k['auc']:>6.3f} {k['mean_easy']:>6.3f} {k['mean_hard']:>6.3f}")


def _print_table(name: str, metrics: dict[str, dict[str, float]]) -> None:
    print(f"\n{name}")
    print(f"  {'source':<10} {'n':>6} {'APGR':>7} {'CPT50':>7} {'CPT80':>7} {'95%q':>7}")
    for source, m in metrics.items():
        cells = " ".join(f"{m[k]:>7.4f}" for k in ("apgr", "cpt50", "cpt80", "share_for_95"))
        print(f"  {source:<10} {int(m['n']):>6} {cells}")


def _score(args: argparse.Namespace) -> int:
    from routers.evaluation import prompt_rows, score_rows_sync

    _check_outputs(args.outfile)
    rows = prompt_rows(args.infile)
    scores = score_rows_sync(build_router(args.router, _options(args)), rows)
    lines = [json.dumps({"id": row["id"], "score": value}) + "\n" for row, value in zip(rows, scores, strict=True)]
    with _writing(args.outfile):
        args.outfile.write_text("".join(lines), encoding="utf-8")
    print(f"scored {len(rows)} prompts with {args.router} -> {args.outfile}")
    return 0
