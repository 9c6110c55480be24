"""The ``static`` router: a model2vec-distilled MiniLM (a static token table) plus a trained head.

The encoder is a table with one row per MiniLM token id (float16, 256 dims, written by
``routers.training.distill_static``). A prompt's embedding is the mean of the rows of
its tokens (no special tokens, unknown tokens dropped, the first ``MAX_TOKENS`` tokens
of the view), L2-normalised: ~0.2 ms with numpy, no torch and no model2vec at run time.
Three logistic heads on the embedding (``heads.npz``: ``outcome``, ``everyday``,
``domain``; ``routers.training``) are combined by the domain-gated blend in ``blend.json``
(``routers.blend``); ``ood.npz`` holds the out-of-distribution check (``routers.ood``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.artifact import Heads, SyncRouter, load_blend, load_calibration, require
from routers.blend import GatedBlend
from routers.ood import OodDetector, load_detector

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

MAX_TOKENS = 512


@dataclass(frozen=True, slots=True)
class Encoded:
    """Embeddings (L2-normalised rows) and each text's share of word-piece continuation tokens."""

    vectors: NDArray[np.float32]
    piece_share: NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class StaticEncoder:
    """Token table + tokenizer; ``encode`` gives L2-normalised float32 rows."""

    table: NDArray[np.float16]
    tokenizer: Any
    unk_token_id: int | None
    normalize: bool = True
    pieces: NDArray[np.bool_] | None = None  # token id -> is a "##" continuation piece

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        import numpy as np
        from tokenizers import Tokenizer

        settings = json.loads((folder / "static.json").read_text())
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # memory-mapped, read-only: pages are read on first use and shared by every process on the
        # machine that maps the same file (``--workers N`` costs the table once, not N times)
        table = np.load(folder / "embeddings.npy", allow_pickle=False, mmap_mode="r")
        vocab = tokenizer.get_vocab()
        pieces = np.zeros(max(len(table), max(vocab.values()) + 1), dtype=bool)
        for token, i in vocab.items():
            pieces[i] = token.startswith("##")
        unk = settings.get("unk_token_id")
        return cls(table, tokenizer, unk, bool(settings.get("normalize", True)), pieces)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self.encode_full(texts).vectors

    def encode_full(self, texts: Sequence[str]) -> Encoded:
        """Embeddings plus the word-piece share (1 for a text with no known token)."""
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        out = np.zeros((len(encodings), self.table.shape[1]), dtype=np.float32)
        share = np.ones(len(encodings), dtype=np.float32)
        for row, enc in enumerate(encodings):
            ids = [i for i in enc.ids if i != self.unk_token_id]
            if ids:
                out[row] = self.table[ids].astype(np.float32).mean(axis=0)
                if self.pieces is not None:
                    share[row] = float(self.pieces[ids].mean())
        if self.normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
        return Encoded(out, share)


class StaticRouter(SyncRouter):
    """Static embedding, logistic heads and their gated blend; cheap enough to run on the event loop.

    When the folder holds ``ood.npz`` (``routers.ood``), prompts far from every training
    prompt are flagged out of distribution.
    """

    def __init__(
        self,
        encoder: StaticEncoder,
        heads: Heads,
        blend: GatedBlend,
        ood: OodDetector | None = None,
        name: str = "static",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, platt=blend.platt, **kwargs)
        self.encoder = encoder
        self.heads = heads
        self.blend = blend
        self.ood = ood

    @classmethod
    def from_artifacts(cls, folder: Path) -> StaticRouter:
        require(folder, "static.json", "tokenizer.json", "embeddings.npy", "heads.npz", "blend.json")
        return cls(
            StaticEncoder.load(folder),
            Heads.load(folder / "heads.npz"),
            load_blend(folder),
            load_detector(folder),
            calibration=load_calibration(folder),
        )

    def embed(self, texts: Sequence[str]) -> tuple[list[dict[str, float]], list[bool]]:
        """The head logits (``static.<head>``) and out-of-distribution flags of each text."""
        x = self.encoder.encode_full(texts)
        ood = self.ood.flags(x.vectors, x.piece_share) if self.ood is not None else [False] * len(texts)
        return self.heads.by_name("static", x.vectors), ood

    def assess(self, texts: Sequence[str]) -> tuple[list[float], list[bool]]:
        heads, ood = self.embed(texts)
        return [self.blend.logit(h) for h in heads], ood

    def logits(self, texts: Sequence[str]) -> list[float]:
        return self.assess(texts)[0]
