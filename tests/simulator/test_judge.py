"""sim-judge and answer quality, as pure functions: truth files, seeded defaults, recognition, verdicts, bias."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean

import pytest

from gateway.simulator.content import text_pieces
from gateway.simulator.judge import Judge, Truth, load_truth
from tests.simulator.support import judge_messages, verdict_of

CHEAP, FRONTIER = "sim-cheap", "sim-frontier"


def answer(model: str, prompt: str, seed: int = 0, count: int = 40, index: int = 0) -> str:
    return "".join(text_pieces(seed, model, prompt, count, index))


def truth_of(rows: dict[str, dict[str, float]]) -> Truth:
    return Truth(rows)


def test_default_quality_is_seeded_and_frontier_is_clearly_better() -> None:
    truth = Truth()
    prompts = [f"question number {i}" for i in range(400)]
    cheap = [truth.quality(0, CHEAP, p) for p in prompts]
    frontier = [truth.quality(0, FRONTIER, p) for p in prompts]
    assert all(0.2 <= q <= 0.9 for q in cheap) and all(0.6 <= q <= 1.0 for q in frontier)
    assert mean(frontier) - mean(cheap) > 0.2
    assert 0.1 < sum(c > f for c, f in zip(cheap, frontier, strict=True)) / len(prompts) < 0.3
    assert truth.quality(0, CHEAP, "q") == truth.quality(0, CHEAP, "  q\n") == Truth().quality(0, CHEAP, "q")
    assert truth.quality(1, CHEAP, "q") != truth.quality(0, CHEAP, "q")
    assert truth.quality(0, FRONTIER, "q") != truth.quality(0, CHEAP, "q")


def test_truth_file_overrides_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    rows = [
        {"prompt": "  What is 2+2?  ", "scores": {CHEAP: 0.9, FRONTIER: 0.3}, "id": 7},
        {"prompt": "Only cheap", "scores": {CHEAP: 1}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n\n" + json.dumps(rows[1]) + "\n")
    truth = load_truth(path)
    assert truth.quality(0, CHEAP, "What is 2+2?") == 0.9
    assert truth.quality(5, FRONTIER, "What is 2+2?\n") == 0.3
    assert truth.quality(0, CHEAP, "Only cheap") == 1.0
    assert truth.quality(0, FRONTIER, "Only cheap") == Truth().quality(0, FRONTIER, "Only cheap")
    assert truth.quality(0, CHEAP, "not in the file") == Truth().quality(0, CHEAP, "not in the file")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ('{"prompt": "p"}', "expected"),
        ('["p", 1]', "expected"),
        ('{"prompt": "p", "scores": {"gpt-4o": 0.5}}', "unknown model 'gpt-4o'"),
        ('{"prompt": "p", "scores": {"sim-cheap": 1.5}}', r"score of sim-cheap must be a number in \[0, 1\]"),
        ('{"prompt": "p", "scores": {"sim-cheap": true}}', r"score of sim-cheap must be a number in \[0, 1\]"),
        ('{"prompt": " first ", "scores": {}}', "duplicate prompt 'first'"),
    ],
)
def test_bad_truth_rows_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "truth.jsonl"
    path.write_text('{"prompt": "first", "scores": {"sim-cheap": 0.5}}\n' + line + "\n")
    with pytest.raises(ValueError, match=f"line 2: {message}"):
        load_truth(path)


QUESTION = "How should a gateway route a hard maths question?"


@pytest.mark.parametrize(
    ("model", "text"),
    [
        (CHEAP, answer(CHEAP, QUESTION)),
        (FRONTIER, answer(FRONTIER, QUESTION)),
        (CHEAP, "\n  " + answer(CHEAP, QUESTION) + "  \n"),
        (CHEAP, answer(CHEAP, QUESTION)[:30]),  # cut by max_tokens or a stop sequence, mid-word even
        (CHEAP, "[sim-cheap]"),  # only the tag survived
        (FRONTIER, answer(FRONTIER, QUESTION, count=7)),  # x-sim-answer-tokens: 7
        (FRONTIER, answer(FRONTIER, QUESTION, index=5)),  # the 6th of n choices
        (CHEAP, json.dumps({"answer": answer(CHEAP, QUESTION)})),  # JSON mode
        (FRONTIER, json.dumps({"title": answer(FRONTIER, QUESTION)[:40], "n": 3})),  # structured output
        (CHEAP, '{"answer": "' + answer(CHEAP, QUESTION)[:50]),  # JSON cut by max_tokens
        (FRONTIER, answer(FRONTIER, QUESTION)[:80] + "\n[... cut ...]"),  # cut to fit the judge prompt
    ],
)
def test_author_recognises_answers(model: str, text: str) -> None:
    assert Judge(seed=0).author(QUESTION, text) == model
    assert Judge(seed=0).author("  " + QUESTION + "\n", text) == model


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[sim-ch",
        "Paris is the capital of France.",
        answer(CHEAP, "another question"),
        answer(CHEAP, QUESTION)[:20] + " tampered",
        "Preamble\n" + answer(CHEAP, QUESTION),
        answer(CHEAP, QUESTION, index=8),
        '{"answer": 42}',
    ],
)
def test_author_rejects_other_text(text: str) -> None:
    assert Judge(seed=0).author(QUESTION, text) is None


def test_another_seed_does_not_recognise_the_answers() -> None:
    assert Judge(seed=1).author(QUESTION, answer(CHEAP, QUESTION)) is None
    assert Judge(seed=1).author(QUESTION, answer(CHEAP, QUESTION, seed=1)) == CHEAP


TRUTH = {
    "cheap wins": {CHEAP: 0.9, FRONTIER: 0.3},
    "frontier wins": {CHEAP: 0.2, FRONTIER: 0.8},
    "near tie": {CHEAP: 0.5, FRONTIER: 0.54},
    "exact tie": {CHEAP: 0.7, FRONTIER: 0.7},
}


@pytest.mark.parametrize(
    ("question", "cheap_first", "frontier_first"),
    [("cheap wins", "A", "B"), ("frontier wins", "B", "A"), ("near tie", "C", "C"), ("exact tie", "C", "C")],
)
def test_verdict_follows_the_truth_in_both_orders(question: str, cheap_first: str, frontier_first: str) -> None:
    judge = Judge(0, truth_of(TRUTH))
    cheap, frontier = answer(CHEAP, question), answer(FRONTIER, question)
    assert judge.verdict(question, cheap, frontier) == cheap_first
    assert judge.verdict(question, frontier, cheap) == frontier_first


def test_an_unrecognised_answer_has_quality_zero() -> None:
    judge = Judge(0, truth_of(TRUTH))
    cheap = answer(CHEAP, "frontier wins")
    assert judge.answer_quality("frontier wins", "I do not know.") == 0.0
    assert judge.verdict("frontier wins", "I do not know.", cheap) == "B"
    assert judge.verdict("frontier wins", cheap, "I do not know.") == "A"
    assert judge.verdict("frontier wins", "no idea", "I do not know.") == "C"
    assert Judge(0, truth_of({"zero": {CHEAP: 0.0}})).verdict("zero", "nonsense", answer(CHEAP, "zero")) == "C"


def test_reply_reads_the_judge_prompt() -> None:
    judge = Judge(0, truth_of(TRUTH))
    cheap, frontier = answer(CHEAP, "cheap wins"), answer(FRONTIER, "cheap wins")
    reply = judge.reply(judge_messages("cheap wins", cheap, frontier))
    assert reply is not None and verdict_of(reply) == "A" and reply.startswith("Assistant A's answer is more")
    swapped = judge.reply(judge_messages("cheap wins", frontier, cheap))
    assert swapped is not None and verdict_of(swapped) == "B"
    tie = judge.reply(judge_messages("near tie", answer(CHEAP, "near tie"), answer(FRONTIER, "near tie")))
    assert tie is not None and verdict_of(tie) == "C"
    assert judge.reply([{"role": "user", "content": "What is the capital of France?"}]) is None


def test_position_bias_one_always_prefers_a() -> None:
    judge = Judge(0, truth_of(TRUTH), position_bias=1.0)
    for question in TRUTH:
        cheap, frontier = answer(CHEAP, question), answer(FRONTIER, question)
        assert judge.verdict(question, cheap, frontier) == judge.verdict(question, frontier, cheap) == "A"
    with pytest.raises(ValueError):
        Judge(0, position_bias=1.5)


def _points(first: str, second: str) -> tuple[float, float]:
    """(cheap, frontier) points from judging (cheap, frontier) then (frontier, cheap)."""
    value = {"A": (1.0, 0.0), "B": (0.0, 1.0), "C": (0.5, 0.5)}
    cheap = value[first][0] + value[second][1]
    return cheap, 2.0 - cheap


def test_judging_both_orders_cancels_position_bias() -> None:
    fair, biased = Judge(0), Judge(0, position_bias=0.4)
    single_wrong = both_wrong = both_right = judged = 0
    for i in range(300):
        question = f"benchmark prompt {i}"
        cheap, frontier = answer(CHEAP, question), answer(FRONTIER, question)
        truth = fair.verdict(question, cheap, frontier)
        if truth == "C":
            continue
        judged += 1
        first, second = biased.verdict(question, cheap, frontier), biased.verdict(question, frontier, cheap)
        assert (first, second) == (biased.verdict(question, cheap, frontier), biased.verdict(question, frontier, cheap))
        single_wrong += first != truth
        cheap_points, frontier_points = _points(first, second)
        winner = "A" if cheap_points > frontier_points else "B" if frontier_points > cheap_points else "C"
        both_wrong += winner not in (truth, "C")
        both_right += winner == truth
    frontier_better = sum(
        fair.verdict(
            f"benchmark prompt {i}", answer(CHEAP, f"benchmark prompt {i}"), answer(FRONTIER, f"benchmark prompt {i}")
        )
        == "B"
        for i in range(300)
    )
    assert 0.25 < single_wrong / frontier_better < 0.55  # one order: the bias flips ~40% of B wins to A
    assert both_wrong == 0  # both orders: a biased pair can only tie, never pick the worse answer
    assert both_right / judged > 0.5
