"""The soak's fixed parts: the gateway config, the keys, the simulator's faults, key creation, spend in Redis."""

from __future__ import annotations

import time
from typing import Any

import httpx
from redis.cluster import ClusterNode, RedisCluster
from redis.crc import key_slot
from soak_client import KeySpec  # type: ignore[import-not-found]

MASTER_KEY = "soak-master-key-0123456789abcdef"
MASTER_ENV = "TRIAGE_SOAK_MASTER_KEY"
PRICES = {
    "cheap": {"input_per_mtok": 0.10, "output_per_mtok": 0.40},
    "frontier": {"input_per_mtok": 2.50, "output_per_mtok": 10.00},
}
# a few percent of upstream calls fail; the gateway's retries and fallbacks absorb most of them
FAULTS = ("500=0.02", "503=0.01", "reset=0.01;after=2")
SIM_ARGS = ("--ttft-ms", "30", "--tokens-per-s", "400", "--answer-tokens", "40")
DAY_S = 86400


def keys(rate: float) -> list[KeySpec]:
    """Limited keys at fixed rates, the rest on an open key.

    Each limited key offers more than its limit in any minute window with at least 27 s of
    the run in it (a 55 s smoke run has one), so every limit is reached whatever second of
    the minute the run starts at; the budgets run out within about 20 s.
    """
    limited = [
        KeySpec("rpm-20", 1.0, rpm=20),
        KeySpec("rpm-40", 2.0, rpm=40),
        KeySpec("tpm-1500", 1.5, tpm=1500),
        KeySpec("budget-frontier", 0.5, model="frontier", budget_usd=0.004),
        KeySpec("budget-auto", 1.0, budget_usd=0.002),
    ]
    rest = rate - sum(k.rate for k in limited)
    if rest <= 0:
        raise ValueError(f"--rate must exceed {sum(k.rate for k in limited)} (the limited keys' share)")
    return [KeySpec("open", rest), *limited]


def gateway_config(sim_url: str, redis_url: str) -> dict[str, Any]:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": sim_url,
            "transport": "relay",
            "price": price,
            "timeout_s": 10,
        }
        for name, price in PRICES.items()
    }
    return {
        "tiers": tiers,
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "auth": {"mode": "keys", "master_key_env": MASTER_ENV},
        "cache": {"enabled": False},
        "budget": {"window": "day"},
        "redis": {"url": redis_url, "op_timeout_ms": 500, "connect_timeout_ms": 500, "retry_interval_s": 0.5},
        "log_level": "warning",
        "log_requests": False,
    }


def create_keys(url: str, specs: list[KeySpec]) -> tuple[dict[str, str], dict[str, str]]:
    """Create every key through the load balancer; returns (name -> secret, name -> key id)."""
    secrets, ids = {}, {}
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    for spec in specs:
        response = httpx.post(f"{url}/admin/keys", headers=headers, json=spec.admin_body(), timeout=10)
        response.raise_for_status()
        secrets[spec.name], ids[spec.name] = response.json()["key"], response.json()["id"]
    return secrets, ids


def budget_key(key_id: str, now: float) -> str:
    """The Redis key of a key's spend in the current day (``gateway/state/budgets.py``)."""
    return f"triage:budget:key:{key_id}:{int(now // DAY_S) * DAY_S}"


def budget_slot(key_id: str) -> int:
    return int(key_slot(budget_key(key_id, time.time()).encode()))


def spent(redis_url: str, ids: dict[str, str], specs: list[KeySpec]) -> dict[str, float]:
    """The gateways' own accounting: each budgeted key's spend counter in the cluster."""
    nodes = [ClusterNode(*address.rsplit(":", 1)) for address in redis_url.removeprefix("redis+cluster://").split(",")]
    client = RedisCluster(startup_nodes=nodes, socket_timeout=2.0)
    try:
        out = {}
        for spec in (s for s in specs if s.budget_usd):
            value = client.get(budget_key(ids[spec.name], time.time()))
            out[spec.name] = float(value or 0.0)
        return out
    finally:
        client.close()
