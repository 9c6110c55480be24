"""Real processes for the load benchmarks, with their PIDs: the simulator, Triage, LiteLLM proxy, py-spy.

``gateway.local.processes`` yields only URLs; the load benchmark also needs each server's PID to read
its CPU time (``/proc/PID/stat`` utime+stime, children included) and RSS (``VmRSS``).
Triage is started with ``--drain-delay-s 0`` so stopping it between scenarios is instant.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from common import ROOT  # type: ignore[import-not-found]

from gateway.local import processes as procs

LITELLM_VENV = Path(os.environ.get("LITELLM_PROXY_VENV", ROOT / ".venv-litellm-proxy"))
LITELLM_KEY = "sk-bench"
MASTER_KEY_ENV = "TRIAGE_MASTER_KEY"
MASTER_KEY = "bench-master-key-not-secret"  # Triage's master key in these runs (loopback only)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PYSPY_HZ = 400


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    pid: int
    key: str | None = None  # the API key a client sends (Triage: one created through /admin/keys)


NICE = -10  # as root: other jobs on this shared machine (test suites) preempt the benchmark less


def pin(core: int | str) -> list[str]:
    """``nice -n -10 taskset -c CORE`` (each part only where it works); both exec, so the PID is the server's."""
    prefix = ["nice", "-n", str(NICE)] if os.geteuid() == 0 and shutil.which("nice") else []
    return prefix + (["taskset", "-c", str(core)] if shutil.which("taskset") else [])


def prioritise_self(core: int) -> None:
    """Pin this process (the load generator) to ``core`` and raise its priority like the servers'."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {core})
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, NICE)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        MASTER_KEY_ENV: MASTER_KEY,
    }


@contextlib.contextmanager
def _process(command: list[str], ready_url: str, log: Path, cwd: Path, timeout_s: float = 90) -> Iterator[int]:
    """Run ``command`` with its output (the request log included) into ``log``, until it is ready."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=_env(), cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            procs.wait_http(ready_url, process, timeout_s)
            yield process.pid
        finally:
            procs.stop(process)


@contextlib.contextmanager
def simulator(args: Sequence[str], directory: Path, core: int) -> Iterator[Server]:
    port = procs.free_port()
    command = [*pin(core), sys.executable, "-m", "gateway", "simulate", "--port", str(port), *args]
    with _process(command, f"http://127.0.0.1:{port}/health", directory / f"sim-{port}.log", ROOT) as pid:
        yield Server(f"http://127.0.0.1:{port}/v1", pid)


def create_key(url: str, name: str = "bench") -> str:
    """A real API key through Triage's admin API (no limits: every profile and tier), as a client gets one."""
    import httpx

    response = httpx.post(
        f"{url}/admin/keys", json={"name": name}, headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["key"])


def workers_flag() -> bool:
    """Whether this checkout's ``triage serve`` takes ``--workers N``."""
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, env=_env()
    )
    return "--workers" in out.stdout


@contextlib.contextmanager
def triage(config: dict[str, Any], directory: Path, core: int | str, workers: int = 1) -> Iterator[Server]:
    """``triage serve`` on ``config`` pinned to ``core`` (a core, or a taskset list such as ``0,1``), with
    ``--workers N`` whenever this checkout's ``serve`` takes it (its default is one per available CPU);
    yields its URL, PID and, with ``auth.mode: keys``, a key created through ``/admin/keys``."""
    port = procs.free_port()
    path = directory / f"triage-{port}.yaml"
    path.write_text(yaml.safe_dump({**config, "listen": {"host": "127.0.0.1", "port": port}}))
    command = [
        *pin(core),
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--config",
        str(path),
        "--drain-delay-s",
        "0",
        "--grace-s",
        "2",
        *(["--workers", str(workers)] if workers > 1 or workers_flag() else []),
    ]
    with _process(command, f"http://127.0.0.1:{port}/readyz", directory / f"triage-{port}.log", ROOT) as pid:
        url = f"http://127.0.0.1:{port}"
        keys = config.get("auth", {}).get("mode") == "keys"
        yield Server(url, pid, create_key(url) if keys else None)


def litellm_config(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """LiteLLM proxy config: one ``model_list`` entry per name, default routing, no database, a master key."""
    entries = [
        {"model_name": name, "litellm_params": {"api_key": "dummy", **params}} for name, params in models.items()
    ]
    return {"model_list": entries, "general_settings": {"master_key": LITELLM_KEY}}


def litellm_available() -> bool:
    return (LITELLM_VENV / "bin" / "litellm").exists()


@contextlib.contextmanager
def litellm_proxy(
    models: dict[str, dict[str, Any]], directory: Path, core: int | str, workers: int = 1
) -> Iterator[Server]:
    """``litellm --config FILE --port P --num_workers N`` from its own venv, on loopback, its default logging."""
    port = procs.free_port()
    path = directory / f"litellm-{port}.yaml"
    path.write_text(yaml.safe_dump(litellm_config(models)))
    command = [
        *pin(core),
        str(LITELLM_VENV / "bin" / "litellm"),
        "--config",
        str(path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--num_workers",
        str(workers),
    ]
    with _process(
        command,
        f"http://127.0.0.1:{port}/health/liveliness",
        directory / f"litellm-{port}.log",
        directory,
        timeout_s=180,
    ) as pid:
        yield Server(f"http://127.0.0.1:{port}", pid, LITELLM_KEY)


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo and len(pids) < 256:
        current = todo.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(c) for c in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
    return pids


def cpu_split(pid: int) -> tuple[float, float]:
    """(utime, stime) of ``pid`` and its descendants, in seconds."""
    user = system = 0
    for each in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            user, system = user + int(fields[11]), system + int(fields[12])  # fields 14 and 15 of stat
    return user / CLK_TCK, system / CLK_TCK


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its descendants, in seconds."""
    return sum(cpu_split(pid))


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and its descendants, in MiB."""
    total = 0
    for each in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def core_jiffies(core: int) -> tuple[int, int]:
    """(busy, total) jiffies of one CPU core from ``/proc/stat`` (busy = all but idle and iowait)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{core} "):
            values = [int(v) for v in line.split()[1:]]
            return sum(values) - values[3] - values[4], sum(values)
    return 0, 0


def pyspy_binary() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def pyspy(pid: int, out: Path, fmt: str, duration_s: int, core: int) -> Iterator[subprocess.Popen[bytes] | None]:
    """``py-spy record`` on ``pid`` for ``duration_s`` (non-blocking sampling, 250 Hz), in ``fmt``."""
    binary = pyspy_binary()
    if binary is None:
        yield None
        return
    command = [
        *pin(core),
        binary,
        "record",
        "--pid",
        str(pid),
        "--output",
        str(out),
        "--format",
        fmt,
        "--duration",
        str(duration_s),
        "--rate",
        str(PYSPY_HZ),
        "--nonblocking",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        try:
            process.wait(timeout=duration_s + 30)
        except subprocess.TimeoutExpired:
            procs.stop(process)
