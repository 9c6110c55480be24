"""Command line for the simulator: ``triage simulate`` and ``python -m gateway.simulator``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable

from gateway.simulator.faults import parse_flag
from gateway.simulator.judge import Truth, load_truth
from gateway.simulator.server import SimulatorConfig, SimulatorServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port to bind (default 8100; 0 = any free port)")
    parser.add_argument("--ttft-ms", type=float, default=None, help="time to first token for all models (ms)")
    parser.add_argument("--tokens-per-s", type=float, default=None, help="generation speed for all models")
    parser.add_argument("--answer-tokens", type=int, default=40, help="tokens per answer (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed for answers and fault rolls (default 0)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=RATE",
        help="inject a fault into a fraction of requests (every endpoint but /v1/models and /health), e.g. 500=0.1 or reset=0.05;after=2 (repeatable); "
        "KIND is 429, 500, 503, timeout, reset, truncate or malformed",
    )
    parser.add_argument(
        "--truth",
        metavar="FILE",
        default=None,
        help='JSONL of {"prompt": str, "scores": {"sim-cheap": q, "sim-frontier": q}}: the quality (0-1) of each '
        "model's answer to a prompt, which sim-judge follows; other prompts get seeded default qualities",
    )
    parser.add_argument(
        "--judge-position-bias",
        type=float,
        default=0.0,
        metavar="P",
        help="probability that sim-judge prefers answer A regardless of quality (default 0)",
    )
    parser.add_argument(
        "--embedding-dim",
        type=int,
        default=256,
        metavar="N",
        help="length of sim-embedding's vectors, the most a request's `dimensions` may ask for (default 256)",
    )
    parser.add_argument("--log", action="store_true", help="log one line per request to stderr")


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Build the config; raises ValueError on bad flag values or a bad truth file."""
    try:
        truth = Truth() if args.truth is None else load_truth(args.truth)
    except OSError as exc:
        raise ValueError(f"cannot read truth file {args.truth}: {exc.strerror or exc}") from None
    return SimulatorConfig(
        ttft_ms=args.ttft_ms,
        tokens_per_s=args.tokens_per_s,
        answer_tokens=args.answer_tokens,
        seed=args.seed,
        faults=tuple(parse_flag(value) for value in args.fault),
        log=args.log,
        truth=truth,
        judge_position_bias=args.judge_position_bias,
        embedding_dim=args.embedding_dim,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def _main(config: SimulatorConfig, host: str, port: int) -> int:
    server = SimulatorServer(config)
    try:
        bound = await server.start(host, port)
    except OSError as exc:
        print(f"simulator: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    shown_host = f"[{host}]" if ":" in host else host
    print(f"simulator listening on http://{shown_host}:{bound}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the simulator until SIGINT/SIGTERM; returns the process exit code."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        try:
            return runner.run(_main(config, args.host, args.port))
        except KeyboardInterrupt:
            return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (``python -m gateway.simulator``)."""
    parser = argparse.ArgumentParser(prog="python -m gateway.simulator", description="OpenAI-compatible simulator")
    add_arguments(parser)
    return run(parser.parse_args(argv))
