"""``python -m routers train|eval|score ...``: the same commands as ``triage router ...``."""

from __future__ import annotations

import argparse

from routers.cli import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m routers", description="Train, evaluate and run routers.")
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
