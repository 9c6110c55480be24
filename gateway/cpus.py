"""How many CPUs this process may use: the default of ``triage serve --workers``.

The count is the CPUs the scheduler lets this process run on (``os.sched_getaffinity``:
``taskset -c 0 triage serve`` gives 1), capped by the container's CPU limit, rounded up:
cgroup v2 ``cpu.max`` (``"<quota> <period>"`` or ``"max <period>"``, the tightest along the
process's cgroup path) or cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (a quota of
-1 is no limit). A Kubernetes ``resources.limits.cpu: 2`` becomes ``cpu.max`` ``200000 100000``:
two workers; a limit of 1.5 rounds up to two.

The parsing is pure (``cpu_max_limit``, ``cfs_limit``, ``default_workers``); ``available_cpus``
reads the files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")


def cpu_max_limit(contents: str) -> int | None:
    """CPUs allowed by one cgroup v2 ``cpu.max`` (rounded up); None without a quota or when unreadable."""
    fields = contents.split()
    if not fields or fields[0] == "max":
        return None
    try:
        quota = int(fields[0])
        period = int(fields[1]) if len(fields) > 1 else 100_000
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(math.ceil(quota / period), 1)


def cfs_limit(quota: str, period: str) -> int | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``; None for -1 (no limit)."""
    try:
        q, p = int(quota.strip()), int(period.strip())
    except ValueError:
        return None
    if q <= 0 or p <= 0:
        return None
    return max(math.ceil(q / p), 1)


def default_workers(affinity: int, limits: Iterable[int | None]) -> int:
    """The CPUs this process may use: its affinity, capped by every cgroup limit found (at least 1)."""
    found = [limit for limit in limits if limit is not None]
    return max(min([affinity, *found]), 1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _cgroup_paths(proc_cgroup: str) -> dict[str, str]:
    """``/proc/self/cgroup`` as ``{controller: path}``; the v2 (unified) entry under ``""``."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    return paths


def _v2_limits(root: Path, path: str) -> list[int | None]:
    """``cpu.max`` of the process's cgroup and of every ancestor (the tightest one applies)."""
    if not (root / "cgroup.controllers").exists():
        return []
    folder = root / path.lstrip("/")
    limits: list[int | None] = []
    while True:
        text = _read(folder / "cpu.max")
        if text is not None:
            limits.append(cpu_max_limit(text))
        if folder == root or root not in folder.parents:
            return limits
        folder = folder.parent


def _v1_limits(root: Path, path: str) -> list[int | None]:
    for mount in ("cpu", "cpu,cpuacct"):
        for folder in (root / mount / path.lstrip("/"), root / mount):
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                return [cfs_limit(quota, period)]
    return []


def available_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int:
    """``default_workers`` for this process, from its affinity and its cgroup's CPU limit."""
    paths = _cgroup_paths(_read(proc_cgroup) or "")
    limits = _v2_limits(root, paths.get("", "/")) + _v1_limits(root, paths.get("cpu", "/"))
    return default_workers(len(os.sched_getaffinity(0)), limits)
