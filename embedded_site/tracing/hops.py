"""Split every ``sync_to_async`` call into the time it waited for its thread and the time it ran.

asgiref offers no hook for this, so the two methods every call goes through are wrapped:
``SyncToAsync.__call__`` on the event loop (submit and resume times) and
``SyncToAsync.thread_handler`` on the worker thread (start and end of the sync function).
A context variable carries the per-call record across, because asgiref copies the
caller's context into the worker thread before it runs the function.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass

from asgiref.sync import SyncToAsync

from .collector import TraceCollector, current_request, now_ns
from .spans import HOP_RUN, HOP_WAIT, NEW_THREAD, Span


@dataclass(slots=True)
class _Hop:
    submitted_ns: int
    started_ns: int = 0
    ended_ns: int = 0
    thread_id: int = 0
    new_thread: bool = False  # the wait included starting the thread (asgiref's per-request executor)


_current_hop: contextvars.ContextVar[_Hop | None] = contextvars.ContextVar("explorer_hop", default=None)
_this_thread = threading.local()  # .seen: this thread has run a traced hop before
_installed = False


_labels: dict[tuple[object, bool], str] = {}


def _label(sync_to_async: SyncToAsync) -> str:
    """A readable name for the hop, cached per code object: closures such as the one
    Signal.asend makes for every call share theirs, and so do a method's bound copies."""
    func = sync_to_async.func
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    key = (code if code is not None else func, sync_to_async._thread_sensitive)
    label = _labels.get(key)
    if label is None:
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
        name = name.replace(".<locals>.", " › ")
        label = f"{name} ({'thread-sensitive' if sync_to_async._thread_sensitive else 'thread pool'})"
        if len(_labels) < 10_000:  # callables without code (partials, objects) must not grow it forever
            _labels[key] = label
    return label


def install(collector: TraceCollector) -> None:
    global _installed
    if _installed:
        return
    _installed = True
    original_call = SyncToAsync.__call__
    original_handler = SyncToAsync.thread_handler

    async def traced_call(self, *args, **kwargs):
        request = current_request.get()
        if request is None or not collector.enabled:
            return await original_call(self, *args, **kwargs)
        hop = _Hop(now_ns())
        token = _current_hop.set(hop)
        try:
            return await original_call(self, *args, **kwargs)
        finally:
            _current_hop.reset(token)
            if hop.started_ns:
                # Two or three hops a request even for hello (Django's request signals): the
                # spans go straight onto the request, as ``collector.add_span`` would put them.
                name = _label(self)
                wait_name = collector.shared(name + NEW_THREAD) if hop.new_thread else name
                spans = request.spans
                spans.append(Span(HOP_WAIT, wait_name, hop.submitted_ns, hop.started_ns, collector.note_thread()))
                spans.append(Span(HOP_RUN, name, hop.started_ns, hop.ended_ns or now_ns(), hop.thread_id))

    def traced_handler(self, loop, exc_info, task_context, func, child, *args, **kwargs):
        def timed_child():
            hop = _current_hop.get()
            if hop is None:
                return child()
            # Thread idents are reused once a thread ends, so "new" is asked of the thread itself.
            hop.new_thread = not getattr(_this_thread, "seen", False)
            _this_thread.seen = True
            hop.thread_id = collector.note_thread(fresh=hop.new_thread)
            # The hop record is shared with nested calls made from this thread; clear
            # it so they do not overwrite this one.
            token = _current_hop.set(None)
            hop.started_ns = now_ns()
            try:
                return child()
            finally:
                hop.ended_ns = now_ns()
                _current_hop.reset(token)

        return original_handler(self, loop, exc_info, task_context, func, timed_child, *args, **kwargs)

    SyncToAsync.__call__ = traced_call
    SyncToAsync.thread_handler = traced_handler
