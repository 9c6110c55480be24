"""The default ``--workers``: the CPUs this process may run on, capped by its cgroup's CPU limit."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from gateway.cpus import available_cpus, cfs_limit, cpu_max_limit, default_workers
from gateway.local import processes as procs
from tests.gateway.test_workers import children, config


@pytest.mark.parametrize(
    ("contents", "cpus"),
    [
        ("max 100000\n", None),  # no quota
        ("200000 100000\n", 2),  # limits.cpu: 2
        ("150000 100000\n", 2),  # 1.5 CPUs: rounded up
        ("50000 100000\n", 1),  # 500m
        ("100000\n", 1),  # period omitted: the default 100000
        ("", None),
        ("garbage here\n", None),
    ],
)
def test_cgroup_v2_cpu_max(contents: str, cpus: int | None) -> None:
    assert cpu_max_limit(contents) == cpus


@pytest.mark.parametrize(
    ("quota", "period", "cpus"),
    [("-1\n", "100000\n", None), ("300000\n", "100000\n", 3), ("25000", "100000", 1), ("x", "100000", None)],
)
def test_cgroup_v1_cfs_quota(quota: str, period: str, cpus: int | None) -> None:
    assert cfs_limit(quota, period) == cpus


@pytest.mark.parametrize(
    ("affinity", "limits", "workers"),
    [(2, [], 2), (8, [2], 2), (1, [4], 1), (8, [None, 3, 2], 2), (4, [None], 4)],
)
def test_default_workers_is_affinity_capped_by_the_tightest_limit(
    affinity: int, limits: list[int | None], workers: int
) -> None:
    assert default_workers(affinity, limits) == workers


def test_a_cgroup_v2_tree_is_read_up_to_its_root(tmp_path: Path) -> None:
    """The tightest ``cpu.max`` on the way from the process's cgroup to the root applies."""
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    pod = tmp_path / "kubepods" / "pod1"
    container = pod / "c1"
    container.mkdir(parents=True)
    (tmp_path / "kubepods" / "cpu.max").write_text("400000 100000\n")
    (pod / "cpu.max").write_text("150000 100000\n")
    (container / "cpu.max").write_text("max 100000\n")
    proc = tmp_path / "cgroup"
    proc.write_text("0::/kubepods/pod1/c1\n")
    assert available_cpus(tmp_path, proc) == min(2, len(os.sched_getaffinity(0)))


def test_a_cgroup_v1_quota_is_read(tmp_path: Path) -> None:
    cpu = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    cpu.mkdir(parents=True)
    (cpu / "cpu.cfs_quota_us").write_text("100000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n")
    assert available_cpus(tmp_path, proc) == 1


def test_no_cgroup_files_leaves_the_affinity(tmp_path: Path) -> None:
    assert available_cpus(tmp_path, tmp_path / "missing") == len(os.sched_getaffinity(0))


def test_taskset_to_one_core_serves_in_one_process(sim_url: str, tmp_path: Path) -> None:
    """``taskset -c 0 triage serve`` (no ``--workers``): one process, no supervisor, no workers."""
    with procs.gateway_process(config(sim_url), tmp_path, prefix=["taskset", "-c", "0"], workers=None) as (url, p):
        assert httpx.get(f"{url}/readyz").status_code == 200  # under a supervisor a worker would answer
        assert children(p.pid) == set()
