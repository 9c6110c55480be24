"""The ``ngram`` router: hashed word and character n-grams with a logistic head (numpy only).

Features of the view (``prompt_text``), lower-cased:

- word unigrams and bigrams (tokens ``\\w+`` or single punctuation marks), hashed with CRC-32;
- character (UTF-8 byte) n-grams for n in ``CHAR_NS``, hashed with a vectorised polynomial hash;
- each block is sublinear (``1 + log count``), weighted by the stored IDF and L2-normalised;
- a few dense features (log length, digit share, numbers, lines).

All hashes land in ``2**HASH_BITS`` buckets. ``weights.npz`` holds three linear heads over
these features (``outcome``, ``everyday``, ``domain``; sparse weights in float16) and
``blend.json`` their domain-gated blend and Platt map (``routers.blend``). Scoring a
100-word prompt takes ~0.15 ms.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.artifact import SyncRouter, load_blend, load_calibration, require
from routers.blend import GatedBlend

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

HASH_BITS = 18
CHAR_NS = (3, 4, 5)
MAX_CHARS = 6000
DENSE = 4
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_MIX = 0x9E3779B1


@dataclass(frozen=True, slots=True)
class Sparse:
    """One featurised text: sorted unique bucket indices and their values, plus dense extras."""

    indices: NDArray[np.int64]
    values: NDArray[np.float32]
    dense: NDArray[np.float32]


def _buckets(hashes: NDArray[np.uint64], salt: int) -> NDArray[np.int64]:
    import numpy as np

    mixed = ((hashes ^ np.uint64(salt)) * np.uint64(_MIX)) & np.uint64(0xFFFFFFFF)
    return (mixed >> np.uint64(32 - HASH_BITS)).astype(np.int64)


def _char_hashes(data: NDArray[np.uint8], ns: Sequence[int]) -> list[NDArray[np.uint64]]:
    """The polynomial hashes of every byte n-gram, for each n of ``ns`` (ascending).

    The hash of an n-gram is ``h = (h * 257 + byte) & (2**48 - 1)`` over its bytes, so the
    (n+1)-grams extend the n-grams by one step instead of being hashed again from scratch.
    """
    import numpy as np

    out: list[NDArray[np.uint64]] = []
    h = np.zeros(data.size, dtype=np.uint64)
    done = 0
    for n in ns:
        if data.size < n:
            out.append(np.zeros(0, dtype=np.uint64))
            continue
        for j in range(done, n):
            h = (h[: data.size - j] * np.uint64(257) + data[j:].astype(np.uint64)) & np.uint64(0xFFFFFFFFFFFF)
        done = n
        out.append(h)
    return out


def _block(buckets: NDArray[np.int64], idf: NDArray[np.float32]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    import numpy as np

    if buckets.size == 0:
        return buckets, np.zeros(0, dtype=np.float32)
    index, counts = np.unique(buckets, return_counts=True)
    values = (1.0 + np.log(counts.astype(np.float32))) * idf[index]
    norm = float(np.sqrt((values * values).sum()))
    return index, (values / norm if norm > 0 else values).astype(np.float32)


def featurize(text: str, idf: NDArray[np.float32]) -> Sparse:
    """The features of one text (``idf`` has ``2**HASH_BITS`` entries; ones for raw counts)."""
    import numpy as np

    text = text[:MAX_CHARS].lower()
    tokens = _TOKEN.findall(text)
    words = np.asarray([zlib.crc32(t.encode()) for t in tokens], dtype=np.uint64)
    bigrams = words[:-1] * np.uint64(1_000_003) + words[1:] if words.size > 1 else words[:0]
    word_buckets = np.concatenate([_buckets(words, 1), _buckets(bigrams, 2)])
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    char_buckets = np.concatenate(
        [_buckets(h, 10 + n) for n, h in zip(CHAR_NS, _char_hashes(data, CHAR_NS), strict=True)]
    )
    wi, wv = _block(word_buckets, idf)
    ci, cv = _block(char_buckets, idf)
    indices = np.concatenate([wi, ci])
    values = np.concatenate([wv, cv])
    return Sparse(indices, values, dense_features(text, len(tokens)))


def dense_features(text: str, n_tokens: int) -> NDArray[np.float32]:
    import numpy as np

    digits = sum(map(str.isdigit, text))
    return np.asarray(
        [
            math.log1p(len(text)) - 5.0,
            math.log1p(n_tokens) - 4.0,
            digits / max(len(text), 1) * 10.0,
            math.log1p(len(_NUMBER.findall(text))),
        ],
        dtype=np.float32,
    )


@dataclass(frozen=True, slots=True)
class NgramModel:
    """IDF and one linear head per name (sparse weights, dense weights, bias)."""

    idf: NDArray[np.float32]
    names: tuple[str, ...]
    weights: NDArray[np.float32]  # (heads, 2**HASH_BITS)
    dense_weights: NDArray[np.float32]  # (heads, DENSE)
    bias: NDArray[np.float64]  # (heads,)

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        import numpy as np

        with np.load(path, allow_pickle=False) as d:
            names = tuple(str(n) for n in d["names"])
            weights = d["weights"].astype(np.float32)
            return cls(d["idf"], names, weights, d["dense_weights"].astype(np.float32), d["bias"].astype(np.float64))

    def dump(self, path: Path) -> None:
        import numpy as np

        np.savez_compressed(
            path,
            idf=self.idf,
            names=np.asarray(self.names),
            weights=self.weights.astype(np.float16),  # the sparse weights: half the file, same ranking
            dense_weights=self.dense_weights,
            bias=self.bias,
        )

    def head_logits(self, text: str) -> dict[str, float]:
        """``{"ngram.<head>": logit}`` for one text."""
        f = featurize(text, self.idf)
        z = self.weights[:, f.indices] @ f.values + self.dense_weights @ f.dense + self.bias
        return {f"ngram.{n}": float(v) for n, v in zip(self.names, z, strict=True)}


class NgramRouter(SyncRouter):
    """Hashed n-grams, three logistic heads and their domain-gated blend (``routers.blend``)."""

    def __init__(self, model: NgramModel, blend: GatedBlend, name: str = "ngram", **kwargs: Any) -> None:
        super().__init__(name=name, platt=blend.platt, **kwargs)
        self.model = model
        self.blend = blend

    @classmethod
    def from_artifacts(cls, folder: Path) -> NgramRouter:
        require(folder, "weights.npz", "blend.json")
        return cls(NgramModel.load(folder / "weights.npz"), load_blend(folder), calibration=load_calibration(folder))

    def head_logits(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [self.model.head_logits(t) for t in texts]

    def logits(self, texts: Sequence[str]) -> list[float]:
        return [self.blend.logit(h) for h in self.head_logits(texts)]
