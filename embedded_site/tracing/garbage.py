"""Free a run's cyclic garbage as it goes, in small steps, while full collections are held back.

A run is measured with CPython's automatic full collections off (``engine.gcpolicy``): one
would walk the whole growing record and show up as loop lag.  But Django makes cyclic
garbage on every request (``ASGIHandler.handle`` defines a ``RequestProcessed`` exception
class per request; a class is a reference cycle), and at 50 requests in flight most of it
is still alive at the young collections and is promoted to the oldest generation, where
only a full collection can free it: ~1.3 KB a request, 130 MB over a 100,000-request run.

So every ``SWEEP_EVERY_REQUESTS`` recorded requests the oldest generation is collected and
what survives is frozen.  Everything older than the last sweep is frozen already, so each
sweep walks only what the last few hundred requests made, never the whole record: 6-17 ms
of CPU per 500 hello requests on a loaded 2-core machine, under the 20 ms a lag sample
needs to count as a stall.  What is frozen includes the garbage of the requests in flight
at that moment (~concurrency / 500 of it); ``stop_recording`` unfreezes and frees it.
"""

from __future__ import annotations

import gc

from .collector import TraceCollector

SWEEP_EVERY_REQUESTS = 500


class GarbageSweeper:
    def __init__(self, collector: TraceCollector) -> None:
        self.collector = collector
        self._requests: list | None = None
        self._swept_at = 0

    def sweep_if_due(self) -> bool:
        """Collect and freeze if enough requests were recorded since the last sweep."""
        requests = self.collector.requests
        if requests is not self._requests:  # a new run
            self._requests, self._swept_at = requests, 0
        if not self.collector.recording or gc.isenabled() is False:
            return False
        count = len(requests)
        if count - self._swept_at < SWEEP_EVERY_REQUESTS:
            return False
        self._swept_at = count
        # Packed first: a returned request's spans become two objects instead of a list of Span
        # objects, so the collection below has fewer objects to walk and to freeze.
        self.collector.pack_returned()
        gc.collect()
        gc.freeze()
        self.collector.swept = True
        return True
