"""How many requests really ran at once: views doing their work (hop waits cut out), beside
requests in flight.  Time spent queueing for a thread is not concurrency, so the old
"speed-up" (server time over wall time) is evidence here, never the measure.

The words come in wide bands and always with the numbers, so a run does not flip between
"fully" and "partly" around a hair-trigger threshold.
"""

from __future__ import annotations

from operator import sub

from . import Finding, rule
from .facts import Facts
from .measure import Overlap, fmt_ms, percentile, total

FULL = 0.9  # at once for the most part (see Overlap.level_exceeded) over possible: "fully concurrent"
SERIAL = 1.25  # mean at once below this: "one at a time"
LONG_VIEW_NS = 100_000_000  # a median view working this long reaches its peak at once for long
VIEWS_MATTER = 0.3  # views running for less of the run than this: Django's own work is the story


def words(mean: float, possible: int, most: int | None = None, long_views: bool = True) -> str:
    """Bands wide enough that a run does not flip between words from one run to the next:
    "one at a time" needs a mean close to one; "fully" needs (nearly) every possible request
    at once for more than an instant (``most``, a whole number, so staggered arrivals on a
    busy machine do not move it) and views that fill their requests (``long_views``): short
    views reach their peak only now and then, so theirs moves from run to run, and the
    numbers are said without a word ("" is returned)."""
    if mean < SERIAL:
        return "one at a time"
    if not long_views:
        return ""
    if (most if most is not None else mean) >= FULL * possible:
        return "fully concurrent"
    return "partly concurrent"


def _lead(word: str) -> str:
    return f"{word}: " if word else ""


@rule("concurrency")
def concurrency(facts: Facts) -> Finding | None:
    st = facts.stats
    if facts.n == 0 or facts.open_loop:
        return None
    possible = max(1, min(facts.n, st.max_in_flight))
    evidence: dict[str, float | int | str] = {
        "in_flight": st.max_in_flight,
        "possible": possible,
        "speedup": st.speedup,
        "view_share": round(facts.view_share, 3),
        "view_cover": round(facts.view_cover, 3),
    }
    if possible == 1:
        return Finding(
            "one-at-a-time-client",
            "info",
            f"one request at a time (p50 {fmt_ms(st.latency_ms['p50'])})",
            evidence,
            primary=True,
        )
    if facts.view_starts and facts.view_cover >= VIEWS_MATTER:
        mean, most, peak = st.views_at_once_mean, st.views_at_once, st.views_at_once_max
        median_view = percentile(list(map(sub, facts.view_ends, facts.view_starts)), 50)
        long_views = median_view >= LONG_VIEW_NS
        evidence |= {
            "views_at_once": most,
            "views_at_once_max": peak,
            "views_at_once_mean": mean,
            "ratio_of_possible": round(mean / possible, 3),
            "at_once_ratio": round(most / possible, 3),
            "view_p50_ms": round(median_view / 1e6, 2),
        }
        briefly = f", {peak} for an instant" if peak > most else ""
        return Finding(
            "views-at-once",
            "info",
            f"{_lead(words(mean, possible, most, long_views))}up to {most} "
            f"view{'s' if most != 1 else ''} ran at once "
            f"(on average {mean:.1f} while any ran{briefly}) "
            f"with up to {st.max_in_flight} requests in flight",
            evidence,
            primary=True,
        )
    bodies = [(s.response_start_ns, s.end_ns) for s in facts.server if s.response_start_ns is not None]
    if bodies and total(bodies) >= 0.5 * facts.server_ns:
        # A streamed body: the view returned at once, the time went into sending the response.
        streams = Overlap(bodies)
        mean, most = streams.mean, streams.level_exceeded(0.05)
        evidence |= {"streams_at_once": most, "streams_at_once_mean": round(mean, 2)}
        evidence["ratio_of_possible"] = round(mean / possible, 3)
        evidence["at_once_ratio"] = round(most / possible, 3)
        return Finding(
            "streams-at-once",
            "info",
            f"{_lead(words(mean, possible, most))}up to {most} responses were being streamed at once "
            f"(on average {mean:.1f}) "
            f"with up to {st.max_in_flight} requests in flight",
            evidence,
            primary=True,
        )
    del bodies  # megabytes on a long run: not alive beside the next ones
    overlap = Overlap(starts=[s.arrival_ns for s in facts.server], ends=[s.end_ns for s in facts.server])
    mean, most = overlap.mean, overlap.most
    evidence |= {
        "inside_at_once": most,
        "inside_at_once_mean": round(mean, 2),
        "ratio_of_possible": round(mean / possible, 3),
        "server_ms": st.mean_server_ms,
    }
    return Finding(
        "django-bound",
        "info",
        f"{st.throughput_rps:,.0f} req/s, each {fmt_ms(st.mean_server_ms)} inside Django of which the view was "
        f"{facts.view_share:.0%} (the rest is Django around it: routing, middleware, its thread hops, "
        f"waiting for the loop); up to "
        f"{most} requests were inside Django at once (on average {mean:.1f})",
        evidence,
        primary=True,
    )
