"""The servers a run can be served by, one module per kind in a name table (like uvicorn's
``LOOP_FACTORIES``).

``embedded`` is the lab's own uvicorn on its event loop (``engine.server``).  Every other kind
serves the same site in a child process (``child.ChildServer``), started from the command its
module's ``command(port, workers, threads)`` returns, with the site's tracing streaming back
to the lab.  ``selected`` is what ``--server``/``--workers``/``--threads`` chose.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

EMBEDDED = "embedded"
SERVERS: dict[str, str] = {
    EMBEDDED: "engine.servers.embedded",
    "uvicorn": "engine.servers.uvicorn_child",
    "daphne": "engine.servers.daphne_child",
    "hypercorn": "engine.servers.hypercorn_child",
    "granian": "engine.servers.granian_child",
    "gunicorn-asgi": "engine.servers.gunicorn_asgi",
    "gunicorn-wsgi": "engine.servers.gunicorn_wsgi",
}
MAX_WORKERS = 16
MAX_THREADS = 256


@dataclass(frozen=True)
class ServerSpec:
    name: str = EMBEDDED
    workers: int = 1
    threads: int = 1

    def as_dict(self) -> dict[str, object]:
        module = server_module(self.name)
        return {
            "name": self.name,
            "workers": self.workers,
            "threads": self.threads,
            "interface": module.INTERFACE,
            "worker": getattr(module, "worker_kind", lambda _t: module.INTERFACE)(self.threads),
        }


def server_module(name: str) -> ModuleType:
    return importlib.import_module(SERVERS[name])


_selected = ServerSpec()


def select(spec: ServerSpec) -> None:
    global _selected
    _selected = spec


def selected() -> ServerSpec:
    return _selected
