"""``triage router train``: fit a router's head on labelled data and write its artifact folder.

Every learned router is fitted the same way (``routers.training.fit``): soft target from
the score gap smoothed toward the category mean, logistic regression, calibration on
out-of-fold scores of the training prompts, a card with dev metrics if ``--dev`` is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routers.artifact import LinearHead
from routers.training import card as cards
from routers.training.data import read_jsonl, row_text
from routers.training.fit import fit_soft_logistic, out_of_fold_logits, sigmoid, soft_target

# Inverse regularisation strength per router (C = 1 everywhere: for ngram, 5-fold CV on the
# training split found C in 0.3-1 best; for the dense heads C = 1 vs 10 made little difference).
C_BY_TYPE: Mapping[str, float] = MappingProxyType({"ngram": 1.0, "static": 1.0, "embedding": 1.0, "ensemble": 1.0})


@dataclass(frozen=True, slots=True)
class TrainJob:
    kind: str
    data: Path
    out: Path
    dev: Path | None = None
    seed: int = 0
    write: bool = True  # False: only compute out-of-fold logits (ensemble members)


@dataclass(frozen=True, slots=True)
class Fitted:
    """What every trainer returns: out-of-fold logits on the training rows and hyper-parameters."""

    oof_logits: NDArray[np.float64]
    params: dict[str, Any]


def labelled(path: Path) -> tuple[list[str], NDArray[np.float64]]:
    rows = read_jsonl(path)
    p = soft_target([r["strong_score"] for r in rows], [r["weak_score"] for r in rows], [r["category"] for r in rows])
    return [row_text(r) for r in rows], p


def ngram_matrix(texts: Sequence[str], idf: NDArray[np.float32]) -> Any:
    import scipy.sparse as sp

    from routers.ngram import DENSE, HASH_BITS, featurize

    feats = [featurize(t, idf) for t in texts]
    rows = np.concatenate([np.full(f.indices.size, i) for i, f in enumerate(feats)])
    cols = np.concatenate([f.indices for f in feats])
    vals = np.concatenate([f.values for f in feats])
    sparse = sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), 2**HASH_BITS))
    dense = np.stack([f.dense for f in feats]).reshape(len(texts), DENSE)
    return sp.hstack([sparse, sp.csr_matrix(dense)]).tocsr()


def ngram_idf(texts: Sequence[str]) -> NDArray[np.float32]:
    from routers.ngram import HASH_BITS

    counts = ngram_matrix(texts, np.ones(2**HASH_BITS, dtype=np.float32))[:, : 2**HASH_BITS]
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    return (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)


def train_ngram(job: TrainJob, texts: list[str], p: NDArray[np.float64]) -> Fitted:
    from routers.ngram import HASH_BITS, NgramModel

    c = C_BY_TYPE["ngram"]
    idf = ngram_idf(texts)
    x = ngram_matrix(texts, idf)
    if job.write:
        w, b = fit_soft_logistic(x, p, c, job.seed)
        d = 2**HASH_BITS
        NgramModel(idf, w[:d].astype(np.float32), w[d:].astype(np.float32), b).dump(job.out / "weights.npz")
    return Fitted(out_of_fold_logits(x, p, c, job.seed), {"C": c})


def _dense_head(job: TrainJob, x: NDArray[np.float32], p: NDArray[np.float64]) -> Fitted:
    c = C_BY_TYPE[job.kind]
    if job.write:
        w, b = fit_soft_logistic(x, p, c, job.seed)
        LinearHead(w.astype(np.float32), b).dump(job.out / "head.npz")
    return Fitted(out_of_fold_logits(x, p, c, job.seed), {"C": c, "features": int(x.shape[1])})


def train_static(job: TrainJob, texts: list[str], p: NDArray[np.float64]) -> Fitted:
    from routers.static import StaticEncoder

    if not (job.out / "embeddings.npy").exists():
        from routers.training.distill_static import distill

        distill(job.out)
    return _dense_head(job, StaticEncoder.load(job.out).encode(texts), p)


def train_embedding(job: TrainJob, texts: list[str], p: NDArray[np.float64]) -> Fitted:
    from routers.embedding import CHUNK, OnnxEncoder

    if not (job.out / "encoder.int8.onnx").exists():
        from routers.training.export_encoder import export

        export(job.out)
    encoder = OnnxEncoder.load(job.out)
    order = np.argsort([len(t) for t in texts], kind="stable")
    x = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), CHUNK):
        rows = order[start : start + CHUNK]
        x[rows] = encoder.encode([texts[i] for i in rows])
    return _dense_head(job, x, p)


def train_ensemble(job: TrainJob, texts: list[str], p: NDArray[np.float64]) -> Fitted:
    """Blend weights fitted on the members' out-of-fold logits (members retrained in folds)."""
    members = ["ngram", "static"]
    columns = []
    for member in members:
        sub = TrainJob(member, job.data, job.out.parent / member, None, job.seed, write=False)
        columns.append(TRAINERS[member](sub, texts, p).oof_logits)
    z = np.stack(columns, axis=1)
    c = C_BY_TYPE["ensemble"]
    w, b = fit_soft_logistic(z, p, c, job.seed)
    blend = {"members": [{"type": m, "path": f"../{m}", "weight": float(wi)} for m, wi in zip(members, w, strict=True)]}
    blend["bias"] = float(b)  # type: ignore[assignment]
    (job.out / "blend.json").write_text(json.dumps(blend, indent=1) + "\n")
    return Fitted(out_of_fold_logits(z, p, c, job.seed), {"C": c, "members": members})


TRAINERS: Mapping[str, Callable[[TrainJob, list[str], NDArray[np.float64]], Fitted]] = MappingProxyType(
    {"ngram": train_ngram, "static": train_static, "embedding": train_embedding, "ensemble": train_ensemble}
)


def train(job: TrainJob) -> dict[str, Any]:
    """Fit, calibrate, evaluate on ``job.dev`` if given, and write the card; returns the card."""
    from routers.calibration import Calibration

    job.out.mkdir(parents=True, exist_ok=True)
    texts, p = labelled(job.data)
    fitted = TRAINERS[job.kind](job, texts, p)
    calibration = Calibration.from_scores([float(v) for v in sigmoid(fitted.oof_logits)])
    calibration.dump(job.out / "calibration.json")
    card = cards.make_card(job.kind, job.data, len(texts), fitted.params, calibration)
    if job.dev is not None:
        card["dev"] = cards.dev_metrics(job.kind, job.out, job.dev)
    cards.write_card(job.out, card)
    return card
