"""``main.py history --delete-older-than AGE`` through the real command line: a history holding a
real run (saved by ``run --save``) stored five times, four of them days earlier (their times set
in the real SQLite file), then the old ones deleted and what went said."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from engine.age import AgeError, describe_age, parse_age
from engine.history import History, format_size
from tests.engine.mainproc import main_env

from .test_cli_history import main

DAY = 86_400


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    """A real run stored by `run --save`: its run file's bytes, read back from that history."""
    tmp = tmp_path_factory.mktemp("prune-source")
    done = main(main_env(tmp), "run", "async-sleep", "-c", "4", "-n", "8", "-p", "delay=0.05", "--save")
    assert done.returncode == 0, done.stderr
    with History.open(tmp / "data" / "history.sqlite3") as history:
        return history.load(1), history.data(1)


@pytest.fixture
def aged(tmp_path, saved_run):
    """A data dir whose history holds that run five times: #1 now, #2..#5 moved back 2, 10, 20
    and 40 days in the SQLite file itself."""
    record, data = saved_run
    env = main_env(tmp_path)
    path = tmp_path / "data" / "history.sqlite3"
    with History.open(path) as history:
        for _ in range(5):
            history.add(record, data)
    now = time.time()
    db = sqlite3.connect(path)
    with db:
        for run_id, days in zip((2, 3, 4, 5), (2, 10, 20, 40), strict=True):
            db.execute("UPDATE runs SET saved_at = ? WHERE id = ?", (now - days * DAY, run_id))
    db.close()
    return env, path, len(data)


def test_delete_older_than_removes_the_old_runs_and_says_so(aged) -> None:
    env, path, per_run = aged
    with History.open(path) as history:
        before = history.size_bytes()
    done = main(env, "history", "--delete-older-than", "15d")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("deleted 2 runs older than 15 days (stored before ")
    assert lines[0].endswith(f"({format_size(2 * per_run)} of run files)")
    with History.open(path) as history:
        assert sorted(e.id for e in history.entries()) == [1, 2, 3]
        after = history.size_bytes()
    assert after < before
    assert lines[1] == f"3 runs left, {format_size(before)} → {format_size(after)}, in {path}"

    again = main(env, "history", "--delete-older-than", "1w", "--json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["deleted"] == 1 and doc["deleted_run_bytes"] == per_run and doc["count"] == 2
    assert doc["older_than_s"] == 7 * DAY and doc["size_bytes"] <= doc["size_bytes_before"]
    assert doc["path"] == str(path)

    none = main(env, "history", "--delete-older-than", "3d")
    assert none.returncode == 0 and none.stdout.startswith("no run in the history is older than 3 days")
    listing = json.loads(main(env, "history", "--json").stdout)
    assert sorted(r["id"] for r in listing["runs"]) == [1, 2]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["15y"], "--delete-older-than: an age is a number and a unit (s, m, h, d or w)"),
        (["0d"], "--delete-older-than: an age must be more than 0"),
        (["d"], "got 'd'"),
        (["30d", "--demo", "async-sleep"], "deletes the old runs of every demo; drop --demo"),
    ],
)
def test_a_bad_age_is_one_line_status_2_and_nothing_goes(aged, args, words) -> None:
    env, path, _ = aged
    done = main(env, "history", "--delete-older-than", *args)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr
    with History.open(path) as history:
        assert history.count() == 5


def test_ages_read_and_said() -> None:
    assert parse_age("30d") == 30 * DAY and parse_age("12h") == 43_200 and parse_age(" 90 m ") == 5400
    assert parse_age("2W") == 14 * DAY and parse_age("1.5h") == 5400 and parse_age("45s") == 45
    for bad in ("", "30", "d", "-1d", "1y", "1 d 2h", "nan d"):
        with pytest.raises(AgeError):
            parse_age(bad)
    assert [describe_age(parse_age(t)) for t in ("1d", "1w", "30d", "14d", "90m", "1s")] == [
        "1 day",
        "1 week",
        "30 days",
        "2 weeks",
        "90 minutes",
        "1 second",
    ]
