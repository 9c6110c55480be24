"""``triage serve --workers N`` (N > 1): a supervisor process and N worker processes on one port.

::

    supervisor ── binds host:port once with SO_REUSEPORT (never listens: it keeps the
    │             port and fails fast when it is taken), makes the metrics directory,
    │             then starts N workers, each ``triage serve --workers 1`` plus
    ├─ worker 0   its own SO_REUSEPORT listener on the same port: the kernel spreads
    ├─ worker 1   new connections over the listeners (a hash of the client's address)
    └─ ...        and each worker is the whole gateway, drain and SIGHUP included

- **Metrics** add up: the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory,
  or the one given, emptied) before any worker imports ``prometheus_client``, so every
  worker writes its samples to files there and any worker's ``/metrics`` and ``/ui`` read
  the sum over all of them (``observe/metrics.py``). A dead worker's gauges are dropped.
- **Signals**: SIGTERM and SIGINT are passed to every worker (each drains: ``serve.py``),
  then the supervisor waits for all of them and exits 0 if they all exited 0. SIGHUP is
  passed on: every worker reloads its routers. Workers run in their own process group,
  so a terminal's Ctrl-C reaches them once, through the supervisor.
- **Restarts**: a worker that exits while the supervisor is not stopping is started again
  (after a pause that grows while workers keep dying young, up to ``MAX_BACKOFF_S``). After
  ``GIVE_UP_AFTER`` young deaths in a row the workers cannot start (a router artifact missing,
  say): the supervisor stops the rest and exits with the last worker's status, as one process would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from gateway.observe.metrics import MULTIPROC_ENV, WORKER_ENV
from gateway.sockets import reuse_port_socket

log = logging.getLogger("triage.workers")

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
YOUNG_S = 30.0  # a worker that dies sooner than this after starting makes the next restart wait longer
MAX_BACKOFF_S = 10.0
GIVE_UP_AFTER = 5  # young deaths in a row: the workers cannot start (a router artifact missing, ...)
POLL_S = 0.1


@contextlib.contextmanager
def metrics_directory(environ: dict[str, str]) -> Iterator[Path]:
    """The multiprocess metrics directory: ``PROMETHEUS_MULTIPROC_DIR`` emptied, else a new one removed after."""
    given = environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="triage-metrics-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(slots=True)
class Worker:
    index: int
    process: subprocess.Popen[bytes]
    started: float


@dataclass(slots=True)
class Supervisor:
    """Starts ``count`` copies of ``command``, keeps them running, stops them."""

    command: Sequence[str]
    count: int
    environ: dict[str, str]
    stop_timeout_s: float  # after a stop signal: how long to wait for the workers before killing them
    workers: dict[int, Worker] = field(default_factory=dict)
    signals: list[signal.Signals] = field(default_factory=list)
    stopping_since: float | None = None
    backoff_s: float = 0.0
    young_deaths: int = 0
    failed: int | None = None  # the exit status after giving up on workers that cannot start

    def run(self) -> int:
        """Supervise until every worker has exited after a stop signal; 0 if all of them exited 0."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in FORWARDED}
        try:
            for index in range(self.count):
                self._start(index)
            log.info("supervisor %d: %d workers (pids %s)", os.getpid(), self.count, self._pids())
            return self._loop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._kill_all()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals.append(signal.Signals(signum))

    def _start(self, index: int) -> None:
        env = {**self.environ, WORKER_ENV: str(index)}
        process = subprocess.Popen(list(self.command), env=env, process_group=0)
        self.workers[index] = Worker(index, process, time.monotonic())

    def _loop(self) -> int:
        codes: dict[int, int] = {}
        while self.workers:
            self._forward_signals()
            for worker in list(self.workers.values()):
                code = worker.process.poll()
                if code is not None:
                    self._exited(worker, code, codes)
            if self.stopping_since is not None and time.monotonic() - self.stopping_since > self.stop_timeout_s:
                log.warning("workers still running %.0fs after the stop signal: killing them", self.stop_timeout_s)
                self._kill_all()
            time.sleep(POLL_S)
        if self.failed is not None:
            return self.failed
        return 0 if all(code == 0 for code in codes.values()) else 1

    def _forward_signals(self) -> None:
        while self.signals:
            sig = self.signals.pop(0)
            if sig != signal.SIGHUP and self.stopping_since is None:
                log.info("supervisor: %s: draining %d workers", sig.name, len(self.workers))
                self.stopping_since = time.monotonic()
            for worker in self.workers.values():
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(sig)

    def _exited(self, worker: Worker, code: int, codes: dict[int, int]) -> None:
        del self.workers[worker.index]
        _forget(worker.process.pid, self.environ.get(MULTIPROC_ENV))
        if self.stopping_since is not None:
            codes[worker.index] = code
            return
        lived = time.monotonic() - worker.started
        young = lived < YOUNG_S
        self.young_deaths = self.young_deaths + 1 if young else 0
        if self.young_deaths >= GIVE_UP_AFTER:
            self._give_up(code)
            return
        self.backoff_s = min(max(self.backoff_s * 2, 0.5), MAX_BACKOFF_S) if young else 0.0
        log.warning(
            "worker %d (pid %d) exited with %d after %.1fs; restarting it in %.1fs",
            worker.index,
            worker.process.pid,
            code,
            lived,
            self.backoff_s,
        )
        self._pause(self.backoff_s)
        if self.stopping_since is None:
            self._start(worker.index)

    def _give_up(self, code: int) -> None:
        """Workers that keep dying as they start will not serve: stop the others and exit with ``code``."""
        log.error(
            "workers exited %d times in a row within %.0fs of starting (last status %d): giving up",
            self.young_deaths,
            YOUNG_S,
            code,
        )
        self.failed = code or 1
        self.stopping_since = time.monotonic()
        for other in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                other.process.send_signal(signal.SIGTERM)

    def _pause(self, seconds: float) -> None:
        """Wait, but not through a stop signal."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.signals:
            time.sleep(POLL_S)

    def _kill_all(self) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()

    def _pids(self) -> str:
        return ", ".join(str(w.process.pid) for w in self.workers.values())


def _forget(pid: int, directory: str | None) -> None:
    """Drop a dead worker's live gauges from the metrics directory (its counters keep counting)."""
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def worker_command(argv: Sequence[str], host: str, port: int) -> list[str]:
    """The worker's command line: ``triage serve`` with ``argv`` (the serve flags), one worker, reusing the port."""
    return [
        sys.executable,
        "-m",
        "gateway",
        "serve",
        *argv,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--worker-of",
        str(os.getpid()),
    ]


def supervise(argv: Sequence[str], host: str, port: int, count: int, stop_timeout_s: float) -> int:
    """Reserve the port, make the metrics directory, run ``count`` workers until stopped."""
    holder = reuse_port_socket(host, port)
    try:
        with metrics_directory(dict(os.environ)) as directory:
            environ = {**os.environ, MULTIPROC_ENV: str(directory)}
            command = worker_command(argv, host, port)
            return Supervisor(command, count, environ, stop_timeout_s).run()
    finally:
        holder.close()
