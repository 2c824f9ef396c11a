"""The garbage collector kept off what lives as long as the process (the model, the served generation), and the
memory a replaced generation freed handed back to the system."""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import cache


def settle_memory() -> None:
    """Move what is loaded now (the model, the served generation) out of the garbage collector's sight.

    The model's and the index's objects are long-lived; left in the oldest generation, every full
    collection walks them all (about 40 ms here), stalling whichever requests are in flight: the
    tail of the latency. Frozen, a full collection walks only what requests allocate. Unfreezing
    first lets a replaced generation's objects be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    give_back_freed()


def give_back_freed() -> bool:
    """Hand the pages malloc holds free back to the system (glibc's `malloc_trim`); False where there is none.

    A replaced generation's memory is freed, but glibc keeps freed heap pages (in each thread's arena, and below
    anything still allocated above them) for later allocations, and a swap under load never reuses them all: a 480 s
    soak with a re-index every 30 s (8 clients, 2 search processes) went from 718 to 1,169 MiB, the serving process
    growing about 30 MiB a swap; with the pages handed back at each swap, 718 to 836 MiB after 6 swaps, level from
    the third (README, "Search processes")."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, looked up once; None where the C library is not glibc (macOS, musl)."""
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
