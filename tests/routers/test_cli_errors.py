"""``triage router eval|score`` on unusable input: one line on stderr naming the problem, exit 2.

Each case runs the real CLI (``python -m gateway router ...``) as a subprocess, so a traceback
or a second line of output fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from routers.evaluation import DataFileError, read_numbered

OUTCOME = {"prompt": "What is 2 + 2?", "strong_score": 1.0, "weak_score": 1.0, "source": "mmlu"}
EVERYDAY_ROW = {"prompt": "hi there", "label": 0, "split": "heldout", "kind": "chitchat"}


def _lines(path: Path, *rows: object) -> Path:
    """Write ``rows`` one per line: dicts as JSON, strings as they are."""
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def triage(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    command = [sys.executable, "-m", "gateway", "router", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)


def assert_one_line(result: subprocess.CompletedProcess[str], command: str, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"triage router {command}: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# (case id, input file maker, fragments the message must hold besides the file's path)
InputCase = tuple[str, Callable[[Path], Path], tuple[str, ...]]


def _not_a_folder(tmp: Path) -> Path:
    return _lines(tmp / "file.jsonl", {"id": 1, "prompt": "x"}) / "in.jsonl"


def _not_utf8(tmp: Path) -> Path:
    path = tmp / "latin1.jsonl"
    path.write_bytes('{"id": 1, "prompt": "caf\u00e9"}\n'.encode("latin-1"))
    return path


FILE_CASES: list[InputCase] = [
    ("missing", lambda tmp: tmp / "missing.jsonl", ("no such file",)),
    ("directory", lambda tmp: tmp, ("is a directory",)),
    ("not-a-folder", _not_a_folder, ("cannot read it",)),
    ("not-utf8", _not_utf8, ("not UTF-8",)),
    ("pretty-json", lambda tmp: _lines(tmp / "pretty.jsonl", "{", '  "id": 1', "}"), ("line 1: not valid JSON",)),
]

SCORE_ROWS: list[InputCase] = [
    ("bad-json-line", lambda t: _lines(t / "in.jsonl", {"id": 1, "prompt": "x"}, "{oops"), ("line 2: not valid",)),
    ("array-line", lambda t: _lines(t / "in.jsonl", [1, 2]), ("line 1: not a JSON object",)),
    ("no-id", lambda t: _lines(t / "in.jsonl", {"prompt": "x"}), ("line 1: needs 'id'",)),
    ("no-prompt", lambda t: _lines(t / "in.jsonl", {"id": 1}, "", {"id": 2, "text": "y"}), ("line 1", "'prompt'")),
    ("bad-messages", lambda t: _lines(t / "in.jsonl", {"id": 1, "messages": "hi"}), ("line 1: 'messages' must",)),
]

EVAL_ROWS: list[InputCase] = [
    ("empty", lambda t: _lines(t / "dev.jsonl", ""), ("no rows",)),
    (
        "no-strong-score",  # line 3: the blank line 2 still counts
        lambda t: _lines(t / "dev.jsonl", OUTCOME, "", {"prompt": "y", "weak_score": 0}),
        ("line 3: needs a number in 'strong_score'",),
    ),
    (
        "score-not-a-number",
        lambda t: _lines(t / "dev.jsonl", {**OUTCOME, "weak_score": "high"}),
        ("line 1: needs a number in 'weak_score'",),
    ),
    ("no-prompt", lambda t: _lines(t / "dev.jsonl", {"strong_score": 1, "weak_score": 0}), ("line 1", "'prompt'")),
    (
        "everyday-without-label",
        lambda t: _lines(t / "dev.jsonl", EVERYDAY_ROW, {"prompt": "x", "split": "heldout"}),
        ("line 2: needs 'label' 0 or 1",),
    ),
    ("bad-json-line", lambda t: _lines(t / "dev.jsonl", OUTCOME, "not json"), ("line 2: not valid JSON",)),
]


def _ids(cases: list[InputCase]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(("case", "make", "fragments"), FILE_CASES + SCORE_ROWS, ids=_ids(FILE_CASES + SCORE_ROWS))
def test_score_reports_an_unusable_input_file(
    tmp_path: Path, case: str, make: Callable[[Path], Path], fragments: tuple[str, ...]
) -> None:
    infile = make(tmp_path)
    result = triage("score", "--router", "heuristic", "--in", str(infile), "--out", str(tmp_path / "out.jsonl"))
    assert_one_line(result, "score", str(infile), *fragments)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(("case", "make", "fragments"), FILE_CASES + EVAL_ROWS, ids=_ids(FILE_CASES + EVAL_ROWS))
def test_eval_reports_an_unusable_data_file(
    tmp_path: Path, case: str, make: Callable[[Path], Path], fragments: tuple[str, ...]
) -> None:
    data = make(tmp_path)
    result = triage("eval", "--router", "heuristic", "--data", str(data), "--no-everyday")
    assert_one_line(result, "eval", str(data), *fragments)


def test_a_permission_error_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable file (tested in-process: the suite runs as root here, which reads any file)."""
    path = tmp_path / "secret.jsonl"

    def denied(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(DataFileError) as caught:
        read_numbered(path)
    assert str(caught.value) == f"{path}: cannot read it (Permission denied)"


def test_eval_reports_a_bad_everyday_file(tmp_path: Path) -> None:
    data = _lines(tmp_path / "dev.jsonl", OUTCOME)
    everyday = _lines(tmp_path / "everyday.jsonl", EVERYDAY_ROW, {**EVERYDAY_ROW, "label": "hard"})
    result = triage("eval", "--router", "heuristic", "--data", str(data), "--everyday", str(everyday))
    assert_one_line(result, "eval", f"{everyday}, line 2: needs 'label' 0 or 1")


@pytest.mark.parametrize("output", ["missing-folder", "a-folder"])
@pytest.mark.parametrize("command", ["score", "eval"])
def test_an_output_that_cannot_be_written_fails_before_scoring(tmp_path: Path, command: str, output: str) -> None:
    out = tmp_path / "nowhere" / "out.json" if output == "missing-folder" else tmp_path
    if command == "score":
        infile = _lines(tmp_path / "in.jsonl", {"id": 1, "prompt": "x"})
        result = triage("score", "--router", "heuristic", "--in", str(infile), "--out", str(out))
    else:
        data = _lines(tmp_path / "dev.jsonl", OUTCOME)
        result = triage("eval", "--router", "heuristic", "--data", str(data), "--no-everyday", "--json", str(out))
    expected = "does not exist" if output == "missing-folder" else "is a directory"
    assert_one_line(result, command, str(out), expected)


@pytest.mark.parametrize("command", ["score", "eval"])
def test_a_missing_artifact_is_one_line(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty-ngram"
    empty.mkdir()
    for folder_flag, folder, expected in (
        ("--artifact", empty, f"missing router artifact(s) in {empty}: weights.npz, blend.json"),
        ("--artifacts", empty, f"missing router artifact(s) in {empty / 'ngram'}"),
        ("--artifact", tmp_path / "nope", f"{tmp_path / 'nope'}: no such artifact folder"),
    ):
        if command == "score":
            infile = _lines(tmp_path / "in.jsonl", {"id": 1, "prompt": "x"})
            io = ["--in", str(infile), "--out", str(tmp_path / "o.jsonl")]
        else:
            io = ["--data", str(_lines(tmp_path / "dev.jsonl", OUTCOME)), "--no-everyday"]
        result = triage(command, "--router", "ngram", folder_flag, str(folder), *io)
        assert_one_line(result, command, expected)


@pytest.mark.parametrize("command", ["score", "eval"])
def test_an_unknown_router_or_a_missing_option_is_one_line(tmp_path: Path, command: str) -> None:
    io = ["--in", "x.jsonl", "--out", "y.jsonl"] if command == "score" else ["--data", "x.jsonl"]
    result = triage(command, "--router", "nope", *io)
    assert_one_line(result, command, "invalid choice: 'nope'", "'ngram'", "(see --help)")
    missing = triage(command, "--router", "heuristic")
    assert_one_line(missing, command, "the following arguments are required")


def test_good_input_still_scores(tmp_path: Path) -> None:
    infile = _lines(
        tmp_path / "in.jsonl",
        {"id": "a", "prompt": "x"},
        "",
        {"id": "b", "messages": [{"role": "user", "content": "y"}]},
    )
    result = triage("score", "--router", "heuristic", "--in", str(infile), "--out", str(tmp_path / "o.jsonl"))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "o.jsonl").read_text().splitlines()] == ["a", "b"]
