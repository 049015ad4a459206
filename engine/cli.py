"""The terminal front end: ``python main.py list | serve | run``.

Every setting is checked before a server starts; a bad one ends the command with a
one-line message and exit status 2.  A run that starts keeps what it measures: a signal
stops it early with a summary and its exports (exit 130/143), a dead load driver makes it
incomplete (exit 1); see ``engine.interrupt`` and ``engine.outfile``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import math
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .config import ConfigError

EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 1  # the run ended before its plan did (e.g. its load driver died)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option ends with one line (and status 2), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    """A TCP port number, refused by argparse (one line) when outside 0–65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number from 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def _finite(text: str) -> float:
    """A float that is a real number: NaN and infinity are refused before any range check."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    from . import commands
    from .commands.project import add_project_options
    from .exports import EXPORTS
    from .loops import LOOP_KINDS

    parser = _Parser(
        prog="python main.py",
        description="Django Async Explorer. With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    listing = sub.add_parser("list", help="list the demos and scenarios")
    listing.add_argument("--json", action="store_true", help="one JSON document: id, group, title, path, params")
    add_project_options(listing)

    serve = sub.add_parser("serve", help="serve the demo site only; Ctrl-C stops it")
    serve.add_argument("--port", type=_port, default=8000, help="port on 127.0.0.1 (0 picks a free one; default 8000)")
    serve.add_argument("--loop", choices=LOOP_KINDS, default="qt")
    add_project_options(serve)
    importlib.import_module("engine.commands.database").add_run_options(serve)

    run = sub.add_parser("run", help="run a demo or scenario and print what was measured")
    run.add_argument("target", nargs="?", help="a demo id, a scenario id (see `list`) or a scenario FILE.toml")
    run.add_argument("--concurrency", "-c", type=int, help="virtual users / connections (default 10)")
    amount = run.add_mutually_exclusive_group()
    amount.add_argument("--requests", "-n", type=int, help="total requests (default: the concurrency)")
    amount.add_argument("--duration", "-d", type=_finite, help="seconds to keep sending")
    run.add_argument("--rate", type=_finite, help="open loop: requests per second, latency from the intended send time")
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V", help="a demo parameter, repeatable")
    run.add_argument("--loop", choices=LOOP_KINDS, default="qt", help="event loop for the server (default qt)")
    run.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (default: any free port)")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the text summary")
    for export in EXPORTS.values():
        run.add_argument(export.flag, metavar="FILE", help=export.help)
    run.epilog = (
        "A run may send at most 100,000 requests and last at most 600 s in all (one still going "
        "at 610 s is stopped and marked incomplete). Export paths are "
        "checked before the run starts and each file is written whole or not at all. FILE '-' "
        "writes that export to standard output (one export at most); the summary (text or "
        "--json) then goes to standard error. Ctrl-C or SIGTERM stops a run and keeps what it "
        "measured: the summary says 'interrupted', the exports are written, and the exit status "
        "is 130 (SIGINT) or 143 (SIGTERM); a second signal exits at once. Exit status 1: the run "
        "is incomplete (its load driver died, or the time limit stopped it) or an export could not "
        "be written; 2: a bad setting, refused before anything runs."
    )
    commands.add_run_options(run)
    commands.add_all(sub, _Parser)
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
    """Run one command; a SIGINT/SIGTERM while it is still starting up is one line, not a traceback."""
    from .interrupt import Interrupted, defer_signals, exit_status, signal_name

    defer_signals()
    try:
        return _command(argv)
    except Interrupted as exc:
        print(f"interrupted ({signal_name(exc.signum)}) while starting: nothing was run", file=sys.stderr)
        return exit_status(exc.signum)


def _command(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    from embedded_site.bootstrap import setup_django

    from . import commands
    from .commands.project import activate_from_args
    from .interrupt import raise_pending

    if (refused := activate_from_args(args, list(argv))) is not None:  # --project: a person's own site
        return refused
    commands.configure(args)  # the database is chosen before Django reads its settings
    setup_django()
    raise_pending()
    if args.command == "list":
        if args.project is not None:
            from .project_listing import list_routes

            return list_routes(args.json)
        return _list(args.json)
    if args.command == "serve":
        return _serve(args.port, args.loop)
    if args.command == "run":
        return _run(args)
    try:
        return commands.command_module(args.command).run(args)
    except BrokenPipeError:  # its reader went away (``| head``): what it read was all it wanted
        _drop_stream(sys.stdout)
        return 0


def _list(as_json: bool) -> int:
    from .plan import catalogue, scenarios
    from .saved_listing import print_saved, saved_scenarios, saved_snippets

    demos = catalogue()
    SCENARIOS = scenarios()  # noqa: N806 (the built-in ones and the person's saved ones)
    snippet_list, scenario_list = saved_snippets(), saved_scenarios()
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
            "snippets": snippet_list,
            "saved_scenarios": scenario_list,
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
    saved = {s["id"] for s in scenario_list}
    for s in SCENARIOS.values():
        if s.id not in saved:
            print(f"  {s.id:28} {s.title}")
    print_saved(snippet_list, scenario_list)
    return 0


def _served() -> str:
    from embedded_site.project import active

    project = active()
    return "the demo site" if project is None else f"the project {project.name} ({project.settings_module})"


def _serve(port: int, loop_kind: str) -> int:
    from . import loops
    from .interrupt import raise_pending
    from .lab import Lab
    from .server import ServerError

    Lab.prepare()
    raise_pending()
    from embedded_site.project import active

    if active() is not None:
        from embedded_site.project.database import describe

        print(describe(active()), file=sys.stderr, flush=True)

    async def serve() -> None:
        lab = Lab(port=port, loop_kind=loop_kind)
        await lab.start()
        print(f"Serving {_served()} at {lab.url}/ on the {loop_kind} loop. Ctrl-C stops it.", flush=True)
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
    from . import interrupt
    from .exports import EXPORTS
    from .lab import Lab
    from .outfile import DestinationError, check_destinations
    from .plan import make_config

    try:
        if getattr(args, "project", None) is not None:
            from .project_listing import url_config

            config = url_config(args)
        else:
            config = make_config(
                _run_target(args),
                concurrency=args.concurrency,
                requests=args.requests,
                duration_s=args.duration,
                rate=args.rate,
                params=_params(args.param),
            )
        exports = check_destinations([(e.flag, getattr(args, e.id)) for e in EXPORTS.values()])
    except (ConfigError, DestinationError) as exc:
        return _fail(str(exc))
    from . import servers
    from .lab import child_cannot_serve

    refused = child_cannot_serve(config, servers.selected())
    if refused is not None:
        return _fail(refused)
    try:
        Lab.prepare()
        interrupt.raise_pending()
        record, signum = _measure(config, args.port, args.loop)
    except (interrupt.Interrupted, KeyboardInterrupt) as exc:
        return _interrupted(exc, "before the run started: nothing was measured")
    except _Refused as exc:
        return _fail(str(exc))
    from .gcpolicy import frozen_heap

    with frozen_heap():  # the run is over: collections while it is summarised and exported skip it
        return _summarise_and_export(args, record, signum, exports)


def _summarise_and_export(args: argparse.Namespace, record: Any, signum: int | None, exports: Sequence[Any]) -> int:
    """After the run: the summary, the exports and ``--save``; the exit status."""
    from . import interrupt

    try:
        _report(record, args.json, to_stderr=any(e.to_stdout for e in exports))
    except (interrupt.Interrupted, KeyboardInterrupt) as exc:
        return _interrupted(exc, "before the summary: nothing printed or written")
    try:
        _export(record, exports)
    except (interrupt.Interrupted, KeyboardInterrupt) as exc:
        return _interrupted(exc, None)  # _export has said which files were not written
    except _ExportFailed:
        return EXIT_INCOMPLETE
    from . import commands

    if commands.after_run(args, record) is not None:  # e.g. --save could not store it
        return EXIT_INCOMPLETE
    if signum is not None:
        return interrupt.exit_status(signum)
    return EXIT_INCOMPLETE if record.incomplete else 0


def _run_target(args: argparse.Namespace) -> str:
    """The id to run: ``--view``'s mounted view, a scenario file's scenario, or the target as given."""
    from .commands import view_option
    from .scenario_file import read_file, register

    mounted = view_option.target(args)
    if mounted is not None:
        return mounted
    if args.target is None:
        raise ConfigError("give a demo or scenario id, a scenario FILE.toml, or --view FILE.py")
    if args.target.endswith(".toml"):
        return register(read_file(args.target)).id
    return args.target


def _interrupted(exc: BaseException, when: str | None) -> int:
    """The exit status for a signal that cut the command short, after one line saying when."""
    from . import interrupt

    signum = exc.signum if isinstance(exc, interrupt.Interrupted) else signal.SIGINT
    if when is not None:
        print(f"interrupted ({interrupt.signal_name(signum)}) {when}", file=sys.stderr)
    return interrupt.exit_status(signum)


class _Refused(Exception):
    """The server could not start (e.g. the port is taken): a bad setting, found late."""


class _ExportFailed(Exception):
    """An export could not be written after the run (e.g. the disk filled up); already reported."""


def _measure(config: Any, port: int, loop_kind: str) -> tuple[Any, int | None]:
    """Run ``config`` on a fresh lab and return its record, partial if a signal stopped it.

    The first SIGINT/SIGTERM stops the load driver (``Lab.stop_run``), so ``Lab.run``
    returns what was measured so far; before the run has started it cancels the start-up
    instead.  A second signal leaves at once.  Returns the record and the first signal, if any.
    """
    from . import interrupt, loops
    from .driver import CANCELLED
    from .lab import Lab
    from .server import ServerError

    async def measure() -> Any:
        lab = Lab(port=port, loop_kind=loop_kind)
        task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            if first:
                interrupt.exit_now(signum, f"interrupted again ({interrupt.signal_name(signum)}): exiting at once")
            first.append(signum)
            if lab.current is None:
                task.cancel()  # still starting: nothing to keep
                return
            lab.current.interrupted = True
            lab.stop_run()

        # The loop owns the signals while the lab is up; then they are only noted again, so
        # that the loop's own closing is not cut short by one.
        loop = asyncio.get_running_loop()
        interrupt.on_loop_signals(loop, on_signal)
        try:
            interrupt.raise_pending()  # one that came while the loop was being built
            await lab.start()
            return await lab.run(config)
        except asyncio.CancelledError:
            if not first:
                raise
            raise interrupt.Interrupted(first[0]) from None
        finally:
            try:
                await lab.close()
            finally:
                interrupt.off_loop_signals(loop)

    first: list[int] = []
    try:
        record = loops.run(measure(), loop_kind, handle_signals=False)
    except ServerError as exc:
        raise _Refused(str(exc)) from None
    late = interrupt.take_pending()  # came while the loop was closing
    if late is not None:
        if first:
            interrupt.exit_now(late, f"interrupted again ({interrupt.signal_name(late)}): exiting at once")
        first.append(late)
        record.interrupted = True
    interrupt.raise_on_signals()
    if record.interrupted:
        record.extra["signal"] = interrupt.signal_name(first[0])
        finished = sum(1 for c in record.client if c.done_ns is not None and c.error != CANCELLED)
        cancelled = sum(1 for c in record.client if c.error == CANCELLED)
        planned = config.total_requests
        record.notes.append(
            f"interrupted by {interrupt.signal_name(first[0])} after {finished}"
            + (f" of {planned}" if planned is not None else "")
            + " requests: the figures cover what finished"
            + (f"; {cancelled} in flight were cancelled by the stop" if cancelled else "")
        )
    return record, (first[0] if first else None)


def _report(record: Any, as_json: bool, *, to_stderr: bool) -> None:
    """Print the summary: on stdout, or on stderr when an export has taken stdout.  A reader
    that went away (``| head``) ends the printing, not the command: the exports still follow."""
    from .textview import text_timeline

    stats = record.final_stats()  # computed once, shared with the exports
    out = sys.stderr if to_stderr else sys.stdout
    try:
        if as_json:
            print(json.dumps(summary_json(record, stats)), file=out)
        else:
            print(text_summary(record, stats), file=out)
            print(file=out)
            print(text_timeline(record), file=out)
        out.flush()
    except BrokenPipeError:
        _drop_stream(out)


def _drop_stream(stream: Any) -> None:
    """Point a stream whose reader is gone at /dev/null, so its last flush at exit cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def _export(record: Any, exports: Sequence[Any]) -> None:
    """Write each requested export whole.  A signal abandons the one in progress and the rest;
    a file that fails (a full disk) is one line, and the others are still written."""
    from . import interrupt
    from .exports import by_flag
    from .outfile import write_atomically

    failed = False
    for index, destination in enumerate(exports):
        try:
            write_atomically(destination, by_flag(destination.flag).write, record)
        except (interrupt.Interrupted, KeyboardInterrupt):
            skipped = ", ".join(f"{d.flag} {d}" for d in exports[index:])
            print(f"interrupted while writing exports: not written: {skipped}", file=sys.stderr)
            raise
        except BrokenPipeError:
            _drop_stream(sys.stdout)  # the reader of '-' left: nothing to tell it
        except OSError as exc:
            failed = True
            reason = exc.strerror or exc
            print(f"error: {destination.flag} {destination} could not be written: {reason}", file=sys.stderr)
    if failed:
        raise _ExportFailed


def summary_json(record: Any, stats: Any) -> dict[str, Any]:
    return {
        "demo": record.config.target,
        "django": record.versions.get("django"),
        "python": record.versions.get("python"),
        "loop": record.loop,
        "server": record.extra.get("server", {"name": "embedded", "workers": 1}),
        "database": record.database,
        "connections": connection_summary(record),
        **{k: v for k, v in stats.as_dict().items()},
        "stopped": record.stopped,
        "interrupted": record.interrupted,
        "incomplete": record.incomplete,
        "planned_requests": record.config.total_requests,
        "notes": record.notes,
    }


def connection_summary(record: Any) -> dict[str, Any] | None:
    """PostgreSQL's client backends during the run (None on SQLite)."""
    if record.database.get("vendor") != "postgresql":
        return None
    counts = [c for _, c in record.connections]
    return {
        "samples": len(counts),
        "peak": max(counts, default=0),
        "first": counts[0] if counts else None,
        "last": counts[-1] if counts else None,
        "unsampled": len(record.connection_errors),
    }


def listed_findings(findings: list[dict[str, Any]]) -> list[str]:
    """The findings under the headline (the first one is the headline itself)."""
    return [f"{f['sentence'][:1].upper()}{f['sentence'][1:]} [{f['severity']}]" for f in findings[1:]]


def text_summary(record: Any, st: Any) -> str:
    lat, lag, v = st.latency_ms, st.loop_lag_ms, record.versions
    lines = [
        f"{record.config.target}: {record.config.title}",
        f"  Django {v.get('django')}, Python {v.get('python')}, loop {record.loop}, {record.url}",
        *_deployment_lines(record),
        *_run_end_lines(record),
        "",
        f"  {st.verdict}",
        *(f"    - {line}" for line in listed_findings(st.findings)),
        "",
        f"  requests      {st.completed}/{max(st.requests, record.config.total_requests or 0)} finished, "
        f"{st.errors} errors, statuses {st.statuses}",
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


def _deployment_lines(record: Any) -> list[str]:
    """The server and database the run was served by, when not the embedded server on SQLite."""
    server, db = record.extra.get("server") or {}, record.database
    lines = []
    if server and server.get("name") != "embedded":
        lines.append(
            f"  server        {server['name']} in a child process, {server['workers']} worker(s) "
            f"({server['worker']}), {server['threads']} thread(s) each"
        )
    if db.get("vendor") == "postgresql":
        how = "pool" if db.get("pool") else f"CONN_MAX_AGE {db.get('conn_max_age')}"
        lines.append(f"  database      PostgreSQL {db.get('server_version', '?')} at {db.get('server')}, {how}")
    return lines


def _run_end_lines(record: Any) -> list[str]:
    """The run did not do all it was asked: say so before any figure is read."""
    lines = []
    if record.interrupted:
        lines.append(f"  INTERRUPTED ({record.extra.get('signal', 'a signal')}): a partial run, stopped early")
    if record.incomplete:
        lines.append(f"  INCOMPLETE: {record.incomplete}")
    return lines
