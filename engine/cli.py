"""The terminal front end: ``python main.py list | serve | run``.

Every setting is checked before a server starts; a bad one ends the command with a
one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .config import ConfigError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option ends with one line (and status 2), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from .loops import LOOP_KINDS

    parser = _Parser(
        prog="python main.py",
        description="Django Async Explorer. With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    listing = sub.add_parser("list", help="list the demos and scenarios")
    listing.add_argument("--json", action="store_true", help="one JSON document: id, group, title, path, params")

    serve = sub.add_parser("serve", help="serve the demo site only; Ctrl-C stops it")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0 picks a free one; default 8000)")
    serve.add_argument("--loop", choices=LOOP_KINDS, default="qt")

    run = sub.add_parser("run", help="run a demo or scenario and print what was measured")
    run.add_argument("target", help="a demo id or scenario id (see `list`)")
    run.add_argument("--concurrency", "-c", type=int, default=10, help="virtual users / connections (default 10)")
    amount = run.add_mutually_exclusive_group()
    amount.add_argument("--requests", "-n", type=int, help="total requests (default: the concurrency)")
    amount.add_argument("--duration", "-d", type=float, help="seconds to keep sending")
    run.add_argument("--rate", type=float, help="open loop: requests per second, latency from the intended send time")
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V", help="a demo parameter, repeatable")
    run.add_argument("--loop", choices=LOOP_KINDS, default="qt", help="event loop for the server (default qt)")
    run.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the text summary")
    run.add_argument("--trace", metavar="FILE", help="write a Chrome/Perfetto trace (JSON)")
    run.add_argument("--csv", metavar="FILE", help="write one CSV row per request")
    run.add_argument("--record", metavar="FILE", help="write the whole run record as JSON")
    return parser


def _params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param takes NAME=VALUE, got {pair!r}")
        params[key.strip()] = value.strip()
    return params


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    from embedded_site.bootstrap import setup_django

    setup_django()
    if args.command == "list":
        return _list(args.json)
    if args.command == "serve":
        return _serve(args.port, args.loop)
    return _run(args)


def _list(as_json: bool) -> int:
    from .plan import catalogue
    from .scenarios import SCENARIOS

    demos = catalogue()
    if as_json:
        doc = {
            "demos": [
                {
                    "id": d.id,
                    "group": d.group,
                    "title": d.title,
                    "path": d.path,
                    "async": d.is_async,
                    "params": {
                        p.name: {"default": p.default, "min": p.minimum, "max": p.maximum, "help": p.help}
                        for p in d.params
                    },
                    "expect_status": d.expect_status,
                    "twin": d.twin,
                }
                for d in demos.values()
            ],
            "scenarios": [
                {"id": s.id, "title": s.title, "streams": [st.demo for st in s.streams]} for s in SCENARIOS.values()
            ],
        }
        print(json.dumps(doc, indent=2))
        return 0
    group = None
    for d in demos.values():
        if d.group != group:
            group = d.group
            print(f"\n{group}")
        params = " ".join(f"{p.name}={p.default}" for p in d.params)
        print(f"  {d.id:28} {d.title}" + (f"  [{params}]" if params else ""))
    print("\nScenarios")
    for s in SCENARIOS.values():
        print(f"  {s.id:28} {s.title}")
    return 0


def _serve(port: int, loop_kind: str) -> int:
    from . import loops
    from .lab import Lab
    from .server import ServerError

    Lab.prepare()

    async def serve() -> None:
        lab = Lab(port=port, loop_kind=loop_kind)
        await lab.start()
        print(f"Serving the demo site at {lab.url}/ on the {loop_kind} loop. Ctrl-C stops it.", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await lab.close()
            print("Stopped.", flush=True)

    try:
        loops.run(serve(), loop_kind)
    except ServerError as exc:
        return _fail(str(exc))
    return 0


def _run(args: argparse.Namespace) -> int:
    from . import loops
    from .export import write_chrome_trace, write_csv, write_json
    from .lab import Lab
    from .plan import make_config
    from .server import ServerError
    from .textview import text_timeline

    try:
        config = make_config(
            args.target,
            concurrency=args.concurrency,
            requests=args.requests,
            duration_s=args.duration,
            rate=args.rate,
            params=_params(args.param),
        )
    except ConfigError as exc:
        return _fail(str(exc))
    Lab.prepare()

    async def measure():
        lab = Lab(port=args.port, loop_kind=args.loop)
        await lab.start()
        try:
            return await lab.run(config)
        finally:
            await lab.close()

    try:
        record = loops.run(measure(), args.loop)
    except ServerError as exc:
        return _fail(str(exc))
    if record is None:
        print("interrupted", file=sys.stderr)
        return 130
    stats = record.final_stats()  # computed once, shared with the exports
    for flag, writer in ((args.trace, write_chrome_trace), (args.csv, write_csv), (args.record, write_json)):
        if flag:
            writer(record, flag)
    if args.json:
        print(json.dumps(summary_json(record, stats)))
    else:
        print(text_summary(record, stats))
        print()
        print(text_timeline(record))
    return 0


def summary_json(record: Any, stats: Any) -> dict[str, Any]:
    return {
        "demo": record.config.target,
        "django": record.versions.get("django"),
        "python": record.versions.get("python"),
        "loop": record.loop,
        **{k: v for k, v in stats.as_dict().items()},
        "stopped": record.stopped,
        "notes": record.notes,
    }


def text_summary(record: Any, st: Any) -> str:
    lat, lag, v = st.latency_ms, st.loop_lag_ms, record.versions
    lines = [
        f"{record.config.target}: {record.config.title}",
        f"  Django {v.get('django')}, Python {v.get('python')}, loop {record.loop}, {record.url}",
        "",
        f"  {st.verdict}",
        "",
        f"  requests      {st.completed}/{st.requests} finished, {st.errors} errors, statuses {st.statuses}",
        f"  wall time     {st.wall_s:.3f} s    throughput {st.throughput_rps:.1f} req/s",
        f"  latency ms    p50 {lat['p50']:.1f}  p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}",
        f"  concurrency   max in flight {st.max_in_flight}, speed-up {st.speedup:.2f}x, "
        f"server threads {st.distinct_server_threads} ({st.threads_started} started for this run)",
        f"  event loop    lag p99 {lag['p99']:.1f} ms, max {lag['max']:.1f} ms, blocked {st.blocked_ms:.0f} ms",
    ]
    if st.exceptions:
        lines.append(f"  exceptions    {st.exceptions}")
        sample = next((s for s in record.server if s.exception_type), None)
        if sample is not None:
            lines.append(f"  first error   {sample.exception_type}: {sample.exception}")
    if st.sql:
        lines.append(f"  SQL           {st.sql}")
    lines.extend(f"  note: {n}" for n in record.notes)
    return "\n".join(lines)
