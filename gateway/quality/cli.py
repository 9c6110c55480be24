"""``triage outcomes export`` and ``triage quality report``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from gateway.settings import ConfigError, load_settings


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    outcomes = commands.add_parser("outcomes", help="export the quality loop's outcomes")
    verbs = outcomes.add_subparsers(dest="verb", required=True, metavar="VERB")
    export = verbs.add_parser(
        "export",
        help="write outcomes as routing-train rows (or chat fine-tuning rows)",
        description="Write the outcome store's rows as routing-train rows (default) or, with --format "
        "openai-chat, as chat fine-tuning rows of the frontier tier's answers.",
    )
    export.add_argument("--config", required=True, help="the gateway's YAML config (its quality.store)")
    export.add_argument("--out", required=True, type=Path, help="the JSONL file to write")
    export.add_argument("--since", help="only rows at or after this ISO time (e.g. 2026-12-01T00:00:00+00:00)")
    export.add_argument("--format", choices=("routing", "openai-chat"), default="routing")
    export.set_defaults(func=cmd_export)

    quality = commands.add_parser("quality", help="quality reports from the outcomes")
    verbs = quality.add_subparsers(dest="verb", required=True, metavar="VERB")
    report = verbs.add_parser(
        "report",
        help="the cost-quality curve of a profile's router on this deployment's traffic",
        description="Score the stored prompts with the profile's router and report APGR, CPT(50%), the "
        "frontier share needed for 90/95/99%% of all-frontier quality with its cost, and the share to set.",
    )
    report.add_argument("--config", required=True, help="the gateway's YAML config")
    report.add_argument("--data", type=Path, help="an exported outcomes file (default: read the store)")
    report.add_argument("--profile", default="auto", help="the profile whose router is evaluated (default auto)")
    report.add_argument("--target-quality", type=float, default=0.95, help="share of frontier quality to keep")
    report.add_argument("--plot", type=Path, help="write the quality curve as a PNG")
    report.add_argument("--json", type=Path, help="also write the report as JSON")
    report.set_defaults(func=cmd_report)


def _since(value: str | None) -> float:
    if value is None:
        return 0.0
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise ConfigError(f"--since: not an ISO time: {value!r}") from None


def cmd_export(args: argparse.Namespace) -> int:
    from gateway.quality.export import ExportCounts, chat_rows, routing_rows, stored_rows

    settings = load_settings(args.config)
    try:
        rows = stored_rows(settings, _since(args.since))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    counts = ExportCounts()
    convert = chat_rows if args.format == "openai-chat" else routing_rows
    with args.out.open("wb") as handle:
        for row in convert(rows, counts):
            handle.write(orjson.dumps(row) + b"\n")
    print(
        f"wrote {counts.exported} rows to {args.out} (from {counts.rows} stored; "
        f"{counts.without_prompt} without a stored prompt, {counts.without_answers} without stored answers, "
        f"{counts.feedback_only} feedback-only requests not exported)"
    )
    return 0


def _rows(args: argparse.Namespace, settings: Any) -> list[dict[str, Any]]:
    from gateway.quality.export import ExportCounts, routing_rows, stored_rows

    if args.data is not None:
        try:
            return [orjson.loads(line) for line in args.data.read_bytes().splitlines() if line.strip()]
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(f"--data {args.data}: {exc}") from None
    rows = [r for r in routing_rows(stored_rows(settings), ExportCounts()) if r["profile"] == args.profile]
    return rows


def cmd_report(args: argparse.Namespace) -> int:
    from gateway.quality.report import build_report, plot
    from gateway.request.profiles import build_routers
    from routers.evaluation import score_rows_sync

    settings = load_settings(args.config)
    if args.profile not in settings.profiles:
        raise ConfigError(f"--profile: no profile named {args.profile!r}")
    rows = _rows(args, settings)
    if not rows:
        print("triage: no outcomes with prompts to report on (enable quality.store.prompts)", file=sys.stderr)
        return 2
    router = build_routers(settings)[args.profile]
    scores = score_rows_sync(router, rows)
    report = build_report(settings, args.profile, router, scores, rows, args.target_quality)
    print(json.dumps(report.as_dict(), indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    if args.plot is not None:
        plot(report, scores, rows, args.plot)
    return 0
