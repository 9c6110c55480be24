"""``triage demo`` on a busy port says which port and which flag, and exits 2 before starting anything."""

from __future__ import annotations

import socket
import subprocess
import sys

from gateway.local.demo import busy_port_message
from gateway.local.processes import free_port


def test_a_free_pair_of_ports_passes() -> None:
    assert busy_port_message(free_port(), free_port()) is None


def test_the_same_port_twice_is_refused() -> None:
    port = free_port()
    message = busy_port_message(port, port)
    assert message is not None and "different values" in message


def test_the_demo_names_the_busy_port_and_its_flag_and_exits_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "demo", "--once", "--port", str(port), "--sim-port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert f"port {port}" in done.stderr and "--port N" in done.stderr
    assert "triage ready" not in done.stdout + done.stderr
    sim_taken_port = port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sim_taken_port = taken.getsockname()[1]
        message = busy_port_message(free_port(), sim_taken_port)
    assert message is not None and "--sim-port N" in message
