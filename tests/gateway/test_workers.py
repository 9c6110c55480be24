"""``triage serve --workers 2``: real processes on one port, metrics summed, drain, restarts.

Every request opens a new connection (a fresh ``openai`` client), so the kernel's
SO_REUSEPORT hash spreads them over both workers; ``triage_worker_requests_total{worker}``
shows which worker answered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gateway.local import processes as procs
from tests.conftest import tier

K = 24
SLOW_SIMULATOR = ["--ttft-ms", "5", "--tokens-per-s", "20", "--answer-tokens", "40"]
MESSAGES = [{"role": "user", "content": "Say something about worker processes."}]


def config(sim_url: str) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "ui": {"enabled": True},
    }


def children(pid: int) -> set[int]:
    """The pids of ``pid``'s child processes."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def samples(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``/metrics`` as ``{sample name: {labels: value}}``."""
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def per_worker(url: str) -> dict[str, float]:
    rows = samples(url).get("triage_worker_requests_total", {})
    return {dict(labels)["worker"]: value for labels, value in rows.items()}


def ask(url: str, stream: bool = False) -> str:
    """One chat request on a new connection; the answer's text."""
    with openai.OpenAI(base_url=f"{url}/v1", api_key="workers", max_retries=0) as client:
        if not stream:
            answer = client.chat.completions.create(model="auto", messages=MESSAGES)  # type: ignore[arg-type]
            return answer.choices[0].message.content or ""
        chunks = client.chat.completions.create(model="auto", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.fixture
def two_workers(sim_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with procs.gateway_process(config(sim_url), tmp_path, workers=2) as served:
        yield served


def wait_for(check: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_two_workers_share_the_port_and_metrics_add_up(two_workers: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, process = two_workers
    assert len(children(process.pid)) == 2
    for _ in range(K):
        assert ask(url)
    by_worker = per_worker(url)
    assert set(by_worker) == {"0", "1"} and min(by_worker.values()) > 0, by_worker  # both served
    assert sum(by_worker.values()) == K
    for _ in range(4):  # whichever worker answers the scrape, it reports the sum
        assert sum(samples(url)["triage_requests_total"].values()) == K
    ui = httpx.get(f"{url}/ui/data").json()
    assert ui["requests"]["total"] == K
    assert ui["latency"]["request"]["count"] == K
    frontier = samples(url)["triage_frontier_share_target"]
    assert list(frontier.values()) == [0.3]  # a config gauge: one series, not one per worker


def test_a_killed_worker_is_restarted_and_its_counts_are_kept(two_workers: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, process = two_workers
    for _ in range(K):
        ask(url)
    before = children(process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(children(process.pid)) == 2 and victim not in children(process.pid))
    replacement = children(process.pid) - before
    assert len(replacement) == 1
    wait_for(lambda: len(per_worker(url)) == 2 and _serves(url))
    for _ in range(K):
        assert ask(url)
    assert sum(per_worker(url).values()) == 2 * K  # the dead worker's counts still add up
    assert process.poll() is None


def _serves(url: str) -> bool:
    """Every worker answers: a few new connections in a row all get /readyz 200."""
    with contextlib.suppress(httpx.HTTPError):
        return all(httpx.get(f"{url}/readyz", timeout=2).status_code == 200 for _ in range(8))
    return False


@contextlib.contextmanager
def logged_workers(sim_url: str, directory: Path, *flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``triage serve --workers 2`` with its stderr (every worker's log) in a file; yields (URL, process, log)."""
    port = procs.free_port()
    path = directory / "triage.yaml"
    path.write_text(yaml.safe_dump({**config(sim_url), "listen": {"host": "127.0.0.1", "port": port}}))
    command = [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--workers", "2", *flags]
    log = directory / "triage.log"
    with log.open("wb") as sink:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, env=env, cwd=procs.ROOT, stderr=sink)
        try:
            procs.wait_http(f"http://127.0.0.1:{port}/readyz", process)
            yield f"http://127.0.0.1:{port}", process, log
        finally:
            procs.stop(process)


def test_sighup_reloads_the_routers_of_every_worker(sim_url: str, tmp_path: Path) -> None:
    with logged_workers(sim_url, tmp_path) as (url, process, log):
        wait_for(lambda: _serves(url))  # both workers up (a SIGHUP while starting is ignored)
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: log.read_text().count("routers reloaded:") == 2, timeout_s=30)
        assert ask(url)
        assert process.poll() is None  # SIGHUP stops nothing


def test_sigterm_drains_every_worker(tmp_path: Path) -> None:
    """In-flight streams on both workers finish; new requests meanwhile get 503 shutting_down; exit 0."""
    with (
        procs.simulator(SLOW_SIMULATOR) as slow_url,
        logged_workers(slow_url, tmp_path, "--drain-delay-s", "1.5", "--grace-s", "10") as (url, process, log),
        ThreadPoolExecutor(8) as pool,
    ):
        streams = [pool.submit(ask, url, True) for _ in range(8)]
        time.sleep(0.5)  # the streams are running (each takes ~2 s)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        refused = [_refused(url) for _ in range(8)]
        answers = [stream.result(timeout=30) for stream in streams]
        assert all(refused), refused  # every worker refuses new requests while draining
        assert all(len(answer.split()) >= 30 for answer in answers)  # every stream ran to its end
        assert process.wait(timeout=30) == 0
    assert log.read_text().count("SIGTERM: draining;") == 2  # both workers drained


def _refused(url: str) -> bool:
    with httpx.Client() as client:  # a new connection
        response = client.post(f"{url}/v1/chat/completions", json={"model": "auto", "messages": MESSAGES})
    return response.status_code == 503 and response.json()["error"]["code"] == "shutting_down"


def test_workers_that_cannot_start_make_the_supervisor_give_up(sim_url: str, tmp_path: Path) -> None:
    """A router artifact missing fails every worker's start-up: the supervisor exits non-zero, not loops."""
    broken = config(sim_url)
    broken["profiles"]["auto"] = {"router": "ngram", "router_artifact": str(tmp_path)}  # an empty folder
    port = procs.free_port()
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({**broken, "listen": {"host": "127.0.0.1", "port": port}}))
    command = [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--workers", "2"]
    process = subprocess.run(command, env={**os.environ}, cwd=procs.ROOT, capture_output=True, text=True, timeout=120)
    assert process.returncode == 3, process.stderr[-2000:]  # uvicorn's status for a failed start-up
    assert "giving up" in process.stderr
    assert "missing router artifact" in process.stderr


def test_workers_of_a_killed_supervisor_drain_and_exit(two_workers: tuple[str, subprocess.Popen[bytes]]) -> None:
    """SIGKILL leaves the supervisor no chance to stop its workers: they notice and stop themselves."""
    _url, process = two_workers
    workers = children(process.pid)
    process.kill()
    process.wait()

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in workers)

    wait_for(gone, timeout_s=30)  # the parent check runs each second, then --drain-delay-s 0 and the grace


def _alive(pid: int) -> bool:
    """Not a zombie (the workers' new parent reaps them)."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False
