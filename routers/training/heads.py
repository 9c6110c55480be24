"""The three logistic heads of each learned router, fitted on its features (offline, scikit-learn).

- ``outcome``: the outcome rows only, soft target from the smoothed score gap;
- ``everyday``: the everyday train rows only, soft target ``p_hard``;
- ``domain``: every row, target 1 for closed benchmark questions (MMLU, GSM8K) and 0 for
  open-ended prompts (MT-Bench, everyday), the two classes weighted equally.

Each trainer returns the heads' out-of-fold logits on every training row (for the blend)
and, when the job writes, the heads fitted on all rows in the member's artifact folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from routers.training.data import TrainingSet
from routers.training.fit import Matrix, fit_soft_logistic, out_of_fold_logits

if TYPE_CHECKING:
    from routers.training.train import TrainJob

HEADS = ("outcome", "everyday", "domain")
# Inverse regularisation strength per head and member, chosen by 5-fold CV on routing-train +
# everyday train (``routers.training.select``; routers/README.md): outcome C = 1 (unchanged;
# out-of-fold APGR), everyday C = the most regularised within 0.005 of the best out-of-fold AUC
# on the everyday rows, domain C by out-of-fold log loss. ``embedding`` reuses the static values.
OUTCOME_C: Mapping[str, float] = MappingProxyType({"ngram": 1.0, "static": 1.0, "embedding": 1.0})
EVERYDAY_C: Mapping[str, float] = MappingProxyType({"ngram": 30.0, "static": 1.0, "embedding": 1.0})
DOMAIN_C: Mapping[str, float] = MappingProxyType({"ngram": 100.0, "static": 10.0, "embedding": 10.0})


def _outcome_c() -> Mapping[str, float]:
    return OUTCOME_C


def _everyday_c() -> Mapping[str, float]:
    return EVERYDAY_C


def _domain_c() -> Mapping[str, float]:
    return DOMAIN_C


@dataclass(frozen=True, slots=True)
class Hyper:
    """Inverse regularisation strength of each head, per member."""

    outcome_c: Mapping[str, float] = field(default_factory=_outcome_c)
    everyday_c: Mapping[str, float] = field(default_factory=_everyday_c)
    domain_c: Mapping[str, float] = field(default_factory=_domain_c)


@dataclass(frozen=True, slots=True)
class HeadLogits:
    """Out-of-fold logits per qualified head name (``<member>.<head>``) and the hyper-parameters."""

    logits: dict[str, NDArray[np.float64]]
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    target: NDArray[np.float64]
    weight: NDArray[np.float64]
    c: float


def specs(kind: str, ts: TrainingSet, hyper: Hyper) -> list[Spec]:
    bench = ts.domain > 0.5
    balance = np.where(bench, 0.5 / max(bench.sum(), 1), 0.5 / max((~bench).sum(), 1)) * len(bench)
    return [
        Spec("outcome", ts.target, np.where(ts.everyday, 0.0, ts.weight), hyper.outcome_c[kind]),
        Spec("everyday", ts.target, np.where(ts.everyday, 1.0, 0.0), hyper.everyday_c[kind]),
        Spec("domain", ts.domain, balance, hyper.domain_c[kind]),
    ]


def fit_heads(
    job: TrainJob, x: Matrix, ts: TrainingSet
) -> tuple[HeadLogits, list[tuple[NDArray[np.float64], float]] | None]:
    """Out-of-fold logits of every head; with ``job.write`` also the heads fitted on all rows."""
    logits: dict[str, NDArray[np.float64]] = {}
    fitted: list[tuple[NDArray[np.float64], float]] = []
    chosen = specs(job.kind, ts, job.hyper)
    for spec in chosen:
        logits[f"{job.kind}.{spec.name}"] = out_of_fold_logits(x, spec.target, spec.c, job.seed, weight=spec.weight)
        if job.write:
            fitted.append(fit_soft_logistic(x, spec.target, spec.c, job.seed, spec.weight))
    params = {f"{s.name}_C": s.c for s in chosen}
    return HeadLogits(logits, params), (fitted if job.write else None)


def train_ngram(job: TrainJob, ts: TrainingSet) -> HeadLogits:
    from routers.ngram import DENSE, HASH_BITS, NgramModel
    from routers.training.ngram_features import ngram_idf, ngram_matrix

    idf = ngram_idf(ts.texts)
    x = ngram_matrix(ts.texts, idf)
    heads, fitted = fit_heads(job, x, ts)
    if fitted is not None:
        d = 2**HASH_BITS
        w = np.stack([coef for coef, _ in fitted])
        bias = np.asarray([b for _, b in fitted], dtype=np.float64)
        model = NgramModel(idf, HEADS, w[:, :d].astype(np.float32), w[:, d : d + DENSE].astype(np.float32), bias)
        model.dump(job.out / "weights.npz")
    return heads


def _dense(job: TrainJob, x: NDArray[np.float32], ts: TrainingSet) -> HeadLogits:
    from routers.artifact import Heads

    heads, fitted = fit_heads(job, x, ts)
    if fitted is not None:
        w = np.stack([coef for coef, _ in fitted], axis=1).astype(np.float32)
        Heads(HEADS, w, np.asarray([b for _, b in fitted])).dump(job.out / "heads.npz")
    return HeadLogits(heads.logits, {**heads.params, "features": int(x.shape[1])})


def train_static(job: TrainJob, ts: TrainingSet) -> HeadLogits:
    from routers.static import StaticEncoder

    if not (job.out / "embeddings.npy").exists():
        from routers.training.distill_static import distill

        distill(job.out)
    encoded = StaticEncoder.load(job.out).encode_full(ts.texts)
    if job.write:
        from routers.training.ood import fit_detector

        fit_detector(encoded.vectors, encoded.piece_share, ts.everyday, job.seed).dump(job.out / "ood.npz")
    return _dense(job, encoded.vectors, ts)


def train_embedding(job: TrainJob, ts: TrainingSet) -> HeadLogits:
    from routers.embedding import CHUNK, OnnxEncoder

    if not (job.out / "encoder.int8.onnx").exists():
        from routers.training.export_encoder import export

        export(job.out)
    encoder = OnnxEncoder.load(job.out)
    texts: Sequence[str] = ts.texts
    order = np.argsort([len(t) for t in texts], kind="stable")
    x = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), CHUNK):
        rows = order[start : start + CHUNK]
        x[rows] = encoder.encode([texts[i] for i in rows])
    return _dense(job, x, ts)
