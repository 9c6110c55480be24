"""Answer quality (a truth file or seeded defaults) and ``sim-judge``, a pairwise judge that follows it.

Quality. ``--truth FILE`` is JSONL, one row per prompt: ``{"prompt": str, "scores": {"sim-cheap": q, ...}}``
with q in [0, 1] (other row fields are ignored; unknown model names and duplicate prompts are errors). The
quality of model m's answer to prompt p is the row's score when p (stripped) has a row scoring m, else a
seeded default, deterministic in (seed, m, p): sim-frontier ~ U(0.6, 1.0), sim-cheap ~ U(0.2, 0.9).

Judging. ``sim-judge`` reads the last user message as a pairwise judge prompt (the system message, which asks
for ``[[A]]``, ``[[B]]`` or ``[[C]]``, is ignored)::

    [User Question]
    {question}

    [The Start of Assistant A's Answer]
    {answer_a}
    [The End of Assistant A's Answer]

    [The Start of Assistant B's Answer]
    {answer_b}
    [The End of Assistant B's Answer]

A message without these markers gets an ordinary ``[sim-judge] ...`` answer.

Recognition. Every simulated text answer is deterministic in (seed, model, choice index, stripped question) and
starts with the model's tag, so the judge regenerates the answers instead of marking them. An answer is model
m's (m in sim-cheap, sim-frontier) when a candidate text from it starts with m's tag ``[m]`` and is a prefix of
m's regenerated text answer to the stripped question, for some choice index 0-7. The candidates are the whole
answer (stripped, one trailing "." dropped), its first line, and every JSON string literal in it, the last
possibly cut off (JSON mode puts the text under ``"answer"``; structured outputs start their first free-form
string with it). Prefixes cover answers cut by ``max_tokens``, a stop sequence, a smaller
``x-sim-answer-tokens``, or the judge prompt's own length cap (text answers have no newline, so a cut marker on
a line of its own is dropped with the other lines). The question must arrive whole. An unrecognised answer has
quality 0.

Verdict. ``[[C]]`` when |qa - qb| < 0.05, else the better one, in a sentence ending with the verdict. With
probability ``position_bias`` (rolled from the seed and the whole question-and-answers, so the two orders of a
pair roll independently) the verdict is ``[[A]]`` regardless.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from gateway.simulator.content import last_user_text, text_pieces

JUDGE_MODEL = "sim-judge"
# answerer model -> range of its seeded default quality
DEFAULT_QUALITY: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"sim-cheap": (0.2, 0.9), "sim-frontier": (0.6, 1.0)}
)
TIE_MARGIN = 0.05
JUDGED_CHOICES = 8

_PROMPT = re.compile(
    r"\[User Question\]\s*\n(?P<question>.*?)\n\s*\[The Start of Assistant A's Answer\]\n?(?P<a>.*?)"
    r"\n?\[The End of Assistant A's Answer\]\s*\[The Start of Assistant B's Answer\]\n?(?P<b>.*?)"
    r"\n?\[The End of Assistant B's Answer\]",
    re.DOTALL,
)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|$)')  # the last one may be cut off
_VERDICTS: Mapping[str, str] = MappingProxyType(
    {
        "A": "Assistant A's answer is more accurate, more relevant and more helpful than Assistant B's answer. [[A]]",
        "B": "Assistant B's answer is more accurate, more relevant and more helpful than Assistant A's answer. [[B]]",
        "C": "Both answers are of similar quality; neither is clearly more accurate or more helpful. [[C]]",
    }
)


@dataclass(frozen=True, slots=True)
class Truth:
    """Known answer qualities: stripped prompt -> model -> quality in [0, 1]."""

    scores: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: MappingProxyType({}))

    def quality(self, seed: int, model: str, prompt: str) -> float:
        prompt = prompt.strip()
        known = self.scores.get(prompt, {}).get(model)
        if known is not None:
            return known
        low, high = DEFAULT_QUALITY.get(model, (0.0, 1.0))
        return random.Random(f"{seed}\x1fquality\x1f{model}\x1f{prompt}").uniform(low, high)


def _row(line: str, number: int) -> tuple[str, dict[str, float]]:
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"truth file line {number}: not JSON ({exc})") from None
    prompt = row.get("prompt") if isinstance(row, dict) else None
    scores = row.get("scores") if isinstance(row, dict) else None
    if not isinstance(prompt, str) or not isinstance(scores, dict):
        raise ValueError(f'truth file line {number}: expected {{"prompt": str, "scores": {{model: float}}}}')
    for model, score in scores.items():
        if model not in DEFAULT_QUALITY:
            raise ValueError(
                f"truth file line {number}: unknown model {model!r}; expected one of sim-cheap, sim-frontier"
            )
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
            raise ValueError(f"truth file line {number}: score of {model} must be a number in [0, 1], got {score!r}")
    return prompt.strip(), {model: float(score) for model, score in scores.items()}


def load_truth(path: str | Path) -> Truth:
    """Read a JSONL truth file; raises ValueError (with the line number) on a bad row, OSError if unreadable."""
    scores: dict[str, Mapping[str, float]] = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            prompt, row = _row(line, number)
            if prompt in scores:
                raise ValueError(f"truth file line {number}: duplicate prompt {prompt[:60]!r}")
            scores[prompt] = MappingProxyType(row)
    return Truth(MappingProxyType(scores))


def _candidates(answer: str) -> list[str]:
    """The texts that may be a simulated answer: the whole answer, its first line (simulated answers have no
    newline, so this drops a cut marker like the gateway's ``"\\n[... cut ...]"``), every JSON string literal."""
    whole = answer.strip()
    texts = [whole, whole.split("\n", 1)[0].strip()] if "\n" in whole else [whole]
    for literal in _JSON_STRING.findall(answer):
        closed = literal if len(literal) > 1 and literal.endswith('"') else literal + '"'
        try:
            value = orjson.loads(closed)
        except orjson.JSONDecodeError:
            continue
        texts.append(str(value).strip())
    return [text.removesuffix(".") for text in texts]


@dataclass(frozen=True, slots=True)
class Judge:
    seed: int = 0
    truth: Truth = field(default_factory=Truth)
    position_bias: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.position_bias <= 1.0:
            raise ValueError("judge position bias must be in [0, 1]")

    def author(self, question: str, answer: str) -> str | None:
        """The simulated model that wrote ``answer`` to ``question``, or None (see the module docstring)."""
        question = question.strip()
        for text in _candidates(answer):
            count = text.count(" ") + 2
            for model in DEFAULT_QUALITY:
                if not text.startswith(f"[{model}]"):
                    continue
                for index in range(JUDGED_CHOICES):
                    if "".join(text_pieces(self.seed, model, question, count, index)).startswith(text):
                        return model
        return None

    def answer_quality(self, question: str, answer: str) -> float:
        model = self.author(question, answer)
        return 0.0 if model is None else self.truth.quality(self.seed, model, question)

    def verdict(self, question: str, answer_a: str, answer_b: str) -> str:
        """ "A", "B" or "C" (tie)."""
        key = f"{self.seed}\x1fbias\x1f{question}\x1f{answer_a}\x1f{answer_b}"
        if self.position_bias > 0 and random.Random(key).random() < self.position_bias:
            return "A"
        quality_a, quality_b = self.answer_quality(question, answer_a), self.answer_quality(question, answer_b)
        if abs(quality_a - quality_b) < TIE_MARGIN:
            return "C"
        return "A" if quality_a > quality_b else "B"

    def reply(self, messages: Sequence[Any]) -> str | None:
        """The judge's answer text to a judge prompt, or None when the last user message is not one."""
        match = _PROMPT.search(last_user_text(messages))
        if match is None:
            return None
        return _VERDICTS[self.verdict(match["question"].strip(), match["a"], match["b"])]
