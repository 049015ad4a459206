"""Requests/s of the hello view: standalone uvicorn vs. the app's embedded server on each loop kind.

Why: the app serves Django inside a Qt process; this shows what that costs against a
plain ``uvicorn`` process, what stock qasync would cost, and what request tracing costs.
Each measurement is a fresh server subprocess (no warm caches or grown trace lists carried
over), warmed up for one second, then loaded by ``wrk``; configurations are interleaved
round by round so drift on the machine hits all of them alike. See bench/README.md.

Usage: python bench/throughput.py [--rounds 5] [--seconds 5] [--connections 50] [--no-pin]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH = "/demo/hello/"
READY = "READY"


@dataclass(frozen=True)
class Setup:
    name: str
    mode: str  # "standalone" or "embedded"
    kind: str  # event loop kind (standalone always runs uvicorn's plain asyncio loop)
    tracing: bool
    label: str


SETUPS = (
    Setup("standalone", "standalone", "asyncio", True, "(a) uvicorn process, asyncio loop"),
    Setup("qt", "embedded", "qt", True, "(b) EmbeddedServer on the 'qt' loop"),
    Setup("qasync", "embedded", "qasync", True, "(c) EmbeddedServer on patched qasync"),
    Setup("qt-notrace", "embedded", "qt", False, "(d) as (b), collector.enabled = False, Python's own GC"),
)


# -- server side (runs in the child process) -----------------------------------------


def _announce(port: int) -> None:
    # The parent reads exactly this one line; nothing else goes to stdout.
    print(f"{READY} {port}", flush=True)


def _record_like_a_run(tracing: bool) -> None:
    """Tracing on: record as a run of the lab records (``engine.lab``): with the run's garbage
    collection policy (``engine.gcpolicy.no_full_collections``; the garbage sweeps free what it
    holds back), kept until the process ends.  Tracing off: the collector keeps nothing and
    the process collects as Python does by default, as a server the lab is not measuring."""
    from embedded_site.tracing import collector
    from engine.gcpolicy import no_full_collections

    collector.enabled = tracing
    if tracing:
        no_full_collections().__enter__()  # left on: the server runs until it is terminated
        collector.start_recording()  # the collector keeps nothing outside a recording run


def _serve_standalone(tracing: bool) -> None:
    import uvicorn

    import engine.server
    from embedded_site.bootstrap import asgi_application, prepare_database

    prepare_database()
    _record_like_a_run(tracing)
    sock = engine.server.bind_loopback(0)
    config = uvicorn.Config(
        asgi_application(), loop="asyncio", http="h11", lifespan="off", access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    _announce(sock.getsockname()[1])
    server.run(sockets=[sock])  # uvicorn's own SIGTERM handling, as when run from the command line


def _serve_embedded(kind: str, tracing: bool) -> None:
    from embedded_site.bootstrap import asgi_application, prepare_database
    from engine import loops
    from engine.server import EmbeddedServer

    prepare_database()  # sync ORM: before the loop starts
    _record_like_a_run(tracing)

    async def main() -> None:
        server = EmbeddedServer(asgi_application(), port=0)
        await server.start()
        _announce(server.port)
        try:
            await asyncio.Event().wait()  # until SIGTERM cancels this task (engine.loops.run)
        finally:
            await server.stop()

    loops.run(main(), kind)


# -- load side (the parent) ------------------------------------------------------------


def ensure_wrk() -> str:
    """Find wrk, installing Debian's package when possible (root), or exit with a clear message."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("wrk is not installed; install it (Debian/Ubuntu: apt-get install wrk) and run again")
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    for cmd in (install, ["apt-get", "update", "-qq"], install):  # update only if the first try fails
        if shutil.which("wrk"):
            break
        print("$ " + " ".join(cmd), flush=True)
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        sys.exit("could not install wrk with apt-get")
    return found


class ServerProcess:
    """One server subprocess; stderr goes to a log file that is shown only if it fails."""

    def __init__(self, setup: Setup, data_dir: str, cpu: int | None) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", setup.mode, "--kind", setup.kind]
        cmd += ["--tracing", "on" if setup.tracing else "off"]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]
        env = dict(os.environ, EXPLORER_DATA_DIR=data_dir, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
        self.log_path = Path(data_dir) / f"server-{setup.name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != READY:
            self.stop()
            sys.exit(f"{setup.name} server did not start:\n{self.log_path.read_text()}")
        self.url = f"http://127.0.0.1:{line[1]}{PATH}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@dataclass
class WrkResult:
    rps: float
    errors: int  # socket errors plus non-2xx/3xx responses
    requests: int = 0
    cpu_s: float = 0.0  # the server process's CPU seconds (all threads, user + system) during the run

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_s * 1e6 / self.requests if self.requests else float("nan")


def process_cpu_s(pid: int) -> float:
    """A process's CPU seconds so far, user + system, every thread (``/proc/PID/stat``): CPU per
    request beside req/s, since time stolen from the server by other work lowers its req/s.
    (On a shared VM it moves too, by about as much: see bench/tracing_cost.py.)"""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    wrk: str, url: str, seconds: float, connections: int, cpu: int | None, server_pid: int | None = None
) -> WrkResult:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    cpu_before = process_cpu_s(server_pid) if server_pid else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu_s = process_cpu_s(server_pid) - cpu_before if server_pid else 0.0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    done = re.search(r"(\d+) requests in", out)
    return WrkResult(float(rps.group(1)), errors, int(done.group(1)) if done else 0, cpu_s)


def measure(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    pin = not args.no_pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    server_cpu, wrk_cpu = (1, 0) if pin else (None, None)
    results: dict[str, list[WrkResult]] = {s.name: [] for s in SETUPS}
    with tempfile.TemporaryDirectory(prefix="explorer-bench-") as data_dir:
        print(
            f"wrk -t1 -c{args.connections} -d{args.seconds}s {PATH}; {args.rounds} rounds; "
            + ("server on CPU 1, wrk on CPU 0 (taskset)" if pin else "not pinned"),
            flush=True,
        )
        for rnd in range(1, args.rounds + 1):
            for setup in SETUPS:
                server = ServerProcess(setup, data_dir, server_cpu)
                try:
                    run_wrk(wrk, server.url, 1, args.connections, wrk_cpu)  # warm-up, not counted
                    results[setup.name].append(
                        run_wrk(wrk, server.url, args.seconds, args.connections, wrk_cpu, server.proc.pid)
                    )
                finally:
                    server.stop()
                r = results[setup.name][-1]
                print(
                    f"  round {rnd} {setup.name:<11} {r.rps:9.0f} req/s {r.cpu_us_per_request:8.0f} µs CPU/request"
                    + (f"  ({r.errors} errors)" if r.errors else ""),
                    flush=True,
                )
    print_table(results, args.rounds)


def print_table(results: dict[str, list[WrkResult]], rounds: int) -> None:
    names = [s.name for s in SETUPS]
    print()
    print("req/s  " + "".join(f"{n:>12}" for n in names))
    for i in range(rounds):
        print(f"{i + 1:>5}  " + "".join(f"{results[n][i].rps:12.0f}" for n in names))
    med = {n: statistics.median(r.rps for r in results[n]) for n in names}
    print("median " + "".join(f"{med[n]:12.0f}" for n in names))
    errors = {n: sum(r.errors for r in results[n]) for n in names}
    if any(errors.values()):
        print("errors " + "".join(f"{errors[n]:12d}" for n in names))
    print()
    print("µs CPU per request (the server process, every thread)")
    for i in range(rounds):
        print(f"{i + 1:>5}  " + "".join(f"{results[n][i].cpu_us_per_request:12.0f}" for n in names))
    cpu = {n: statistics.median(r.cpu_us_per_request for r in results[n]) for n in names}
    print("median " + "".join(f"{cpu[n]:12.0f}" for n in names))
    print()
    for s in SETUPS:
        print(f"  {s.name:<11} {s.label}")
    print()
    print(f"{'':32} {'req/s':>7} {'paired':>7} {'req per CPU s, paired':>22}")
    for label, a, b in (
        ("embedded (qt) / standalone", "qt", "standalone"),
        ("qasync / standalone", "qasync", "standalone"),
        ("qasync / embedded (qt)", "qasync", "qt"),
        ("tracing on / off (qt loop)", "qt", "qt-notrace"),
    ):
        pairs = list(zip(results[a], results[b]))
        # Paired: the median over rounds of the ratio within a round, whose two were measured
        # one after the other; drift on a shared machine from round to round then cancels out.
        by_rps = statistics.median(x.rps / y.rps for x, y in pairs)
        by_cpu = statistics.median(y.cpu_us_per_request / x.cpu_us_per_request for x, y in pairs)
        print(f"{label:<32} {med[a] / med[b]:7.3f} {by_rps:7.3f} {by_cpu:22.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and wrk to separate CPUs")
    # Internal: the server subprocesses run this same file.
    parser.add_argument("--serve", choices=("standalone", "embedded"), help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="qt", help=argparse.SUPPRESS)
    parser.add_argument("--tracing", choices=("on", "off"), default="on", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "standalone":
        _serve_standalone(args.tracing == "on")
    elif args.serve == "embedded":
        _serve_embedded(args.kind, args.tracing == "on")
    else:
        started = time.perf_counter_ns()
        measure(args)
        print(f"\n(total {(time.perf_counter_ns() - started) / 1e9:.0f} s)")


if __name__ == "__main__":
    main()
