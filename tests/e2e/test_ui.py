"""The status page in a real browser: a gateway process, the simulator, the openai SDK, Chromium.

The browser loads ``/ui`` with no key, is asked for one, gets the master key typed into
the form (as an operator would), and must then render the tiers with the requests the SDK
sent, keep refreshing, keep the key out of the URL and log no error (a CSP violation is
one). The screenshot lands in the test's tmp dir, and at ``$TRIAGE_UI_SCREENSHOT`` when set
(``benchmarks/results/ui.png`` in the README was made that way).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from gateway.local import processes as procs
from tests.conftest import tier
from tests.e2e.browser import Page, chromium

MASTER = "status-page-master-key-0123456789"
STATUS = """(() => ({
  total: Number(document.getElementById("requests-total").textContent),
  tiers: Object.fromEntries([...document.querySelectorAll("#tiers tbody tr")].map(
    (tr) => [tr.dataset.tier, Number(tr.querySelector(".requests").textContent)])),
  profiles: [...document.querySelectorAll("#profiles tbody tr")].map((tr) => tr.dataset.profile),
  breakers: Object.fromEntries([...document.querySelectorAll("#breakers tbody tr")].map(
    (tr) => [tr.dataset.tier, tr.dataset.state])),
  spent: document.getElementById("spent").textContent,
  saved: document.getElementById("saved").textContent,
  p50: document.getElementById("p50").textContent,
  latencyRows: document.querySelectorAll("#latency tbody tr").length,
  href: location.href,
  html: document.documentElement.outerHTML,
}))()"""
PROMPTS = [
    "hi",
    "What is the capital of France?",
    "Prove that there are infinitely many primes, then explain the proof to a ten-year-old step by step.",
    "Translate 'good morning' to Spanish.",
    "Design a distributed rate limiter for a multi-region API gateway; compare token bucket and sliding window, "
    "discuss consistency, failure modes and give pseudo-code for the hot path.",
    "Name three colours.",
    "Write a Python function that merges overlapping intervals and analyse its complexity.",
    "Thanks!",
]


@pytest.fixture(scope="module")
def gateway(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.3},
            "auto-economy": {"router": "heuristic", "frontier_share": 0.1},
        },
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
        "ui": {"enabled": True, "refresh_s": 1},
        "log_requests": False,
    }
    env = {"TRIAGE_MASTER_KEY": MASTER}
    with procs.gateway(config, tmp_path_factory.mktemp("ui"), env=env) as url:
        yield url


def send_traffic(url: str) -> int:
    """Chat requests as an app would send them: profiles, pinned tiers, streams, a cache hit."""
    sent = 0
    with openai.OpenAI(base_url=f"{url}/v1", api_key=MASTER, max_retries=0, timeout=30) as client:
        for i, prompt in enumerate(PROMPTS * 2):
            model = ("auto", "auto-economy")[i % 2]
            messages = [{"role": "user", "content": f"{prompt} ({i})"}]
            if i % 4 == 3:
                for _chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
                    pass
            else:
                client.chat.completions.create(model=model, messages=messages)
            sent += 1
        for model in ("frontier", "frontier", "cheap", "cheap"):
            repeat = [{"role": "user", "content": f"pinned to {model}"}]
            client.chat.completions.create(model=model, messages=repeat, temperature=0)
            sent += 1  # the second of each pair is a cache hit
    return sent


def log_in(page: Page, url: str) -> None:
    page.navigate(f"{url}/ui")
    page.wait_for('document.body.dataset.state === "login"')  # no key yet: /ui/data answered 401
    assert page.evaluate('document.getElementById("status").hidden') is True
    page.evaluate('document.getElementById("key").focus()')
    page.send("Input.insertText", text=MASTER)
    page.evaluate('document.getElementById("login").requestSubmit()')
    page.wait_for('document.body.dataset.state === "ok"')


def test_the_status_page_renders_what_the_gateway_did(gateway: str, tmp_path: Path) -> None:
    sent = send_traffic(gateway)
    with chromium(tmp_path / "profile") as page:
        log_in(page, gateway)
        status = page.wait_for(f"(() => {{ const s = {STATUS}; return s.total >= {sent} && s; }})()")
        assert status["total"] == sent
        assert set(status["tiers"]) == {"cheap", "frontier"}
        assert status["tiers"]["cheap"] > 0 and status["tiers"]["frontier"] > 0
        assert sum(status["tiers"].values()) == sent
        assert set(status["profiles"]) == {"auto", "auto-economy", "cheap", "frontier"}
        assert status["breakers"] == {"cheap": "closed", "frontier": "closed"}
        assert status["spent"].startswith("$") and status["saved"].endswith("%") and status["p50"] != "–"
        assert status["latencyRows"] == 2
        assert MASTER not in status["href"] and MASTER not in status["html"]  # never in the URL or the page

        with openai.OpenAI(base_url=f"{gateway}/v1", api_key=MASTER, max_retries=0) as client:
            client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "one more"}])
        page.wait_for(f'Number(document.getElementById("requests-total").textContent) === {sent + 1}')  # refreshed

        shot = page.screenshot(tmp_path / "ui.png")
        page.reload()  # the key stays in this tab's sessionStorage: no second prompt
        page.wait_for('document.body.dataset.state === "ok"')
        assert page.errors() == []  # no exception, no console error, no CSP violation
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 10_000
    target = os.environ.get("TRIAGE_UI_SCREENSHOT")
    if target:
        shutil.copyfile(tmp_path / "ui.png", target)


def test_a_wrong_key_is_refused_and_asked_for_again(gateway: str, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as page:
        page.navigate(f"{gateway}/ui")
        page.wait_for('document.body.dataset.state === "login"')
        page.evaluate('document.getElementById("key").value = "not-the-master-key-0123456789"')
        page.evaluate('document.getElementById("login").requestSubmit()')
        message = page.wait_for(
            'document.body.dataset.state === "login" && document.getElementById("login-error").textContent'
        )
        assert "refused" in message
        assert page.evaluate('sessionStorage.getItem("triage.ui.key")') is None
        assert page.evaluate('document.getElementById("status").hidden') is True
