"""The judge: a fixed pairwise rubric (MT-Bench's), asked in both orders to cancel position bias.

The judge tier sees the user's question and two answers, labelled A and B, and must end
with ``[[A]]``, ``[[B]]`` or ``[[C]]`` (a tie). Triage asks twice, with the answers
swapped; a verdict counts only when both orders agree, otherwise it is a tie (MT-Bench's
conservative rule). A reply without a verdict counts as a tie too, and is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["routed_better", "tie", "other_better"]
_VERDICT = re.compile(r"\[\[([ABC])\]\]")

SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI "
    "assistants to the user question displayed below. You should choose the assistant that follows the "
    "user's instructions and answers the user's question better. Your evaluation should consider factors "
    "such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of their responses. "
    "Begin your evaluation by comparing the two responses and provide a short explanation. Avoid any position "
    "biases and ensure that the order in which the responses were presented does not influence your decision. "
    "Do not allow the length of the responses to influence your evaluation. Do not favor certain names of the "
    "assistants. Be as objective as possible. After providing your explanation, output your final verdict by "
    'strictly following this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, '
    'and "[[C]]" for a tie.'
)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + "\n[... cut ...]"


def judge_messages(question: str, answer_a: str, answer_b: str, max_chars: int) -> list[dict[str, str]]:
    """The judge's conversation for one order of the two answers."""
    user = (
        f"[User Question]\n{_cut(question, max_chars)}\n\n"
        f"[The Start of Assistant A's Answer]\n{_cut(answer_a, max_chars)}\n[The End of Assistant A's Answer]\n\n"
        f"[The Start of Assistant B's Answer]\n{_cut(answer_b, max_chars)}\n[The End of Assistant B's Answer]"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(text: str) -> Literal["A", "B", "C"] | None:
    """The last ``[[A]]``/``[[B]]``/``[[C]]`` in the judge's reply, or ``None``."""
    found = _VERDICT.findall(text)
    if not found:
        return None
    last: Literal["A", "B", "C"] = found[-1]
    return last


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    consistent: bool  # both orders agreed (a tie in both counts as agreeing)
    parsed: bool  # both replies carried a verdict


def combine(routed_first: str | None, other_first: str | None) -> Judgement:
    """Both orders' verdicts → one judgement about the routed answer.

    ``routed_first``: the verdict when the routed answer was A; ``other_first``: when it was B.
    """
    first = {"A": "routed_better", "B": "other_better", "C": "tie"}.get(routed_first or "")
    second = {"A": "other_better", "B": "routed_better", "C": "tie"}.get(other_first or "")
    parsed = first is not None and second is not None
    if parsed and first == second:
        verdict: Verdict = first  # type: ignore[assignment]
        return Judgement(verdict, True, True)
    return Judgement("tie", False, parsed)


def scores(judgement: Judgement, routed_is_frontier: bool) -> tuple[float, float]:
    """(routed answer's quality, frontier answer's quality) on the pairwise scale: 1, 0.5, 0.

    A sample routed to the frontier scores the same on both sides: routing kept it all.
    """
    routed = {"routed_better": 1.0, "tie": 0.5, "other_better": 0.0}[judgement.verdict]
    if routed_is_frontier:
        return routed, routed
    return routed, 1.0 - routed
