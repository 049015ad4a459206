"""What a run is asked to do, checked before anything starts.

A run targets one demo or one scenario.  It is *closed-loop* (N virtual users, each
sending its next request when the last one answered, for M requests or S seconds) or
*open-loop* (a fixed arrival rate R for S seconds; latency counts from the intended send
time, so a stalled server shows up instead of being hidden by a waiting client).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_CONCURRENCY = 1000
MAX_REQUESTS = 100_000
MAX_DURATION_S = 600.0
MAX_RATE = 5000.0


class ConfigError(ValueError):
    """A run setting is out of range; the message says what is allowed."""


@dataclass(frozen=True)
class Stream:
    """One kind of request inside a run: a demo with its parameters, how many, how fast, when."""

    demo: str
    params: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = 1
    requests: int | None = None
    duration_s: float | None = None
    rate: float | None = None
    start_s: float = 0.0
    # Give up on each request after this long (the client-disconnect demo uses it).
    client_timeout_s: float | None = None

    @property
    def open_loop(self) -> bool:
        return self.rate is not None


@dataclass(frozen=True)
class RunConfig:
    target: str
    streams: tuple[Stream, ...]
    title: str = ""

    @property
    def total_requests(self) -> int | None:
        """How many requests the run will send, if that is known in advance."""
        total = 0
        for s in self.streams:
            if s.requests is not None:
                total += s.requests
            elif s.rate is not None and s.duration_s is not None:
                total += max(1, round(s.rate * s.duration_s))
            else:
                return None
        return total

    @property
    def planned_duration_s(self) -> float | None:
        """When the last timed stream ends: its duration, or for an open loop counted in
        requests, the time its arrival schedule takes (requests / rate)."""
        ends = [s.start_s + d for s in self.streams if (d := _stream_duration_s(s)) is not None]
        return max(ends) if ends else None


def _stream_duration_s(stream: Stream) -> float | None:
    if stream.duration_s is not None:
        return stream.duration_s
    if stream.rate is not None and stream.requests is not None and stream.rate > 0:
        return stream.requests / stream.rate
    return None


def check_stream(stream: Stream) -> None:
    """Raise ConfigError for any setting outside the bounds the explorer can run."""
    for name, value in (("duration", stream.duration_s), ("rate", stream.rate), ("start offset", stream.start_s)):
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}")
    if not 1 <= stream.concurrency <= MAX_CONCURRENCY:
        raise ConfigError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, got {stream.concurrency}")
    if stream.requests is not None and not 1 <= stream.requests <= MAX_REQUESTS:
        raise ConfigError(f"requests must be between 1 and {MAX_REQUESTS}, got {stream.requests}")
    if stream.duration_s is not None and not 0.1 <= stream.duration_s <= MAX_DURATION_S:
        raise ConfigError(f"duration must be between 0.1 and {MAX_DURATION_S:g} s, got {stream.duration_s:g}")
    if stream.requests is not None and stream.duration_s is not None:
        raise ConfigError("give either a number of requests or a duration, not both")
    if stream.rate is not None:
        if not 0.1 <= stream.rate <= MAX_RATE:
            raise ConfigError(f"rate must be between 0.1 and {MAX_RATE:g} requests/s, got {stream.rate:g}")
        if stream.duration_s is None and stream.requests is None:
            raise ConfigError("an open-loop run (--rate) needs a duration or a number of requests")
    elif stream.requests is None and stream.duration_s is None:
        raise ConfigError("give a number of requests or a duration")
    if not 0 <= stream.start_s <= MAX_DURATION_S:
        raise ConfigError(f"a stream's start offset must be between 0 and {MAX_DURATION_S:g} s")


def check_run(config: RunConfig) -> None:
    """Raise ConfigError for a run too big as a whole, even when each stream is in bounds.

    Each stream's own limits (``check_stream``) would let ``--rate 5000 --duration 600``
    through as 3,000,000 requests; what a run costs is the sum over its streams, and its
    length is the end of its last timed stream.
    """
    for stream in config.streams:
        check_stream(stream)
    total = config.total_requests
    if total is None:
        total = sum(s.requests for s in config.streams if s.requests is not None)
    if total > MAX_REQUESTS:
        raise ConfigError(
            f"a run may send at most {MAX_REQUESTS:,} requests, this one would send {total:,}"
            + (" (rate × duration)" if any(s.rate is not None and s.requests is None for s in config.streams) else "")
        )
    duration = config.planned_duration_s
    if duration is not None and duration > MAX_DURATION_S:
        raise ConfigError(
            f"a run may last at most {MAX_DURATION_S:g} s, this one would take {duration:,.0f} s"
            + (" (requests / rate)" if any(s.duration_s is None for s in config.streams if s.rate) else "")
        )
