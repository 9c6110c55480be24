"""The soak's processes: gateways on fixed ports that can be killed and restarted, and HAProxy.

``gateway.local.processes`` picks a new port for every gateway it starts; behind a load
balancer a restarted replica must come back on the same address, so the soak keeps one
port per replica (``Replica``) and starts, kills (SIGKILL) or stops (SIGTERM, the drain)
the process behind it. HAProxy's config is generated here, with the settings an operator
would use in production (see ``haproxy_config``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.local import processes as procs

DRAIN_DELAY_S = 3.0  # > HAProxy's detection time (fall 2 x inter 500 ms + a check's timeout)
GRACE_S = 20
LOG_PREFIX = "soak-req"


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True", **extra}


@dataclass
class Replica:
    """One gateway replica: a name HAProxy knows, a fixed port, the current process (if any)."""

    name: str
    port: int
    config: dict[str, Any]
    directory: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.directory / f"gateway-{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 90.0) -> None:
        """Start ``triage serve`` on this replica's port and wait until ``/readyz`` answers 200."""
        path = self.directory / f"triage-{self.name}.yaml"
        path.write_text(yaml.safe_dump({**self.config, "listen": {"host": "127.0.0.1", "port": self.port}}))
        # one process per replica (``--workers 1``): a SIGKILL takes the replica and all it served at once
        command = [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--workers", "1"]
        command += ["--drain-delay-s", str(DRAIN_DELAY_S), "--grace-s", str(GRACE_S)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=_env(self.env), cwd=procs.ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        procs.wait_http(f"{self.url}/readyz", self.process, timeout_s)

    def kill(self) -> None:
        """SIGKILL: the process dies with its in-flight requests (a crash, an OOM kill)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> None:
        """SIGTERM: the gateway drains (``/readyz`` 503, then in-flight requests finish); returns at once."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout_s: float = 60.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            procs.stop(self.process, timeout_s=GRACE_S + DRAIN_DELAY_S + 5)


def haproxy_config(port: int, replicas: list[Replica]) -> str:
    """HAProxy in front of the replicas, as an operator would run it.

    - ``option httpchk GET /readyz``, every 500 ms, out after 2 failures, back after 2
      successes: a draining replica (``/readyz`` 503) is out within about a second, well
      inside its drain delay, so no request reaches it once it stops listening.
    - ``retry-on conn-failure 503``, ``retries 3``, ``option redispatch 1`` (every retry on
      another replica): a refused connection (a dead replica not yet marked down) never
      reached a gateway, and every 503 Triage sends (``shutting_down``, ``not_ready``,
      ``auth_unavailable``, ``no_eligible_route``) is decided before any upstream call, so
      re-sending either cannot charge twice. Not ``empty-response``, ``response-timeout`` or
      ``502``/``504``: those may follow an upstream call (a replica killed mid-request, an
      upstream failure the gateway already retried), so they reach the client.
    - ``http-reuse never``: a fresh server connection per request (cheap on loopback or a LAN).
    - One log line per request (``soak-req <x-request-id> <server> <status> <termination state>
      ...``), so a request without ``X-Backend`` can still be attributed. For a request in
      flight on a SIGKILLed replica HAProxy 2.6 closed the client's connection with neither
      an answer nor a log line; ``soak_checks.in_flight`` attributes those by time.
    - ``X-Backend`` on every response, HAProxy's own errors included (``http-after-response``),
      so the client can attribute each answer (and each 502 of a killed replica) to a replica.
    """
    servers = "\n".join(
        f"    server {r.name} 127.0.0.1:{r.port} check inter 500ms fall 2 rise 2 maxconn 256" for r in replicas
    )
    return f"""global
    maxconn 4096
    log stderr format raw local0 info

defaults
    mode http
    log global
    option dontlognull
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout check 1s

frontend soak
    bind 127.0.0.1:{port}
    capture request header X-Request-Id len 64
    log-format "{LOG_PREFIX} %[capture.req.hdr(0)] %s %ST %tsc %Ta %rc %bc"
    default_backend triage

backend triage
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    retries 3
    option redispatch 1
    retry-on conn-failure 503
    http-reuse never
    http-after-response set-header X-Backend %s
{servers}
"""


@dataclass
class HAProxy:
    """One HAProxy process in the foreground (``-db``), config checked before it starts."""

    port: int
    config: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, replicas: list[Replica], log: Path) -> None:
        binary = procs.tool("haproxy", "apt-get install haproxy; `make soak` installs it")
        self.config.write_text(haproxy_config(self.port, replicas))
        checked = subprocess.run([binary, "-c", "-q", "-f", str(self.config)], capture_output=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"haproxy rejects its config: {checked.stderr.decode()}")
        with log.open("ab") as out:
            self.process = subprocess.Popen([binary, "-db", "-f", str(self.config)], stdout=out, stderr=out)
        procs.wait_http(f"{replicas[0].url}/readyz", self.process)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # HAProxy marks servers up after `rise` checks
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}")
            if _answers(f"{self.url}/readyz"):
                return
            time.sleep(0.1)
        raise RuntimeError("haproxy did not route to a gateway within 20 s")

    def close(self) -> None:
        if self.process is not None:
            procs.stop(self.process)


def backends_from_log(log: Path) -> dict[str, str]:
    """Request id -> the replica HAProxy sent it to last, from HAProxy's request log."""
    found: dict[str, str] = {}
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == LOG_PREFIX and parts[2] not in ("<NOSRV>", "-"):
            found[parts[1]] = parts[2]
    return found


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False
