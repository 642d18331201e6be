"""The sync client's hand-off to its loop thread: results, errors, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Iterator

import pytest

from telnyx_group_mms.loop_thread import LoopThread, _Handoff


@pytest.fixture
def portal() -> Iterator[LoopThread]:
    portal = LoopThread()
    yield portal
    portal.stop()


def test_the_coroutine_result_comes_back_to_the_caller(portal: LoopThread) -> None:
    async def answer() -> tuple[str, bool]:
        return threading.current_thread().name, True

    assert portal.run(answer()) == ("telnyx-group-mms", True)


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
