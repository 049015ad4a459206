"""Which server served the run, with its workers and threads, and the CPU it used per request.

Said only for a server in a child process (the embedded server is the lab itself, and its
settings are the run's loop): the comparison of deployments reads the server and its shape
here, and the CPU per request is the child's processes' own (user + system from the OS),
so it is the server's cost alone, not the lab's.
"""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts


def shape(server: dict) -> str:
    """'1 worker (asgi)', '2 workers × 8 threads (gthread)'."""
    workers, threads = int(server.get("workers", 1)), int(server.get("threads", 1))
    text = f"{workers} worker{'s' if workers != 1 else ''}"
    if threads > 1:
        text += f" × {threads} threads"
    return f"{text} ({server.get('worker', server.get('interface', '?'))})"


@rule("server")
def server(facts: Facts) -> Finding | None:
    info = facts.record.extra.get("server") or {}
    if not info or info.get("name", "embedded") == "embedded":
        return None
    evidence: dict[str, float | int | str] = {
        "server": str(info["name"]),
        "workers": int(info.get("workers", 1)),
        "threads": int(info.get("threads", 1)),
        "worker": str(info.get("worker", "")),
    }
    sentence = f"Served by {info['name']} in a child process, {shape(info)}"
    cpu = facts.stats.cpu_ms_per_request if facts.stats is not None else None
    if cpu is not None:
        evidence["cpu_ms_per_request"] = cpu
        evidence["cpu_s"] = float(info.get("cpu_s", 0.0))
        sentence += f"; its processes used {cpu:.2f} ms of CPU per request (user + system, from the OS)"
    return Finding("server", "info", sentence, evidence, weight=-1.0)
