"""Inspecting one request: how long a click takes to find the request and derive its details.

Prints numbers (not a test), on the synthetic record of ``bench/timeline.py``: finding the
request a thread-lane span belongs to (``key_for_span``, a scan of every span), deriving its
detail (``request_detail``), and rendering that in the details pane.  Target: a click answers
in well under 100 ms on a 100,000-request run.
Run: ``python bench/inspect_request.py [requests]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timeline import synthetic_record  # noqa: E402
from engine.loops import ensure_qt_app  # noqa: E402
from engine.request_detail import key_for_span, request_detail  # noqa: E402


def median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 100_000
    record = synthetic_record(n)
    # The embedded server appends each request as it arrives; the synthetic one is built per user.
    record.server.sort(key=lambda s: s.arrival_ns)
    ensure_qt_app(gui=True)
    from gui.details_pane import DetailsPane

    pane = DetailsPane()
    pane.resize(1000, 300)
    pane.show()
    last = record.server[-1]
    span = last.spans[-1]  # the worst case for the scan: the run's last span
    key = key_for_span(record, span.thread_id, span.start_ns, span.end_ns)
    assert key == (last.client_id, last.id)
    detail = request_detail(record, last.client_id)
    assert detail is not None
    print(f"{n:,} requests, {sum(len(s.spans) for s in record.server):,} spans")
    find = median_ms(lambda: key_for_span(record, span.thread_id, span.start_ns, span.end_ns))
    print(f"key_for_span (last span)   {find:8.2f} ms")
    print(f"request_detail (last one)  {median_ms(lambda: request_detail(record, last.client_id)):8.2f} ms")
    print(f"DetailsPane.show_detail    {median_ms(lambda: pane.show_detail(detail)):8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
