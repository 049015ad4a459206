"""The site as another server serves it in a child process: ``embedded_site.child:application``
(ASGI) and ``embedded_site.wsgi:application`` (WSGI).

The same site, settings, database and tracing as in the lab's own process; the child's
collector records from its first request (or its lifespan start-up) and streams everything to
the lab (``tracing.stream``), so the lab's run record, views and findings are the same.
Under ASGI the child's event loop gets the same heartbeat and watchdog as the embedded server.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .bootstrap import asgi_application, setup_django

setup_django()

from .tracing import collector  # noqa: E402 - after Django is set up
from .tracing.heartbeat import run_heartbeat  # noqa: E402
from .tracing.stream import start_streaming  # noqa: E402
from .tracing.watchdog import start_watchdog  # noqa: E402


class ChildApplication:
    """The traced Django ASGI app, starting the child's recording on the loop it is served on."""

    def __init__(self) -> None:
        self.app = asgi_application()
        self._started = False
        self._heartbeat: asyncio.Task[None] | None = None

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        collector.loop_thread_id = collector.note_thread()
        collector.start_recording()
        self._heartbeat = asyncio.get_running_loop().create_task(run_heartbeat(collector), name="explorer-heartbeat")
        start_watchdog(collector, beside=self._heartbeat)
        if _streamer is not None:
            _streamer.announce_loop(collector.loop_thread_id)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self._start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self._start()
        await self.app(scope, receive, send)


def _warm_up() -> None:
    """Import the URLconf and every demo module now, as the lab's own process has, so the
    first request does not pay for the imports (and hold the loop meanwhile)."""
    from django.urls import get_resolver

    from .demos.catalogue import all_demos

    all_demos()
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf


_warm_up()
_streamer = start_streaming(collector)  # the lab counts the workers that said hello
application = ChildApplication()
