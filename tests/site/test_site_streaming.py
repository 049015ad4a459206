"""Streaming group: the response starts at once and its chunks arrive over time."""

from __future__ import annotations

from embedded_site.tracing.spans import AWAIT, VIEW
from tests.site.sitecheck import pairs, seconds, spans


def test_streaming_sends_headers_first_and_chunks_over_time(run_demo) -> None:
    chunks, interval = 5, 0.15
    record = run_demo("streaming", concurrency=3, chunks=chunks, interval=interval)
    body = "".join(f"chunk {n} of {chunks}\n" for n in range(1, chunks + 1))
    latencies = []
    for client, server in pairs(record):
        assert client.status == 200 and client.bytes == len(body.encode())
        total = seconds(client.done_ns - client.sent_ns)
        latencies.append(total)
        assert total >= chunks * interval * 0.95
        assert seconds(client.first_byte_ns - client.sent_ns) < chunks * interval / 2
        (view,) = spans(server, VIEW)
        waits = spans(server, AWAIT)
        assert len(waits) == chunks
        assert all(w.start_ns >= view.end_ns for w in waits), "the body is produced after the view returned"
        assert server.response_start_ns < waits[0].end_ns
    # Three streams at once took about as long as one: the waits between chunks left the loop free.
    assert max(latencies) < 2 * chunks * interval, latencies


def test_streamed_body_is_what_the_generator_yields(lab_runner) -> None:
    response = lab_runner.fetch("/demo/streaming/", params={"chunks": "3", "interval": "0"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "chunk 1 of 3\nchunk 2 of 3\nchunk 3 of 3\n"
