"""How busy the event loop's thread was, measured (``RunRecord.loop_activity``), and for whom:
the requests' own code, the server's callbacks (uvicorn's protocol, the heartbeat), or Qt."""

from __future__ import annotations

from embedded_site.tracing.loop_activity import QASYNC

from . import Finding, rule
from .facts import Facts


@rule("loop-busy")
def loop_busy(facts: Facts) -> Finding | None:
    busy = facts.loop_busy
    activity = facts.record.loop_activity
    if busy is None:
        if activity is not None and activity.not_measured == QASYNC:
            return Finding("loop-busy-not-measured", "info", f"the loop's busy time was {QASYNC}")
        return None
    qt = f", Qt / window {busy.share(busy.qt_ns):.0%}" if busy.qt_ns else ""
    return Finding(
        "loop-busy",
        "info",
        f"loop busy {busy.share():.0%} (requests {busy.share(busy.requests_ns):.0%}, "
        f"server overhead {busy.share(busy.server_ns):.0%}{qt})",
        busy.as_dict(),
        weight=1,
    )
