"""The sync client's hand-off to its loop thread: results, errors, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import threading
from collections.abc import Iterator

import pytest

from telnyx_group_mms._loop_thread import LoopThread, _Handoff
from telnyx_group_mms.errors import TelnyxError


@pytest.fixture
def portal() -> Iterator[LoopThread]:
    portal = LoopThread(name="test-loop", user="test client", advice="")
    yield portal
    portal.stop()


def test_the_coroutine_result_comes_back_to_the_caller(portal: LoopThread) -> None:
    async def answer() -> tuple[str, bool]:
        return threading.current_thread().name, True

    assert portal.run(answer()) == ("test-loop", True)


def test_the_coroutine_exception_is_raised_in_the_caller(portal: LoopThread) -> None:
    async def fail() -> None:
        raise ValueError("from the loop")

    with pytest.raises(ValueError, match="from the loop"):
        portal.run(fail())


def test_a_timeout_raises_timeout_error_and_cancels_the_coroutine(portal: LoopThread) -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        portal.run(slow(), timeout=0.05)
    assert cancelled.wait(5)


def test_a_coroutine_cancelled_on_the_loop_raises_cancelled_error(portal: LoopThread) -> None:
    async def cancelled_from_inside() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    with pytest.raises(concurrent.futures.CancelledError):
        portal.run(cancelled_from_inside())


def test_a_handoff_cancelled_before_it_starts_never_runs_the_coroutine() -> None:
    loop = asyncio.new_event_loop()
    ran = False

    async def work() -> None:
        nonlocal ran
        ran = True

    coro = work()
    handoff = _Handoff(coro, loop)
    handoff.cancel()  # queued before start, as when the caller gives up at once
    loop.call_soon(handoff.start)
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    assert handoff.finished.acquire(blocking=False)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
    assert not ran
    with pytest.raises(concurrent.futures.CancelledError):
        handoff.result()


def test_a_stopped_loop_thread_is_never_started_again(portal: LoopThread) -> None:
    async def answer() -> int:
        return 1

    assert portal.run(answer()) == 1
    portal.stop()
    coro = answer()
    with pytest.raises(TelnyxError, match="closed"):
        portal.run(coro)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
    assert not portal.started
    assert [t for t in threading.enumerate() if t.name == "telnyx-group-mms"] == []


def test_stop_runs_the_final_coroutine_then_gives_up_on_the_thread_at_the_deadline() -> None:
    portal = LoopThread(name="test-loop", user="test client", advice="")
    blocking, release, closed = threading.Event(), threading.Event(), threading.Event()

    async def close_connections() -> None:
        closed.set()

    async def block_the_loop() -> None:
        blocking.set()
        release.wait(30)  # a callback that blocks the loop's thread (a slow hook)

    blocker = threading.Thread(target=portal.run, args=(block_the_loop(),), daemon=True)
    blocker.start()
    assert blocking.wait(5)
    portal.stop(close_connections(), timeout=0.2)  # returns, though the loop is stuck
    release.set()
    blocker.join(5)
    assert not closed.is_set()  # it never got to run: the loop was blocked past the deadline


def test_callers_waiting_at_exit_are_never_returned_to() -> None:
    portal = LoopThread(name="test-loop", user="test client", advice="")
    returned = threading.Event()

    async def long_send() -> None:
        await asyncio.sleep(30)

    def caller() -> None:
        try:
            portal.run(long_send())
        finally:
            returned.set()

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    while not portal.started:
        threading.Event().wait(0.01)

    portal.stop(abandon_callers=True, timeout=5)  # cancels long_send, as the exit does

    assert not returned.wait(0.5)  # lower bound only: it stays parked until the process ends
    assert thread.is_alive()


def test_after_the_exit_began_a_new_call_parks_a_daemon_thread_and_refuses_the_main_one() -> None:
    portal = LoopThread(name="test-loop", user="test client", advice="")
    assert portal.run(asyncio.sleep(0, result=1)) == 1
    portal.stop(abandon_callers=True, timeout=5)
    returned = threading.Event()

    def late_caller() -> None:
        with contextlib.suppress(BaseException):
            portal.run(asyncio.sleep(0))
        returned.set()

    threading.Thread(target=late_caller, daemon=True).start()
    coro = asyncio.sleep(0)
    with pytest.raises(TelnyxError, match="exiting"):
        portal.run(coro)  # the main thread: an error, never a hang
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED
    assert not returned.wait(0.5)  # lower bound only: parked until the process ends
