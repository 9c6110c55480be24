"""The domain-gated blend of head logits, and the Platt map that turns its logit into a score.

A learned router computes a few linear *heads* over its features (``routers.ngram``,
``routers.static``), each a logit:

- ``<member>.outcome``: fitted on the outcome data (routing-train: MMLU, GSM8K; frontier gain);
- ``<member>.everyday``: fitted on the everyday train rows (hand-labelled ``p_hard``);
- ``<member>.domain``: P(the prompt is a closed benchmark question, MMLU/GSM8K-style, rather
  than open-ended chat), fitted on which data set a prompt comes from.

The two difficulty signals are unrelated (the outcome heads rank everyday prompts at chance
and the everyday heads rank routing-train at chance), so the blend lets the domain head
choose between them instead of averaging them:

``logit = bias + gate_weight * g + sum(w * z * (g if domain == "benchmark" else 1 - g))``,
``g = sigmoid(<gate head>)``, and the score is ``sigmoid(platt.a * logit + platt.b)``
(``platt.a > 0``: strictly increasing, so ranking metrics do not change).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARK = "benchmark"
OPEN = "open"


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class Platt:
    """``score = sigmoid(a * logit + b)`` with ``a > 0``: a strictly increasing map onto (0, 1)."""

    a: float = 1.0
    b: float = 0.0

    def __post_init__(self) -> None:
        if not (self.a > 0.0 and math.isfinite(self.a) and math.isfinite(self.b)):
            raise ValueError(f"a Platt map needs a finite a > 0 and a finite b (got a={self.a}, b={self.b})")

    def __call__(self, logit: float) -> float:
        return sigmoid(self.a * logit + self.b)

    def inverse(self, score: float) -> float:
        """The blend logit that maps to ``score`` (0 < score < 1)."""
        return (math.log(score / (1.0 - score)) - self.b) / self.a


@dataclass(frozen=True, slots=True)
class Term:
    """One head's contribution: ``weight * logit``, scaled by ``g`` or ``1 - g``."""

    head: str
    domain: str
    weight: float

    def __post_init__(self) -> None:
        if self.domain not in (BENCHMARK, OPEN):
            raise ValueError(f"a term's domain is {BENCHMARK!r} or {OPEN!r}, not {self.domain!r}")


@dataclass(frozen=True, slots=True)
class GatedBlend:
    """The blend of head logits described in the module docstring."""

    gate: str
    terms: tuple[Term, ...]
    gate_weight: float
    bias: float
    platt: Platt = field(default_factory=Platt)

    @property
    def heads(self) -> tuple[str, ...]:
        """Every head the blend reads (the gate first)."""
        return tuple(dict.fromkeys([self.gate, *(t.head for t in self.terms)]))

    def features(self, heads: Mapping[str, float]) -> list[float]:
        """The gated features, in the order of ``terms``, then ``g``: what the blend is fitted on."""
        g = sigmoid(heads[self.gate])
        return [heads[t.head] * (g if t.domain == BENCHMARK else 1.0 - g) for t in self.terms] + [g]

    def logit(self, heads: Mapping[str, float]) -> float:
        *gated, g = self.features(heads)
        return self.bias + self.gate_weight * g + sum(t.weight * x for t, x in zip(self.terms, gated, strict=True))

    def score(self, heads: Mapping[str, float]) -> float:
        return self.platt(self.logit(heads))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GatedBlend:
        terms = tuple(Term(str(t["head"]), str(t["domain"]), float(t["weight"])) for t in data["terms"])
        platt = Platt(float(data["platt"]["a"]), float(data["platt"]["b"]))
        return cls(str(data["gate"]), terms, float(data["gate_weight"]), float(data["bias"]), platt)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "terms": [{"head": t.head, "domain": t.domain, "weight": t.weight} for t in self.terms],
            "gate_weight": self.gate_weight,
            "bias": self.bias,
            "platt": {"a": self.platt.a, "b": self.platt.b},
        }

    @classmethod
    def load(cls, path: Path) -> GatedBlend:
        return cls.from_dict(json.loads(path.read_text()))

    def dump(self, path: Path, extra: Mapping[str, Any] | None = None) -> None:
        path.write_text(json.dumps({**(extra or {}), **self.to_dict()}, indent=1) + "\n")


def with_weights(template: GatedBlend, weights: Sequence[float], bias: float, platt: Platt) -> GatedBlend:
    """``template`` with fitted weights: one per term, then the gate weight."""
    terms = tuple(Term(t.head, t.domain, float(w)) for t, w in zip(template.terms, weights, strict=False))
    return GatedBlend(template.gate, terms, float(weights[len(template.terms)]), float(bias), platt)
