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


def _feed_live(record, steps=(500, 1000, 1500, 2000)):
    """Replay a finished record as if live: its lists grow in steps, a refresh after each."""
    from gui.timeline_model import TimelineModel

    end = record.finished_ns
    clients, servers = record.client, record.server
    record.client, record.server, record.finished_ns = [], [], None
    model = TimelineModel(record)
    for n in steps:
        record.client.extend(clients[len(record.client) : n])
        record.server.extend(s for s in servers[len(record.server) :] if s.client_id is None or s.client_id < n)
        model.refresh(clients[n - 1].done_ns + 1)
        # Everything that finished is drawn after one refresh: settled, or provisional behind one in flight.
        assert model.request_count == n
    record.finished_ns = end
    return model


def test_live_refresh_draws_everything_finished_and_finish_agrees() -> None:
    from engine.phases import request_bars

    record = synthetic_record(2000, concurrency=20)
    model = _feed_live(record)
    for bars in model.row_bars:
        assert all(a.end_ns <= b.start_ns for a, b in zip(bars, bars[1:]))
    model.finish()
    assert model.rows == 20  # the height is the overlap
    assert len(model.bars) == len(request_bars(record, record.finished_ns)) == 2000
    assert model.lane_labels[0] == record.thread_label(record.loop_thread_id)


def test_live_built_bars_equal_the_finished_build() -> None:
    """The bars the live view settled are the very bars a build from the finished record makes."""
    from engine.phases import request_bars

    record = synthetic_record(2000, concurrency=20)
    model = _feed_live(record)
    model.finish()

    def key(b):
        phases = [(p.phase, p.start_ns, p.end_ns) for p in b.phases]
        return (b.client_id, b.row, b.start_ns, b.end_ns, b.outlier, phases)

    flat = [b for b in request_bars(record, record.finished_ns) if b.parent_id is None]
    assert [key(b) for b in model.bars] == [key(b) for b in flat]
