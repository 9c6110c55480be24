"""Print the ``--workers`` benchmark's table (``benchmarks/results/workers.json``) as Markdown.

.venv/bin/python benchmarks/report_workers.py
"""

from __future__ import annotations

import json

from workers import markdown  # type: ignore[import-not-found]

from common import RESULTS  # type: ignore[import-not-found]

if __name__ == "__main__":
    print(markdown(json.loads((RESULTS / "workers.json").read_text())))
