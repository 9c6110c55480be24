"""Real local Redis topologies for the tests: a Redis Cluster and a Sentinel-watched primary.

``redis_cluster`` starts 3 primaries and 3 replicas (``redis-cli --cluster create``) and
waits until every slot is served; ``redis_sentinel`` starts a primary, one replica and
three sentinels (quorum 2) that fail over one second after the primary stops answering.
Each yields its URL in the form ``redis.url`` takes and the processes, so a test can kill
a primary and watch the failover.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gateway.local.processes import free_port, redis_server_binary, stop

BUS_OFFSET = 10000  # a cluster node's bus listens on its port + 10000
SERVICE = "mymaster"


@dataclass
class Nodes:
    """Started processes by port; ``kill`` stops one abruptly (a crash, not a shutdown)."""

    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def kill(self, port: int) -> None:
        self.processes[port].kill()
        self.processes[port].wait()


def cli(port: int, *args: str, timeout_s: float = 10.0) -> str:
    """``redis-cli -p port args...``; its output ('' if the node does not answer)."""
    binary = shutil.which("redis-cli")
    if binary is None:
        raise RuntimeError("no redis-cli: run `make redis` (Debian's redis-tools) or apt-get install redis-tools")
    done = subprocess.run(
        [binary, "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, timeout=timeout_s, check=False
    )
    return done.stdout.decode()


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} within {timeout_s}s: no")


def cluster_port() -> int:
    """A free port whose bus port (port + 10000) is free too and at most 65535."""
    for _ in range(200):
        port = free_port()
        if port + BUS_OFFSET > 65535:
            continue
        with contextlib.suppress(OSError), socket.socket() as sock:
            sock.bind(("127.0.0.1", port + BUS_OFFSET))
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _server(directory: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory), "--repl-diskless-sync-delay", "0", *extra]  # replicas sync at once
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=directory)
    wait_until(lambda: cli(port, "PING").strip() == "PONG" or process.poll() is not None, f"redis on {port} answers")
    if process.poll() is not None:
        raise RuntimeError(f"redis-server on port {port} exited with {process.returncode}")
    return process


@contextlib.contextmanager
def redis_cluster(directory: Path, node_timeout_ms: int = 1000) -> Iterator[tuple[str, Nodes]]:
    """Six cluster nodes (3 primaries, 3 replicas); yields (``redis+cluster://`` URL, nodes)."""
    nodes = Nodes()
    try:
        for _ in range(6):
            port = cluster_port()
            folder = directory / f"node-{port}"
            folder.mkdir(parents=True)
            nodes.processes[port] = _server(
                folder, port, "--cluster-enabled", "yes", "--cluster-node-timeout", str(node_timeout_ms)
            )
        addresses = [f"127.0.0.1:{port}" for port in nodes.processes]
        first = next(iter(nodes.processes))
        created = cli(
            first, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes", timeout_s=60
        )
        if "[OK] All 16384 slots covered" not in created:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created}")
        for port in nodes.processes:
            wait_until(functools.partial(_cluster_node_ready, port), f"node {port} is ok (and synced, if a replica)")
        yield "redis+cluster://" + ",".join(addresses), nodes
    finally:
        for process in nodes.processes.values():
            stop(process)


def _cluster_node_ready(port: int) -> bool:
    """The node sees every slot served; a replica has synced (one that never did cannot take over)."""
    replication = cli(port, "INFO", "replication")
    synced = "role:master" in replication or "master_link_status:up" in replication
    return synced and "cluster_state:ok" in cli(port, "CLUSTER", "INFO")


def slot_owner(port: int, slot: int) -> int:
    """The port of the primary serving ``slot``, as node ``port`` sees it."""
    for line in cli(port, "CLUSTER", "NODES").splitlines():
        parts = line.split()
        if len(parts) > 8 and "master" in parts[2]:
            for span in parts[8:]:
                low, _, high = span.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    return int(parts[1].split("@")[0].rsplit(":", 1)[1])
    raise RuntimeError(f"no primary serves slot {slot}")


@contextlib.contextmanager
def redis_sentinel(directory: Path, down_after_ms: int = 1000) -> Iterator[tuple[str, Nodes, int]]:
    """A primary, its replica and three sentinels; yields (``redis+sentinel://`` URL, nodes, primary's port)."""
    sentinel_binary = shutil.which("redis-sentinel")
    if sentinel_binary is None:
        raise RuntimeError("no redis-sentinel: run `make redis` or apt-get install redis-sentinel")
    nodes = Nodes()
    try:
        primary, replica = free_port(), free_port()
        nodes.processes[primary] = _server(directory, primary, "--dbfilename", f"dump-{primary}.rdb")
        nodes.processes[replica] = _server(
            directory, replica, "--dbfilename", f"dump-{replica}.rdb", "--replicaof", "127.0.0.1", str(primary)
        )
        wait_until(lambda: "master_link_status:up" in cli(replica, "INFO", "replication"), "the replica syncs")
        sentinels = [free_port() for _ in range(3)]
        for port in sentinels:
            config = directory / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
            )
            process = subprocess.Popen([sentinel_binary, str(config)], stdout=subprocess.DEVNULL, cwd=directory)
            nodes.processes[port] = process
        for port in sentinels:
            wait_until(functools.partial(_sentinel_ready, port), f"sentinel {port} sees the replica and its peers")
        hosts = ",".join(f"127.0.0.1:{port}" for port in sentinels)
        yield f"redis+sentinel://{hosts}/{SERVICE}/0", nodes, primary
    finally:
        for process in nodes.processes.values():
            stop(process)


def _sentinel_ready(port: int) -> bool:
    fields = cli(port, "SENTINEL", "MASTER", SERVICE).split("\n")
    state = dict(zip(fields[0::2], fields[1::2], strict=False))
    return state.get("num-slaves") == "1" and state.get("num-other-sentinels") == "2"


def sentinel_primary(port: int) -> int | None:
    """The primary's port as sentinel ``port`` reports it now."""
    answer = cli(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE).split()
    return int(answer[1]) if len(answer) == 2 else None
