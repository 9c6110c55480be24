"""``python -m gateway.simulator --port P ...``: run the upstream simulator."""

from gateway.simulator.cli import main

raise SystemExit(main())
