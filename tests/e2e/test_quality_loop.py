"""The whole quality loop against real processes (issue 14's "done when").

A simulator with a truth file in which the cheap model is *good* at hard-looking proofs
and *bad* at easy-looking everyday questions — the opposite of what the shipped router
believes. A gateway shadows every routed request (rate 1.0) with the simulator's judge.
Then: export the outcomes, retrain an ``ngram`` router on them, point the profile at it
(``router_artifact``), reload without a restart, and check that APGR on held-out prompts
under that truth rises far above the shipped router's, and that retained quality rises
after the reload.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.local import processes as procs
from routers.metrics import apgr
from routers.registry import ARTIFACTS_DIR, RouterOptions, build_router
from tests.conftest import tier

MASTER = "master-key-for-tests-0123456789"
THINGS = [
    "primes",
    "triangles",
    "graphs",
    "matrices",
    "integers",
    "polynomials",
    "sequences",
    "groups",
    "rings",
    "circles",
    "vectors",
    "sets",
    "functions",
    "series",
    "lattices",
    "permutations",
]
PLACES = [
    "France",
    "Peru",
    "Japan",
    "Kenya",
    "Norway",
    "Chile",
    "Egypt",
    "Canada",
    "India",
    "Spain",
    "Italy",
    "Ghana",
    "Nepal",
    "Cuba",
    "Laos",
    "Iran",
]
ANIMALS = ["cats", "dogs", "ducks", "cows", "owls", "bees", "goats", "frogs"]


def hard_looking(rng: random.Random) -> str:
    """Proof-style prompts: the shipped router sends them to the frontier; here cheap is as good."""
    a, b = rng.sample(THINGS, 2)
    template = rng.choice(
        [
            "Prove rigorously that every finite set of {a} has a property shared with {b}, step by step.",
            "Give a formal proof, with lemmas, that the {a} construction generalises to {b}.",
            "Derive and prove the main theorem relating {a} and {b}; justify each inequality.",
        ]
    )
    return template.format(a=a, b=b) + f" (case {rng.randrange(10_000)})"


def easy_looking(rng: random.Random) -> str:
    """Everyday questions: the shipped router keeps them cheap; here cheap answers them badly."""
    template = rng.choice(
        [
            "What is the capital of {p}?",
            "Tell me a short joke about {x}.",
            "Say hello in the language of {p}.",
            "Name one famous food from {p}.",
        ]
    )
    return template.format(p=rng.choice(PLACES), x=rng.choice(ANIMALS)) + f" #{rng.randrange(10_000)}"


def prompts(seed: int, count: int) -> list[tuple[str, float, float]]:
    """(prompt, cheap quality, frontier quality) under the truth."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 2:
            out.append((hard_looking(rng), 0.95, 0.95))
        else:
            out.append((easy_looking(rng), 0.1, 0.9))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("quality-loop")
    train, heldout = prompts(1, 240), prompts(2, 120)
    truth = folder / "truth.jsonl"
    truth.write_text(
        "".join(
            json.dumps({"prompt": p, "scores": {"sim-cheap": c, "sim-frontier": f}}) + "\n"
            for p, c, f in train + heldout
        )
    )
    artifact = folder / "router"
    shutil.copytree(ARTIFACTS_DIR / "ngram", artifact)  # starts as the shipped router
    sim_args = ["--ttft-ms", "1", "--tokens-per-s", "20000", "--answer-tokens", "20", "--truth", str(truth)]
    with procs.simulator(sim_args) as sim:
        judge = {**tier(sim, "sim-frontier", "relay"), "model": "openai/sim-judge"}
        config = {
            "tiers": {
                "cheap": tier(sim, "sim-cheap", "relay"),
                "frontier": tier(sim, "sim-frontier", "relay"),
                "judge": judge,
            },
            "profiles": {"auto": {"router": "ngram", "router_artifact": str(artifact), "frontier_share": 0.5}},
            "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
            "cache": {"enabled": False},
            "quality": {
                "shadow": {"rate": 1.0, "judge_tier": "judge"},
                "store": {"path": str(folder / "outcomes"), "prompts": True},
            },
        }
        with procs.gateway(config, folder, {"TRIAGE_MASTER_KEY": MASTER}) as url:
            path = folder / "triage.yaml"
            path.write_text(json.dumps(config))
            yield {
                "url": url,
                "config": path,
                "folder": folder,
                "artifact": artifact,
                "train": train,
                "heldout": heldout,
            }


async def _send(url: str, texts: list[str]) -> None:
    headers = {"Authorization": f"Bearer {MASTER}"}
    limit = asyncio.Semaphore(4)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(text: str) -> None:
            async with limit:
                body = {"model": "auto", "messages": [{"role": "user", "content": text}]}
                response = await client.post(f"{url}/v1/chat/completions", json=body, headers=headers)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(one(t) for t in texts))


def _counters(url: str) -> tuple[float, float, float]:
    text = httpx.get(f"{url}/metrics").text

    def value(name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))

    judged = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("triage_shadow_requests_total{") and 'result="judged"' in line
    )
    return value("triage_quality_routed_score_total"), value("triage_quality_frontier_score_total"), judged


def _wait_judged(url: str, at_least: float) -> tuple[float, float, float]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        counters = _counters(url)
        if counters[2] >= at_least:
            return counters
        time.sleep(0.2)
    raise AssertionError(f"only {_counters(url)[2]} of {at_least} shadow evaluations judged")


def _apgr(folder: Path, heldout: list[tuple[str, float, float]]) -> float:
    router = build_router("ngram", RouterOptions(folder=folder))
    scores = asyncio.run(router.score_batch([[{"role": "user", "content": p}] for p, _, _ in heldout]))
    return apgr([s.value for s in scores], [f for _, _, f in heldout], [c for _, c, _ in heldout])


def test_shadow_export_retrain_reload_raises_quality(world: dict[str, Any]) -> None:
    url, folder = world["url"], world["folder"]
    asyncio.run(_send(url, [p for p, _, _ in world["train"]]))
    routed_before, frontier_before, _ = _wait_judged(url, len(world["train"]))
    retained_before = routed_before / frontier_before

    exported = folder / "outcomes.jsonl"
    run = [sys.executable, "-m", "gateway"]
    done = subprocess.run(
        [*run, "outcomes", "export", "--config", str(world["config"]), "--out", str(exported)],
        capture_output=True,
        text=True,
        cwd=procs.ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(rows) == len(world["train"])
    assert set(rows[0]) >= {
        "id",
        "prompt",
        "source",
        "category",
        "strong_model",
        "weak_model",
        "strong_score",
        "weak_score",
        "request_id",
        "profile",
        "ts",
    }

    shipped = _apgr(ARTIFACTS_DIR / "ngram", world["heldout"])
    retrained_dir = folder / "retrained"
    done = subprocess.run(
        [
            *run,
            "router",
            "train",
            "--type",
            "ngram",
            "--data",
            str(exported),
            "--out",
            str(retrained_dir),
            "--no-everyday",
        ],
        capture_output=True,
        text=True,
        cwd=procs.ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    retrained = _apgr(retrained_dir, world["heldout"])
    print(f"held-out APGR under the deployment's truth: shipped ngram {shipped:.3f}, retrained {retrained:.3f}")
    assert retrained > shipped + 0.2

    # promote: the profile's router_artifact now holds the retrained router; reload without a restart
    shutil.rmtree(world["artifact"])
    shutil.copytree(retrained_dir, world["artifact"])
    reload = httpx.post(f"{url}/admin/routers/reload", headers={"Authorization": f"Bearer {MASTER}"}, timeout=60)
    assert reload.status_code == 200, reload.text

    asyncio.run(_send(url, [p for p, _, _ in world["heldout"]]))
    routed_after, frontier_after, _ = _wait_judged(url, len(world["train"]) + len(world["heldout"]))
    retained_after = (routed_after - routed_before) / (frontier_after - frontier_before)
    print(f"retained quality: before the reload {retained_before:.3f}, after {retained_after:.3f}")
    text = httpx.get(f"{url}/metrics").text
    shadow_cost = sum(
        float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith("triage_shadow_cost_usd_total{")
    )
    served_cost = sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith("triage_cost_usd_total{"))
    requests = len(world["train"]) + len(world["heldout"])
    print(
        f"shadow cost ${1000 * shadow_cost / requests:.4f} per 1k requests (served: ${1000 * served_cost / requests:.4f})"
    )
    assert shadow_cost > 0
    assert retained_after > retained_before + 0.1


def test_a_broken_artifact_keeps_the_old_router(world: dict[str, Any], tmp_path: Path) -> None:
    url, artifact = world["url"], world["artifact"]
    backup = tmp_path / "backup"
    shutil.copytree(artifact, backup)
    try:
        (artifact / "weights.npz").write_bytes(b"not an npz file")
        reload = httpx.post(f"{url}/admin/routers/reload", headers={"Authorization": f"Bearer {MASTER}"}, timeout=60)
        assert reload.status_code == 503
        assert reload.json()["error"]["code"] == "reload_failed"
        assert "router_artifact" in reload.json()["error"]["message"]
        asyncio.run(_send(url, ["What is the capital of Peru? #1"]))  # still serving on the old router
    finally:
        shutil.rmtree(artifact)
        shutil.copytree(backup, artifact)
