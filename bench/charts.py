"""How long the charts take on a large run: ``python -m bench.charts [N]`` (default 100,000).

The record is made up (a real 100,000-request run costs minutes): N requests with latencies
spread over three decades, in flight 1..50 at once, answered over 60 s. Only the arithmetic
is timed, which is what the charts tab and the reports add to a run.
"""

from __future__ import annotations

import random
import sys
import time

from engine.charts import latency_histogram, time_series
from engine.config import RunConfig
from engine.record import ClientRequest, RunRecord


def synthetic(n: int) -> RunRecord:
    rng = random.Random(1)
    record = RunRecord(RunConfig("hello", ()), {}, "asyncio", "", 0)
    for i in range(n):
        sent = int(i / n * 60e9)
        latency = int(10 ** rng.uniform(6, 9))  # 1 ms .. 1 s
        record.client.append(ClientRequest(i, 0, "hello", "/", sent, sent, sent + latency // 2, sent + latency, 200))
    record.finished_ns = max(c.done_ns for c in record.client)
    return record


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 100_000
    record = synthetic(n)
    t = time.perf_counter()
    series = time_series(record)
    t_series = time.perf_counter() - t
    t = time.perf_counter()
    hist = latency_histogram(record)
    t_hist = time.perf_counter() - t
    print(
        f"{n:,} requests: time_series {t_series * 1000:.0f} ms ({len(series.buckets)} buckets of "
        f"{series.bucket_ms:g} ms), latency_histogram {t_hist * 1000:.0f} ms ({hist.total:,} counted)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
