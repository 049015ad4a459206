"""What held the event loop at one moment of a run: the sentence a hover over a shaded
(loop-blocked) region shows.

The watchdog's stalls (``RunRecord.stalls``) say where the loop thread was while it was
late; the heartbeat's late samples say that it was late.  A point inside either gets the
stall's length and its most-seen place, so the picture names the same culprit as the
loop-blocked finding.
"""

from __future__ import annotations

from .phases import BLOCKED_THRESHOLD_NS
from .record import RunRecord


def stall_at(record: RunRecord, t_ns: int) -> str | None:
    """A plain sentence about the loop stall covering ``t_ns``, or None if the loop was on time."""
    for stall in list(getattr(record, "stalls", ())):
        if stall.start_ns <= t_ns <= stall.end_ns:
            ms = stall.duration_ns / 1e6
            where = stall.culprit
            if where is None:
                return f"The event loop was blocked for {ms:,.0f} ms here."
            share = stall.places[0][1] / stall.samples if stall.samples else 1.0
            seen = "" if share >= 0.9 else f" ({share:.0%} of the samples)"
            return f"The event loop was blocked for {ms:,.0f} ms here, in {where}{seen}."
    for sample in list(record.lag):
        if sample.lag_ns >= BLOCKED_THRESHOLD_NS and sample.t_ns - sample.lag_ns <= t_ns <= sample.t_ns:
            return f"The event loop was blocked for {sample.lag_ns / 1e6:,.0f} ms here (no stack sample named why)."
    return None
