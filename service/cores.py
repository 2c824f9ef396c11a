"""The cores this process may run on, and how many search processes a setting starts on them (service/pool.py)."""

from __future__ import annotations

import math
import os
from pathlib import Path

AUTO_LIMIT = 4  # search processes `auto` starts at most (each holds a model: about 250 MB)


def cores(quota: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The cores this process may run on: its affinity mask (which a container's cpuset narrows), or fewer where
    its cgroup's CPU quota allows fewer ("200000 100000": 2 cores' time)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    try:
        limit, period = quota.read_text().split()[:2]
        if limit != "max":
            count = min(count, max(1, math.ceil(int(limit) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def planned(setting: int | str, available: int | None = None) -> int:
    """The search processes a setting asks for: a number as it says; "auto" one per core where there are two or
    more (`available`, else `cores()`), at most `AUTO_LIMIT`, and none on one core (there the serving process's model
    has the core to itself; a search process would only add a hand-over)."""
    if setting != "auto":
        return int(setting)
    count = cores() if available is None else available
    return min(count, AUTO_LIMIT) if count >= 2 else 0


def share(slot: int, threads: int) -> frozenset[int]:
    """The cores search process `slot` of `threads` threads runs on: its own `threads` of the cores this process may
    use, in turn (a process that stays on its cores keeps its caches: 2 processes of 1 thread, 8 clients, 3 rounds of
    10 s each way alternated twice, p99 37.3-42.6 ms pinned against 40.1-45.5 not, 260-284 questions/s against
    253-276); empty where the mask cannot be read (the scheduler places it)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return frozenset()
    first = slot * threads
    return frozenset(allowed[(first + i) % len(allowed)] for i in range(min(threads, len(allowed))))
