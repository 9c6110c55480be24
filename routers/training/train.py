"""``triage router train``: fit a router's heads and blend on labelled data and write its artifact folder.

Every learned router is fitted the same way (see ``routers.blend`` for what runs):

1. Three logistic heads on the router's features (``routers.training.heads``): ``outcome``
   on the outcome rows (soft target from the smoothed score gap, ``routers.training.fit``),
   ``everyday`` on the everyday train rows (soft target ``p_hard``), ``domain`` on all rows
   (closed benchmark question or open-ended prompt; classes weighted equally).
2. The domain-gated blend of the heads, fitted on their out-of-fold logits with soft targets;
   everyday rows weigh ``everyday_weight`` each, outcome rows 1.
3. Platt scaling of the blend logit, fitted on the everyday train rows' out-of-fold blend
   logits against their binary labels; the score quantiles (``calibration.json``) come from
   the out-of-fold scores of all training prompts.

Hyper-parameters were chosen by 5-fold cross-validation on routing-train + everyday train
(``python -m routers.training.select``; the figures are in routers/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routers.blend import BENCHMARK, OPEN, GatedBlend, Platt, Term, with_weights
from routers.training import card as cards
from routers.training.data import EVERYDAY, DataFiles, TrainingSet, load_training
from routers.training.fit import FOLDS, fit_platt, fit_soft_logistic, out_of_fold_logits, roc_auc, sigmoid
from routers.training.heads import HeadLogits, Hyper, train_embedding, train_ngram, train_static

BLEND_C = 1.0
# Weight of one everyday train row in the blend fit (an outcome row weighs 1). 5-fold CV on
# routing-train + everyday train was flat between 0.3 and 10 (routers/README.md); 1 kept.
EVERYDAY_WEIGHT = 1.0


@dataclass(frozen=True, slots=True)
class TrainJob:
    kind: str
    data: DataFiles  # one file, or (file, weight) pairs mixed into one training set
    out: Path
    dev: Path | None = None
    seed: int = 0
    write: bool = True  # False: only compute out-of-fold logits (ensemble members, selection)
    everyday: Path | None = EVERYDAY
    everyday_weight: float = EVERYDAY_WEIGHT
    hyper: Hyper = field(default_factory=Hyper)


MEMBERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"ngram": ("ngram",), "static": ("static",), "embedding": ("embedding",), "ensemble": ("ngram", "static")}
)
HEAD_TRAINERS: Mapping[str, Callable[[TrainJob, TrainingSet], HeadLogits]] = MappingProxyType(
    {"ngram": train_ngram, "static": train_static, "embedding": train_embedding}
)


def template(kind: str) -> GatedBlend:
    """The blend of ``kind`` with zero weights: gated by its first member's domain head."""
    members = MEMBERS[kind]
    terms = [Term(f"{m}.outcome", BENCHMARK, 0.0) for m in members]
    terms += [Term(f"{m}.everyday", OPEN, 0.0) for m in members]
    return GatedBlend(f"{members[0]}.domain", tuple(terms), 0.0, 0.0)


def blend_features(blend: GatedBlend, heads: Mapping[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """``GatedBlend.features`` for many rows at once (one column per term, then ``g``)."""
    g = sigmoid(heads[blend.gate])
    columns = [heads[t.head] * (g if t.domain == BENCHMARK else 1.0 - g) for t in blend.terms]
    return np.stack([*columns, g], axis=1)


@dataclass(frozen=True, slots=True)
class Blended:
    blend: GatedBlend
    oof_logits: NDArray[np.float64]  # out-of-fold blend logits of every training row


def fit_blend(kind: str, heads: Mapping[str, NDArray[np.float64]], ts: TrainingSet, job: TrainJob) -> Blended:
    """Blend weights on the heads' out-of-fold logits, then Platt on the blend's out-of-fold logits."""
    base = template(kind)
    x = blend_features(base, heads)
    weight = np.where(ts.everyday, job.everyday_weight, ts.weight)
    coef, bias = fit_soft_logistic(x, ts.target, BLEND_C, job.seed, weight)
    oof = out_of_fold_logits(x, ts.target, BLEND_C, job.seed, weight=weight)
    if ts.everyday.any():
        a, b = fit_platt(oof[ts.everyday], ts.label[ts.everyday])
    else:  # outcome data alone (e.g. a deployment's own): label = the frontier scored higher
        a, b = fit_platt(oof, (ts.strong > ts.weak).astype(np.int64), ts.weight)
    return Blended(with_weights(base, [float(v) for v in coef], bias, Platt(a, b)), oof)


def member_heads(job: TrainJob, ts: TrainingSet) -> HeadLogits:
    heads: dict[str, NDArray[np.float64]] = {}
    params: dict[str, Any] = {}
    for member in MEMBERS[job.kind]:
        write = job.write and member == job.kind
        folder = job.out if member == job.kind else job.out.parent / member  # --out is the router's own folder
        sub = TrainJob(member, job.data, folder, None, job.seed, write, job.everyday, job.everyday_weight, job.hyper)
        fitted = HEAD_TRAINERS[member](sub, ts)
        heads.update(fitted.logits)
        params[member] = fitted.params
    return HeadLogits(heads, params)


def cv_metrics(oof_logits: NDArray[np.float64], ts: TrainingSet, platt: Platt) -> dict[str, float]:
    """Out-of-fold APGR on the outcome rows and ranking AUC on the everyday train rows."""
    from routers.metrics import apgr

    out = ~ts.everyday
    scores = [platt(float(z)) for z in oof_logits]
    if not ts.everyday.any():
        return {"outcome_apgr": apgr(oof_logits[out].tolist(), ts.strong[out].tolist(), ts.weak[out].tolist())}
    return {
        "outcome_apgr": apgr(oof_logits[out].tolist(), ts.strong[out].tolist(), ts.weak[out].tolist()),
        "everyday_auc": roc_auc(oof_logits[ts.everyday], ts.label[ts.everyday]),
        "everyday_mean_easy": float(np.mean([s for s, y in zip(scores, ts.label, strict=True) if y == 0])),
        "everyday_mean_hard": float(np.mean([s for s, y in zip(scores, ts.label, strict=True) if y == 1])),
    }


def train(job: TrainJob) -> dict[str, Any]:
    """Fit, calibrate, evaluate on ``job.dev`` and the everyday held-out rows, write the card; returns it."""
    from routers.calibration import Calibration

    job.out.mkdir(parents=True, exist_ok=True)
    ts = load_training(job.data, job.everyday)
    heads = member_heads(job, ts)
    blended = fit_blend(job.kind, heads.logits, ts, job)
    extra = {"members": [{"type": m, "path": f"../{m}"} for m in MEMBERS[job.kind]]} if job.kind == "ensemble" else {}
    blended.blend.dump(job.out / "blend.json", extra)
    platt = blended.blend.platt
    calibration = Calibration.from_scores([platt(float(z)) for z in blended.oof_logits])
    calibration.dump(job.out / "calibration.json")
    params = {
        **heads.params,
        "blend_C": BLEND_C,
        "everyday_weight": job.everyday_weight,
        "platt": {"a": platt.a, "b": platt.b},
    }
    card = cards.make_card(job.kind, job.data, job.everyday, ts, params, calibration)
    card["cv"] = {"folds": FOLDS, **cv_metrics(blended.oof_logits, ts, platt)}
    if job.dev is not None:
        card["dev"] = cards.dev_metrics(job.kind, job.out, job.dev)
    if job.everyday is not None:
        card["everyday"] = cards.everyday_metrics(job.kind, job.out, job.everyday)
    cards.write_card(job.out, card)
    return card
