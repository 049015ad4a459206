"""Measure how long each step of a project's async view holds the event loop.

A demo view marks its blocking calls itself (``span(BLOCKING, ...)``); a project's view
does not, but an ``async def`` view runs on the loop in steps: from one suspension to the
next, its code runs without letting anything else run.  ``held_steps`` drives the view's
coroutine step by step, as asyncio's Task would (it forwards every future the view yields
and every value or exception sent back), and records a step that took ``LONG_STEP_NS`` or
more as a ``blocking`` span: so ``time.sleep(0.3)`` in an async view is drawn as blocking
the loop, exactly where it happened, measured rather than guessed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from ..tracing.collector import collector, now_ns
from ..tracing.spans import BLOCKING
from ..tracing.watchdog import LATE_NS

LONG_STEP_NS = LATE_NS  # as long as the heartbeat's "blocked" threshold


class _Steps:
    def __init__(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.coro = coro
        self.name = name

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, send, throw = self.coro, self.coro.send, self.coro.throw
        value: Any = None
        error: BaseException | None = None
        while True:
            start = now_ns()
            try:
                yielded = send(value) if error is None else throw(error)
            except StopIteration as done:
                self._note(start)
                return done.value
            except BaseException:
                self._note(start)
                raise
            self._note(start)
            try:
                value, error = (yield yielded), None
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation, thrown in by the Task: pass it on
                value, error = None, exc

    def _note(self, start: int) -> None:
        end = now_ns()
        if end - start >= LONG_STEP_NS:
            collector.add_span(BLOCKING, self.name, start, end)


def held_steps(view: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``view`` (an async view) with each long step recorded as blocking the loop."""

    label = f"{name} ran without awaiting"

    @functools.wraps(view)
    async def stepped(request, *args, **kwargs):
        return await _Steps(view(request, *args, **kwargs), label)

    return stepped
