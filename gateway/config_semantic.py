"""The semantic cache's part of the config: a profile's ``cache.semantic`` and the global index bounds.

``profiles.<name>.cache.semantic: {enabled: true}`` turns it on for that profile with the
defaults below; see ``gateway.cache.semantic`` for what it does and README, "The semantic
cache", for when to enable it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SemanticCacheOptions(_Frozen):
    """``profiles.<name>.cache.semantic``: near-duplicate prompts answered from the cache."""

    enabled: bool = True
    threshold: float = Field(0.93, gt=0.0, le=1.0)  # cosine similarity a hit must reach
    max_turns: int = Field(1, ge=1)  # user turns a conversation may have (earlier turns must match exactly)
    encoder: Literal["embedding", "static"] = (
        "embedding"  # routers.vectors: MiniLM (measured better) or the static table
    )
    tools: bool = False  # also requests that declare tools or carry tool calls/results
    json_schema: bool = False  # also requests with response_format json_schema


class SemanticIndexSettings(_Frozen):
    """``cache.semantic_index``: the in-process vector index every replica keeps."""

    max_entries: int = Field(50_000, ge=1)  # vectors held per replica; the soonest to expire go first
    sync_interval_s: float = Field(1.0, gt=0)  # how often a replica reads the vectors others stored (Redis)
