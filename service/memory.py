"""The garbage collector kept off what lives as long as the process: the model and the served generation."""

from __future__ import annotations

import gc


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
