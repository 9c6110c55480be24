"""The ladder and stickiness parts of a profile's config, and their checks.

A profile's ``ladder`` lists its tiers cheapest first with the share of traffic each should
get; ``cheap_tier``/``frontier_tier``/``frontier_share`` are the two-rung ladder they have
always meant. A ladder fills those three from its ends (bottom tier, top tier, top share), so
everything that reads them (the savings counterfactual, the quality loop, the share gauge)
reads the ladder's ends; given alongside a ladder they must agree with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SHARE_TOLERANCE = 1e-6
# body fields a tier may not drop: without them there is no request
UNDROPPABLE = frozenset({"model", "messages", "input", "prompt"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rung(_Frozen):
    """One rung of a ladder: a tier and the share of traffic it should get."""

    tier: str = Field(min_length=1)
    share: float = Field(ge=0.0, le=1.0)


class Sticky(_Frozen):
    """A conversation never routes below the highest rung it already used, for ``ttl_s`` after its last turn."""

    ttl_s: float = Field(1800.0, gt=0)
    max_conversations: int = Field(100_000, ge=1)  # the in-process map's bound (no redis.url)


class _TierKind(Protocol):
    @property
    def kind(self) -> str: ...


def fill_ladder_ends(data: Any) -> Any:
    """A profile's raw config with ``cheap_tier``, ``frontier_tier`` and ``frontier_share`` taken from its ladder.

    Values given alongside the ladder must agree with it; a malformed ladder is left to the schema.
    """
    if not isinstance(data, dict) or not isinstance(data.get("ladder"), list | tuple) or len(data["ladder"]) < 2:
        return data
    first, last = data["ladder"][0], data["ladder"][-1]
    ends = {
        "cheap_tier": _field(first, "tier"),
        "frontier_tier": _field(last, "tier"),
        "frontier_share": _field(last, "share"),
    }
    if any(value is None for value in ends.values()):
        return data
    filled = dict(data)
    for key, value in ends.items():
        if key in data and data[key] != value:
            raise ValueError(
                f"{key}: {data[key]!r} disagrees with the ladder ({value!r}); a ladder replaces "
                "cheap_tier, frontier_tier and frontier_share (its bottom tier, top tier and top share)"
            )
        filled[key] = value
    return filled


def _field(item: object, name: str) -> object:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def ladder_shape_problem(ladder: tuple[Rung, ...]) -> str | None:
    """What is wrong with a ladder on its own: too short, a tier twice, shares not summing to 1."""
    if len(ladder) < 2:
        return "needs at least two rungs (cheapest first)"
    names = [rung.tier for rung in ladder]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"tier(s) {', '.join(twice)} appear more than once"
    total = math.fsum(rung.share for rung in ladder)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        return f"the shares add up to {total:g}; they must add up to 1"
    return None


def rung_problems(profile: str, rungs: tuple[Rung, ...] | None, tiers: Mapping[str, _TierKind]) -> list[str]:
    """Each rung of ``profiles.<profile>.ladder`` must name a chat or reasoning tier."""
    problems: list[str] = []
    for index, rung in enumerate(rungs or ()):
        field = f"profiles.{profile}.ladder[{index}].tier"
        if rung.tier not in tiers:
            problems.append(f"{field}: no tier named {rung.tier!r}")
        elif tiers[rung.tier].kind == "embeddings":
            problems.append(f"{field}: {rung.tier!r} is an embeddings tier")
    return problems


def _droppable(drop: frozenset[str]) -> frozenset[str]:
    refused = sorted(drop & UNDROPPABLE)
    if refused:
        raise ValueError(f"cannot drop {', '.join(refused)}: without them there is no request")
    return drop


def _well_shaped(ladder: tuple[Rung, ...]) -> tuple[Rung, ...]:
    problem = ladder_shape_problem(ladder)
    if problem is not None:
        raise ValueError(problem)
    return ladder


# a tier's drop_params, and a profile's ladder, checked where they are declared
DropParams = Annotated[frozenset[str], AfterValidator(_droppable)]
Ladder = Annotated[tuple[Rung, ...], AfterValidator(_well_shaped)]
