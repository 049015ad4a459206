"""The connection sampler counts what PostgreSQL itself sees: real connections to a real cluster."""

from __future__ import annotations

import time

import psycopg

from embedded_site.dbconfig import parse_url
from engine.pgactivity import ConnectionSampler


def test_the_sampler_counts_the_databases_client_connections_and_leaves_out_its_own(pg_url):
    target = parse_url(pg_url)
    samples: list = []
    errors: list = []
    sampler = ConnectionSampler(target, samples, errors)
    sampler.start()
    try:
        time.sleep(0.3)
        held = [psycopg.connect(**target.conninfo()) for _ in range(5)]
        time.sleep(0.4)
        for conn in held:
            conn.close()
        time.sleep(0.4)
    finally:
        sampler.stop()
    counts = [c for _, c in samples]
    assert not errors
    assert len(counts) >= 8, "sampled every ~50 ms"
    assert counts[0] == 0 and max(counts) == 5 and counts[-1] == 0, counts
    times = [t for t, _ in samples]
    assert times == sorted(times)
