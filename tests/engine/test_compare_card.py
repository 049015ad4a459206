"""The comparison's report card of real runs: its headline is the comparison's sentence, its
numbers and differences are the comparison's own, its timelines share one time axis, and the
PNG is the SVG rendered (1600 × 900)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from engine.compare import compare
from engine.compare_card import KEY_METRICS, comparison_card_svg, write_comparison_png, write_comparison_svg
from engine.phases import LOOP_BLOCKED, MARKS, PHASE_COLOUR, THREAD_BLOCKING
from engine.report_card import settings_line

SVG = "{http://www.w3.org/2000/svg}"
LOAD = {"concurrency": 5, "requests": 10, "params": {"delay": 0.2}}


@pytest.fixture(scope="module")
def sleeps(lab_runner):
    """async-sleep, blocking-sleep and sync-sleep at the same load, on a real server."""
    return [lab_runner.run(target, **LOAD) for target in ("async-sleep", "blocking-sleep", "sync-sleep")]


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def _lanes(root: ET.Element) -> list[ET.Element]:
    """Each timeline's background box (the run card's timeline draws one per picture)."""
    return [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#fbfbfc"]


def test_the_card_says_the_comparison_and_its_numbers(sleeps) -> None:
    records = sleeps[:2]
    cmp = compare(records)
    root = ET.fromstring(comparison_card_svg(records))
    assert (root.get("width"), root.get("height")) == ("1600", "900")
    texts = _texts(root)
    assert texts[0] == "Comparison: async-sleep vs blocking-sleep"
    headline = " ".join(texts[1:4])
    assert cmp.sentence.startswith("async-sleep finished 10 requests in ")
    assert cmp.sentence[:60] in headline  # the comparison's own sentence heads the card
    for run in cmp.runs:
        lane = next(t for t in texts if t.startswith(run.label + " — "))
        assert settings_line(run.record) in lane and "concurrency 5" in lane and "delay=0.2" in lane
        for key in KEY_METRICS:
            assert run.texts[key] in texts, (run.label, key)
    index = {m.key: i for i, m in enumerate(cmp.metrics)}
    # blocking-sleep blocks the loop: its p99 and wall are worse, said in the comparison's words.
    for key in ("wall", "p99", "blocked"):
        diff = cmp.differences[0][index[key]]
        assert diff.direction == "worse"
        assert key == "blocked" or diff.ratio > 1.2  # a loop never blocked has no ratio: "from none"
        tail = diff.text.rsplit(", ", 1)[-1]
        cell = next(t for t in root.iter(f"{SVG}text") if t.text == tail)
        assert cell.get("fill") == "#b3261e"
    assert texts.count("baseline") == len(KEY_METRICS)


def test_the_timelines_are_stacked_on_one_time_axis(sleeps) -> None:
    records = sleeps
    root = ET.fromstring(comparison_card_svg(records))
    lanes = _lanes(root)
    assert len(lanes) == 3
    assert len({(r.get("x"), r.get("width")) for r in lanes}) == 1  # same box width: one axis
    tops = [float(r.get("y")) for r in lanes]
    assert tops == sorted(tops) and float(lanes[-1].get("y")) + float(lanes[-1].get("height")) < 900 - 50
    # The tick marks fall at the same x under every timeline; only the lowest one is labelled.
    ticks: dict[float, list[float]] = {}
    for line in root.iter(f"{SVG}line"):
        if line.get("y2") and float(line.get("y2")) - float(line.get("y1")) == 6:
            ticks.setdefault(float(line.get("y1")), []).append(float(line.get("x1")))
    assert len(ticks) == 3 and len({tuple(xs) for xs in ticks.values()}) == 1
    labels = [
        t.text
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "middle" and re.fullmatch(r"[\d.]+ m?s", t.text)
    ]
    assert labels and len(labels) == len(next(iter(ticks.values())))
    # The axis stands for the longest run (blocking-sleep: its 10 requests one after another),
    # so the async run's bars end well before the right edge.
    paths = [p for p in root.iter(f"{SVG}path")]
    assert any(p.get("fill") == PHASE_COLOUR[THREAD_BLOCKING] for p in paths)  # sync-sleep's time.sleep in a thread
    blocked = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == MARKS[LOOP_BLOCKED][0]]
    assert blocked, "blocking-sleep's stalls are shaded"
    assert "loop blocked" in _texts(root)  # in the one legend


def test_four_runs_fit_and_svg_and_png_are_written(sleeps, tmp_path) -> None:
    from PySide6.QtGui import QImage

    records = [*sleeps, sleeps[0]]
    svg_path = write_comparison_svg(records, tmp_path / "cmp.svg")
    root = ET.parse(svg_path).getroot()
    assert len(_lanes(root)) == 4
    assert all(float(r.get("height")) >= 40 for r in _lanes(root))
    png = write_comparison_png(records, tmp_path / "cmp.png")
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1600, 900)
    # Something is drawn inside every timeline box (not only the background).
    for lane in _lanes(root):
        y = int(float(lane.get("y")) + float(lane.get("height")) / 2)
        colours = {image.pixelColor(x, y).name() for x in range(62, 300, 2)}
        assert colours - {"#fbfbfc", "#ffffff"}, lane.attrib


def test_a_stopped_run_is_marked_partial_on_the_card(lab_runner, sleeps) -> None:
    """Stop pressed mid-run: the card says that run's numbers cover only part of the work."""
    lab_runner.loop.call_later(0.5, lab_runner.lab.stop_run)
    stopped = lab_runner.run("async-sleep", concurrency=2, requests=40, params={"delay": 0.2})
    assert stopped.stopped and len(stopped.client) < 40
    root = ET.fromstring(comparison_card_svg([sleeps[0], stopped]))
    marked = [t for t in root.iter(f"{SVG}text") if "stopped early: a partial run" in (t.text or "")]
    assert len(marked) == 1 and marked[0].get("fill") == "#d00000"
    assert not any("partial" in (t.text or "") and t is not marked[0] for t in root.iter(f"{SVG}text"))
