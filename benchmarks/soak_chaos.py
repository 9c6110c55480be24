"""The chaos schedule and its driver: SIGKILL a gateway, restart it; SIGTERM another, restart it;
kill a Redis primary and wait for the failover.

Events are placed at fractions of the run, so a 10-minute soak and a 75-second smoke go
through the same story. The driver runs in a thread (starting a gateway blocks for
seconds) and stamps every event with the wall clock the client also uses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from soak_procs import Replica  # type: ignore[import-not-found]

from gateway.local import redis_topologies as topo

# (fraction of the run, action); the phases of the report are the spans between them
SCHEDULE = (
    (0.14, "sigkill"),
    (0.22, "restart_killed"),
    (0.34, "sigterm"),
    (0.44, "restart_drained"),
    (0.56, "kill_redis_primary"),
)


@dataclass(frozen=True, slots=True)
class Event:
    at: float  # wall clock
    name: str
    detail: str = ""


@dataclass
class Chaos:
    """Runs ``SCHEDULE`` against replicas ``killed`` (SIGKILL) and ``drained`` (SIGTERM) and the cluster."""

    start: float
    seconds: float
    killed: Replica
    drained: Replica
    replicas: list[Replica]
    nodes: topo.Nodes
    redis_slot: int  # the slot whose primary is killed
    events: list[Event] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, name: str, detail: str = "", at: float | None = None) -> None:
        with self._lock:
            self.events.append(Event(time.time() if at is None else at, name, detail))

    def run(self) -> None:
        actions: dict[str, Callable[[], None]] = {
            "sigkill": self._sigkill,
            "restart_killed": self._restart_killed,
            "sigterm": self._sigterm,
            "restart_drained": self._restart_drained,
            "kill_redis_primary": self._kill_primary,
        }
        for fraction, name in SCHEDULE:
            time.sleep(max(0.0, self.start + fraction * self.seconds - time.time()))
            try:
                actions[name]()
            except (RuntimeError, OSError, httpx.HTTPError) as exc:
                self.errors.append(f"{name}: {exc}")
                self.note("chaos_error", f"{name}: {exc}")

    def _sigkill(self) -> None:
        at = time.time()
        self.killed.kill()
        self.note("sigkill", self.killed.name, at)

    def _restart_killed(self) -> None:
        self.note("restart", self.killed.name)
        self.killed.start()
        self.note("ready", self.killed.name)

    def _sigterm(self) -> None:
        self.note("sigterm", self.drained.name)
        self.drained.terminate()
        code = self.drained.wait_exit()
        self.note("exited", f"{self.drained.name} status {code}")
        if code != 0:
            self.errors.append(f"{self.drained.name} exited with {code} after SIGTERM (expected 0)")

    def _restart_drained(self) -> None:
        self.note("restart", self.drained.name)
        self.drained.start()
        self.note("ready", self.drained.name)

    def _kill_primary(self) -> None:
        survivor = next(iter(self.nodes.processes))
        owner = topo.slot_owner(survivor, self.redis_slot)
        survivor = next(port for port in self.nodes.processes if port != owner)
        at = time.time()
        self.nodes.kill(owner)
        self.note("kill_redis_primary", f"port {owner}", at)
        topo.wait_until(lambda: _owner_or_none(survivor, self.redis_slot) not in (owner, None), "a failover", 60)
        self.note("failover", f"slot {self.redis_slot} now on port {topo.slot_owner(survivor, self.redis_slot)}")
        topo.wait_until(self._redis_ok_everywhere, "every gateway reports Redis ok", 60)
        self.note("redis_ok", "every replica's /readyz says redis ok")

    def _redis_ok_everywhere(self) -> bool:
        return all(_readyz(replica.url).get("redis") == "ok" for replica in self.replicas)


def _owner_or_none(port: int, slot: int) -> int | None:
    try:
        return int(topo.slot_owner(port, slot))
    except RuntimeError:  # no primary serves the slot yet
        return None


def _readyz(url: str) -> dict[str, Any]:
    try:
        body = httpx.get(f"{url}/readyz", timeout=1.0).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}
