"""Shared fixtures: a real embedded site on a real loopback socket, with a real SQLite file.

The whole test session uses one throwaway data directory, so the user's own database
and secret key are never touched.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_DATA_DIR = tempfile.mkdtemp(prefix="explorer-tests-")
os.environ["EXPLORER_DATA_DIR"] = _DATA_DIR
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@dataclass
class LabRunner:
    """A started Lab on its own asyncio loop; ``run`` and ``fetch`` drive that loop until done."""

    lab: Any
    loop: asyncio.AbstractEventLoop
    run: Callable[..., Any]
    fetch: Callable[..., Any]
    # Sends a demo's own method with the app's token, as the lab's load driver does.
    call: Callable[..., Any] = None


@pytest.fixture(scope="session")
def lab_runner():
    import httpx

    from engine.lab import Lab
    from engine.plan import make_config

    Lab.prepare()
    loop = asyncio.new_event_loop()
    lab = Lab(loop_kind="asyncio")
    loop.run_until_complete(lab.start())

    def run(target: str, **settings: Any):
        return loop.run_until_complete(lab.run(make_config(target, **settings)))

    def fetch(path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
        async def get() -> httpx.Response:
            async with httpx.AsyncClient(base_url=lab.url, trust_env=False, timeout=30) as client:
                return await client.request(method, path, **kwargs)

        return loop.run_until_complete(get())

    def call(demo_id: str, **kwargs: Any) -> httpx.Response:
        from embedded_site.apptoken import HEADER, app_token
        from embedded_site.demos.catalogue import get_demo

        demo = get_demo(demo_id)
        headers = {HEADER: app_token(), **kwargs.pop("headers", {})}
        return fetch(demo.path, demo.method, headers=headers, **kwargs)

    yield LabRunner(lab, loop, run, fetch, call)
    loop.run_until_complete(lab.close())
    loop.close()


@pytest.fixture(scope="session", autouse=True)
def _one_qt_application(qapp):
    """One QApplication for the whole session, made before any test asks for a loop: a
    headless QCoreApplication made first could not become the GUI one later."""
    return qapp


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    """A throwaway PostgreSQL cluster for the session, started the way ``--db postgres`` starts
    the lab's own; skips (saying why) only when none can start on this machine."""
    from embedded_site.datadir import SiteSetupError
    from engine.pgcluster import Cluster, ClusterError

    try:
        cluster = Cluster(tmp_path_factory.mktemp("pg-data"))
        url = cluster.start()
    except (ClusterError, SiteSetupError) as exc:
        pytest.skip(f"no PostgreSQL cluster could be started here: {exc}")
    yield url
    cluster.remove()
