"""The semantic cache's exactness guards: each hard-negative kind is refused, paraphrases pass."""

from __future__ import annotations

import pytest

from gateway.cache.guards import GUARDS, Facts, facts, mismatch


def refused_by(a: str, b: str) -> str | None:
    first, second = facts(a), facts(b)
    assert mismatch(first, second) == mismatch(second, first), "the guards are symmetric"
    return mismatch(first, second)


@pytest.mark.parametrize(
    ("a", "b", "guard"),
    [
        # one number changed (digits, number words, ordinals, signs, decimals)
        ("Convert 5 km to miles", "Convert 50 km to miles", "numbers"),
        ("Is 97 a prime number?", "Is 91 a prime number?", "numbers"),
        ("What is 7 minus 3?", "What is 3 minus 7?", "numbers"),
        ("How many days are in three weeks?", "How many days are in four weeks?", "numbers"),
        ("What was the first World War about?", "What was the second World War about?", "numbers"),
        ("What is the 10th Fibonacci number?", "What is the 12th Fibonacci number?", "numbers"),
        ("What is -5 mod 3?", "What is 5 mod 3?", "numbers"),
        ("Which is bigger, 0.5 or 0.45?", "Which is bigger, 0.5 or 0.55?", "numbers"),
        # negation
        ("Which foods contain gluten?", "Which foods don't contain gluten?", "negations"),
        ("Why is the sky blue?", "Why is the sky not blue?", "negations"),
        ("How do I make bread with yeast?", "How do I make bread without yeast?", "negations"),
        ("Which birds can fly?", "Which birds cannot fly?", "negations"),
        # swapped or replaced names
        ("What is the capital of France?", "What is the capital of Spain?", "entities"),
        ("Is Mercury closer to the Sun than Venus?", "Is Venus closer to the Sun than Mercury?", "entities"),
        ("weather in paris today", "weather in london today", "entities"),
        ("How do I sort a dictionary in Python?", "How do I sort a dictionary in Ruby?", "entities"),
        ("How do I send money from PayPal to my bank?", "How do I send money from my bank to PayPal?", "entities"),
        # another language
        ("What is the capital of France?", "Quelle est la capitale de la France ?", "language"),
        ("How long does shipping take?", "Wie lange dauert der Versand?", "language"),
        ("Why is the sky blue?", "¿Por qué el cielo es azul?", "language"),
        ("Why is the sky blue?", "Почему небо голубое?", "language"),
        ("Why is the sky blue?", "为什么天空是蓝色的？", "language"),
        # other units
        ("Convert 5 km to miles", "Convert 5 km to feet", "units"),
        ("Convert 5 km to miles", "Convert 5 miles to km", "units"),
        ("How many grams are in a pound?", "How many ounces are in a pound?", "units"),
        ("What is 100 °F in Celsius?", "What is 100 °F in Kelvin?", "units"),
        ("Convert $100 to euros", "Convert €100 to dollars", "units"),
        ("What's 5% interest per month in a year?", "What's 5% interest per year in a month?", "units"),
        # code blocks, inline code, quoted strings, file names
        (
            "What does this print?\n```python\nprint(sum(range(10)))\n```",
            "What does this print?\n```python\nprint(sum(range(11)))\n```",
            "literals",
        ),
        ("What does `git reset --hard` do?", "What does `git reset --soft` do?", "literals"),
        ("What does 'carpe diem' mean?", "What does 'carpe noctem' mean?", "literals"),
        ('What does the error "permission denied" mean?', 'What does the error "connection refused" mean?', "literals"),
        ("Explain the error in main.py", "Explain the error in utils.py", "literals"),
        # opposites
        ("What is the largest planet?", "What is the smallest planet?", "opposites"),
        ("How do I increase the font size?", "How do I decrease the font size?", "opposites"),
        ("How do I sign in to my account?", "How do I sign out of my account?", "opposites"),
    ],
)
def test_each_hard_negative_kind_is_refused(a: str, b: str, guard: str) -> None:
    assert guard in GUARDS
    assert refused_by(a, b) == guard


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("How do I reset my password?", "What are the steps to reset my password?"),
        ("Convert 5 km to miles", "How many miles is 5 kilometres?"),
        ("How much is $60?", "How much is 60 dollars?"),
        ("Convert 100 degrees Fahrenheit to Celsius", "What is 100 °F in Celsius?"),
        ("What is the capital of France?", "Tell me France's capital city."),
        ("HOW DO I RESET MY PASSWORD", "how do i reset my password"),
        ("How do I migrate a database from MySQL to PostgreSQL?", "Migrating a database from MySQL to PostgreSQL?"),
        ("Is 1,000 more than 999?", "Is 1000 more than 999?"),
        ("What does 'carpe diem' mean?", 'Meaning of "carpe diem"?'),
        ("Comment réinitialiser mon mot de passe ?", "Comment puis-je réinitialiser mon mot de passe ?"),
        ("Explain DNA.", "What is DNA?"),
    ],
)
def test_paraphrases_pass(a: str, b: str) -> None:
    assert refused_by(a, b) is None


def test_facts_keep_no_prompt_text_and_round_trip() -> None:
    text = 'Does Alice owe Bob $25 for "the blue book" in main.py? She did not say.'
    found = facts(text)
    encoded = found.encode()
    for word in (b"Alice", b"alice", b"blue book", b"main.py", b"owe"):
        assert word not in encoded
    assert Facts.decode(encoded) == found
    assert found.numbers == ("25",) and found.measures == ("usd",) and found.negations == 1
    assert Facts.decode(b"garbage") is None
    assert Facts.decode(encoded.replace(b"[1,", b"[9,", 1)) is None, "another version is ignored"
