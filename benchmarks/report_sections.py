"""Sections of ``benchmarks/README.md``, each built from one results JSON (see ``report.py``); the load
sections are in ``report_load``, the targets and saturation in ``report_targets``."""

from __future__ import annotations

import json
import math
from typing import Any

from common import RESULTS  # type: ignore[import-not-found]


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


def meta(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    return f"git `{doc['git_sha'][:12]}`{' (dirty)' if doc.get('dirty') else ''}, config `{doc['config_hash']}`, {m['cpu']}, {m['cores']} cores, Python {m['python']}"


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
        f"{doc['config']['rows']} prompts; {meta(doc)}; default "
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
                f"overhead (paired, back to back) p50 {s['overhead_p50_ms']:.2f} ms, p99 {s['overhead_p99_ms']:.2f} ms."
            )
    if cache:
        for backend, data in cache["results"].items():
            s = data["summary"]
            out.append(
                f"- `cache.py` ({backend}): hit p50 {s['hit']['p50_ms']:.2f} ms / p99 {s['hit']['p99_ms']:.2f} ms; "
                f"a miss adds {s['miss_added_p50_ms']:.2f} ms."
            )
    return [*out, ""] if len(out) > 2 else []
