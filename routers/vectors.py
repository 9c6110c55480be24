"""Prompt vectors for the gateway's semantic cache: the routers' own encoders behind one small seam.

Two encoders, by name (``ENCODERS``):

- ``static``: the token table the default router (``ensemble``, through its ``static``
  member) already embeds prompts with (``routers.static``): the mean of the prompt's
  token rows, L2-normalised, 256 dimensions, the first 512 tokens. ~0.05 ms for a short
  prompt, so it runs on the event loop (``inline``), like the router itself.
- ``embedding``: all-MiniLM-L6-v2, ONNX int8 (``routers.embedding``), the sentence encoder
  of the ``auto-precise`` profile's router: mean-pooled, L2-normalised, 384 dimensions, the
  first 96 tokens. ~1 ms for a short prompt, so callers run it off the event loop.

``fits(text)`` says whether the encoder sees the whole text (no truncation): a cache must
not match two prompts on the part an encoder happened to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from routers.registry import ARTIFACTS_DIR

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

ENCODERS = ("static", "embedding")


class PromptEncoder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def inline(self) -> bool:
        """Cheap enough to run on the event loop."""
        ...

    def fits(self, text: str) -> bool:
        """True when the encoder reads all of ``text``."""
        ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised float32 row per text."""
        ...


@dataclass(frozen=True, slots=True)
class _Encoder:
    name: str
    inline: bool
    model: Any  # routers.static.StaticEncoder or routers.embedding.OnnxEncoder
    max_tokens: int
    special_tokens: bool

    def fits(self, text: str) -> bool:
        encoding = self.model.tokenizer.encode(text, add_special_tokens=self.special_tokens)
        return len(encoding.ids) < self.max_tokens

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        vectors: NDArray[np.float32] = np.asarray(self.model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def load_prompt_encoder(name: str, artifacts: Path = ARTIFACTS_DIR) -> PromptEncoder:
    """The encoder called ``name`` (one of ``ENCODERS``), loaded from the shipped artifacts."""
    if name == "static":
        from routers.static import MAX_TOKENS, StaticEncoder

        return _Encoder("static", True, StaticEncoder.load(artifacts / "static"), MAX_TOKENS, False)
    if name == "embedding":
        from routers.embedding import MAX_TOKENS as ONNX_TOKENS
        from routers.embedding import OnnxEncoder

        return _Encoder("embedding", False, OnnxEncoder.load(artifacts / "embedding"), ONNX_TOKENS, True)
    raise ValueError(f"unknown prompt encoder {name!r}; known: {', '.join(ENCODERS)}")
