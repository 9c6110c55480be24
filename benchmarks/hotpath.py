"""Where Triage's CPU goes under load: py-spy's collapsed stacks, summarised as top frames.

``py-spy record --format raw`` writes one line per distinct stack, ``frame;frame;... count``,
each frame ``function (path:line)``. Frames are grouped by function and file (line numbers
dropped); *self* counts samples whose leaf is the frame, *total* counts samples whose stack
contains it (once per sample, so recursion is not double counted). Idle samples (the event
loop waiting in epoll) are not recorded by py-spy without ``--idle``: percentages are of CPU time.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")
ROOT = f"{Path(__file__).resolve().parent.parent}/"  # this checkout, wherever it is
_PREFIXES = ("site-packages/", f"lib/python{sys.version_info.major}.{sys.version_info.minor}/", ROOT)
OWN = ("gateway", "routers", "policies")
TRUNK = ("(gateway/cli.py)", "(gateway/serve.py)", "(gateway/__main__.py)")  # start-up frames under everything


def _short(path: str) -> str:
    for prefix in _PREFIXES:
        if prefix in path:
            return path.split(prefix, 1)[1]
    return path


def _frame(raw: str) -> str:
    match = _FRAME.match(raw.strip())
    if match is None:
        return raw.strip()
    return f"{match['func']} ({_short(match['file'])})"


def _package(frame: str) -> str:
    """``name (httpcore/_async/http11.py)`` -> ``httpcore``; the stdlib's ``asyncio/x.py`` -> ``asyncio``."""
    file = frame.rsplit(" (", 1)[-1].rstrip(")")
    head = file.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in file or file.endswith(".py") else file


def parse(path: Path) -> tuple[Counter[str], Counter[str], int]:
    """(self samples, total samples, all samples) per frame of a py-spy raw file."""
    self_counts: Counter[str] = Counter()
    total_counts: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        samples += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            total_counts[frame] += count
    return self_counts, total_counts, samples


def summary(path: Path, top: int = 25) -> dict[str, Any]:
    self_counts, total_counts, samples = parse(path)

    def rows(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"frame": f, "samples": n, "percent": 100 * n / max(1, samples)} for f, n in counter.most_common(top)]

    packages: Counter[str] = Counter()
    for frame, count in self_counts.items():
        packages[_package(frame)] += count
    own = Counter({f: n for f, n in total_counts.items() if _package(f) in OWN and not f.endswith(TRUNK)})
    return {
        "samples": samples,
        "top_self": rows(self_counts),
        "top_total": rows(total_counts),
        "top_total_own": rows(own),
        "self_by_package": rows(packages),
    }


def write_text(result: dict[str, Any], path: Path, header: str) -> None:
    lines = [header, f"samples: {result['samples']} (CPU samples only; idle epoll waits excluded)", ""]
    titles = (
        ("self_by_package", "Self time by package"),
        ("top_self", "Top frames by self time"),
        ("top_total", "Top frames by total (inclusive) time"),
        ("top_total_own", "Triage's own frames (gateway/, routers/, policies/) by total time"),
    )
    for key, title in titles:
        lines.append(f"{title}:")
        lines += [f"  {r['percent']:6.2f}%  {r['samples']:7d}  {r['frame']}" for r in result[key]]
        lines.append("")
    path.write_text("\n".join(lines))
