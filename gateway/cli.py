"""The ``triage`` command: serve, simulate, check-config, demo, router."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from gateway.settings import DEMO_CONFIG, ConfigError, Settings, config_warnings, load_settings


def _offline_defaults() -> None:
    """Keep litellm and tiktoken off the network: use their bundled data."""
    from gateway.request.tokens import use_bundled_encodings

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    use_bundled_encodings()


def _load(path: str | None) -> Settings:
    """The config at ``path`` (the demo config without one), with its key variables checked."""
    return load_settings(path or DEMO_CONFIG, os.environ)


def cmd_serve(args: argparse.Namespace) -> int:
    import signal

    from gateway.wiring import validate_settings

    # A SIGHUP (router reload) before the server installs its handler would kill the process
    # (the default action); while starting, the routers are being loaded fresh anyway.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    settings = _load(args.config)
    validate_settings(settings)  # fail before binding the port if the config cannot be served
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.worker_of is None:  # a supervised worker: its supervisor said it already
        for warning in config_warnings(settings):
            logging.getLogger("triage.config").warning("%s", warning)
    host, port = args.host or settings.listen.host, args.port or settings.listen.port
    if args.workers is None:
        from gateway.cpus import available_cpus

        args.workers = available_cpus()
    if args.workers > 1:
        return _supervise(args, host, port)
    from gateway.app import create_app
    from gateway.serve import ServeOptions, run_server

    options = ServeOptions(
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=args.access_log,
        drain_delay_s=args.drain_delay_s,
        grace_s=args.grace_s,
        header_timeout_s=settings.limits.header_timeout_s,
        reuse_port=args.worker_of is not None,
        parent_pid=args.worker_of,
    )
    return run_server(create_app(settings), options)


def _supervise(args: argparse.Namespace, host: str, port: int) -> int:
    """``--workers N``: N worker processes on one port under a supervisor (``gateway/workers.py``)."""
    from gateway.workers import supervise

    flags = [*(["--config", args.config] if args.config else []), "--drain-delay-s", str(args.drain_delay_s)]
    flags += ["--grace-s", str(args.grace_s), *(["--access-log"] if args.access_log else [])]
    try:
        return supervise(flags, host, port, args.workers, stop_timeout_s=args.drain_delay_s + args.grace_s + 15)
    except OSError as exc:
        print(f"triage: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _worker_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return count


def cmd_check_config(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.wiring import build_runtime

    if (args.file is None) == (args.config is None):
        raise ConfigError("check-config: name the config file once, as FILE or --config FILE")
    path = args.file or args.config
    settings = _load(path)  # every schema and key-variable problem in one error
    runtime = build_runtime(settings)
    asyncio.run(runtime.aclose())
    warnings = config_warnings(settings)
    for warning in warnings:
        print(f"triage: config warning: {warning}", file=sys.stderr)
    tiers = ", ".join(f"{name} ({tier.model}, {tier.resolved_transport})" for name, tier in settings.tiers.items())
    note = f" ({len(warnings)} warning(s), on stderr)" if warnings else ""
    print(f"{path}: ok{note}")
    print(f"  tiers: {tiers}")
    for name, profile in settings.profiles.items():
        if profile.ladder is not None:
            rungs = ", ".join(f"{rung.tier} {rung.share:g}" for rung in profile.ladder)
            print(f"  profile {name}: router {profile.router}, ladder {rungs}")
        else:
            print(f"  profile {name}: router {profile.router}, frontier_share {profile.frontier_share}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from gateway.simulator.cli import run

    return run(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.local.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="Triage: the model-routing gateway.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway", description="Run the gateway.")
    serve.add_argument("--config", help="YAML config file (default: the embedded demo config)")
    serve.add_argument("--host", help="override listen.host")
    serve.add_argument("--port", type=int, help="override listen.port")
    serve.add_argument("--access-log", action="store_true", help="log every HTTP request (uvicorn's access log)")
    serve.add_argument(
        "--drain-delay-s",
        type=float,
        default=5.0,
        help="on SIGTERM, answer /readyz and new requests with 503 for this long before closing the listener "
        "(default: 5)",
    )
    serve.add_argument(
        "--grace-s",
        type=int,
        default=25,
        help="then wait this long for in-flight requests and streams to finish (default: 25)",
    )
    serve.add_argument(
        "--workers",
        type=_worker_count,
        help="worker processes on the one port (default: the CPUs this process may run on, capped by the "
        "container's CPU limit; 1: a single process, no supervisor)",
    )
    serve.add_argument("--worker-of", type=int, help=argparse.SUPPRESS)  # set by the supervisor: its pid
    serve.set_defaults(func=cmd_serve)

    check = commands.add_parser(
        "check-config",
        help="validate a config file and exit",
        description=(
            "Validate a config file: schema, tiers, profiles, routers, secrets and prices. Every schema and "
            "key-variable problem is listed at once; exit 2 if there is any, 0 if it can be served (warnings, "
            "such as an OpenAI-protocol api_base without /v1, go to stderr)."
        ),
    )
    check.add_argument("file", nargs="?", help="YAML config file")
    check.add_argument("--config", help="the same, as serve takes it")
    check.set_defaults(func=cmd_check_config)

    simulate = commands.add_parser(
        "simulate",
        help="run the simulated OpenAI-compatible upstream",
        description=(
            "Run the simulated OpenAI-compatible upstream (sim-cheap, sim-mid, sim-frontier, sim-reasoning) "
            "with fault injection."
        ),
    )
    from gateway.simulator.cli import add_arguments as add_simulator_arguments

    add_simulator_arguments(simulate)
    simulate.set_defaults(func=cmd_simulate)

    demo = commands.add_parser(
        "demo",
        help="start the simulator and the gateway, and route sample prompts",
        description="Start the simulator and the gateway on the demo config, route sample "
        "prompts through it and print each route; then keep serving until Ctrl-C.",
    )
    from gateway.local.demo import add_arguments as add_demo_arguments

    add_demo_arguments(demo)
    demo.set_defaults(func=cmd_demo)
    _add_router_commands(commands)
    from gateway.quality.cli import add_commands as add_quality_commands

    add_quality_commands(commands)
    return parser


def _add_router_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    try:
        from routers import cli as router_cli
    except ImportError:
        return
    router = commands.add_parser(
        "router",
        help="train, evaluate and run routers",
        description=("Train, calibrate, evaluate and run the routers on routing data."),
    )
    router_cli.add_arguments(router)
    router.set_defaults(func=router_cli.run)


def main(argv: Sequence[str] | None = None) -> int:
    _offline_defaults()
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"triage: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
