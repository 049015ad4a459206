"""A returned request's spans are packed (``spans.PackedSpans``) and read back as they were."""

from __future__ import annotations

import pickle
import tracemalloc

from embedded_site.tracing.garbage import SWEEP_EVERY_REQUESTS
from embedded_site.tracing.spans import HOP_RUN, HOP_WAIT, VIEW, PackedSpans, Span, pack
from engine.stats import compute

SPANS = [
    Span(VIEW, "hello", 10**15, 10**15 + 5_000, 1),
    Span("sql", "SELECT 1", 10**15 + 100, 10**15 + 900, 2, "OperationalError: database is locked"),
]


def test_packed_spans_read_like_the_list_they_replace() -> None:
    packed = pack(list(SPANS))
    assert isinstance(packed, PackedSpans)
    assert list(packed) == SPANS and packed == SPANS and len(packed) == 2 and packed
    assert (packed[0], packed[-1], packed[1:]) == (SPANS[0], SPANS[1], SPANS[1:])
    packed.append(Span(HOP_RUN, "sync", 1, 2, 3))
    packed.extend([Span(HOP_WAIT, "sync", 0, 1, 1)])
    assert [s.kind for s in packed] == [VIEW, "sql", HOP_RUN, HOP_WAIT]
    assert pickle.loads(pickle.dumps(packed)) == packed  # a child server's record crosses processes
    assert not PackedSpans() and list(PackedSpans()) == []


def test_a_span_that_does_not_fit_64_bits_stays_a_plain_list_and_a_bad_append_adds_nothing() -> None:
    foreign = [Span(VIEW, "v", 0, 2**70, 1)]
    assert pack(foreign) is foreign
    packed = PackedSpans(SPANS)
    try:
        packed.append(Span(VIEW, "v", 0, 1, None))  # type: ignore[arg-type]
    except TypeError:
        pass
    assert packed == SPANS  # all three numbers or none


def test_a_real_runs_returned_requests_are_packed_as_it_goes_and_measure_the_same(lab_runner) -> None:
    requests = 2 * SWEEP_EVERY_REQUESTS + 50
    record = lab_runner.run("hello", concurrency=20, requests=requests)
    assert len(record.server) == requests
    packed = [s for s in record.server if isinstance(s.spans, PackedSpans)]
    # The sweeps and the end of the recording packed every request whose app had returned: all
    # but the last few, whose Django was still sending request_finished (their spans come late).
    assert len(packed) >= requests - 20, len(packed)
    assert all({VIEW, HOP_WAIT, HOP_RUN} <= {span.kind for span in s.spans} for s in record.server)
    # Stats of the packed record equal those of the same record with its spans as lists.
    packed_stats = compute(record).as_dict()
    for server in record.server:
        server.spans = list(server.spans)
    record._stats_cache = None
    assert compute(record).as_dict() == packed_stats


def test_packing_takes_under_half_the_memory_of_span_objects() -> None:
    def size_of(make) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = make()
            return tracemalloc.get_traced_memory()[0] - before + 0 * len(kept)
        finally:
            tracemalloc.stop()

    def spans(i: int) -> list[Span]:  # six spans with their own timestamps, as a hello request has
        t = 10**15 + i * 10_000
        return [Span(HOP_WAIT, "sync", t + k, t + k + 7, 1) for k in range(6)]

    as_lists = size_of(lambda: [spans(i) for i in range(2000)])
    as_packed = size_of(lambda: [pack(spans(i)) for i in range(2000)])  # as the collector packs
    assert as_packed < 0.5 * as_lists, (as_packed, as_lists)
