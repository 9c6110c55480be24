"""Out-of-distribution check: is a prompt unlike every prompt the router was trained on?

Two measures on what the static encoder (``routers.static``) already computes:

1. **Semantic**: the largest cosine similarity between the prompt's embedding, centred on
   the training prompts' mean embedding, and k-means centroids of the (centred) training
   prompts (routing-train and everyday train, clustered separately so the small everyday
   set gets its own centroids). Flagged below ``threshold``, the similarity that 99% of the
   training prompts exceed, measured out of fold (centroids fitted without the prompt).
   Centring removes the direction every mean-pooled embedding shares, so everyday prompts
   are not judged by how "average" their words are.
2. **Lexical**: the share of the prompt's tokens that are word-piece continuations (``##``).
   Mean pooling makes keyboard mashing look like an average prompt, but its words fall
   apart into pieces: flagged above ``piece_threshold``, the 99.9% quantile over the
   training prompts. An empty prompt or one with no known token has share 1.

``ood.npz`` holds the centroids (float16, unit rows), the mean and both thresholds;
checking costs one small matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

FILE = "ood.npz"


@dataclass(frozen=True, slots=True)
class OodDetector:
    """Centred centroids (k x d, unit rows), the centre, and the two thresholds."""

    centroids: NDArray[np.float16]
    mean: NDArray[np.float32]
    threshold: float
    piece_threshold: float = 1.0
    _centroids_t: NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # cast and transposed once, not on every prompt (a third of the check's time)
        object.__setattr__(self, "_centroids_t", self.centroids.astype("float32").T.copy())

    @classmethod
    def load(cls, path: Path) -> OodDetector:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["centroids"].astype(np.float16),
                data["mean"].astype(np.float32),
                float(data["threshold"]),
                float(data["piece_threshold"]),
            )

    def dump(self, path: Path) -> None:
        import numpy as np

        np.savez_compressed(
            path,
            centroids=self.centroids.astype(np.float16),
            mean=self.mean.astype(np.float32),
            threshold=np.float64(self.threshold),
            piece_threshold=np.float64(self.piece_threshold),
        )

    def centre(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
        import numpy as np

        x = embeddings - self.mean
        x[np.linalg.norm(embeddings, axis=1) == 0] = 0.0  # an empty prompt stays empty
        return np.asarray(x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12), dtype=np.float32)

    def similarity(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
        """Largest cosine similarity of each centred embedding to a centroid; 0 for an empty prompt."""
        import numpy as np

        sims = self.centre(embeddings) @ self._centroids_t
        return np.asarray(sims.max(axis=1), dtype=np.float32)

    def flags(self, embeddings: NDArray[np.float32], piece_share: NDArray[np.float32]) -> list[bool]:
        sims = self.similarity(embeddings)
        return [bool(s < self.threshold or p > self.piece_threshold) for s, p in zip(sims, piece_share, strict=True)]


def load_detector(folder: Path) -> OodDetector | None:
    """The detector stored in ``folder``, or None when the artifact has none."""
    path = folder / FILE
    return OodDetector.load(path) if path.exists() else None
