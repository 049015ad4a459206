"""``main.py compare`` through the real CLI: two real runs recorded to files, then compared."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .mainproc import ROOT, main_env


def _main(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[str]]:
    tmp = tmp_path_factory.mktemp("cli-compare")
    env = main_env(tmp)
    files = []
    for demo in ("async-sleep", "blocking-sleep"):
        path = tmp / f"{demo}.json"
        done = _main(["run", demo, "-c", "5", "-n", "10", "--param", "delay=0.2", "--record", str(path)], env)
        assert done.returncode == 0, done.stderr
        files.append(str(path))
    return env, files


def test_compare_prints_the_sentence_and_the_table(recorded) -> None:
    env, files = recorded
    done = _main(["compare", *files], env)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("async-sleep finished 10 requests in ") and "faster" in first
    assert "blocking-sleep: the event loop was blocked" in first
    assert any(
        line.startswith("p99 ") and "blocking-sleep:" in line and "worse" in line for line in done.stdout.splitlines()
    )


def test_compare_json_has_every_direction(recorded) -> None:
    env, files = recorded
    done = _main(["compare", *files, "--json"], env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [r["target"] for r in doc["runs"]] == ["async-sleep", "blocking-sleep"]
    directions = {d["metric"]: d["direction"] for d in doc["differences"][0]}
    for key in ("wall", "throughput", "p50", "p99", "blocked"):
        assert directions[key] == "worse", (key, doc["differences"][0])
    assert doc["sentence"].startswith("async-sleep")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["only-one.json"], "compare takes 2 to 4 runs, got 1"),
        (["a", "b", "c", "d", "e"], "compare takes 2 to 4 runs, got 5"),
        (["FILE", "/no/such/run.json"], "no such file"),
    ],
)
def test_bad_runs_are_one_line_and_exit_2(recorded, tmp_path, args, message) -> None:
    env, files = recorded
    args = [files[0] if a == "FILE" else a for a in args]
    done = _main(["compare", *args], env)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_a_corrupt_file_is_one_line(recorded, tmp_path) -> None:
    env, files = recorded
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\x00not a run")
    done = _main(["compare", files[0], str(bad)], env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_compare_reads_history_ids(tmp_path) -> None:
    """Runs stored with ``run --save`` are compared by their history ids."""
    env = main_env(tmp_path)
    for demo in ("async-sleep", "blocking-sleep"):
        done = _main(["run", demo, "-c", "4", "-n", "4", "--param", "delay=0.1", "--save"], env)
        assert done.returncode == 0, done.stderr
    listed = json.loads(_main(["history", "--json"], env).stdout)
    ids = sorted(r["id"] for r in listed["runs"])
    assert len(ids) == 2
    done = _main(["compare", str(ids[0]), f"#{ids[1]}", "--json"], env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [r["target"] for r in doc["runs"]] == ["async-sleep", "blocking-sleep"]
    missing = _main(["compare", str(ids[0]), "999"], env)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_compare_writes_the_report_card_as_png_and_svg(recorded, tmp_path) -> None:
    import struct
    import xml.etree.ElementTree as ET

    env, files = recorded
    png, svg = tmp_path / "card.png", tmp_path / "card.svg"
    done = _main(["compare", *files, "--png", str(png), "--svg", str(svg)], env)
    assert done.returncode == 0, done.stderr
    sentence = done.stdout.splitlines()[0]
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1600, 900)
    root = ET.parse(svg).getroot()
    assert (root.get("width"), root.get("height")) == ("1600", "900")
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "Comparison: async-sleep vs blocking-sleep"
    assert sentence[:50] in " ".join(texts[1:4])
    assert not list(tmp_path.glob(".*partial"))  # written under a temporary name, then renamed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--png", "/no/such/folder/card.png"],
            "--png /no/such/folder/card.png: the folder /no/such/folder does not exist",
        ),
        (["--svg", "TMP"], "is a directory"),
        (["--png", "TMP/same", "--svg", "TMP/same"], "--png and --svg both write to"),
    ],
)
def test_a_bad_card_destination_is_one_line_before_any_run_is_read(recorded, tmp_path, args, message) -> None:
    env, files = recorded
    args = [a.replace("TMP", str(tmp_path)) for a in args]
    done = _main(["compare", files[0], "/no/such/run.json", *args], env)  # the run is never read
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not list(tmp_path.iterdir())
