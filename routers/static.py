"""The ``static`` router: a model2vec-distilled MiniLM (a static token table) plus a trained head.

The encoder is a table with one row per MiniLM token id (float16, 256 dims, written by
``routers.training.distill_static``). A prompt's embedding is the mean of the rows of
its tokens (no special tokens, unknown tokens dropped, the first ``MAX_TOKENS`` tokens
of the view), L2-normalised: ~0.2 ms with numpy, no torch and no model2vec at run time.
The head is a logistic model on the embedding (``head.npz``), trained as in
``routers.training.fit``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.artifact import LinearHead, SyncRouter, load_calibration, require

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import NDArray

MAX_TOKENS = 512


@dataclass(frozen=True, slots=True)
class StaticEncoder:
    """Token table + tokenizer; ``encode`` gives L2-normalised float32 rows."""

    table: NDArray[np.float16]
    tokenizer: Any
    unk_token_id: int | None
    normalize: bool = True

    @classmethod
    def load(cls, folder: Path) -> StaticEncoder:
        import numpy as np
        from tokenizers import Tokenizer

        settings = json.loads((folder / "static.json").read_text())
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        table = np.load(folder / "embeddings.npy", allow_pickle=False)
        return cls(table, tokenizer, settings.get("unk_token_id"), bool(settings.get("normalize", True)))

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        out = np.zeros((len(encodings), self.table.shape[1]), dtype=np.float32)
        for row, enc in enumerate(encodings):
            ids = [i for i in enc.ids if i != self.unk_token_id]
            if ids:
                out[row] = self.table[ids].astype(np.float32).mean(axis=0)
        if self.normalize:
            out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
        return out


class StaticRouter(SyncRouter):
    """Static embedding + logistic head; cheap enough to run on the event loop."""

    def __init__(self, encoder: StaticEncoder, head: LinearHead, name: str = "static", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.encoder = encoder
        self.head = head

    @classmethod
    def from_artifacts(cls, folder: Path) -> StaticRouter:
        require(folder, "static.json", "tokenizer.json", "embeddings.npy", "head.npz")
        return cls(
            StaticEncoder.load(folder), LinearHead.load(folder / "head.npz"), calibration=load_calibration(folder)
        )

    def logits(self, texts: Sequence[str]) -> list[float]:
        return [float(z) for z in self.head.logits(self.encoder.encode(texts))]
