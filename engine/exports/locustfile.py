"""A run's load as a Locust file: the same demos, users, request counts, rates and start times,
to replay against any deployment of the site (``locust -f FILE --host URL``), distributed
workers included.

One ``HttpUser`` class per stream of the run, ``fixed_count`` users each (the stream's
concurrency); a closed-loop stream sends back to back (``constant(0)``), an open-loop one at
its rate across its users (``constant_throughput``).  A stream that had a request count stops
its users after that many responses; a timed one after its duration.  When every stream is
done the runner quits, so ``--headless`` ends by itself.  A demo that writes (POST) needs the
installation's token: set ``EXPLORER_TOKEN`` for the locust process (the lab's own is not
written into the file).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..record import RunRecord

_HEAD = '''"""Locust replay of the Django Async Explorer run {target!r} ({title}).

    locust -f {name} --headless --host http://127.0.0.1:8000 -u {users} -r {users}

Generated from the run's record: {streams} stream(s), {users} users in all.
"""

import os
import threading
import time

from locust import HttpUser, constant, constant_throughput, events, task
from locust.exception import StopUser

TOKEN = os.environ.get("EXPLORER_TOKEN", "")
STREAMS = {streams_json}
_lock = threading.Lock()
_counts = {{i: {{"sent": 0, "done": 0}} for i in range(len(STREAMS))}}
_started = {{}}


def _stream_over(index):
    s = STREAMS[index]
    if s["requests"] is not None:
        return _counts[index]["done"] >= s["requests"]
    began = _started.get(index)
    return began is not None and time.monotonic() - began >= s["start_s"] + (s["duration_s"] or 0)


class _Replay(HttpUser):
    abstract = True
    index = 0

    def on_start(self):
        s = STREAMS[self.index]
        _started.setdefault(self.index, time.monotonic())
        if s["start_s"]:
            time.sleep(s["start_s"])

    @task
    def send(self):
        s = STREAMS[self.index]
        with _lock:
            over = s["requests"] is not None and _counts[self.index]["sent"] >= s["requests"]
            if not over:
                _counts[self.index]["sent"] += 1
        if over or _stream_over(self.index):
            _finish(self.environment)
            raise StopUser()
        headers = {{"X-Explorer-Token": TOKEN}} if TOKEN and s["method"] == "POST" else {{}}
        # Locust counts an error status as a failure, as the lab does (even a demo that fails on
        # purpose): the status mix compares one to one.
        self.client.request(s["method"], s["path"], params=s["params"], headers=headers, name=s["demo"])
        with _lock:
            _counts[self.index]["done"] += 1


def _finish(environment):
    if all(_stream_over(i) for i in range(len(STREAMS))) and environment.runner is not None:
        environment.runner.quit()

'''

_USER = """
class Stream{index}(_Replay):
    index = {index}
    fixed_count = {users}
    wait_time = {wait}
"""


def write_locustfile(record: RunRecord, path: str | Path) -> Path:
    """Write ``record``'s load as a locustfile at ``path``."""
    from ..plan import catalogue

    demos = catalogue()
    streams = []
    for stream in record.config.streams:
        demo = demos[stream.demo]
        streams.append(
            {
                "demo": demo.id,
                "method": demo.method,
                "path": demo.path,
                "params": {k: str(v) for k, v in stream.params.items()},
                "users": stream.concurrency,
                "requests": stream.requests,
                "duration_s": stream.duration_s,
                "rate": stream.rate,
                "start_s": stream.start_s,
                "expect_status": demo.expect_status,
            }
        )
    path = Path(path)
    users = sum(s["users"] for s in streams)
    text = _HEAD.format(
        target=record.config.target,
        title=record.config.title,
        name=path.name,
        users=users,
        streams=len(streams),
        streams_json=json.dumps(streams, indent=4)
        .replace("null", "None")
        .replace("true", "True")
        .replace("false", "False"),
    )
    for index, s in enumerate(streams):
        wait = f"constant_throughput({s['rate'] / s['users']!r})" if s["rate"] else "constant(0)"
        text += _USER.format(index=index, users=s["users"], wait=wait)
    path.write_text(text, encoding="utf-8")
    return path
