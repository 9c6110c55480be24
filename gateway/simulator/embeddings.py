"""``POST /v1/embeddings`` for ``sim-embedding``: deterministic unit vectors derived from a hash of each input.

An input is a string, an array of strings, an array of token ids, or an array of such arrays. Its vector depends
only on its text (or token ids): SHAKE-256 of it gives uniform numbers, Box-Muller makes them normal, and the
vector is normalised to length 1, so random texts are nearly orthogonal and similar texts are not more similar.
``dimensions`` (1 to the server's ``--embedding-dim``) keeps the first components and normalises again, as
OpenAI's shortened embeddings do. ``encoding_format: base64`` answers base64 of little-endian float32s.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from gateway.simulator.chat import Timing
from gateway.simulator.options import RequestError, positive_int
from gateway.simulator.paced import Context, Reply, unknown_model

EMBEDDING_MODEL = "sim-embedding"
EMBEDDING_SPEED = (15.0, 20_000.0)  # (ms before the answer, input tokens per second)
MAX_INPUTS = 2048
MAX_EMBEDDING_DIM = 8192
_ENCODINGS = frozenset({"float", "base64"})


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(t) is int and t >= 0 for t in value)


def parse_inputs(value: Any) -> list[str | list[int]]:
    """The inputs of a request: one per string or token array; raises RequestError on anything else."""
    if isinstance(value, str) and value:
        return [value]
    if _is_tokens(value):
        return [value]
    texts = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if isinstance(value, list) and 0 < len(value) <= MAX_INPUTS and (texts or all(map(_is_tokens, value))):
        return list(value)
    message = (
        "'input' must be a non-empty string, an array of non-empty strings, an array of token ids, or an array of "
        f"token id arrays, with at most {MAX_INPUTS} inputs."
    )
    raise RequestError(400, message, param="input")


def input_tokens(item: str | list[int]) -> int:
    """The tokens of one input: its length for token ids, else a quarter of its characters (at least 1)."""
    return len(item) if isinstance(item, list) else max(1, (len(item) + 3) // 4)


def vector(item: str | list[int], dimensions: int) -> npt.NDArray[np.float32]:
    """The unit vector of ``item`` in ``dimensions`` dimensions (a prefix of any longer one, normalised)."""
    key = item.encode() if isinstance(item, str) else b"\x00" + ",".join(map(str, item)).encode()
    digest = hashlib.shake_256(EMBEDDING_MODEL.encode() + b"\x1f" + key).digest(8 * dimensions)
    uniform = (np.frombuffer(digest, dtype="<u4").astype(np.float64) + 0.5) / 2.0**32
    normal = np.sqrt(-2.0 * np.log(uniform[0::2])) * np.cos(2.0 * np.pi * uniform[1::2])
    unit: npt.NDArray[np.float32] = (normal / np.linalg.norm(normal)).astype("<f4")
    return unit


def _dimensions(body: dict[str, Any], native: int) -> int:
    dimensions = positive_int(body, "dimensions")
    if dimensions is None:
        return native
    if dimensions > native:
        message = f"'dimensions' must be at most {native} for {EMBEDDING_MODEL}, got {dimensions}."
        raise RequestError(400, message, param="dimensions")
    return dimensions


def _encoding(body: dict[str, Any]) -> str:
    encoding = body.get("encoding_format", "float")
    if encoding is None:
        return "float"
    if encoding not in _ENCODINGS:
        message = f"Invalid value for 'encoding_format': expected 'float' or 'base64', got {encoding!r}."
        raise RequestError(400, message, param="encoding_format")
    return str(encoding)


def build_embeddings(body: Any, context: Context) -> Reply:
    """Plan the answer to an embeddings request; raises RequestError on a bad request."""
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", param="model")
    if model != EMBEDDING_MODEL:
        raise unknown_model(model)
    inputs = parse_inputs(body.get("input"))
    dimensions, encoding = _dimensions(body, context.embedding_dim), _encoding(body)
    data: list[dict[str, Any]] = []
    for index, item in enumerate(inputs):
        values = vector(item, dimensions)
        embedding: Any = base64.b64encode(values.tobytes()).decode() if encoding == "base64" else values
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(input_tokens(item) for item in inputs)
    payload = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    timing: Timing = context.timing(model)
    return Reply(timing, tokens, orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY))
