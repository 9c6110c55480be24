"""The multi-turn view: what a router sees, and its caps."""

from __future__ import annotations

from routers.base import CONTEXT_TURNS, MAX_VIEW_CHARS, SYSTEM_CHARS, TURN_CHARS, USER_CHARS, prompt_text


def test_single_turn_is_the_prompt_itself() -> None:
    assert prompt_text([{"role": "user", "content": "What is 2 + 2?"}]) == "What is 2 + 2?"


def test_last_user_turn_first_then_bounded_context() -> None:
    view = prompt_text(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": "second question"},
            {"role": "assistant", "content": "second answer"},
            {"role": "user", "content": "final question"},
        ]
    )
    assert view == "final question\n\n[system] Be brief.\n[user] second question\n[assistant] second answer"
    assert CONTEXT_TURNS == 2


def test_tool_results_after_the_user_turn_count_as_context() -> None:
    view = prompt_text(
        [
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": []},
            {"role": "tool", "content": "x" * 50_000},
        ]
    )
    assert view.startswith("weather in Paris?\n\n[tool] xxx")
    assert len(view) <= len("weather in Paris?\n\n[tool] ") + TURN_CHARS


def test_long_documents_are_capped_head_and_tail() -> None:
    document = "A" * 100_000 + " What is the main point?"
    view = prompt_text([{"role": "system", "content": "S" * 10_000}, {"role": "user", "content": document}])
    user_part, context = view.split("\n\n[system] ")
    assert len(user_part) == USER_CHARS
    assert user_part.endswith("What is the main point?") and " … " in user_part
    assert len(context) == SYSTEM_CHARS
    assert len(view) <= MAX_VIEW_CHARS


def test_content_parts_and_missing_user() -> None:
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "here"},
    ]
    assert prompt_text([{"role": "user", "content": parts}]) == "look\nhere"
    assert prompt_text([{"role": "system", "content": "only a system prompt"}]) == "only a system prompt"
    assert prompt_text([]) == ""


def test_max_chars_bounds_everything() -> None:
    messages = [{"role": "user", "content": "q" * 10_000}, {"role": "assistant", "content": "a" * 10_000}] * 50
    assert len(prompt_text(messages, max_chars=1000)) == 1000
    assert len(prompt_text(messages)) <= USER_CHARS + 2 + 2 * (TURN_CHARS + 20)


def test_huge_documents_do_not_blow_up_scoring_time() -> None:
    import time

    from routers.registry import build_router

    router = build_router("ngram")
    huge = [{"role": "tool", "content": "data " * 200_000}, {"role": "user", "content": "x " * 500_000}]
    start = time.perf_counter()
    for _ in range(5):
        router.score_texts([prompt_text(huge)])  # type: ignore[attr-defined]
    assert (time.perf_counter() - start) / 5 < 0.05
