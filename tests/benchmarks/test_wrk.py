"""wrk, the independent load client: its summary parsed, and the Lua script it runs against a real simulator."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import wrk  # type: ignore[import-not-found]

from gateway.local import processes as procs

OUTPUT = """Running 3s test @ http://127.0.0.1:43427
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  800.73us   8.17ms   78.58%
    Req/Sec    14.25k     1.62k   15.66k    93.33%
  Latency Distribution
     50%  812.00us
     75%    2.41ms
     90%    2.83ms
     99%    1.02s
  42597 requests in 3.01s, 23.58MB read
  Socket errors: connect 0, read 2, write 1, timeout 4
  Non-2xx or 3xx responses: 17
Requests/sec:  14131.76
Transfer/sec:      7.82MB
"""


def test_parse_reads_rate_percentiles_and_errors() -> None:
    out = wrk.parse(OUTPUT)
    assert out["requests"] == 42597 and out["duration_s"] == pytest.approx(3.01)
    assert out["rps"] == pytest.approx(14131.76)
    assert out["latency_p50_ms"] == pytest.approx(0.812)
    assert out["latency_p75_ms"] == pytest.approx(2.41)
    assert out["latency_p99_ms"] == pytest.approx(1020.0)
    assert (out["non_2xx"], out["socket_errors"], out["errors"]) == (17, 7, 24)


def test_parse_without_errors_counts_zero() -> None:
    clean = "\n".join(line for line in OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)
    assert wrk.parse(clean)["errors"] == 0


def test_parse_refuses_output_without_a_summary() -> None:
    with pytest.raises(ValueError, match="rps"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(("text", "ms"), [("394.00us", 0.394), ("2.09ms", 2.09), ("1.50s", 1500.0), ("1.00m", 60000.0)])
def test_milliseconds(text: str, ms: float) -> None:
    assert wrk.milliseconds(text) == pytest.approx(ms)


def test_a_body_holding_the_closing_bracket_gets_a_longer_one() -> None:
    assert wrk._long_string("a]=]b") == "[==[a]=]b]==]"
    assert wrk._long_string("plain") == "[=[plain]=]"


def test_the_script_posts_every_body_to_a_real_simulator(tmp_path: Path) -> None:
    assert shutil.which("wrk"), "wrk is a Debian package: apt-get install wrk"
    bodies = [
        json.dumps({"model": "sim-cheap", "messages": [{"role": "user", "content": text}]}).encode()
        for text in ("hello", 'brackets ]] and ]=] and "quotes"', "ünïcode")
    ]
    script = tmp_path / "post.lua"
    script.write_text(wrk.script("/v1/chat/completions", bodies, [("Authorization", "Bearer sk-test")]))
    with procs.simulator(["--ttft-ms", "0", "--tokens-per-s", "1000000"]) as sim_url:
        base = sim_url.removesuffix("/v1")
        done = subprocess.run(
            ["wrk", "-t1", "-c2", "-d1s", "--latency", "-s", str(script), base],
            capture_output=True,
            text=True,
            timeout=30,
        )
    out = wrk.parse(done.stdout)
    assert done.stderr.strip() == ""
    assert out["requests"] > 100 and out["errors"] == 0  # a malformed body would be a 400
