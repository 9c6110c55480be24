"""The load sections of ``benchmarks/README.md`` (``load.json``, ``saturation.json``): parity, headline,
targets, paired-overhead tables, scenarios. Overheads are percentiles of paired differences (``paired``)."""

from __future__ import annotations

from typing import Any

from report_sections import f, meta, table  # type: ignore[import-not-found]

PINNED = "triage cheap (pinned)"


def _step(steps: list[dict[str, Any]], scenario: str, label: str, rate: float) -> dict[str, Any] | None:
    return next((s for s in steps if s["scenario"] == scenario and s["label"] == label and s["rate"] == rate), None)


def default_label(doc: dict[str, Any]) -> str | None:
    """The sweep label of Triage's ``default`` profile (``triage default (<router>)``)."""
    return next((lab for lab in doc["results"]["capacity"] if lab.startswith("triage default")), None)


def parity(doc: dict[str, Any], saturation: dict[str, Any] | None) -> list[str]:
    rows = [[name, text] for name, text in doc["config"].get("parity", {}).items()]
    multi = (saturation or {}).get("results", {}).get("multi_core", {})
    if multi.get("available"):
        rows.append(
            ["multi-core comparison", f"{multi['workers']} workers each, unpinned: " + multi["parity"]["state"]]
        )
    return [
        "## Parity",
        "",
        "Both gateways, every comparison below unless its table says otherwise:",
        "",
        *table(["setting", "how"], rows),
        "",
    ]


def _pair(s: dict[str, Any] | None, key: str = "overhead") -> str:
    if not s:
        return ""
    text = " / ".join(f(s.get(f"{key}_p{q}_ms"), 2) for q in (50, 90, 99))
    return text + (f" ({s['error_rate']:.1%} err)" if s["errors"] else "")


def headline(doc: dict[str, Any]) -> list[str]:
    cap, steps = doc["results"]["capacity"], doc["results"]["steps"]
    rows = []
    for label, c in cap.items():
        sweep = [s for s in steps if s["scenario"] == "sweep" and s["label"] == label]
        rows.append(
            [
                label,
                f(c["sustainable_rps_p99_10ms"], 0),
                f(c["sustainable_rps_p99_50ms"], 0),
                f(c["saturation_rps"], 0),
                f(c["max_rate_tried"], 0),
                f(min((s["cpu_ms_per_request"] for s in sweep), default=None), 2),
                f(max((s["rss_mb"] for s in sweep), default=None), 0),
            ]
        )
    head = ["gateway", "sustainable RPS (p99 overhead < 10 ms)", "sustainable RPS (p99 overhead < 50 ms)"]
    head += ["max achieved RPS (open loop)", "highest rate tried", "CPU ms/request (best)", "RSS MB (max)"]
    intro = f"Measured in one run ({meta(doc)}); overheads are percentiles of paired differences."
    return ["## Headline: Triage vs LiteLLM proxy (one core each)", "", intro, "", *table(head, rows), ""]


def sweep_table(doc: dict[str, Any]) -> list[str]:
    steps = doc["results"]["steps"]
    labels = sorted(doc["results"]["capacity"], key=lambda lab: lab == "litellm")
    rates = sorted({s["rate"] for s in steps if s["scenario"] == "sweep"})
    rows = []
    for rate in rates:
        present = [_step(steps, "sweep", lab, rate) for lab in labels]
        probe = next((s for s in present if s), None)
        direct = (
            f"{f(probe.get('direct_latency_p50_ms'), 2)} / {f(probe.get('direct_latency_p99_ms'), 2)}" if probe else "–"
        )
        rows.append([f(rate, 0), direct, *(_pair(s) for s in present)])
    head = ["rate (RPS)", "direct p50 / p99 ms"] + [f"{lab}: overhead p50 / p90 / p99 ms" for lab in labels]
    raw = [
        [s["label"], f(s["rate"], 0), f(s.get("pairs")), f(s.get("stride"))]
        + [
            f(s.get(k), 2)
            for k in ("latency_p50_ms", "latency_p99_ms", "direct_latency_p50_ms", "direct_latency_p99_ms")
        ]
        + [_pair(s)]
        for s in steps
        if s["scenario"] == "sweep"
    ]
    raw_head = ["system", "rate", "pairs", "1 direct per", "gateway p50", "gateway p99", "direct p50", "direct p99"]
    return [
        "## Overhead by offered rate (paired differences; sweep, real routing-dev prompts, non-streaming)",
        "",
        *table(head, rows),
        "",
        "<details><summary>Raw percentiles of both sides (ms) and the pair counts</summary>",
        "",
        *table([*raw_head, "overhead p50 / p90 / p99"], raw),
        "",
        "</details>",
        "",
        _noise(steps),
        "",
        "![load sweep](results/load.png)",
        "",
    ]


def _noise(steps: list[dict[str, Any]]) -> str:
    repeated = sum("repeated_after_foreign_load" in s for s in steps)
    worst = max((s.get("foreign_core_load", 0.0) for s in steps), default=0.0)
    return (
        f"{repeated} of {len(steps)} steps were repeated once because other processes kept more than 25% of core 0 "
        f"busy (the disturbed results are under `noisy_steps` in load.json); the highest foreign load left in a "
        f"kept step was {worst:.0%}."
    )


def _scenario_row(s: dict[str, Any]) -> list[str]:
    """One scenario step: rate, paired overheads, both sides' errors, CPU, cache and error notes."""
    notes = []
    if "cache" in s:
        notes.append("cache " + ", ".join(f"{k} {v}" for k, v in sorted(s["cache"].items())))
    if s["errors"]:
        notes.append("errors " + ", ".join(f"{k}: {v}" for k, v in s["error_statuses"].items()))
    ttft = _pair(s, "ttft_overhead") if "ttft_overhead_p50_ms" in s else "–"
    direct_err = f"{s['direct_errors'] / max(1, s['direct_sent']):.1%}" if "direct_sent" in s else "–"
    return [
        s["scenario"],
        s["label"],
        f(s["rate"], 0),
        f(s["achieved_rps"], 0),
        _pair(s),
        ttft,
        f"{s['error_rate']:.2%}",
        direct_err,
        f(s["cpu_ms_per_request"], 2),
        "; ".join(notes),
    ]


def scenarios(doc: dict[str, Any]) -> list[str]:
    steps = [s for s in doc["results"]["steps"] if s["scenario"] not in ("sweep", "cache")]
    cache = [s for s in doc["results"]["steps"] if s["scenario"] == "cache"]
    head = ["scenario", "system", "rate", "achieved", "overhead p50 / p90 / p99 ms", "TTFT overhead p50 / p90 / p99 ms"]
    head += ["client errors", "direct errors", "CPU ms/req", "notes"]

    return [
        "## Streaming and faults (paired, cache off)",
        "",
        *table(head, [_scenario_row(s) for s in steps]),
        "",
        "A pair counts only when both halves answered 200, so with 20% injected 500s the overhead is that of "
        "requests the gateway answered after its retries; the direct side's error rate is what a client "
        "without a gateway saw.",
        "",
        "## Response cache on (reported apart: the comparisons above run with it off)",
        "",
        "A second Triage process on the same config with `cache.enabled: true`, temperature-0 requests over 16 "
        "repeated prompts (profile `auto`); LiteLLM's default config has no cache, so its row is a plain relay.",
        "",
        *table(head, [_scenario_row(s) for s in cache]),
        "",
    ]
