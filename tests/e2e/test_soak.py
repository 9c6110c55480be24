"""The soak with chaos, compressed: ``benchmarks/soak.py --seconds 55`` as ``make soak`` runs it.

Three gateways behind HAProxy on a Redis Cluster, a simulator failing a few percent of
calls; one gateway SIGKILLed and restarted, one drained and restarted, a Redis primary
killed. The script checks everything itself (exit 1 on a failed check); this test also
reads its JSON, so each property is asserted here by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.local.processes import ROOT

pytestmark = pytest.mark.processes


def test_the_compressed_soak_holds_every_property(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--seconds", "55", "--rate", "30"]
    command += ["--out", str(tmp_path)]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert (tmp_path / "soak.png").stat().st_size > 10_000
    results = json.loads((tmp_path / "soak.json").read_text())["results"]
    assert [e["event"] for e in results["events"]][:5] == ["sigkill", "restart", "ready", "sigterm", "exited"]
    assert {"kill_redis_primary", "failover", "redis_ok"} <= {e["event"] for e in results["events"]}
    assert results["lost"] == 0, results["lost_examples"]
    assert results["outcomes"]["ok"] > 0.85 * results["requests"]
    for row in results["rate_limits"]:
        assert row["admitted_2xx"] <= row["rpm_bound"] if row["rpm"] else row["tokens_2xx"] <= row["tpm_bound"]
    for key in {row["key"] for row in results["rate_limits"]}:
        assert sum(row["refused_429"] for row in results["rate_limits"] if row["key"] == key) > 0, key
    for row in results["budgets"]:
        assert row["client_spend_redis_up_usd"] <= row["bound_usd"] and row["refused_budget_exceeded"] > 0, row
    metrics = results["metrics"]
    assert 0 <= metrics["difference"] <= metrics["tolerance_unscraped_before_death"], metrics
    assert all(phase["p99_ms"] > 0 for phase in results["phases"] if phase["requests"])
