"""A tier's ``drop_params``: body fields removed before every call to that tier.

Some models refuse parameters others take (OpenAI's reasoning models answer a ``temperature``
other than 1 with a 400); a tier lists them in ``drop_params`` and its calls go without them,
instead of failing. Other tiers of the same route still get the client's body as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.upstream.base import Target


def for_tier(payload: Mapping[str, Any], target: Target) -> Mapping[str, Any]:
    """``payload`` without the fields ``target``'s tier drops (the same mapping when there are none)."""
    drop = target.tier.drop_params
    if not drop or drop.isdisjoint(payload):
        return payload
    return {key: value for key, value in payload.items() if key not in drop}
