"""``triage demo``: the simulator and the gateway on the demo config, routing sample prompts.

It starts both as real processes on loopback, sends a mix of easy and hard prompts
to the ``auto`` profile, prints where each one went and what it cost against
sending everything to the frontier, does the same through the four-rung ``ladder``
profile (``gateway.local.demo_ladder``: a summary row per rung), then keeps serving
until Ctrl-C (or exits at once with ``--once``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from gateway.local import processes
from gateway.local.demo_ladder import route_ladder
from gateway.settings import DEMO_CONFIG

SAMPLE_PROMPTS = (
    "What is the capital of France?",
    "Translate 'good morning, how are you?' into Spanish.",
    "Give me three name ideas for a coffee shop.",
    "Prove that there are infinitely many prime numbers, step by step.",
    "Write a Python function that returns the longest palindromic substring of a string, "
    "and explain why its time complexity is O(n^2).",
    "A train leaves at 3 pm travelling 60 km/h; a second leaves the same station at 4 pm at 90 km/h. "
    "How many hours after 3 pm does the second train catch up with the first?",
    "Which of these is a mammal? A. shark B. dolphin C. trout D. octopus Answer:",
    "Summarise the plot of Romeo and Juliet in one sentence.",
    "Compare the CAP-theorem trade-offs of Cassandra and Spanner, and explain which to choose for a bank ledger.",
    "What's 2 + 2?",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8080, help="gateway port (default 8080)")
    parser.add_argument("--sim-port", type=int, default=8100, help="simulator port (default 8100)")
    parser.add_argument("--profile", default="auto", help="profile to send the sample prompts to (default auto)")
    parser.add_argument("--once", action="store_true", help="exit after the sample prompts instead of serving on")


def _demo_config(port: int, sim_port: int, directory: Path) -> Path:
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["listen"]["port"] = port
    config["log_requests"] = False  # the demo prints its own table of routes
    for tier in config["tiers"].values():
        tier["api_base"] = f"http://127.0.0.1:{sim_port}/v1"
    path = directory / "demo.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _wait_until(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    try:
        processes.wait_http(url, process, timeout_s)
    except RuntimeError as exc:
        raise SystemExit(f"triage demo: {exc}") from None


@contextlib.contextmanager
def _processes(port: int, sim_port: int) -> Iterator[None]:
    with tempfile.TemporaryDirectory(prefix="triage-demo-") as tmp:
        config = _demo_config(port, sim_port, Path(tmp))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        sim = subprocess.Popen([sys.executable, "-m", "gateway", "simulate", "--port", str(sim_port)], env=env)
        serve = ["serve", "--config", str(config), "--drain-delay-s", "0", "--workers", "1"]  # one process
        gateway = subprocess.Popen([sys.executable, "-m", "gateway", *serve], env=env)
        try:
            _wait_until(f"http://127.0.0.1:{sim_port}/v1/models", sim)
            _wait_until(f"http://127.0.0.1:{port}/readyz", gateway)
            yield
        finally:
            for process in (gateway, sim):
                processes.stop(process)


def _route_samples(port: int, profile: str) -> int:
    frontier_price = yaml.safe_load(DEMO_CONFIG.read_text())["tiers"]["frontier"]["price"]
    total = counterfactual = 0.0
    failures = 0
    print(f"\n{'tier':<9} {'score':>6} {'ms':>6} {'cost $':>10}  prompt")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/v1", timeout=60.0) as client:
        for prompt in SAMPLE_PROMPTS:
            started = time.perf_counter()
            response = client.post(
                "/chat/completions", json={"model": profile, "messages": [{"role": "user", "content": prompt}]}
            )
            elapsed_ms = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                failures += 1
                print(f"{'error':<9} {'':>6} {elapsed_ms:6.0f} {'':>10}  {response.status_code} {response.text[:80]}")
                continue
            h = response.headers
            usage = response.json()["usage"]
            cost = float(h["x-triage-cost-usd"])
            total += cost
            counterfactual += (
                usage["prompt_tokens"] * frontier_price["input_per_mtok"]
                + usage["completion_tokens"] * frontier_price["output_per_mtok"]
            ) / 1e6
            short = prompt if len(prompt) <= 70 else prompt[:67] + "..."
            print(f"{h['x-triage-tier']:<9} {h['x-triage-score']:>6} {elapsed_ms:6.0f} {cost:10.6f}  {short}")
    print(
        f"\nspent ${total:.6f}; all-frontier would have cost ${counterfactual:.6f} "
        f"(saved {100 * (1 - total / counterfactual) if counterfactual else 0:.0f}%)"
    )
    return 1 if failures else 0


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def busy_port_message(port: int, sim_port: int) -> str | None:
    """Say which port is taken and which flag moves it, or None when both are free."""
    for value, flag, what in ((port, "--port", "gateway"), (sim_port, "--sim-port", "simulator")):
        if _port_in_use(value):
            return (
                f"triage demo: port {value} (the {what}'s) is already in use; pick another with {flag} N "
                f"(through make: make demo DEMO_ARGS='{flag} N')"
            )
    if port == sim_port:
        return f"triage demo: --port and --sim-port are both {port}; give them different values"
    return None


def run_demo(args: argparse.Namespace) -> int:
    problem = busy_port_message(args.port, args.sim_port)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    with _processes(args.port, args.sim_port):
        code = _route_samples(args.port, args.profile)
        code = max(code, route_ladder(args.port, SAMPLE_PROMPTS))
        if args.once:
            return code
        print(
            f"\nTriage is serving on http://127.0.0.1:{args.port}/v1 (simulator on :{args.sim_port}). Try:\n"
            f"  curl -s http://127.0.0.1:{args.port}/v1/chat/completions -H 'Content-Type: application/json' \\\n"
            f'    -d \'{{"model": "auto", "messages": [{{"role": "user", "content": "Hello!"}}]}}\'\n'
            "Press Ctrl-C to stop."
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0
