"""The run file: a saved run loads back as the same run, and a bad file is one clear line."""

from __future__ import annotations

import gzip
import json

import pytest

from engine import runfile
from engine.derive import Derivation
from engine.runfile import RunFileError, dumps_run, load_run, loads_run, save_run
from engine.stats import compute


@pytest.fixture(scope="module")
def record(lab_runner):
    return lab_runner.run("sync-sleep", concurrency=4, requests=8, params={"delay": 0.05})


@pytest.fixture(scope="module")
def stalled(lab_runner):
    """A scenario with a blocked loop: lag samples above the threshold and a stall with its culprit."""
    return lab_runner.run("one-blocking-call")


def _picture(record):
    d = Derivation.of_record(record)
    return d.bars_by_start(), d.lanes(), d.rows


def _spans(record) -> int:
    return sum(len(s.spans) for s in record.server)


@pytest.mark.parametrize("which", ["record", "stalled"])
def test_saved_and_loaded_is_the_same_run(which, request, tmp_path):
    original = request.getfixturevalue(which)
    path = save_run(original, tmp_path / f"r{runfile.SUFFIX}")
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    loaded = load_run(path)
    assert compute(loaded).as_dict() == compute(original).as_dict()
    assert _spans(loaded) == _spans(original) > 0
    assert compute(loaded).findings == compute(original).findings
    assert _picture(loaded) == _picture(original)
    assert loaded.config == original.config and loaded.versions == original.versions
    assert loaded.stalls == original.stalls and loaded.lag == original.lag
    assert loaded.thread_names == original.thread_names
    # The loop's activity comes back as the same arrays of ints it was kept in.
    assert loaded.loop_activity == original.loop_activity and original.loop_activity.busy_ns
    assert type(loaded.loop_activity.busy_ns) is type(original.loop_activity.busy_ns)
    assert loaded.past is not None and loaded.past.kind == "file" and loaded.past.source == str(path)
    assert loaded.past.saved_stats["findings"] == compute(original).as_dict()["findings"]
    assert original.past is None


def test_the_blocked_run_keeps_its_stall_and_culprit(stalled):
    loaded = loads_run(dumps_run(stalled))
    assert stalled.stalls and loaded.stalls[0].culprit == stalled.stalls[0].culprit
    assert isinstance(loaded.stalls[0].places[0], tuple)
    assert compute(loaded).blocked_ms == compute(stalled).blocked_ms > 0


def test_bytes_are_the_same_for_the_same_run(record):
    assert dumps_run(record) == dumps_run(record)
    assert dumps_run(loads_run(dumps_run(record))) == dumps_run(record)


def test_the_record_export_is_plain_json_that_loads_back(record, tmp_path):
    from engine.exports import EXPORTS

    path = EXPORTS["record"].write(record, tmp_path / "r.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == runfile.FORMAT and doc["version"] == runfile.VERSION
    assert compute(load_run(path)).as_dict() == compute(record).as_dict()


def _doc(record) -> dict:
    return json.loads(gzip.decompress(dumps_run(record)))


def _gz(doc: dict) -> bytes:
    return gzip.compress(json.dumps(doc).encode())


def _message(data: bytes, tmp_path, name: str = "bad.run.json.gz") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(RunFileError) as caught:
        load_run(path)
    text = str(caught.value)
    assert "\n" not in text and str(path) in text
    return text


def test_a_newer_version_says_so(record, tmp_path):
    doc = _doc(record)
    doc["version"] = runfile.VERSION + 1
    assert "newer version" in _message(_gz(doc), tmp_path)


def test_a_file_not_ours_says_so(tmp_path):
    assert "not a run file" in _message(b"\x89PNG\r\n\x1a\n" + bytes(range(256)), tmp_path)
    assert "not a run file of Django Async Explorer" in _message(b'{"hello": 1}', tmp_path)
    assert "not a run file of Django Async Explorer" in _message(_gz({"format": "other"}), tmp_path)
    assert "not a run file" in _message(b"", tmp_path)
    assert "not a run file" in _message(b"[1, 2]", tmp_path)


def test_truncated_and_corrupt_files_say_so(record, tmp_path):
    data = dumps_run(record)
    assert "truncated" in _message(data[: len(data) // 2], tmp_path)
    corrupt = bytearray(data)
    for i in range(40, 60):
        corrupt[i] ^= 0xFF
    assert "damaged" in _message(bytes(corrupt), tmp_path) or "truncated" in _message(bytes(corrupt), tmp_path)
    plain = gzip.decompress(data)
    assert "truncated" in _message(plain[: len(plain) // 2], tmp_path, "r.json")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(started_ns="soon"), "'started_ns' is not a whole number"),
        (lambda d: d["client"][0].update(done_ns="late"), "client request 0's 'done_ns' is str"),
        (lambda d: d["client"][1].update(status=True), "client request 1's 'status' is bool"),
        (lambda d: d["client"][0].pop("id"), "client request 0 lacks id"),
        (lambda d: d["server"][0]["spans"][0].update(thread_id=None), "span 0's 'thread_id'"),
        (lambda d: d["server"].append(7), "server request 8 is not an object"),
        (lambda d: d.update(lag={"a": 1}), "'lag' is not a list"),
        (lambda d: d.update(config={"streams": []}), "config has no target"),
        (lambda d: d["config"]["streams"][0].update(concurrency="4"), "stream 0's 'concurrency'"),
        (lambda d: d.update(thread_names={"x": "main"}), "thread id"),
        (lambda d: d["config"]["streams"][0].update(params={"delay": [1]}), "stream 0's params"),
        (lambda d: d["client"][0].update(colour="red"), "unknown field 'colour'"),
        (lambda d: d["loop_activity"]["busy_ns"].append(2**70), "'loop_activity' holds a number beyond 64 bits"),
    ],
)
def test_a_wrong_shape_names_what_is_wrong(record, tmp_path, change, words):
    doc = _doc(record)
    change(doc)
    text = _message(_gz(doc), tmp_path)
    assert "not a valid run file" in text and words in text


def test_missing_files_and_folders_are_one_line(tmp_path):
    with pytest.raises(RunFileError, match="no such file"):
        load_run(tmp_path / "nothing.run.json.gz")
    with pytest.raises(RunFileError, match="is a folder"):
        load_run(tmp_path)


def test_save_is_whole_or_absent(record, tmp_path):
    path = tmp_path / "r.run.json.gz"
    save_run(record, path)
    before = path.read_bytes()

    class Boom(Exception):
        pass

    def fail(*args, **kwargs):
        raise Boom

    import engine.runfile as module

    original = module.write_document
    module.write_document = fail
    try:
        with pytest.raises(Boom):
            save_run(record, path)
    finally:
        module.write_document = original
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
