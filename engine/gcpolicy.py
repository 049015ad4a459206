"""No automatic *full* garbage collection while a run is measured.

The explorer measures the event loop's lag, so a pause of its own would be reported as the
server's.  Measured during 1,000 req/s ``hello`` runs: full collections took 35-90 ms each
(they walk every object the run has made so far; the record grows by ~10 objects per
request) and set the loop lag's p99 and max.  ``gc.freeze()`` alone made it worse, not
better: CPython runs a full collection once the objects promoted since the last one exceed
25 % of the survivors of that last one, and after a freeze the first full collection finds
only the few unfrozen ones, so full collections came more often, each still walking the
whole record.  Here everything older than the run is frozen and the oldest generation's
threshold is lifted, so only young collections (bounded by the thresholds, ~1 ms) run;
the held-back full collection is left to the caller, once the run is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_full_collections() -> Iterator[None]:
    gc.collect()
    gc.freeze()
    old = gc.get_threshold()
    gc.set_threshold(old[0], old[1], 1_000_000)
    try:
        yield
    finally:
        gc.set_threshold(*old)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now is left out of collections until the block ends: a finished run's
    record (a million objects at 100,000 requests) is summarised and exported, and the full
    collections that the exports' short-lived objects set off would walk all of it each time
    (measured: 7 of them while writing one such run's trace, 10 % of its time).  Nothing is
    collected that could not be later: the objects are unfrozen, not dropped.

    Automatic collections are off meanwhile too: the exports make millions of short-lived,
    acyclic objects (freed by their reference counts), and the young collections they set off
    took ~10 % of a 20,000-request run's trace export (1.80 s with them, 1.64 s without).
    What cyclic garbage the block makes waits for the first collection after it."""
    gc.freeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()
