""" "Should I go async?" as comparisons: the same load on a sync deployment and an async one.

Each preset is a list of ``DeployRun``: a demo, the server it runs on (``engine.servers``) and
its workers/threads, all at the preset's one load.  ``run_args`` is what to add to a
``main.py run`` command line for that run (``--server …``, the load), so a comparison view
that runs children with ``--record FILE`` (``engine.compare``) can run these too, and the
runs' records name their server, workers and database for the comparison to show.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DeployRun:
    target: str
    server: str
    workers: int = 1
    threads: int = 1
    params: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        how = f"{self.workers}×{self.threads} threads" if self.threads > 1 else f"{self.workers} worker(s)"
        return f"{self.target} on {self.server} ({how})"


@dataclass(frozen=True)
class DeployPreset:
    id: str
    title: str
    runs: tuple[DeployRun, ...]
    concurrency: int = 50
    requests: int = 500
    why: str = ""  # the question the comparison answers (the answer is measured, never written here)


# A WSGI deployment's usual shape on a small machine: 2 workers with 8 threads each (16 at once).
WSGI = {"server": "gunicorn-wsgi", "workers": 2, "threads": 8}
ALL_SERVERS = ("embedded", "uvicorn", "daphne", "hypercorn", "granian", "gunicorn-asgi", "gunicorn-wsgi")

DEPLOY_PRESETS: dict[str, DeployPreset] = {
    p.id: p
    for p in (
        DeployPreset(
            "io-bound",
            "I/O-bound view: sync under gunicorn (2×8 threads) vs async under uvicorn",
            (
                DeployRun("sync-sleep", params={"delay": "0.1"}, **WSGI),
                DeployRun("async-sleep", "uvicorn", params={"delay": "0.1"}),
            ),
            why="does waiting on the event loop serve more at once than 16 worker threads?",
        ),
        DeployPreset(
            "db-bound",
            "DB-bound view: sync under gunicorn (2×8 threads) vs async under uvicorn",
            (DeployRun("db-read-sync", **WSGI), DeployRun("db-read-async", "uvicorn")),
            why="the async ORM runs each query through a thread hop: does async gain anything here?",
        ),
        DeployPreset(
            "hello-servers",
            "hello at full load on every server",
            tuple(DeployRun("hello", s, 1, 8 if s == "gunicorn-wsgi" else 1) for s in ALL_SERVERS),
            requests=2000,
            why="what each server costs per request when the view does nothing",
        ),
    )
}


def run_args(preset: DeployPreset, run: DeployRun) -> list[str]:
    """The ``main.py run`` arguments of one run of ``preset`` (add ``--record FILE`` to keep it)."""
    args = [run.target, "--concurrency", str(preset.concurrency), "--requests", str(preset.requests)]
    args += ["--server", run.server]
    if run.workers > 1:
        args += ["--workers", str(run.workers)]
    if run.threads > 1:
        args += ["--threads", str(run.threads)]
    for name, value in run.params.items():
        args += ["--param", f"{name}={value}"]
    return args


def child_args(preset: DeployPreset, run: DeployRun, record_path: Path) -> list[str]:
    """The command line of the child ``main.py run`` that makes one run of ``preset`` and
    records it to ``record_path`` (the window's Compare menu and ``main.py compare --deploy``)."""
    return [sys.executable, str(ROOT / "main.py"), "run", *run_args(preset, run), "--record", str(record_path)]


def groups[T](runs: list[T], most: int) -> list[list[T]]:
    """``runs`` in comparisons of at most ``most`` runs, each led by the first run (the baseline
    every other is measured against): a preset with more runs than one comparison holds (hello
    on all seven servers) is several comparisons with the same baseline."""
    if len(runs) <= most:
        return [list(runs)]
    base, rest = runs[0], runs[1:]
    step = most - 1
    return [[base, *rest[i : i + step]] for i in range(0, len(rest), step)]
