"""``benchmarks/README.md``: the targets (goal, measured, met?), the saturation tables (wrk and our own
generator, one core and multi-core), the multi-worker scaling table and the one-commit check."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import provenance  # type: ignore[import-not-found]
from report_load import PINNED, _step, default_label  # type: ignore[import-not-found]
from report_sections import f, table  # type: ignore[import-not-found]

from common import RESULTS  # type: ignore[import-not-found]

Check = tuple[str, str, float | None, Callable[[float], bool], str]  # name, goal, measured, test, unit


def _get(step: dict[str, Any] | None, key: str) -> float | None:
    value = step.get(key) if step else None
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def checks(load: dict[str, Any] | None, saturation: dict[str, Any] | None) -> list[Check]:
    """The issue's targets, each with its measured value (None: not measured in these results)."""
    ratio = (saturation or {}).get("results", {}).get("ratio_default_vs_litellm", {}).get("wrk")
    name = "closed-loop saturation (wrk, 32 connections), default profile / LiteLLM, one core"
    return [*(_load_checks(load) if load is not None else []), (name, ">= 12x", ratio, lambda v: v >= 12, "x")]


def _load_checks(load: dict[str, Any]) -> list[Check]:
    """The targets load.json measures: paired overheads at 200 RPS, TTFT, sustainable RPS, RSS."""
    steps, cap = load["results"]["steps"], load["results"]["capacity"]
    default = default_label(load) or "triage default"
    d200, p200 = _step(steps, "sweep", default, 200.0), _step(steps, "sweep", PINNED, 200.0)
    s_pin, s_def = _step(steps, "stream", PINNED, 200.0), _step(steps, "stream", "triage default", 200.0)
    rss = [s["rss_mb"] for s in steps if s["system"] == "triage" and s["scenario"] == "sweep"]
    at_most: list[tuple[str, float | None, float, str]] = [
        ("default profile overhead p50, 200 RPS", _get(d200, "overhead_p50_ms"), 1.0, "ms"),
        ("default profile overhead p99, 200 RPS", _get(d200, "overhead_p99_ms"), 3.0, "ms"),
        ("pinned tier overhead p50, 200 RPS", _get(p200, "overhead_p50_ms"), 0.6, "ms"),
        ("streaming TTFT overhead p50, pinned, 200 RPS", _get(s_pin, "ttft_overhead_p50_ms"), 1.0, "ms"),
        ("streaming TTFT overhead p50, default, 200 RPS", _get(s_def, "ttft_overhead_p50_ms"), 1.0, "ms"),
        ("RSS per worker (max over the sweep)", max(rss) if rss else None, 150.0, "MB"),
    ]
    at_least: list[tuple[str, float | None, float, str]] = [
        (
            "sustainable RPS per core, pinned (p99 overhead < 10 ms, no errors)",
            _get(cap.get(PINNED), "sustainable_rps_p99_10ms"),
            1500.0,
            "RPS",
        ),
        (
            "sustainable RPS per core, default profile",
            _get(cap.get(default), "sustainable_rps_p99_10ms"),
            1000.0,
            "RPS",
        ),
    ]
    out: list[Check] = [(n, f"<= {g:g} {u}", v, lambda x, g=g: x <= g, u) for n, v, g, u in at_most]
    return out + [(n, f">= {g:,.0f}", v, lambda x, g=g: x >= g, u) for n, v, g, u in at_least]


def targets(load: dict[str, Any] | None, saturation: dict[str, Any] | None) -> list[str]:
    rows = []
    for name, goal, value, test, unit in checks(load, saturation):
        measured = "not measured" if value is None else f"{f(value, 0 if unit == 'RPS' else 2)} {unit}"
        met = "–" if value is None else ("yes" if test(value) else "**no**")
        rows.append([name, goal, measured, met])
    intro = "One run, each gateway alone on one core; overheads are paired differences."
    return ["## Targets", "", intro, "", *table(["target", "goal", "measured", "met?"], rows), ""]


def _client_row(row: dict[str, Any], client: str) -> list[str]:
    c = row.get(client)
    if not c:
        return [row["system"], client, "–", "–", "–", "–"]
    name = "wrk" if client == "wrk" else "ours"
    return [row["system"], name, f(c["rps"], 0), f(c["latency_p50_ms"], 2), f(c["latency_p99_ms"], 2), str(c["errors"])]


def saturation(doc: dict[str, Any] | None) -> list[str]:
    if doc is None:
        return []
    res = doc["results"]
    rows = [_client_row(r, c) for r in res["single_core"] for c in ("wrk", "own")]
    head = ["system", "client", "RPS", "latency p50 ms", "latency p99 ms", "errors"]
    ratios = res["ratio_default_vs_litellm"]
    pinned = res["ratio_pinned_vs_litellm"]
    out = [
        "## Closed-loop saturation (wrk, 32 connections; one core each)",
        "",
        f"{doc['config']['client']}; each system after a {doc['config']['warmup_s']} s warm-up. Gateways alone on "
        "core 0, wrk (or our generator) and the simulator on core 1; parity as above.",
        "",
        *table(head, rows),
        "",
        f"- Triage default profile / LiteLLM proxy: **{f(ratios.get('wrk'), 1)}x** with wrk, {f(ratios.get('own'), 1)}x "
        f"with our generator; pinned tier / LiteLLM: {f(pinned.get('wrk'), 1)}x with wrk.",
        "",
    ]
    return out + _multi(res["multi_core"])


def _multi(multi: dict[str, Any]) -> list[str]:
    out = [f"## Multi-core: {multi.get('workers', '?')} workers each (wrk, 32 connections, unpinned)", ""]
    if not multi.get("available"):
        return [*out, f"Not available in this run: {multi.get('reason', 'not measured')}.", ""]
    rows = [[*_client_row(r, "wrk"), f(r["rss_mb"], 0)] for r in multi["rows"]]
    head = ["system", "client", "RPS", "latency p50 ms", "latency p99 ms", "errors", "RSS MB (all workers)"]
    return [*out, *table(head, rows), "", f"Triage / LiteLLM: **{f(multi.get('ratio_triage_vs_litellm'), 1)}x**.", ""]


def _rows_of(results: Any) -> list[dict[str, Any]]:
    if isinstance(results, list):
        return [r for r in results if isinstance(r, dict)]
    if isinstance(results, dict):
        for value in ([results["rows"]] if "rows" in results else []) + list(results.values()):
            if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
                return value
    return []


def workers(doc: dict[str, Any] | None) -> list[str]:
    """``workers.json`` (written by ``benchmarks/workers.py``): that script's own ``markdown`` table when it
    reads this document, else a generic table of the document's rows (their scalar columns)."""
    if doc is None:
        return []
    title = ["## Multi-worker scaling (`workers.py`)", ""]
    try:
        import workers as script  # type: ignore[import-not-found]

        return [*title, *str(script.markdown(doc)).splitlines(), ""]
    except (ImportError, AttributeError, KeyError, IndexError, TypeError):
        pass
    rows = _rows_of(doc["results"])
    if not rows:
        return []
    scalar = [
        k for k in dict.fromkeys(k for r in rows for k in r) if all(not isinstance(r.get(k), dict | list) for r in rows)
    ]
    body = [[f(r.get(k), 2) if isinstance(r.get(k), float) else f(r.get(k)) for k in scalar] for r in rows]
    return [*title, *table(scalar, body), ""]


def commit_check() -> list[str]:
    """Which commit every result names, or the files that name another."""
    state = provenance.consistency(provenance.result_documents(RESULTS))
    if not state["files"]:
        return []
    if not state["odd"]:
        line = f"Every result file ({len(state['files'])}) names commit `{state['commit'][:12]}`."
    else:
        odd = ", ".join(f"`{name}.json` ({sha[:12]})" for name, sha in state["odd"].items())
        line = (
            f"{len(state['files']) - len(state['odd'])} of {len(state['files'])} result files name commit "
            f"`{str(state['commit'])[:12]}`; from other commits: {odd}."
        )
    if state["dirty"]:
        line += (
            ' Run from a tree with uncommitted changes (`"dirty": true`): '
            + ", ".join(f"`{n}`" for n in state["dirty"])
            + "."
        )
    return [line, ""]
