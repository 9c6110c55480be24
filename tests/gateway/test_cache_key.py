"""The cache key: every output-affecting field changes it; the rest do not."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.cache.key import cache_key, canonical_request, tenant_namespace

BASE: dict[str, Any] = {
    "model": "auto",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    "temperature": 0,
}


def key(payload: dict[str, Any], namespace: str = "anon", target: str = "auto") -> str:
    return cache_key(namespace, target, payload)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tools", [{"type": "function", "function": {"name": "f"}}]),
        ("tool_choice", "required"),
        ("response_format", {"type": "json_object"}),
        ("temperature", 0.5),
        ("top_p", 0.9),
        ("max_tokens", 10),
        ("max_completion_tokens", 10),
        ("stop", ["\n"]),
        ("seed", 7),
        ("n", 2),
        ("presence_penalty", 0.5),
        ("frequency_penalty", 0.5),
        ("logit_bias", {"50256": -100}),
        ("logprobs", True),
        ("reasoning_effort", "high"),  # a field Triage does not know counts, to be safe
    ],
)
def test_output_affecting_fields_change_the_key(field: str, value: Any) -> None:
    assert key({**BASE, field: value}) != key(BASE)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", "alice"),
        ("stream", True),
        ("stream_options", {"include_usage": True}),
        ("model", "other"),
        ("metadata", {"a": "b"}),
    ],
)
def test_fields_that_do_not_change_the_output_keep_the_key(field: str, value: Any) -> None:
    assert key({**BASE, field: value}) == key(BASE)


def test_messages_are_normalised() -> None:
    reordered = {
        "temperature": 0,
        "messages": [{"content": "Be brief.", "role": "system"}, {"content": "Hi", "role": "user", "name": None}],
        "model": "auto",
    }
    assert key(reordered) == key(BASE)
    changed = {**BASE, "messages": [{"role": "user", "content": "Hi!"}]}
    assert key(changed) != key(BASE)


def test_target_and_namespace_are_part_of_the_key() -> None:
    assert key(BASE, target="cheap") != key(BASE)
    assert key(BASE, namespace="t123") != key(BASE)
    assert key(BASE, namespace="t123").startswith("triage:cache:v2:t123:")


def test_whole_number_floats_equal_integers() -> None:
    assert key({**BASE, "temperature": 0.0}) == key({**BASE, "temperature": 0})
    assert key({**BASE, "temperature": 0.5}) != key({**BASE, "temperature": 0})


def test_null_fields_are_the_same_as_absent() -> None:
    assert canonical_request("auto", {**BASE, "seed": None}) == canonical_request("auto", BASE)


def test_tenant_namespace() -> None:
    assert tenant_namespace(None) == "anon"
    assert tenant_namespace("Bearer a") != tenant_namespace("Bearer b")
    assert tenant_namespace("Bearer a") == tenant_namespace("Bearer a")
    assert "Bearer" not in tenant_namespace("Bearer secret-key")
