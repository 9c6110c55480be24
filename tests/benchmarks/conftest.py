"""The benchmark scripts import each other as top-level modules (``python benchmarks/x.py`` puts their
folder on ``sys.path``); the tests of their pure parts do the same."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
