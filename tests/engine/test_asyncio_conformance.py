"""CPython's own asyncio tests, run against the Qt-driven loop.

The app's promise is that ``engine.qtloop.QtSelectorEventLoop`` *is* asyncio, only woken by
Qt. The fairest check is asyncio's own test suite: its event-loop mixins (``test_events``:
call_soon/call_later/call_at ordering, timers, readers and writers, sockets, servers,
pipes, ptys, subprocesses, signal handlers, executors, debug mode; ``test_sock_lowlevel``:
the ``sock_*`` calls; ``test_sendfile``) built on our loop, exactly as CPython builds them
on its selector loops; and the modules that get their loop from the event-loop policy
(streams, locks, queues, timeouts, ``asyncio.run``, subprocesses, ...) with a policy that
makes ours. The ``test`` package ships with pyenv and python.org builds but not
with Debian's python3 (it is in ``libpython3.X-testsuite``); without it these are skipped
with that reason, and the hand-written tests in test_loops.py still run.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import unittest
from importlib import import_module

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

try:
    from test.test_asyncio import test_events, test_sendfile, test_sock_lowlevel
    from test.test_asyncio import utils as test_utils
except ImportError as exc:  # pragma: no cover - depends on how Python was installed
    pytest.skip(
        f"CPython's test package is not installed ({exc}); on Debian: apt install libpython3-testsuite",
        allow_module_level=True,
    )

from engine import loops
from engine.qtloop import QtSelectorEventLoop


def _qt_loop() -> QtSelectorEventLoop:
    loops.ensure_qt_app(gui=False)  # the session's QApplication in the suite
    return QtSelectorEventLoop()


class QtEventLoopTests(
    test_events.UnixEventLoopTestsMixin,
    test_events.SubprocessTestsMixin,
    test_utils.TestCase,
):
    def create_event_loop(self) -> QtSelectorEventLoop:
        return _qt_loop()


class QtSockTests(test_sock_lowlevel.BaseSockTestsMixin, test_utils.TestCase):
    def create_event_loop(self) -> QtSelectorEventLoop:
        return _qt_loop()


class QtSendfileTests(test_sendfile.SendfileTestsBase, test_utils.TestCase):
    def create_event_loop(self) -> QtSelectorEventLoop:
        return _qt_loop()


# -- modules that make their loops through the event-loop policy ----------------------


class QtLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """``asyncio.new_event_loop()`` (and so ``asyncio.run``, ``IsolatedAsyncioTestCase``)
    makes the Qt-driven loop."""

    def new_event_loop(self) -> QtSelectorEventLoop:
        return _qt_loop()


def _on_the_qt_loop(case: type[unittest.TestCase]) -> type[unittest.TestCase]:
    """``case``, with the Qt loop policy installed for its whole class (IsolatedAsyncioTestCase
    makes its loop before ``setUp``)."""

    @classmethod  # type: ignore[misc]
    def setUpClass(cls: type[unittest.TestCase]) -> None:  # noqa: N802 (unittest's name)
        asyncio.set_event_loop_policy(QtLoopPolicy())
        super(wrapped, cls).setUpClass()

    @classmethod  # type: ignore[misc]
    def tearDownClass(cls: type[unittest.TestCase]) -> None:  # noqa: N802
        try:
            super(wrapped, cls).tearDownClass()
        finally:
            asyncio.set_event_loop_policy(None)

    wrapped = type(f"Qt{case.__name__}", (case,), {"setUpClass": setUpClass, "tearDownClass": tearDownClass})
    wrapped.__module__ = __name__
    wrapped.__qualname__ = wrapped.__name__
    return wrapped


# module -> the test classes to run (None: all). These take about 15 s on an idle 2-core
# machine; test_subprocess's other child watchers (the deprecated Safe and Fast ones, and
# Threaded: all pass) and the task-level modules (test_tasks, test_taskgroups, where the
# loop barely matters) are left out for time.
POLICY_MODULES: dict[str, set[str] | None] = {
    "test_events": {"HandleTests"},  # test_handle_source_traceback makes its loop by the policy
    "test_streams": None,
    "test_locks": None,
    "test_queues": None,
    "test_timeouts": None,
    "test_waitfor": None,
    "test_runners": None,
    "test_server": None,
    "test_futures2": None,
    "test_pep492": None,
    "test_subprocess": {"SubprocessPidfdWatcherTests"},  # the child watcher 3.12 uses on Linux
}


def _policy_cases() -> dict[str, type[unittest.TestCase]]:
    cases = {}
    for module_name, wanted in POLICY_MODULES.items():
        module = import_module(f"test.test_asyncio.{module_name}")
        for name, case in vars(module).items():
            if not (inspect.isclass(case) and issubclass(case, unittest.TestCase)):
                continue
            if case.__module__ != module.__name__ or (wanted is not None and name not in wanted):
                continue
            if unittest.TestLoader().getTestCaseNames(case):
                wrapped = _on_the_qt_loop(case)
                cases[f"{module_name}__{wrapped.__name__}"] = wrapped
    return cases


globals().update(_policy_cases())


@_on_the_qt_loop
class PolicyCheck(unittest.IsolatedAsyncioTestCase):
    """The wrapping above really puts those tests on the Qt loop."""

    async def test_runs_on_the_qt_loop(self) -> None:
        self.assertIs(type(asyncio.get_running_loop()), QtSelectorEventLoop)
        other = asyncio.new_event_loop()
        other.close()
        self.assertIs(type(other), QtSelectorEventLoop)
