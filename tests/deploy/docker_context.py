"""Reading ``deploy/docker/Dockerfile`` and ``.dockerignore`` the way ``docker build`` does.

Enough of both formats for the tests: instructions with line continuations, JSON
(exec-form) arguments, and ``.dockerignore`` patterns (``*``, ``**``, ``?``, ``!``
exceptions, last match wins, a pattern that matches a folder excludes what is in it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.local.processes import ROOT

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, RUN, ...
    arguments: str  # the rest of the (joined) line

    def exec_form(self) -> list[str]:
        """The JSON array form of CMD / ENTRYPOINT / HEALTHCHECK CMD arguments."""
        text = self.arguments
        if self.keyword == "HEALTHCHECK":
            text = text[text.index("CMD") + 3 :]
        value = json.loads(text)
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
        return value


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        result.append(Instruction(keyword.upper(), arguments.strip()))
    return result


def copy_sources(instruction: Instruction) -> list[str]:
    """The context paths a ``COPY`` reads (none for ``COPY --from=stage``)."""
    words = instruction.arguments.split()
    if any(w.startswith("--from=") for w in words):
        return []
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            parts.append(pattern[i : end + 1])
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts))


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    rules: tuple[tuple[bool, re.Pattern[str]], ...]  # (is an exception "!", pattern)
    exceptions: tuple[str, ...]  # the "!" patterns as written, to know which folders to walk

    @classmethod
    def load(cls, path: Path = DOCKERIGNORE) -> IgnoreRules:
        rules: list[tuple[bool, re.Pattern[str]]] = []
        exceptions: list[str] = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = line.lstrip("!").strip().strip("/")
            rules.append((negate, _pattern_regex(pattern)))
            if negate:
                exceptions.append(pattern)
        return cls(tuple(rules), tuple(exceptions))

    def excluded(self, relative: str) -> bool:
        """Whether ``relative`` (a path in the context, ``/``-separated) is left out of the build."""
        parts = relative.strip("/").split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negate, regex in self.rules:
            if any(regex.fullmatch(p) for p in prefixes):
                excluded = not negate
        return excluded

    def may_include_below(self, folder: str) -> bool:
        """Whether an exception could bring back something inside an excluded ``folder``."""
        return any(e.startswith(folder + "/") or e.startswith("*") for e in self.exceptions)


def context_files(root: Path = ROOT) -> Iterator[str]:
    """Every file ``docker build`` would send from ``root`` (relative, ``/``-separated)."""
    rules = IgnoreRules.load(root / ".dockerignore")
    for folder, subfolders, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        subfolders[:] = sorted(
            d for d in subfolders if not rules.excluded(prefix + d) or rules.may_include_below(prefix + d)
        )
        for name in sorted(files):
            if not rules.excluded(prefix + name):
                yield prefix + name


def materialise_context(destination: Path, root: Path = ROOT) -> Path:
    """Copy the build context into ``destination``, as the Docker daemon would receive it."""
    for relative in context_files(root):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return destination
