"""Cold-start benchmark: ``python main.py`` until the window has painted and the site answers.

Prints numbers (not a test). Each launch is a fresh interpreter with a throwaway, already
migrated ``EXPLORER_DATA_DIR`` (a warm cache: the OS has the files in memory, the database is
up to date, bytecode is cached, in a throwaway ``PYTHONPYCACHEPREFIX``) and a throwaway config
directory, so your own database and window settings are never touched. The app is started
with ``EXPLORER_EXIT_AFTER_READY=1`` (see ``gui/app.py``): it prints ``ready <time.time_ns()>``
once the timeline canvas has painted and ``GET /`` returned 200, then closes;
the time is measured from just before ``Popen`` to that stamp.

For reference the same probe runs against the bare stack, interleaved with the window:
``bare`` is ``Lab.prepare()`` + the server on a plain asyncio loop (no Qt), and ``python``
an interpreter that does nothing (``python -c pass``, its exit time).

Run: ``python bench/startup.py [-n 10] [--xvfb]`` (default platform: Qt's offscreen;
``--xvfb`` starts one Xvfb server for the whole benchmark and uses the xcb platform).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import asyncio, sys, time
sys.path.insert(0, {root!r})
from engine.lab import Lab

async def main():
    lab = Lab(loop_kind="asyncio")
    await lab.start()
    host, port = lab.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET / HTTP/1.1\\r\\nHost: {{host}}\\r\\nConnection: close\\r\\n\\r\\n".encode())
    status = (await reader.readline()).split()[1].decode()
    await reader.read()
    writer.close()
    print(f"ready {{time.time_ns()}} status {{status}}", flush=True)
    await lab.close()

Lab.prepare()
asyncio.run(main())
"""


def launch(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the "ready" line, seconds to process exit)."""
    t0 = time.time_ns()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    t_exit = time.time_ns()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[1:]} exited {proc.returncode}:\n{err[-2000:]}")
    ready = [line.split() for line in out.splitlines() if line.startswith("ready ")]
    if not ready:
        return (t_exit - t0) / 1e9, (t_exit - t0) / 1e9
    if ready[0][3] != "200":
        raise SystemExit(f"the site answered {ready[0][3]}")
    return (int(ready[0][1]) - t0) / 1e9, (t_exit - t0) / 1e9


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    for n in range(90, 140):
        if not Path(f"/tmp/.X{n}-lock").exists():
            proc = subprocess.Popen(
                ["Xvfb", f":{n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(100):
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    return proc, f":{n}"
                time.sleep(0.05)
            proc.kill()
    raise SystemExit("could not start Xvfb")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10, help="launches per variant (default 10)")
    ap.add_argument("--xvfb", action="store_true", help="use one Xvfb server and the xcb platform")
    ap.add_argument("--only-window", action="store_true", help="skip the bare and python reference variants")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="explorer-startup-"))
    xvfb = None
    try:
        env = {
            **os.environ,
            "EXPLORER_DATA_DIR": str(tmp / "data"),
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "EXPLORER_EXIT_AFTER_READY": "1",
            "PYTHONPATH": str(ROOT),
            # A warm start has bytecode caches: write them, but under the throwaway directory.
            "PYTHONPYCACHEPREFIX": str(tmp / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if args.xvfb:
            xvfb, display = start_xvfb()
            env["DISPLAY"] = display
            env.pop("QT_QPA_PLATFORM", None)
            env.pop("WAYLAND_DISPLAY", None)
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        # Migrate and seed once, and warm the OS cache: not measured.
        for _ in range(2):
            launch([sys.executable, "main.py"], env)
        variants = {"window": [sys.executable, "main.py"]}
        if not args.only_window:
            variants["bare"] = [sys.executable, "-c", BARE.format(root=str(ROOT))]
            variants["python"] = [sys.executable, "-c", "pass"]
        ready: dict[str, list[float]] = {k: [] for k in variants}
        exits: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.n):  # interleaved, so drift on the machine hits every variant alike
            for name, argv in variants.items():
                r, e = launch(argv, env)
                ready[name].append(r)
                exits[name].append(e)
        platform = f"xcb on Xvfb {env['DISPLAY']}" if args.xvfb else "offscreen"
        print(f"cold start, warm cache, {args.n} launches each ({platform}); seconds")
        print(f"{'variant':<8} {'median':>7} {'min':>7} {'max':>7}   {'exit median':>11}")
        for name in variants:
            v = ready[name]
            print(
                f"{name:<8} {statistics.median(v):7.3f} {min(v):7.3f} {max(v):7.3f}   "
                f"{statistics.median(exits[name]):11.3f}"
            )
        print("window/bare: ready = timeline painted and GET / answered 200; python: process exit")
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
