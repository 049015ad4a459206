"""Chrome Trace Event JSON (opens in Perfetto): request lanes, server-thread lanes, the loop's lag.

Written as it is produced, a few thousand events at a time: a 100,000-request run would
otherwise build a list of a million event dicts, then one string of all of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from json.encoder import encode_basestring
from operator import attrgetter
from pathlib import Path
from typing import Any, TextIO

from embedded_site.tracing.spans import thread_ids

from ..derive import Derivation
from ..phases import Phase, RequestBar
from ..record import RunRecord

REQUESTS_PID = 1
THREADS_PID = 2
# Perfetto badges the lane whose tid equals its pid as the process's main thread: that is
# the event loop's lane (tid THREADS_PID) and no other; every other lane's tid is above the pids.
FIRST_LANE_TID = 10
LAG_COUNTER = "event loop lag (ms)"
LOOP_ACTIVITY_CAT = "loop activity"
# A record read back from a trace keeps the measured loop lane as the pieces the trace drew
# (phase, start ns, end ns, detail) under this key of its ``extra``: the buckets they were
# drawn from are not in the trace.
LOOP_ACTIVITY_PIECES = "loop_activity_pieces"
_CHUNK = 4096  # events formatted before each write


class _Strings:
    """JSON encodings of the texts a trace repeats (phase names, thread labels, SQL), made once."""

    def __init__(self, limit: int = 10_000) -> None:
        self._cache: dict[str, str] = {}
        self._limit = limit

    def __call__(self, text: str | None) -> str:
        if text is None:
            return "null"
        encoded = self._cache.get(text)
        if encoded is None:
            encoded = encode_basestring(text)
            if len(self._cache) < self._limit:
                self._cache[text] = encoded
        return encoded


# -- strict nesting ---------------------------------------------------------------------


_start_of = attrgetter("start_ns")
_end_of = attrgetter("end_ns")


def nest_into_lanes(items: Iterable[Phase]) -> list[list[Phase]]:
    """Split intervals into as few lanes as this greedy pass finds where every two either
    nest or do not overlap: Perfetto drops a complete event that overlaps another on its
    lane without nesting inside it.  Items are taken parents first (by start, the longer
    first at equal starts); each goes to the first lane whose open intervals contain it."""
    ordered = sorted(items, key=_end_of, reverse=True)
    ordered.sort(key=_start_of)  # stable: at equal starts the longer stays first
    # Most lanes (a request's phases) nest already: check that in one pass first.
    stack: list[int] = []
    for item in ordered:
        start, end = item.start_ns, item.end_ns
        while stack and stack[-1] <= start:
            stack.pop()
        if stack and end > stack[-1]:
            break
        stack.append(end)
    else:
        return [ordered]
    lanes: list[list[Phase]] = []
    open_ends: list[list[int]] = []  # per lane: ends of the intervals still open, innermost last
    for item in ordered:
        start, end = item.start_ns, item.end_ns
        for lane, stack in zip(lanes, open_ends):
            while stack and stack[-1] <= start:
                stack.pop()
            if not stack or end <= stack[-1]:
                stack.append(end)
                lane.append(item)
                break
        else:
            lanes.append([item])
            open_ends.append([end])
    return lanes


# -- Chrome trace -------------------------------------------------------------------------


_NUMBER = re.compile(r"#(\d+)")
# A complete event after its lane's head: ts and dur in µs with 3 decimals, exact to the ns
# for any run shorter than days, which Perfetto reads back as the same ns (llround).
_X = '%s%.3f,"dur":%.3f,%s'
_SLICE = 1000  # requests derived at a time: bars and lanes of a whole 100k-request run would double its memory


def _pad_numbers(label: str) -> str:
    """``request thread #7`` -> ``request thread #0007``: viewers sort lane names as strings."""
    return _NUMBER.sub(lambda m: f"#{int(m.group(1)):04d}", label)


class _TraceWriter:
    """Writes the Trace Event Format document event by event."""

    def __init__(self, record: RunRecord, out: TextIO) -> None:
        self.record = record
        self.origin = record.started_ns
        self.out = out
        self.parts: list[str] = []
        self.s = _Strings()
        self.next_tid = FIRST_LANE_TID
        self.tails: dict[tuple[str, str, int | None], str] = {}  # a phase's text after its times
        self.request_tails: dict[tuple[str, int | None, str | None, str | None], str] = {}
        self.thread_tails: dict[tuple[str, str], str] = {}
        self.thread_json: dict[int | None, str] = {}  # a thread's label, encoded

    def flush(self) -> None:
        self.out.write("".join(self.parts))
        self.parts.clear()  # the same list: writers hold its append

    def thread_label(self, thread_id: int | None) -> str:
        # The record keeps its threads' labels: a copy here would be one more 100,000-entry dict.
        return self.record.thread_label(thread_id) if thread_id else ""

    def lane(self, pid: int, name: str, tid: int | None = None) -> str:
        """Name a new lane; return the head of its complete events."""
        if tid is None:
            tid = self.next_tid
            self.next_tid += 1
        self.parts.append(
            f',\n{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_name","args":{{"name":{encode_basestring(name)}}}}}'
        )
        return f',\n{{"ph":"X","pid":{pid},"tid":{tid},"ts":'

    def write(self) -> None:
        record, out = self.record, self.out
        out.write('{"displayTimeUnit":"ms","traceEvents":[\n')
        out.write(f'{{"ph":"M","pid":{REQUESTS_PID},"tid":0,"name":"process_name","args":{{"name":"requests"}}}}')
        self.parts.append(
            f',\n{{"ph":"M","pid":{THREADS_PID},"tid":0,"name":"process_name","args":{{"name":"server threads"}}}}'
            f',\n{{"ph":"M","pid":{REQUESTS_PID},"tid":0,"name":"process_sort_index","args":{{"sort_index":1}}}}'
            f',\n{{"ph":"M","pid":{THREADS_PID},"tid":0,"name":"process_sort_index","args":{{"sort_index":2}}}}'
        )
        self._lag()
        self._stalls()
        self._requests_and_threads()
        self._loop_activity()
        self.flush()
        stats = record.final_stats()
        other = {"target": record.config.target, **record.versions, "verdict": stats.verdict}
        out.write(f'\n],"otherData":{json.dumps(other)}}}\n')

    def _request_lanes(self, bars: list[RequestBar], width: int) -> None:
        """One lane per request (more when its phases overlap without nesting, e.g. the
        thread hops of ``asyncio.gather``): the whole request, then its phases inside.

        The text after an event's times is made once per kind of event (a request's demo and
        outcome; a phase's name, detail and thread) and reused: most of a run's requests
        write the same few texts."""
        s, label_of, parts, origin = self.s, self.thread_label, self.parts, self.origin
        phase_tails, request_tails, thread_json = self.tails, self.request_tails, self.thread_json
        add = parts.append
        lane_meta = f',\n{{"ph":"M","pid":{REQUESTS_PID},"tid":%d,"name":"thread_name","args":{{"name":%s}}}}'
        lane_head = f',\n{{"ph":"X","pid":{REQUESTS_PID},"tid":%d,"ts":'
        for bar in bars:
            name = f"(server only) {bar.path}" if bar.client_id is None else f"#{bar.client_id:0{width}d} {bar.path}"
            whole = Phase("", bar.start_ns, bar.end_ns)
            lanes = nest_into_lanes([whole, *bar.phases])
            key = (bar.demo or bar.path, bar.status, bar.error, bar.exception_type)
            request_tail = request_tails.get(key)
            if request_tail is None:
                request_tail = f'"name":{s(key[0])},"cat":"request","args":{{"status":'
                request_tail += "null" if bar.status is None else str(bar.status)
                if bar.error is not None:
                    request_tail += f',"error":{s(bar.error)}'
                if bar.exception_type is not None:
                    request_tail += f',"exception":{s(bar.exception_type)}'
                request_tail += "}}"
                if len(request_tails) < 10_000:
                    request_tails[key] = request_tail
            if len(parts) > _CHUNK:
                self.flush()
            for k, lane in enumerate(lanes, start=1):
                tid = self.next_tid
                self.next_tid += 1
                add(lane_meta % (tid, encode_basestring(name if k == 1 else f"{name} · overlap {k:02d}")))
                head = lane_head % tid
                for item in lane:
                    start = item.start_ns
                    if item is whole:
                        tail = request_tail
                    else:
                        key = (item.phase, item.detail, item.thread_id)
                        tail = phase_tails.get(key)
                        if tail is None:
                            tid_json = thread_json.get(item.thread_id)
                            if tid_json is None:
                                if len(thread_json) >= 4096:  # a run of 100,000 threads has as many: the recent
                                    thread_json.clear()
                                tid_json = thread_json[item.thread_id] = encode_basestring(label_of(item.thread_id))
                            tail = (
                                f'"name":{s(item.phase)},"cat":"phase","args":{{"detail":{s(item.detail)},'
                                f'"thread":{tid_json}}}}}'
                            )
                            if len(phase_tails) >= 8192:  # as many as (phase, detail, thread): the recent
                                phase_tails.clear()
                            phase_tails[key] = tail
                    add(_X % (head, (start - origin) / 1000, (item.end_ns - start) / 1000, tail))

    def _requests_and_threads(self) -> None:
        """Every request's lanes and every server thread's lanes, from one ``Derivation`` fed a
        slice of requests at a time (its bars and lane spans need memory for one slice).

        A thread's lane is split where its spans overlap without nesting: several requests'
        views awaiting on the loop at once, or their thread hops waiting at once.  A thread
        seen in one slice of server requests is written with that slice.  One seen in several
        (the loop, a pool's threads) is written as the slices go, up to the earliest arrival
        of any later slice (every span of a request starts after its arrival), so that its
        events still come in time order without holding them all."""
        record = self.record
        servers = list(record.server)
        # The derivation takes the finished server requests in the record's order, _SLICE at a time.
        slices = [servers[i : i + _SLICE] for i in range(0, len(servers), _SLICE)]
        first_seen: dict[int | None, int] = {}
        in_several = {record.loop_thread_id}
        for n, part in enumerate(slices):
            for thread_id in set().union(*[thread_ids(server.spans) for server in part]):
                if first_seen.setdefault(thread_id, n) != n:
                    in_several.add(thread_id)
        del first_seen
        never = float("inf")
        horizon = [never] * (len(slices) + 2)  # the earliest arrival in slices n and after
        for n in range(len(slices) - 1, -1, -1):
            horizon[n] = min(horizon[n + 1], min((s.arrival_ns for s in slices[n]), default=never))
        del slices
        width = len(str(max((c.id for c in list(record.client)), default=0)))
        end = record.finished_ns or max((c.done_ns or 0 for c in list(record.client)), default=self.origin)
        derivation = Derivation(record, keep=False, measured_loop=False)
        waiting: dict[int, list[Phase]] = {}
        lanes: dict[int, _LaneWriter] = {}
        n = 0
        while not derivation.complete:
            derivation.feed(end, final=True, limit=_SLICE)
            by_thread: dict[int, list[Phase]] = {}
            for span in derivation.new_lane_spans:
                spans = by_thread.get(span.thread_id)
                if spans is None:
                    by_thread[span.thread_id] = [span]
                else:
                    spans.append(span)
            for thread_id, spans in by_thread.items():
                if thread_id in in_several:
                    waiting.setdefault(thread_id, []).extend(spans)
                    if thread_id not in lanes:
                        lanes[thread_id] = _LaneWriter(self, thread_id, self.thread_label(thread_id))
                else:
                    _LaneWriter(self, thread_id, self.thread_label(thread_id)).feed(spans)
            n += 1
            until = never if derivation.complete or n >= len(horizon) else horizon[n]
            for thread_id, items in waiting.items():
                ready = [p for p in items if p.start_ns < until]
                if ready:
                    items[:] = [p for p in items if p.start_ns >= until]
                    lanes[thread_id].feed(ready)
            new = derivation.take_settled()
            bars = new + [child for bar in new for child in bar.children]
            bars.sort(key=_start_of)
            self._request_lanes(bars, width)
            self.flush()

    def _lag(self) -> None:
        """The loop's lag as a counter in which a late heartbeat covers the time it measured:
        a sample that woke ``lag`` late at ``t`` reads ``lag`` from ``t - lag`` and drops back
        to 0 at ``t``, so a 1 s stall reads 1 s across the frozen second, not after it."""
        origin, add, last = self.origin, self.parts.append, None
        head = f',\n{{"ph":"C","pid":{THREADS_PID},"tid":{THREADS_PID},"name":"{LAG_COUNTER}","ts":'
        for sample in list(self.record.lag):
            t, lag = sample.t_ns, sample.lag_ns
            begin = t - lag if last is None else max(last, t - lag)
            add(f'{head}{(begin - origin) / 1000:.3f},"args":{{"lag":{lag / 1e6:.3f}}}}}')
            add(f'{head}{(t - origin) / 1000:.3f},"args":{{"lag":0}}}}')
            last = t
        self.flush()

    def _stalls(self) -> None:
        """The watchdog's stalls, one lane beside the loop's: how long the loop was held each
        time, and where (the culprit the loop-blocked finding names).  Stalls never overlap,
        so the lane nests trivially."""
        stalls = [st for st in list(getattr(self.record, "stalls", ())) if st.end_ns > st.start_ns]
        if not stalls:
            return
        head = self.lane(THREADS_PID, "event loop stalls (what held the loop)")
        origin, add = self.origin, self.parts.append
        for st in stalls:
            where = st.culprit or "not sampled"
            places = "; ".join(f"{place} ({count} of {st.samples} samples)" for place, count in st.places[:5])
            tail = (
                f'"name":{encode_basestring("loop blocked: " + where)},"cat":"stall",'
                f'"args":{{"culprit":{encode_basestring(where)},"samples":{st.samples},'
                f'"places":{encode_basestring(places)}}}}}'
            )
            add(_X % (head, (st.start_ns - origin) / 1000, (st.end_ns - st.start_ns) / 1000, tail))
        self.flush()

    def _loop_activity(self) -> None:
        """What the loop's thread measurably did (``engine.loop_lane``), one lane beside the loop's:
        busy time by whose code ran (a request's phase, loop overhead, Qt), idle left empty.  Its
        pieces never overlap, so the lane nests trivially."""
        from ..loop_lane import LoopLaneBuilder, metered

        if metered(self.record):
            pieces: Iterable[Phase] = LoopLaneBuilder(self.record).iter_final()  # in time order, as measured
        else:
            kept = self.record.extra.get(LOOP_ACTIVITY_PIECES) or []
            pieces = sorted(
                (Phase(phase, start, end, self.record.loop_thread_id, detail) for phase, start, end, detail in kept),
                key=_start_of,
            )
        head = None
        s, origin, add = self.s, self.origin, self.parts.append
        tails: dict[tuple[str, str], str] = {}
        for n, p in enumerate(pieces, 1):
            if head is None:
                head = self.lane(THREADS_PID, "event loop activity (measured: busy by whose code, idle empty)")
            key = (p.phase, p.detail)
            tail = tails.get(key)
            if tail is None:
                tail = f'"name":{s(p.phase)},"cat":"{LOOP_ACTIVITY_CAT}","args":{{"detail":{s(p.detail)}}}}}'
                if len(tails) >= 4096:  # a request's details are its own: keep the recent ones
                    tails.clear()
                tails[key] = tail
            add(_X % (head, (p.start_ns - origin) / 1000, (p.end_ns - p.start_ns) / 1000, tail))
            if n % _CHUNK == 0:
                self.flush()
        self.flush()


class _LaneWriter:
    """One server thread's lane, written as its spans come (in time order, batch by batch):
    each span goes to the first of the thread's sub-lanes in which it nests, a new
    sub-lane (``· overlap NN``) when it nests in none."""

    def __init__(self, writer: _TraceWriter, thread_id: int, label: str) -> None:
        self.w = writer
        self.label = _pad_numbers(label)
        self.loop = thread_id == writer.record.loop_thread_id
        self.heads: list[str] = []
        self.open_ends: list[list[int]] = []

    def _new_lane(self) -> int:
        k = len(self.heads) + 1
        name = self.label if k == 1 else f"{self.label} · overlap {k:02d}"
        self.heads.append(self.w.lane(THREADS_PID, name, THREADS_PID if self.loop and k == 1 else None))
        self.open_ends.append([])
        return k - 1

    def feed(self, items: list[Phase]) -> None:
        w = self.w
        s, thread_tails, origin = w.s, w.thread_tails, w.origin
        ordered = sorted(items, key=_end_of, reverse=True)
        ordered.sort(key=_start_of)  # parents first
        heads, open_ends = self.heads, self.open_ends
        for n, item in enumerate(ordered, start=1):
            if n % _CHUNK == 0:
                w.flush()
            start, end = item.start_ns, item.end_ns
            for i, stack in enumerate(open_ends):  # noqa: B007 (i is the lane found)
                while stack and stack[-1] <= start:
                    stack.pop()
                if not stack or end <= stack[-1]:
                    break
            else:
                i = self._new_lane()
                stack = open_ends[i]
            stack.append(end)
            key = (item.phase, item.detail)
            tail = thread_tails.get(key)
            if tail is None:
                tail = f'"name":{s(item.phase)},"cat":"thread","args":{{"detail":{s(item.detail)}}}}}'
                if len(thread_tails) >= 8192:  # a detail can be a request's own (its path): the recent
                    thread_tails.clear()
                thread_tails[key] = tail
            w.parts.append(_X % (heads[i], (start - origin) / 1000, (end - start) / 1000, tail))


def write_chrome_trace(record: RunRecord, path: str | Path) -> Path:
    """Trace Event Format: complete events (ph "X", µs) in two processes (requests, server
    threads), named lanes, and a counter track for the loop's lag.  Every lane's complete
    events nest properly, so Perfetto imports all of them."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        _TraceWriter(record, out).write()
    return path


def chrome_trace(record: RunRecord) -> dict[str, Any]:
    """The trace as one dict (small records, tests); ``write_chrome_trace`` streams it."""
    import io

    buffer = io.StringIO()
    _TraceWriter(record, buffer).write()
    return json.loads(buffer.getvalue())
