"""Sections of ``benchmarks/README.md``, each built from one results JSON (see ``report.py``)."""

from __future__ import annotations

import json
import math
from typing import Any

from common import RESULTS  # type: ignore[import-not-found]

TARGETS = {"overhead_p50_ms": 1.0, "overhead_p99_ms": 5.0, "ttft_p50_ms": 1.0, "rps_ratio": 10.0}


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def _step(steps: list[dict[str, Any]], scenario: str, label: str, rate: float) -> dict[str, Any] | None:
    return next((s for s in steps if s["scenario"] == scenario and s["label"] == label and s["rate"] == rate), None)


def _meta(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    return f"git `{doc['git_sha'][:12]}`, config `{doc['config_hash']}`, {m['cpu']}, {m['cores']} cores, Python {m['python']}"


def headline(doc: dict[str, Any]) -> list[str]:
    res = doc["results"]
    cap, steps = res["capacity"], res["steps"]
    triage = "triage cheap (pinned)"
    out = ["## Headline: Triage vs LiteLLM proxy", "", f"Measured in one run ({_meta(doc)}).", ""]
    rows = []
    for label, c in cap.items():
        if label == "direct":
            continue
        sweep = [s for s in steps if s["scenario"] == "sweep" and s["label"] == label]
        cpu = min((s["cpu_ms_per_request"] for s in sweep), default=float("nan"))
        rss = max((s["rss_mb"] for s in sweep), default=float("nan"))
        rows.append(
            [
                label,
                f(c["sustainable_rps_p99_10ms"], 0),
                f(c["sustainable_rps_p99_50ms"], 0),
                f(c["saturation_rps"], 0),
                f(c["max_rate_tried"], 0),
                f(cpu, 2),
                f(rss, 0),
            ]
        )
    out += table(
        [
            "gateway",
            "sustainable RPS (p99 ovh < 10 ms)",
            "sustainable RPS (p99 ovh < 50 ms)",
            "max achieved RPS",
            "highest rate tried",
            "CPU ms/request (best)",
            "RSS MB (max)",
        ],
        rows,
    )
    lite = cap.get("litellm")
    if lite and triage in cap:
        t = cap[triage]
        ratio10 = t["sustainable_rps_p99_10ms"] / lite["saturation_rps"] if lite["saturation_rps"] else float("nan")
        ratio50 = (
            t["sustainable_rps_p99_50ms"] / lite["sustainable_rps_p99_50ms"]
            if lite["sustainable_rps_p99_50ms"]
            else float("nan")
        )
        ratio_sat = t["saturation_rps"] / lite["saturation_rps"] if lite["saturation_rps"] else float("nan")
        out += [
            "",
            f"- Triage (cheap) sustainable RPS at p99 overhead < 10 ms / LiteLLM's max achieved RPS: "
            f"**{f(ratio10, 2)}x** (target >= {TARGETS['rps_ratio']:.0f}x).",
            f"- Sustainable RPS at p99 overhead < 50 ms, Triage / LiteLLM: **{f(ratio50, 2)}x**.",
            f"- Max achieved RPS, Triage / LiteLLM: **{f(ratio_sat, 2)}x** (Triage's is a lower bound when "
            f"its sweep reached the highest rate without saturating).",
        ]
    return [*out, ""]


def overhead_table(doc: dict[str, Any]) -> list[str]:
    steps = doc["results"]["steps"]
    labels = sorted((lab for lab in doc["results"]["capacity"] if lab != "direct"), key=lambda lab: lab == "litellm")
    triage = "triage cheap (pinned)"
    rates = sorted({s["rate"] for s in steps if s["scenario"] == "sweep"})
    header = ["rate (RPS)", "direct p50 / p99 ms"] + [f"{lab}: overhead p50 / p99 ms" for lab in labels]
    rows = []
    for rate in rates:
        direct = _step(steps, "sweep", "direct", rate)
        row = [f(rate, 0), f"{f(direct['latency_p50_ms'], 2)} / {f(direct['latency_p99_ms'], 2)}" if direct else "–"]
        for label in labels:
            s = _step(steps, "sweep", label, rate)
            row.append(
                f"{f(s.get('overhead_p50_ms'), 2)} / {f(s.get('overhead_p99_ms'), 2)}"
                + (f" ({s['error_rate']:.1%} err)" if s["errors"] else "")
                if s
                else ""
            )
        rows.append(row)
    out = ["## Overhead by offered rate (sweep, real routing-dev prompts, non-streaming)", ""]
    out += table(header, rows)
    common_rates = [r for r in rates if _step(steps, "sweep", "litellm", r) and _step(steps, "sweep", triage, r)]
    if common_rates:
        out += ["", "Triage (cheap) / LiteLLM overhead ratios at the rates both ran:", ""]
        ratio_rows = []
        for rate in common_rates:
            t, lite = _step(steps, "sweep", triage, rate), _step(steps, "sweep", "litellm", rate)
            assert t and lite
            ratio_rows.append(
                [
                    f(rate, 0),
                    *(
                        f(t[k] / lite[k], 3) if lite.get(k) else "–"
                        for k in ("overhead_p50_ms", "overhead_p99_ms", "cpu_ms_per_request")
                    ),
                ]
            )
        out += table(["rate", "overhead p50 ratio", "overhead p99 ratio", "CPU/request ratio"], ratio_rows)
    steps_all = doc["results"]["steps"]
    repeated = sum("repeated_after_foreign_load" in st for st in steps_all)
    worst = max((st.get("foreign_core_load", 0.0) for st in steps_all), default=0.0)
    out += [
        "",
        f"{repeated} of {len(steps_all)} steps were repeated once because other processes kept more than 25% "
        f"of the server's core busy (the disturbed results are kept under `noisy_steps` in load.json); the "
        f"highest foreign load left in a kept step was {worst:.0%}.",
    ]
    return [*out, "", "![load sweep](results/load.png)", ""]


def targets(doc: dict[str, Any]) -> list[str]:
    steps = doc["results"]["steps"]
    cheap = _step(steps, "sweep", "triage cheap (pinned)", 200.0)
    auto = _step(steps, "sweep", "triage auto (heuristic)", 200.0)
    stream = min(
        (s for s in steps if s["scenario"] == "stream" and s["system"] == "triage"),
        key=lambda s: s["rate"],
        default=None,
    )
    rows = []
    for name, s in (("cheap (relay only)", cheap), ("auto (with classification)", auto)):
        if s:
            rows.append([f"overhead p50 at 200 RPS, {name}", "<= 1 ms", f"{f(s.get('overhead_p50_ms'), 2)} ms"])
            rows.append([f"overhead p99 at 200 RPS, {name}", "<= 5 ms", f"{f(s.get('overhead_p99_ms'), 2)} ms"])
    if stream:
        rows.append(
            [
                f"streaming TTFT overhead p50 ({stream['rate']:.0f} RPS)",
                "<= 1 ms",
                f"{f(stream.get('ttft_overhead_p50_ms'), 2)} ms",
            ]
        )
    return ["## Targets", "", *table(["target", "goal", "measured"], rows), ""]


def scenarios(doc: dict[str, Any]) -> list[str]:
    steps = [s for s in doc["results"]["steps"] if s["scenario"] != "sweep" and s["system"] != "direct"]
    rows = []
    for s in steps:
        extra = []
        if "cache" in s:
            extra.append("cache " + ", ".join(f"{k} {v}" for k, v in sorted(s["cache"].items())))
        if s["errors"]:
            extra.append("errors " + ", ".join(f"{k}: {v}" for k, v in s["error_statuses"].items()))
        rows.append(
            [
                s["scenario"],
                s["label"],
                f(s["rate"], 0),
                f(s["achieved_rps"], 0),
                f"{f(s.get('overhead_p50_ms'), 2)} / {f(s.get('overhead_p99_ms'), 2)}",
                f"{f(s.get('ttft_overhead_p50_ms'), 2)} / {f(s.get('ttft_overhead_p99_ms'), 2)}",
                f"{s['error_rate']:.2%}",
                f(s["cpu_ms_per_request"], 2),
                f"{s.get('foreign_core_load', math.nan):.0%}",
                "; ".join(extra),
            ]
        )
    head = [
        "scenario",
        "system",
        "rate",
        "achieved",
        "overhead p50 / p99 ms",
        "TTFT overhead p50 / p99 ms",
        "client errors",
        "CPU ms/req",
        "foreign load on its core",
        "notes",
    ]
    direct_err = {
        (s["scenario"], s["rate"]): s["error_rate"]
        for s in doc["results"]["steps"]
        if s["system"] == "direct" and s["scenario"] == "faults"
    }
    note = ", ".join(f"{r:.0f} RPS: {e:.1%}" for (_, r), e in sorted(direct_err.items()))
    return [
        "## Scenarios (each against a direct run at the same rate)",
        "",
        *table(head, rows),
        "",
        f"With 20% injected 500s, clients calling the simulator directly saw errors at {note}.",
        "",
    ]


def profile(doc: dict[str, Any]) -> list[str]:
    prof = doc["results"].get("profile")
    if not prof:
        return []
    out = [
        "## Where Triage's time goes (py-spy, 200 RPS, tier cheap)",
        "",
        f"Gateway CPU per request during the profiled run: user {prof['runs']['raw']['cpu_user_ms_per_request']:.2f}"
        f" ms, kernel {prof['runs']['raw']['cpu_sys_ms_per_request']:.2f} ms. "
        f"{prof['samples']} CPU samples; flame graph: [results/{prof['svg']}](results/{prof['svg']}), "
        f"full list: [results/{prof['text']}](results/{prof['text']}).",
        "",
    ]
    for key, title in (
        ("self_by_package", "Self time by package"),
        ("top_self", "Top 10 frames by self time"),
        ("top_total_own", "Top 10 of Triage's own frames by total time"),
    ):
        out += [
            f"**{title}**",
            "",
            *table(["% of CPU", "frame"], [[f(r["percent"], 1), f"`{r['frame']}`"] for r in prof[key][:10]]),
            "",
        ]
    return out


def quality(doc: dict[str, Any]) -> list[str]:
    res = doc["results"]
    rows = [
        [
            name,
            *(f(r["metrics"]["all"][k], 3) for k in ("apgr", "cpt50", "cpt80", "share_for_95")),
            f(r["ms_per_prompt"], 3),
        ]
        for name, r in res["routers"].items()
    ]
    return [
        "## Router quality on routing-dev",
        "",
        f"{doc['config']['rows']} prompts; {_meta(doc)}; default "
        f"router `{doc['config'].get('default_router')}`. Quality all-frontier "
        f"{res['quality_all_frontier']:.3f}, all-cheap {res['quality_all_cheap']:.3f}.",
        "",
        *table(
            ["router", "APGR", "CPT(50%)", "CPT(80%)", "frontier share for 95% quality", "ms/prompt (batched)"], rows
        ),
        "",
        "![cost-quality curve](results/quality.png)",
        "",
    ]


def cost(doc: dict[str, Any]) -> list[str]:
    cfg, profiles = doc["config"], doc["results"]["profiles"]
    fp, cp = cfg["frontier"]["price"], cfg["cheap"]["price"]
    routers = {name: prof.get("router") for name, prof in cfg["gateway"]["profiles"].items()}

    def label(name: str) -> str:
        share = cfg["gateway"]["profiles"].get(name, {}).get("frontier_share")
        return f"{name} (router {routers[name]}, frontier_share {share})" if name in routers else f"{name} (pinned)"

    rows = [
        [
            label(name),
            f"{p['frontier_share']:.1%}",
            f"${p['usd_per_1k_requests']:.3f}",
            f"{p['savings_vs_frontier']:.1%}",
            f(p["expected_quality"], 3),
            f"{p['quality_vs_frontier']:.1%}",
            str(p["errors"]),
        ]
        for name, p in profiles.items()
    ]
    return [
        "## Cost per 1,000 requests",
        "",
        f"{cfg['prompts']} routing-dev prompts per profile, {cfg['answer_tokens']} answer tokens each; frontier = "
        f"gpt-4o at ${fp['input_per_mtok']}/${fp['output_per_mtok']} per Mtok (litellm cost map), cheap = "
        f"{cfg['cheap']['model']} at ${cp['input_per_mtok']}/${cp['output_per_mtok']} per Mtok.",
        "",
        *table(
            [
                "model (profile or pinned tier)",
                "frontier share",
                "USD / 1k requests",
                "savings vs all-frontier",
                "expected quality",
                "quality vs all-frontier",
                "errors",
            ],
            rows,
        ),
        "",
        "![cost vs quality](results/cost.png)",
        "",
    ]


def older(overhead: dict[str, Any] | None, cache: dict[str, Any] | None) -> list[str]:
    out = ["## Sequential micro-benchmarks", ""]
    if overhead:
        for transport, s in overhead["results"]["summary"].items():
            out.append(
                f"- `overhead.py` ({transport}): {overhead['config']['requests']} sequential requests, "
                f"overhead p50 {s['overhead_p50_ms']:.2f} ms, p99 {s['overhead_p99_ms']:.2f} ms."
            )
    if cache:
        for backend, data in cache["results"].items():
            s = data["summary"]
            out.append(
                f"- `cache.py` ({backend}): hit p50 {s['hit']['p50_ms']:.2f} ms / p99 {s['hit']['p99_ms']:.2f} ms; "
                f"a miss adds {s['miss_added_p50_ms']:.2f} ms."
            )
    return [*out, ""] if len(out) > 2 else []
