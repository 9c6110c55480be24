"""The paired schedule against a real simulator: one direct request per ``stride`` gateway requests, same bodies."""

from __future__ import annotations

import json

import paired  # type: ignore[import-not-found]
from loadgen import Step, Target, run_closed, run_paired  # type: ignore[import-not-found]

from gateway.local import processes as procs

FAST = ["--ttft-ms", "0", "--tokens-per-s", "1000000"]


def _body(i: int) -> bytes:
    return json.dumps({"model": "sim-cheap", "messages": [{"role": "user", "content": f"question {i}"}]}).encode()


async def test_pairs_follow_the_stride_and_share_the_schedule() -> None:
    with procs.simulator(FAST) as sim_url:
        target = Target(f"{sim_url}/chat/completions", _body)
        result = await run_paired(target, target, Step(rate=100.0, duration_s=1.0, warmup_s=0.2), stride=2)
    assert len(result.gateway) == 100 and result.sent == 120
    probes = [p for p in result.direct if p is not None]
    assert len(probes) == 50
    assert all(result.direct[i] is not None for i in range(0, 100, 2))
    for i in range(0, 100, 2):
        probe = result.direct[i]
        assert probe is not None
        assert abs((probe.due - result.gateway[i].due) - 0.005) < 1e-9  # half an interval later
    row = paired.summary(result.gateway, result.direct)
    assert row["pairs"] == 50 and row["direct_errors"] == 0
    assert abs(row["overhead_p50_ms"]) < 5  # the same server on both sides: no overhead to speak of


async def test_a_refused_request_is_an_error_not_a_pair() -> None:
    with procs.simulator(FAST) as sim_url:
        good = Target(f"{sim_url}/chat/completions", _body)
        bad = Target(f"{sim_url}/chat/completions", lambda i: b"{not json")
        result = await run_paired(bad, good, Step(rate=50.0, duration_s=0.4, warmup_s=0.1))
    assert {s.status for s in result.gateway} == {400}
    assert paired.summary(result.gateway, result.direct)["pairs"] == 0


async def test_the_closed_loop_keeps_every_connection_busy() -> None:
    with procs.simulator(FAST) as sim_url:
        samples, window = await run_closed(Target(f"{sim_url}/chat/completions", _body), 4, 0.5, warmup_s=0.2)
    assert window >= 0.5
    assert len(samples) > 20 and all(s.status == 200 for s in samples)
