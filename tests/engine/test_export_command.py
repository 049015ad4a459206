"""``main.py export`` and the report formats of ``main.py run``, through the real CLI."""

from __future__ import annotations

import csv
import json

import pytest

from tests.engine.mainproc import ROOT, main_env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _main(tmp_path, *args: str, timeout: float = 180):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=main_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """One real run on the default (qt) loop, with its record and its report card written by ``run``."""
    folder = tmp_path_factory.mktemp("export-cli")
    done = _main(
        folder,
        "run",
        "async-sleep",
        "-c",
        "4",
        "-n",
        "8",
        "--param",
        "delay=0.1",
        "--json",
        "--record",
        str(folder / "run.json"),
        "--png",
        str(folder / "run-card.png"),
        "--html",
        str(folder / "run.html"),
    )
    assert done.returncode == 0, done.stderr
    return folder, json.loads(done.stdout)


def test_run_writes_the_report_card_and_the_html(run_file, qapp):
    from PySide6.QtGui import QImage

    folder, summary = run_file
    image = QImage(str(folder / "run-card.png"))
    assert (image.width(), image.height()) == (1600, 900)
    page = (folder / "run.html").read_text()
    assert summary["verdict"] in page.replace("&#x27;", "'")


def test_export_writes_every_format_of_a_run_file(run_file, tmp_path, qapp):
    from PySide6.QtGui import QImage

    folder, summary = run_file
    out = {name: tmp_path / name for name in ("r.html", "r.png", "r.svg", "r.csv", "r.json", "r-trace.json")}
    done = _main(
        tmp_path,
        "export",
        str(folder / "run.json"),
        "--html",
        str(out["r.html"]),
        "--png",
        str(out["r.png"]),
        "--svg",
        str(out["r.svg"]),
        "--csv",
        str(out["r.csv"]),
        "--json",
        str(out["r.json"]),
        "--trace",
        str(out["r-trace.json"]),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert all(path.exists() and path.stat().st_size > 0 for path in out.values())
    assert len(list(csv.DictReader(out["r.csv"].open()))) == 8
    # The loaded run is the same run: same verdict, same numbers in the report.
    assert summary["verdict"] in out["r.html"].read_text().replace("&#x27;", "'")
    assert json.loads(out["r.json"].read_text())["stats"]["latency_ms"] == summary["latency_ms"]
    assert (QImage(str(out["r.png"])).width(), QImage(str(out["r.png"])).height()) == (1600, 900)
    assert out["r.svg"].read_text().startswith("<?xml")


def test_export_of_a_history_id(run_file, tmp_path, monkeypatch):
    from engine.history import History, history_path
    from engine.runfile import load_run

    folder, summary = run_file
    main_env(tmp_path)  # makes the data dir the command will use
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))
    with History.open(history_path()) as history:
        run_id = history.add(load_run(folder / "run.json"))
    done = _main(tmp_path, "export", f"#{run_id}", "--html", str(tmp_path / "h.html"))
    assert done.returncode == 0, done.stderr
    assert summary["verdict"] in (tmp_path / "h.html").read_text().replace("&#x27;", "'")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["99999", "--html", "{tmp}/x.html"], "no run #99999"),
        (["{tmp}/missing.run", "--html", "{tmp}/x.html"], "no such file"),
        (["/etc/hostname", "--png", "{tmp}/x.png"], "not a run file"),
        (["{run}", "--html", "{tmp}/no-folder/x.html"], "does not exist"),
        (["{run}", "--html", "{tmp}"], "is a directory"),
        (["{run}", "--html", "{tmp}/a.html", "--svg", "{tmp}/a.html"], "both write to"),
        (["{run}"], "at least one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_file, tmp_path, args, says):
    folder, _ = run_file
    args = [a.format(tmp=tmp_path, run=folder / "run.json") for a in args]
    done = _main(tmp_path, "export", *args, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "a.html").exists()


def test_compare_writes_the_comparison_report(run_file, tmp_path):
    folder, summary = run_file
    out = tmp_path / "compare.html"
    done = _main(tmp_path, "compare", str(folder / "run.json"), str(folder / "run.json"), "--html", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Comparison: async-sleep #1 vs async-sleep #2" in page
    assert page.count("Requests over time:") == 2
    bad = _main(
        tmp_path,
        "compare",
        str(folder / "run.json"),
        str(folder / "run.json"),
        "--html",
        str(tmp_path / "no" / "x.html"),
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "does not exist" in bad.stderr
