"""Properties of the cache key over generated requests (hypothesis).

Equal requests (up to key order, null fields and ignored fields) share a key; a request
that differs in any field that can change the answer, or in its namespace or target,
does not.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.cache.key import IGNORED_FIELDS, cache_key, canonical_request

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# orjson writes neither lone surrogates nor integers beyond 64 bits; requests carry neither
# (the handler's JSON parser refuses them first).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
scalars = (
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | text
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
# The canonical body carries the target under this name (see test_a_body_field_named_like_the_target_...).
TARGET_SLOT = "__target__"
KNOWN_PARAMS = ("temperature", "top_p", "max_tokens", "seed", "stop", "n", "tools", "tool_choice", "response_format")
param_names = (st.sampled_from(KNOWN_PARAMS) | text).filter(lambda name: name not in IGNORED_FIELDS | {TARGET_SLOT})
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant", "tool"]), "content": text | json_values},
        optional={"name": text, "tool_call_id": text, "tool_calls": json_values},
    ),
    min_size=1,
    max_size=4,
)
payloads = st.fixed_dictionaries(
    {"model": text, "messages": messages}, optional={"user": text, "stream": st.booleans()}
).flatmap(lambda base: st.dictionaries(param_names, json_values, max_size=5).map(lambda extra: {**extra, **base}))


def key(payload: dict[str, Any], namespace: str = "anon", target: str = "auto") -> str:
    return cache_key(namespace, target, payload)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """``value`` with every object's keys in a random order (arrays keep theirs: order matters there)."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


def with_nulls(value: Any, rnd: random.Random, names: list[str]) -> Any:
    """``value`` with ``None``-valued fields added to objects (not to arrays: a null element counts)."""
    if isinstance(value, dict):
        grown = {k: with_nulls(v, rnd, names) for k, v in value.items()}
        for name in rnd.sample(names, k=min(len(names), 2)):
            grown.setdefault(name, None)
        return grown
    if isinstance(value, list):
        return [with_nulls(v, rnd, names) for v in value]
    return value


def without_nulls(value: Any) -> Any:
    """What a value means to the key: object fields that are null are absent."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON text (stdlib json, not the canonicaliser's orjson): ``1``, ``1.0`` and ``true`` differ."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@PROPERTY_SETTINGS
@given(payload=payloads, rnd=st.randoms(use_true_random=False))
def test_key_order_never_changes_the_key(payload: dict[str, Any], rnd: random.Random) -> None:
    assert key(shuffled(payload, rnd)) == key(payload)


@PROPERTY_SETTINGS
@given(payload=payloads, rnd=st.randoms(use_true_random=False), names=st.lists(param_names, min_size=1, max_size=4))
def test_null_fields_never_change_the_key(payload: dict[str, Any], rnd: random.Random, names: list[str]) -> None:
    assert key(with_nulls(payload, rnd, names)) == key(payload)


@PROPERTY_SETTINGS
@given(payload=payloads, ignored=st.dictionaries(st.sampled_from(sorted(IGNORED_FIELDS)), json_values, min_size=1))
def test_ignored_fields_never_change_the_key(payload: dict[str, Any], ignored: dict[str, Any]) -> None:
    assert key({**payload, **ignored}) == key(payload)


@PROPERTY_SETTINGS
@given(payload=payloads, name=param_names | st.just("messages"), value=json_values)
def test_any_other_field_changes_the_key(payload: dict[str, Any], name: str, value: Any) -> None:
    changed = {**payload, name: value}
    if same_json(without_nulls(payload.get(name)), without_nulls(value)):
        assert key(changed) == key(payload)
    else:
        assert key(changed) != key(payload)


@PROPERTY_SETTINGS
@given(payload=payloads, namespaces=st.lists(text, min_size=2, max_size=2, unique=True))
def test_namespaces_never_share_a_key(payload: dict[str, Any], namespaces: list[str]) -> None:
    first, second = namespaces
    assert key(payload, namespace=first) != key(payload, namespace=second)


@PROPERTY_SETTINGS
@given(payload=payloads, targets=st.lists(text, min_size=2, max_size=2, unique=True))
def test_targets_never_share_a_key(payload: dict[str, Any], targets: list[str]) -> None:
    first, second = targets
    assert key(payload, target=first) != key(payload, target=second)


@PROPERTY_SETTINGS
@given(payload=payloads)
def test_keys_are_deterministic(payload: dict[str, Any]) -> None:
    again = copy.deepcopy(payload)
    assert key(payload) == key(again) == key(payload)
    assert canonical_request("auto", payload) == canonical_request("auto", again)
    assert payload == again  # computing a key never mutates the request


def test_a_body_field_named_like_the_target_changes_the_key() -> None:
    payload: dict[str, Any] = {"model": "auto", "messages": [{"role": "user", "content": "Hi"}]}
    assert key({**payload, TARGET_SLOT: "frontier"}) != key(payload)
