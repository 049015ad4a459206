"""A run named the way a user names it: a history id or a file's path."""

from __future__ import annotations

import pytest

from engine.history import History
from engine.runfile import RunFileError, save_run
from engine.runref import history_id, load_ref
from engine.stats import compute


@pytest.fixture(scope="module")
def record(lab_runner):
    return lab_runner.run("async-sleep", concurrency=3, requests=3, params={"delay": 0.02})


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_an_id_names_a_history_run(record, data_dir):
    with History.open() as history:
        run_id = history.add(record)
    for text in (str(run_id), f"#{run_id}", f" {run_id} "):
        loaded = load_ref(text)
        assert loaded.past.kind == "history" and compute(loaded).as_dict() == compute(record).as_dict()
    with pytest.raises(RunFileError, match=f"no run #{run_id + 1} in the history"):
        load_ref(str(run_id + 1))


def test_a_path_names_a_file(record, data_dir, tmp_path, monkeypatch):
    path = save_run(record, tmp_path / "a.run.json.gz")
    assert load_ref(str(path)).past.source == str(path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "7").write_bytes(path.read_bytes())  # a file named like an id is a file
    assert history_id("7") is None
    assert load_ref("7").past.kind == "file"


@pytest.mark.parametrize("text", ["", "   ", "no-such-file.run.json.gz", "#x"])
def test_a_bad_reference_is_one_line(text, data_dir):
    with pytest.raises(RunFileError) as caught:
        load_ref(text)
    assert "\n" not in str(caught.value)
