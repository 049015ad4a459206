"""The event loop was blocked: how long (never more than the run), how often, the longest
stall, and what held it (the watchdog's samples of the loop thread's stack)."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

from embedded_site.tracing.watchdog import BETWEEN, PROJECT, WAITING

from . import Finding, rule
from .facts import Facts
from .measure import fmt_s

LONG_STALL_NS = 100_000_000
SEVERE_STALL_NS = 200_000_000


def site_of(place: str) -> str:
    """The project frame of a watchdog place ("demos/views/basics.py:91 in blocking_sleep"),
    or the whole place when it has none: samples are grouped by it, because a template render
    is seen at a different innermost line each time but always under the same view line."""
    return place.rsplit(", ", 1)[-1] if " in " in place.rsplit(", ", 1)[-1] else place


@functools.cache
def in_project(place: str) -> bool:
    """Whether the place's site ("demos/views/templates.py:36 in template_render") is a file of
    the served site's own code (the watchdog writes those relative to embedded_site/)."""
    site = site_of(place)
    path = site.split(":", 1)[0]
    return bool(path) and not path.startswith("/") and (Path(PROJECT) / path).is_file()


def _held_by_site(facts: Facts) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Seconds the loop was held at each site, and at each innermost place under it, from the
    watchdog's stalls inside the run."""
    seconds: Counter[str] = Counter()
    inner: dict[str, Counter[str]] = {}
    for stall in list(getattr(facts.record, "stalls", ())):
        start, end = max(stall.start_ns, facts.begin_ns), min(stall.end_ns, facts.end_ns)
        if end <= start or not stall.samples:
            continue
        for where, count in stall.places:
            site = site_of(where)
            held = (end - start) * count / stall.samples / 1e9
            seconds[site] += held
            inner.setdefault(site, Counter())[where] += held
    return seconds, inner


def culprit(facts: Facts) -> tuple[str, float, float, str]:
    """(where the loop was held longest, seconds there, share of the blocked time, the three
    places held longest with their seconds) from the watchdog's stalls inside the run."""
    seconds, inner = _held_by_site(facts)
    if not seconds:
        return ("", 0.0, 0.0, "")
    site, held = seconds.most_common(1)[0]
    others = "; ".join(f"{where} {s:.2f} s" for where, s in seconds.most_common(3))
    where = inner[site].most_common(1)[0][0]
    if inner[site][where] < 0.5 * held:
        where = site  # no one innermost place dominates (a render): name the project line only
    return (where, held, min(1.0, held / max(1e-9, facts.blocked_ns / 1e9)), others)


def project_share(facts: Facts) -> float:
    """The share of the blocked time the watchdog saw the served site's own code hold the loop."""
    seconds, _ = _held_by_site(facts)
    held = sum(s for site, s in seconds.items() if in_project(site))
    return min(1.0, held / max(1e-9, facts.blocked_ns / 1e9))


@rule("loop-blocked")
def loop_blocked(facts: Facts) -> Finding | None:
    blocked_ns = facts.blocked_ns
    if blocked_ns < 20_000_000:
        return None
    wall_ns = facts.wall_ns
    share = min(1.0, blocked_ns / wall_ns)
    stalls = len(facts.blocked)
    longest = max(e - s for s, e in facts.blocked)
    where, held_s, held_share, top = culprit(facts)
    evidence = {
        "blocked_s": round(blocked_ns / 1e9, 3),
        "wall_s": round(wall_ns / 1e9, 3),
        "share": round(share, 3),
        "stalls": stalls,
        "longest_s": round(longest / 1e9, 3),
        "culprit": where,
        "culprit_s": round(held_s, 3),
        "culprit_share": round(held_share, 2),
        "culprits": top,
    }
    if longest < LONG_STALL_NS and stalls >= 3 and project_share(facts) < 0.3:
        # Many short stalls and no view of ours behind them: a saturated loop (see saturation),
        # not a blocking call.  When a demo's own line held a good part of that time (a render
        # repeated per request, each shorter than one long stall), that line blocked the loop.
        # (The watchdog can only sample while the loop thread lets go of the GIL, so samples
        # gather at its socket writes: a third of the samples is a lot for one line.)
        return None
    # A problem when the blocked loop is what the run was about: most of it, or one stall
    # that held everyone for a good part of it.  Less (Django starting fifty threads at once
    # under load, a cold first request) is listed under the headline, not made it.
    severe = blocked_ns >= LONG_STALL_NS and (
        share >= 0.5 or (longest >= SEVERE_STALL_NS and longest >= 0.25 * wall_ns)
    )
    if not where:
        at = ""
    elif where.startswith((WAITING, BETWEEN)):
        at = f" with the loop thread {where}, not running a request's code"
    elif held_share >= 0.5:
        at = f" in {where}"
    else:  # the watchdog saw this place most, but for less than half the blocked time
        at = f", {held_share:.0%} of it in {where}"
    # "Their views ran one at a time" only says something when users were waiting on views that
    # could have overlapped: a closed loop with several in flight, views filling most of the run.
    views_serial = (
        not facts.open_loop
        and facts.stats.max_in_flight > 1
        and facts.view_cover >= 0.5
        and facts.stats.views_at_once_mean < 1.25
    )
    waited = ", so requests waited for each other" + (" (their views ran one at a time)" if views_serial else "")
    if longest >= 0.5 * blocked_ns:
        sentence = (
            f"the event loop was blocked for {fmt_s(longest / 1e9)} at once{at}"
            f" ({fmt_s(blocked_ns / 1e9)} of the run's {fmt_s(wall_ns / 1e9)} in {stalls} "
            f"stall{'s' if stalls != 1 else ''})"
        )
        sentence += waited if views_serial else ", and every request in flight waited that long"
    else:
        sentence = (
            f"the event loop was blocked for {fmt_s(blocked_ns / 1e9)} of the run's {fmt_s(wall_ns / 1e9)} "
            f"({share:.0%}) in {stalls} stalls, the longest {fmt_s(longest / 1e9)}{at}"
        )
        if share >= 0.5:
            sentence += waited
    return Finding("loop-blocked", "problem" if severe else "notice", sentence, evidence, weight=share * 100)
