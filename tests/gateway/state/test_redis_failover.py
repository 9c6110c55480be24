"""A real gateway survives a Redis failover (Sentinel, and Cluster) and reconnects by itself.

The gateway runs with API keys and a budget in Redis. The primary holding the keys is
killed: a key verified moments ago keeps working, a key never verified is refused (503,
auth fails closed), and once the replica is promoted the same gateway process, untouched,
creates and serves new keys again and reports Redis ``ok``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.crc import key_slot

from gateway.local import processes as procs
from gateway.local import redis_topologies as topo
from gateway.state.keys import PREFIX
from tests.conftest import tier

MASTER = "master-key-for-failover-0123456789"
ENV = {"TRIAGE_MASTER_KEY": MASTER}
ADMIN = {"Authorization": f"Bearer {MASTER}"}
BODY = {"model": "cheap", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}

# (redis.url, kill the primary that holds the keys, has a replica taken over?)
Topology = tuple[str, Callable[[], None], Callable[[], bool]]


@pytest.fixture(params=["sentinel", "cluster"])
def topology(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Topology]:
    if request.param == "sentinel":
        with topo.redis_sentinel(tmp_path) as (url, nodes, primary):
            sentinel = int(url.removeprefix("redis+sentinel://").split(",")[0].rsplit(":", 1)[1])
            yield url, lambda: nodes.kill(primary), lambda: topo.sentinel_primary(sentinel) not in (primary, None)
        return
    with topo.redis_cluster(tmp_path) as (url, nodes):
        first = next(iter(nodes.processes))
        owner = topo.slot_owner(first, key_slot(f"{PREFIX}:ids".encode()))
        survivor = next(port for port in nodes.processes if port != owner)

        def promoted() -> bool:
            return topo.slot_owner(survivor, key_slot(f"{PREFIX}:ids".encode())) != owner

        yield url, lambda: nodes.kill(owner), promoted


def config(sim_url: str, redis_url: str) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic"}},
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
        "budget": {"limit_usd": 100.0},
        "cache": {"enabled": False},
        # generous timeouts: this machine also runs the other tests' processes
        "redis": {"url": redis_url, "op_timeout_ms": 500, "connect_timeout_ms": 500, "retry_interval_s": 0.3},
    }


def new_key(url: str, name: str) -> httpx.Response:
    return httpx.post(f"{url}/admin/keys", headers=ADMIN, json={"name": name, "rpm": 100}, timeout=10)


def chat(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_the_gateway_rides_out_a_failover(topology: Topology, sim_url: str, tmp_path: Path) -> None:
    redis_url, kill_primary, taken_over = topology
    with procs.gateway(config(sim_url, redis_url), tmp_path, ENV) as url:
        verified, unverified = new_key(url, "verified").json()["key"], new_key(url, "unverified").json()["key"]
        assert chat(url, verified).status_code == 200
        assert httpx.get(f"{url}/readyz").json()["redis"] == "ok"

        kill_primary()
        refused = chat(url, unverified)  # Redis is gone, the failover has not happened yet
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "auth_unavailable", refused.text
        assert chat(url, verified).status_code == 200  # verified in the last auth.verified_cache_s

        deadline = time.monotonic() + 30
        while not taken_over() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert taken_over(), "no replica was promoted"
        created = new_key(url, "after")
        while created.status_code != 201 and time.monotonic() < deadline:
            time.sleep(0.2)
            created = new_key(url, "after")
        assert created.status_code == 201, created.text  # the same process reached the new primary by itself
        assert chat(url, created.json()["key"]).status_code == 200
        assert httpx.get(f"{url}/readyz").json()["redis"] == "ok"
