"""The simulator's endpoints beyond chat completions, by path, and the models they add to ``GET /v1/models``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gateway.simulator.chat import MODEL_SPEEDS, model_payload, models_payload
from gateway.simulator.completions import build_completions
from gateway.simulator.embeddings import EMBEDDING_MODEL, EMBEDDING_SPEED, build_embeddings
from gateway.simulator.paced import Context, Reply
from gateway.simulator.responses import build_responses

Endpoint = Callable[[Any, Context], Reply]

ENDPOINTS: Mapping[str, Endpoint] = MappingProxyType(
    {
        "/v1/responses": build_responses,
        "/responses": build_responses,
        "/v1/embeddings": build_embeddings,
        "/embeddings": build_embeddings,
        "/v1/completions": build_completions,
        "/completions": build_completions,
    }
)

# model -> (time to first token in ms, tokens per second): the chat models, and sim-embedding (whose tokens are
# the input's, read rather than written)
SPEEDS: Mapping[str, tuple[float, float]] = MappingProxyType({**MODEL_SPEEDS, EMBEDDING_MODEL: EMBEDDING_SPEED})


def listing() -> dict[str, Any]:
    """The ``GET /v1/models`` list: the chat models and sim-embedding."""
    payload = models_payload()
    payload["data"].append(model_payload(EMBEDDING_MODEL))
    return payload
