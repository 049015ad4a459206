"""An open-loop run: requests sent at a fixed rate.  Offered against served, and whether the
server kept up, with latency counted from each request's intended send time."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_ms, percentile

LATE_MS = 250.0  # answered later than this after its slot: the server was behind for that request
KEPT_UP_LATE_SHARE = 0.05  # a server that keeps up is late for fewer requests than this


@rule("open-loop")
def open_loop(facts: Facts) -> list[Finding] | None:
    found = []
    for index, stream in enumerate(facts.record.config.streams):
        if not stream.rate:
            continue
        clients = [c for c in facts.clients if c.stream == index]
        if len(clients) < 2:
            continue
        first = min(c.intended_ns for c in clients)
        last_due = max(c.intended_ns for c in clients)
        answered = [c for c in clients if c.ok]
        offered = (len(clients) - 1) / max(1e-9, (last_due - first) / 1e9)
        last_done = max((c.done_ns for c in answered), default=first)  # type: ignore[type-var]
        served = len(answered) / max(1e-9, (last_done - first) / 1e9 + 1 / stream.rate) if answered else 0.0
        latencies = [c.latency_ns / 1e6 for c in clients]  # type: ignore[operator]
        queued = [(c.sent_ns - c.intended_ns) / 1e6 for c in clients]  # type: ignore[operator]
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        late = sum(1 for ms in latencies if ms > LATE_MS)
        kept_up = late <= KEPT_UP_LATE_SHARE * len(clients) and len(answered) >= 0.99 * len(clients)
        evidence = {
            "stream": index,
            "demo": stream.demo,
            "rate": stream.rate,
            "offered_rps": round(offered, 1),
            "served_rps": round(served, 1),
            "latency_p50_ms": round(p50, 2),
            "latency_p99_ms": round(p99, 2),
            "latency_max_ms": round(max(latencies), 2),
            "late": late,
            "client_queue_p99_ms": round(percentile(queued, 99), 2),
            "kept_up": int(kept_up),
        }
        head = f"open loop of {stream.demo} at {stream.rate:g} req/s offered, {served:.0f} req/s served"
        if kept_up:
            found.append(
                Finding(
                    "open-loop-kept-up",
                    "info",
                    f"{head}: kept up (latency from the intended send time p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)})",
                    evidence,
                    weight=10,
                    primary=True,
                )
            )
        else:
            found.append(
                Finding(
                    "open-loop-fell-behind",
                    "warning",
                    f"{head}: fell behind, {late} of {len(clients)} requests answered more than {LATE_MS:.0f} ms "
                    f"after their intended send time (p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)})",
                    evidence,
                    weight=10 * late / len(clients),
                    primary=True,
                )
            )
    return found or None
