"""Level-of-detail geometry and the live model, on synthetic records (no server needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.timeline import synthetic_record  # noqa: E402


@pytest.fixture(autouse=True)
def _app(qapp):  # QRectF needs no app, but painting does
    return qapp


def test_frozen_layers_stay_within_the_frame_budget() -> None:
    from gui.geometry import FRAME_BUDGET, Layers

    layers = Layers(("a", "b"), live=False)
    for i in range(60_000):
        layers.add("a" if i % 2 else "b", i % 50, i * 0.01, i * 0.01 + 0.3)
    layers.freeze(600.0)
    eps, whole = layers.visible(0, 600)
    assert sum(len(r) for _k, r in whole) <= FRAME_BUDGET and eps > 0
    eps, zoomed = layers.visible(100, 101)
    assert eps == 0.0  # zoomed in: the exact rectangles
    assert all(r.left() <= 101 and r.right() >= 100 for _k, rects in zoomed for r in rects)
    assert sum(len(r) for _k, r in zoomed) >= 100


def test_live_refresh_is_incremental_and_finish_agrees() -> None:
    from engine.phases import request_bars
    from gui.timeline_model import MAX_INGEST, TimelineModel

    record = synthetic_record(2000, concurrency=20)
    end = record.finished_ns
    clients, servers = record.client, record.server
    record.client, record.server, record.finished_ns = [], [], None
    model = TimelineModel(record)
    for n in (500, 1000, 2000):
        record.client.extend(clients[len(record.client):n])
        record.server.extend(servers[len(record.server):n])
        before = len(model.bars)
        model.refresh(clients[n - 1].done_ns + 1)
        assert len(model.bars) - before <= MAX_INGEST  # bounded work per frame
        while len(model.bars) < n:
            model.refresh(clients[n - 1].done_ns + 1)
        assert len(model.bars) == n
    # Live packing is incremental and requests arrive out of start order, so it may use a few
    # more rows than the optimum; what must hold is that no two requests in a row overlap.
    assert 20 <= model.rows <= 30
    for bars in model.row_bars:
        assert all(a.end_ns <= b.start_ns for a, b in zip(bars, bars[1:]))
    record.finished_ns = end
    model.finish()
    assert model.rows == 20
    assert len(model.bars) == len(request_bars(record, end)) == 2000
    assert model.lane_labels[0] == record.thread_label(record.loop_thread_id)
