"""CPU per request in a comparison: measured from the OS for the server that served each run
(the lab's process for the embedded server, a child's processes for the others), in the stats
side by side, and in the sentence when the runs differ in it; ``main.py compare --deploy``
makes a deploy preset's runs on their servers and compares them, bad input one line, exit 2."""

from __future__ import annotations

import json

from engine.compare import compare

from .mainproc import main_env
from .test_cli_compare import _main


def test_cpu_heavy_views_cost_more_cpu_per_request_and_the_sentence_says_by_how_much(lab_runner) -> None:
    hello = lab_runner.run("hello", concurrency=5, requests=40)
    heavy = lab_runner.run("cpu-bound-thread", concurrency=5, requests=40, params={"work": 200})
    a, b = hello.final_stats(), heavy.final_stats()
    assert a.cpu_ms_per_request is not None and b.cpu_ms_per_request is not None
    # The record's own reading, over the answered requests.
    assert b.cpu_ms_per_request == round(heavy.extra["server"]["cpu_s"] * 1000 / b.completed, 3)
    assert b.cpu_ms_per_request > 3 * a.cpu_ms_per_request, (a.cpu_ms_per_request, b.cpu_ms_per_request)
    cmp = compare([hello, heavy])
    cpu = next(d for d in cmp.differences[0] if d.metric == "cpu")
    assert cpu.direction == "worse" and cpu.ratio is not None and cpu.ratio > 3
    assert cmp.runs[0].texts["cpu"] == f"{a.cpu_ms_per_request:.2f} ms"
    ratio = max(a.cpu_ms_per_request, b.cpu_ms_per_request) / min(a.cpu_ms_per_request, b.cpu_ms_per_request)
    said = f"used {ratio:.1f}× less CPU per request ({a.cpu_ms_per_request:.2f} ms vs {b.cpu_ms_per_request:.2f} ms)"
    assert cmp.sentence.startswith("hello finished 40 requests in "), cmp.sentence
    assert said in cmp.sentence, cmp.sentence
    # The other way round, the baseline is the costly one: the winner still "used less".
    assert said in compare([heavy, hello]).sentence


def test_a_record_without_a_cpu_reading_leaves_cpu_out(lab_runner) -> None:
    one = lab_runner.run("hello", concurrency=2, requests=6)
    two = lab_runner.run("hello", concurrency=2, requests=6)
    del two.extra["server"]["cpu_s"]  # as a run file from before the reading was kept
    two._stats_cache = None
    cmp = compare([one, two])
    assert "cpu" not in [m.key for m in cmp.metrics]
    assert "CPU" not in cmp.sentence


def test_compare_deploy_runs_the_io_bound_preset_on_gunicorn_and_uvicorn(tmp_path) -> None:
    env = main_env(tmp_path)
    keep = tmp_path / "runs"
    done = _main(["compare", "--deploy", "io-bound", "--keep", str(keep), "--json"], env, timeout=400)
    assert done.returncode == 0, done.stderr
    assert "run 1 of 2: sync-sleep on gunicorn-wsgi" in done.stderr
    doc = json.loads(done.stdout)
    assert [r["label"] for r in doc["runs"]] == ["sync-sleep on gunicorn-wsgi 2×8", "async-sleep on uvicorn"]
    assert all(r["requests"] == 500 and "cpu" in r["values"] for r in doc["runs"])
    cpu = [r["values"]["cpu"] for r in doc["runs"]]
    assert all(c > 0 for c in cpu)
    assert ("CPU per request" in doc["sentence"]) == (max(cpu) / min(cpu) >= 1.1), doc["sentence"]
    served = [next(f for f in r["findings"] if f["id"] == "server") for r in doc["runs"]]
    wanted = {"server": "gunicorn-wsgi", "workers": 2, "threads": 8, "worker": "gthread"}
    assert wanted.items() <= served[0]["evidence"].items()
    assert served[1]["evidence"]["server"] == "uvicorn"
    # A WSGI server has no event loop: its loop numbers say so and are not compared.
    assert doc["runs"][0]["texts"]["blocked"] == doc["runs"][0]["texts"]["lag"] == "no event loop"
    assert doc["runs"][1]["texts"]["blocked"] != "no event loop"
    loop_diffs = [d for d in doc["differences"][0] if d["metric"] in ("blocked", "lag")]
    assert [d["direction"] for d in loop_diffs] == ["n/a", "n/a"], loop_diffs
    assert len(list(keep.glob("*.run.json.gz"))) == 2, "--keep kept both run files"
    # The kept files compare again, to the same sentence.
    again = _main(["compare", *sorted(str(p) for p in keep.glob("*.run.json.gz")), "--json"], env)
    assert again.returncode == 0 and json.loads(again.stdout)["sentence"] == doc["sentence"]


def test_compare_deploy_bad_input_is_one_line_and_exit_2(tmp_path) -> None:
    env = main_env(tmp_path)
    cases = [
        (["--deploy", "no-such"], "error: --deploy: no preset 'no-such' (choose from io-bound"),
        (["--keep", str(tmp_path)], "error: --keep goes with --deploy PRESET"),
        (["1", "2", "--deploy", "io-bound"], "error: --deploy makes its own runs"),
        (["--deploy", "hello-servers", "--html", str(tmp_path / "x.html")], "error: --html: hello-servers makes 2"),
    ]
    for args, start in cases:
        done = _main(["compare", *args], env)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(start) and done.stderr.count("\n") == 1, done.stderr
        assert done.stdout == ""


def test_a_preset_of_more_runs_than_a_comparison_holds_is_compared_in_groups_with_one_baseline() -> None:
    from engine.compare import MAX_RUNS
    from engine.deploy_presets import DEPLOY_PRESETS, groups

    runs = list(DEPLOY_PRESETS["hello-servers"].runs)
    assert len(runs) == 7
    split = groups(runs, MAX_RUNS)
    assert [len(g) for g in split] == [4, 4]
    assert all(g[0] is runs[0] for g in split), "each comparison is against the preset's first run"
    assert [r for g in split for r in g[1:]] == runs[1:], "every other run once, in order"
    assert groups(runs[:3], MAX_RUNS) == [runs[:3]]
    assert groups(runs[:5], MAX_RUNS) == [runs[:4], [runs[0], runs[4]]]
