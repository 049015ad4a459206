"""A Chrome trace this app exported, read back into a run record with what the trace holds.

The trace (``engine.exports.chrome_trace``) keeps each request's bar (its lane, status,
error) with its phases and the thread each ran on, the stalls with their culprits, the
loop's lag counter and the run's target, versions and verdict.  That is enough to draw the
run again: re-exporting the record read here gives the same events.  It is not the whole
run, and the record says what it lacks (``RunRecord.past.missing``) instead of inventing it:
the settings (concurrency is taken as the most requests the trace shows in flight), the
server's own timings that are not drawn (middleware spans, the first byte), which request
made each upstream call, the SQL text and tracebacks.
"""

from __future__ import annotations

import re
from typing import Any

from embedded_site.tracing import spans as k
from embedded_site.tracing.watchdog import Stall

from .config import RunConfig, Stream
from .exports.chrome_trace import LAG_COUNTER, LOOP_ACTIVITY_CAT, LOOP_ACTIVITY_PIECES, REQUESTS_PID
from .phases import (
    CLIENT_QUEUE,
    FRAMEWORK,
    NETWORK,
    RESPONSE,
    SPAN_PHASE,
    THREAD_BLOCKING,
)
from .record import ClientRequest, LagSample, PastRun, RunRecord, ServerRequest, Span
from .runfile import RunFileError

MISSING = (
    "the run's settings (concurrency is the most requests in flight; parameters unknown)",
    "middleware spans",
    "first-byte times",
    "which request made each upstream call",
    "SQL text and tracebacks",
    "the loop kind",
)
LOOP_LABEL = "event loop (main thread)"
_LANE = re.compile(r"^(?:#(\d+)|\(server only\)) (.*)$")
_OVERLAP = re.compile(r" · overlap \d+$")
_PLACE = re.compile(r"(.*) \((\d+) of \d+ samples\)$")
_KIND_OF = {phase: kind for kind, phase in SPAN_PHASE.items()} | {THREAD_BLOCKING: k.BLOCKING}


def _ns(us: Any) -> int:
    return round(float(us) * 1000)


class _Request:
    """One request lane's events gathered (its overlap lanes too)."""

    def __init__(self, lane: str) -> None:
        self.lane = lane
        self.whole: dict[str, Any] | None = None
        self.phases: list[dict[str, Any]] = []


def record_from_trace(doc: dict[str, Any], source: str = "the trace") -> RunRecord:
    """A record from a trace document written by this app; RunFileError if it is not one."""
    events = doc.get("traceEvents")
    other = doc.get("otherData")
    if not isinstance(events, list) or not isinstance(other, dict) or "target" not in other:
        raise RunFileError(f"{source} is a Chrome trace, but not one exported by Django Async Explorer")
    try:
        return _record(events, other, source)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunFileError(
            f"{source} is a damaged trace of Django Async Explorer ({type(exc).__name__}: {exc})"
        ) from None


def _record(events: list[Any], other: dict[str, Any], source: str) -> RunRecord:
    lane_names: dict[tuple[int, int], str] = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            lane_names[(e["pid"], e["tid"])] = e["args"]["name"]
    # A request's overlap lanes (``· overlap 02``) follow its own lane; two server-only
    # requests of one path have lanes of the same name, told apart by their order.
    request_of: dict[int, int] = {}  # lane tid -> the tid of its request's first lane
    last_lane: dict[str, int] = {}
    for pid, tid in sorted(lane_names):
        base, overlap = _OVERLAP.subn("", lane_names[(pid, tid)])
        if pid != REQUESTS_PID or tid == 0:
            continue
        if not overlap or base not in last_lane:
            last_lane[base] = tid
        request_of[tid] = last_lane[base]
    requests: dict[int, _Request] = {}
    lag: list[LagSample] = []
    stalls: list[Stall] = []
    activity: list[list[Any]] = []
    begin: int | None = None  # when the open lag sample's heartbeat was due
    lag_value = 0
    last_t: int | None = None
    for e in events:
        ph = e.get("ph")
        if ph == "X":
            cat = e.get("cat")
            if cat in ("request", "phase"):
                first = request_of[e["tid"]]
                entry = requests.get(first)
                if entry is None:
                    entry = requests[first] = _Request(lane_names[(REQUESTS_PID, first)])
                if cat == "request":
                    entry.whole = e
                else:
                    entry.phases.append(e)
            elif cat == "stall":
                stalls.append(_stall(e))
            elif cat == LOOP_ACTIVITY_CAT:  # the measured loop lane, kept as the pieces it drew
                start = _ns(e["ts"])
                activity.append([str(e["name"]), start, start + _ns(e["dur"]), str(e["args"]["detail"])])
        elif ph == "C" and e.get("name") == LAG_COUNTER:
            value = round(float(e["args"]["lag"]) * 1e6)  # ms in the trace
            if value:  # a late heartbeat: its lag, drawn from when it was due
                begin, lag_value = _ns(e["ts"]), value
            elif begin is not None:  # back to 0 when it ran: the sample's time
                t = _ns(e["ts"])
                # The exact lag is t - due, unless the writer clamped "due" to the last sample.
                lag.append(LagSample(t, lag_value if begin == last_t else t - begin))
                begin, last_t = None, t
    threads: dict[str, int] = {LOOP_LABEL: 1}
    clients: list[ClientRequest] = []
    servers: list[ServerRequest] = []
    for entry in requests.values():
        if entry.whole is None:
            raise ValueError(f"lane {entry.lane!r} has phases but no request")
        client, server = _request(entry.lane, entry, threads, len(servers))
        if client is not None:
            clients.append(client)
        if server is not None:
            servers.append(server)
    clients.sort(key=lambda c: c.id)
    ends = [c.done_ns for c in clients if c.done_ns is not None] + [s.end_ns for s in servers if s.end_ns]
    versions = {str(key): str(v) for key, v in other.items() if key not in ("target", "verdict")}
    concurrency = max(1, _most_in_flight(clients))
    target = str(other["target"])
    record = RunRecord(
        config=RunConfig(target, (Stream(target, {}, concurrency=concurrency, requests=max(1, len(clients))),)),
        versions=versions,
        loop="unknown (read from a trace)",
        url="",
        started_ns=0,
        client=clients,
        server=servers,
        lag=lag,
        stalls=stalls,
        thread_names={tid: label for label, tid in threads.items() if tid != 1},
        loop_thread_id=1,
        finished_ns=max(ends, default=0),
        notes=[f"read from a Chrome trace: it does not hold {'; '.join(MISSING)}"],
        extra={LOOP_ACTIVITY_PIECES: activity} if activity else {},
    )
    record.past = PastRun(
        kind="trace",
        source=source,
        saved_stats={"verdict": str(other.get("verdict", ""))},
        missing=MISSING,
    )
    return record


def _request(
    lane: str, entry: _Request, threads: dict[str, int], index: int
) -> tuple[ClientRequest | None, ServerRequest | None]:
    match = _LANE.match(lane)
    if match is None:
        raise ValueError(f"lane {lane!r} is not a request's")
    whole = entry.whole
    assert whole is not None
    args = whole.get("args") or {}
    start, end = _ns(whole["ts"]), _ns(whole["ts"]) + _ns(whole["dur"])
    status = args.get("status")
    client = None
    if match.group(1) is not None:
        sent = next((_ns(p["ts"]) for p in entry.phases if p["name"] == NETWORK), start)
        client = ClientRequest(
            id=int(match.group(1)),
            stream=0,
            demo=str(whole["name"]),
            url=match.group(2),
            intended_ns=start,
            sent_ns=sent,
            done_ns=end,
            status=status,
            error=args.get("error"),
        )
    django = next((p for p in entry.phases if p["name"] == FRAMEWORK), None)
    if django is None:
        return client, None
    method, _, path = str((django.get("args") or {}).get("detail", "")).partition(" ")
    response = next((p for p in entry.phases if p["name"] == RESPONSE), None)
    server = ServerRequest(
        id=index + 1,
        client_id=client.id if client is not None else None,
        method=method or "GET",
        path=path or match.group(2),
        query="",
        arrival_ns=_ns(django["ts"]),
        thread_id=_thread(threads, (django.get("args") or {}).get("thread") or LOOP_LABEL),
        response_start_ns=_ns(response["ts"]) if response is not None else None,
        end_ns=_ns(django["ts"]) + _ns(django["dur"]),
        status=status,
        exception_type=args.get("exception"),
    )
    for p in entry.phases:
        kind = _KIND_OF.get(p["name"])
        if kind is None:
            if p["name"] not in (CLIENT_QUEUE, NETWORK, FRAMEWORK, RESPONSE):
                raise ValueError(f"unknown phase {p['name']!r}")
            continue
        p_args = p.get("args") or {}
        begin = _ns(p["ts"])
        server.spans.append(
            Span(kind, str(p_args.get("detail", "")), begin, begin + _ns(p["dur"]), _thread(threads, p_args["thread"]))
        )
    return client, server


def _thread(threads: dict[str, int], label: Any) -> int:
    """A thread id of this record for a thread label of the trace (the loop is 1)."""
    label = str(label)
    tid = threads.get(label)
    if tid is None:
        tid = threads[label] = len(threads) + 1
    return tid


def _stall(e: dict[str, Any]) -> Stall:
    args = e.get("args") or {}
    places = []
    for part in str(args.get("places", "")).split("; "):
        match = _PLACE.match(part)
        if match:
            places.append((match.group(1), int(match.group(2))))
    start = _ns(e["ts"])
    return Stall(start, start + _ns(e["dur"]), int(args.get("samples", 0)), places)


def _most_in_flight(clients: list[ClientRequest]) -> int:
    edges = sorted([(c.intended_ns, 1) for c in clients] + [(c.done_ns or c.intended_ns, -1) for c in clients])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most
