"""The report card (SVG and PNG) of real runs: what it says is the run's own numbers, what it
draws is the run's own bars, and its size does not grow with the run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from engine.exports import EXPORTS
from engine.exports.card_png import write_png
from engine.exports.card_svg import write_svg
from engine.phases import AWAIT, LOOP_BLOCKED, MARKS, PHASE_COLOUR, THREAD_BLOCKING
from engine.picture import picture
from engine.report_card import card_svg, key_stats, settings_line

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def async_record(lab_runner):
    return lab_runner.run("async-sleep", concurrency=10, requests=20, params={"delay": 0.3})


@pytest.fixture(scope="module")
def blocking_record(lab_runner):
    return lab_runner.run("blocking-sleep", concurrency=4, requests=4, params={"delay": 0.2})


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_card_says_the_runs_settings_verdict_and_numbers(async_record):
    svg = card_svg(async_record)
    root = ET.fromstring(svg)
    assert (root.get("width"), root.get("height")) == ("1600", "900")
    texts = _texts(svg)
    stats = async_record.final_stats()
    assert any("async-sleep" in t for t in texts)
    settings = settings_line(async_record)
    assert "concurrency 10" in settings and "20 requests" in settings and "delay=0.3" in settings
    assert settings in texts
    verdict_words = " ".join(t for t in texts)
    assert stats.verdict.split(":")[0] in verdict_words  # "20 × async-sleep took 0.6 s" heads the verdict
    for tile in key_stats(stats):
        assert tile.label in texts and tile.value in texts
    assert f"{stats.latency_ms['p99']:.0f} ms" in texts or f"{stats.latency_ms['p99']:.1f} ms" in texts


def test_card_draws_the_awaits_of_an_async_sleep_run(async_record):
    pic = picture(async_record, columns=400, max_bands=200)
    assert pic.rows == 10 and pic.rows_per_band == 1 and pic.bars == 20
    width = {p: 0 for p in pic.phases_shown()}
    for run in pic.runs:
        width[run.phase] += run.col1 - run.col0
    # 20 requests sleeping 0.3 s each, 10 at a time: the awaits are most of what every row shows.
    assert max(width, key=width.get) == AWAIT
    assert width[AWAIT] > 0.6 * sum(width.values())
    svg = card_svg(async_record)
    assert f'fill="{PHASE_COLOUR[AWAIT]}"' in svg


def test_card_shades_where_the_loop_was_blocked(blocking_record):
    stats = blocking_record.final_stats()
    pic = picture(blocking_record, columns=1000, max_bands=200)
    blocked_cols = sum(b - a for a, b in pic.blocked)
    # Four 0.2 s sleeps on the loop's thread, one after another: most of the run was blocked,
    # and the shading covers that share of the time axis (a column of slack at each stall's ends).
    share = blocked_cols / pic.columns
    assert stats.blocked_share > 0.5
    assert abs(share - stats.blocked_share) < 0.05 + 2 * len(pic.blocked) / pic.columns
    assert THREAD_BLOCKING not in pic.phases_shown()
    svg = card_svg(blocking_record)
    assert MARKS[LOOP_BLOCKED][0] in svg and "loop blocked" in _texts(svg)


def test_png_is_the_card_rendered(async_record, tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    path = write_png(async_record, tmp_path / "card.png")
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1600, 900)
    green = QColor(PHASE_COLOUR[AWAIT]).rgb()
    hits = sum(1 for x in range(60, 1540, 4) for y in range(300, 800, 4) if image.pixel(x, y) == green)
    assert hits > 1000  # the await phase fills much of the timeline, in its legend colour


def test_svg_export_is_a_whole_document(async_record, tmp_path):
    path = write_svg(async_record, tmp_path / "card.svg")
    text = path.read_text()
    assert text.startswith("<?xml")
    ET.fromstring(text.split("\n", 1)[1])


def test_card_size_is_bounded_for_a_long_run(lab_runner):
    record = lab_runner.run("hello", concurrency=20, requests=3000)
    pic = picture(record, columns=1480, max_bands=200)
    assert pic.bars == 3000
    assert len(pic.runs) <= pic.bands * pic.columns
    svg = card_svg(record)
    assert len(svg) < 3_000_000
    assert svg.count("<rect") < 1480 * 25


def test_formats_are_in_the_export_table():
    assert {"png", "svg"} <= set(EXPORTS)
    assert EXPORTS["png"].flag == "--png" and EXPORTS["png"].suffix.endswith(".png")


def test_more_rows_than_bands_merge_into_fainter_lines(async_record):
    fine = picture(async_record, columns=400, max_bands=200)
    coarse = picture(async_record, columns=400, max_bands=3)
    assert coarse.rows == fine.rows == 10
    assert (coarse.rows_per_band, coarse.bands) == (4, 3)  # rows merged in pairs twice: 4 + 4 + 2
    assert {r.band for r in coarse.runs} == {0, 1, 2}
    assert all(r.share in (0.25, 0.5, 0.75, 1.0) for r in coarse.runs)
    # Ten requests at a time all sleeping: each band is fully busy through the middle of the run.
    middle = [r for r in coarse.runs if r.col0 <= 100 < r.col1]  # in the first of the two waves
    assert len(middle) == 3 and all(r.share == 1.0 and r.phase == AWAIT for r in middle)
