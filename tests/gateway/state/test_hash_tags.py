"""Every multi-key Redis operation keeps its keys in one Redis Cluster slot (its hash tag).

Single-key operations (cache, budgets, sticky floors, request index, outcome stream) need
no tag. The multi-key ones: the rate-limit script (two counters), an API key's create and
revoke transactions and the listing's ``MGET``, and the breakers' ``MGET`` of every tier.
"""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from gateway.state.breakers import breaker_key
from gateway.state.keys import record_keys
from gateway.state.ratelimit import limit_keys


def one_slot(keys: list[str] | tuple[str, ...]) -> bool:
    return len({key_slot(key.encode()) for key in keys}) == 1


@pytest.mark.parametrize("key_id", ["key_0123456789abcdef", "master", "key_{odd}", "k}", "{"])
def test_every_multi_key_operation_stays_in_one_slot(key_id: str) -> None:
    assert one_slot(limit_keys(key_id, 29_000_000))  # the rate-limit script's two counters
    assert one_slot(limit_keys(key_id, 1) + limit_keys(key_id, 2))  # every window of one key, too
    assert one_slot(record_keys("ab" * 32, key_id) + record_keys("cd" * 32, "key_other"))  # keys: one slot
    assert one_slot([breaker_key(tier) for tier in ("cheap", "frontier", "tier with spaces", "t{x}")])


def test_the_tags_spread_rate_limits_over_the_slots() -> None:
    slots = {key_slot(limit_keys(f"key_{n:04d}", 1)[0].encode()) for n in range(200)}
    assert len(slots) > 150  # one tag per key, not one hot slot for every key's counters
