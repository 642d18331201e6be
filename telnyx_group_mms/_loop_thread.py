"""A private event loop on a daemon thread, for running the async core from sync code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sys
import threading
import time
from collections.abc import Coroutine
from typing import Any, Generic, NoReturn, TypeVar

from .errors import ClientClosedError, TelnyxError

__all__: list[str] = []  # internal: the sync client is the public face

T = TypeVar("T")


def _park() -> NoReturn:
    """Never return to a caller whose work the interpreter's exit cut off.

    Such a caller is a daemon thread (the interpreter joined every other thread before
    it began to exit): it stays blocked until the process ends, and nothing is printed
    for it, as for any daemon thread the exit ends. The main thread, which cannot be
    one of those, gets an error instead of a hang.
    """
    if threading.current_thread() is threading.main_thread():
        raise TelnyxError("the interpreter is exiting; nothing more is sent")
    while True:
        threading.Event().wait()


class _Handoff(Generic[T]):
    """One coroutine run as a task on the loop, for a caller blocked on a plain lock.

    ``finished`` is released once the task is done, unwinding (closing connections)
    included. A lock and a done-callback are all the hand-off needs; the
    ``concurrent.futures.Future`` of ``run_coroutine_threadsafe``, with its condition
    variable and chained callbacks, cost the sync client a tenth of its instructions per send.
    """

    __slots__ = ("_cancelled", "_coro", "_error", "_loop", "_task", "finished")

    def __init__(self, coro: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> None:
        self._coro = coro
        self._loop = loop
        self._task: asyncio.Task[T] | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        self.finished = threading.Lock()
        self.finished.acquire()

    def start(self) -> None:
        """Start the task; runs on the loop thread."""
        if self._cancelled:  # cancelled before it started: it never will
            self._coro.close()
            self.finished.release()
            return
        try:
            self._task = self._loop.create_task(self._coro)
        except BaseException as exc:  # handed to the caller, as run_coroutine_threadsafe does
            self._error = exc
            self.finished.release()
            raise
        self._task.add_done_callback(self._done)

    def _done(self, _: asyncio.Task[T]) -> None:
        self.finished.release()

    def cancel(self) -> None:
        """Cancel the task (or keep it from starting); callable from any thread."""
        self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self._task is None:
            self._cancelled = True
        else:
            self._task.cancel()

    def result(self) -> T:
        """The coroutine's result, or its exception raised; call once ``finished``."""
        if self._error is not None:
            raise self._error
        task = self._task
        if task is None or task.cancelled():
            raise concurrent.futures.CancelledError()
        return task.result()


class LoopThread:
    """Starts its loop on first use; runs coroutines on it from any other thread.

    It works from plain scripts, from many threads at once, and from inside another
    running event loop (the calling thread blocks, the private loop does the work).
    """

    def __init__(self, *, name: str, user: str, advice: str) -> None:
        """Args:
        name: The thread's name.
        user: What runs on it, as its errors name it ("sync Telnyx client").
        advice: What to do instead of calling it from its own thread.
        """
        self._name = name
        self._user = user
        self._advice = advice
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._abandoned = False

    @property
    def started(self) -> bool:
        """True once the loop thread runs (and until it is stopped)."""
        return self._loop is not None

    @property
    def running(self) -> bool:
        """True when :meth:`run` can hand work to a running loop now: started, not
        stopped, and the interpreter not finalizing (its daemon threads are frozen then)."""
        return self._loop is not None and not self._abandoned and not sys.is_finalizing()

    def is_current(self) -> bool:
        """True when called from the loop's own thread (where blocking on it would hang)."""
        thread = self._thread
        return thread is not None and threading.current_thread() is thread

    def _ensure(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._stopped:
                # Never a second loop: a thread started during the interpreter's exit
                # would hang it, and a stopped client must stay stopped.
                raise ClientClosedError(self._user.split()[-1])  # "client", "sandbox"
            if sys.is_finalizing():
                raise TelnyxError("the interpreter is exiting; nothing more is sent")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(loop, ready), name=self._name, daemon=True
                )
                thread.start()
                ready.wait()
                self._thread = thread
                self._loop = loop
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            # Here rather than in stop(), and as asyncio.run() does: a loop that stops
            # only after stop() gave up on it (blocked past the deadline) is still
            # unwound and closed, without a task or coroutine left behind.
            try:
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on the private loop and return its result.

        If the caller is interrupted (Ctrl-C), the coroutine is cancelled before the
        interruption propagates.

        Raises:
            TelnyxError: Called from the private loop's own thread (it would deadlock),
                or after :meth:`stop`.
        """
        if self.is_current():
            coro.close()
            raise TelnyxError(
                f"a {self._user} was called from its own event loop thread; that would "
                f"deadlock. {self._advice}"
            )
        if self._abandoned:
            coro.close()
            _park()
        try:
            loop = self._ensure()
        except BaseException:
            coro.close()
            raise
        try:
            return self._run_on(loop, coro, timeout)
        finally:
            if self._abandoned:  # the exit began while this caller waited
                _park()

    @staticmethod
    def _run_on(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float | None
    ) -> T:
        handoff = _Handoff(coro, loop)
        loop.call_soon_threadsafe(handoff.start)
        try:
            done = handoff.finished.acquire(True, -1 if timeout is None else timeout)
        except BaseException:
            # KeyboardInterrupt and friends: stop the work we started, then let go once
            # the coroutine has unwound (closing connections), boundedly.
            handoff.cancel()
            handoff.finished.acquire(True, 5.0)
            raise
        if not done:
            handoff.cancel()
            raise TimeoutError
        return handoff.result()

    def stop(
        self,
        final: Coroutine[Any, Any, object] | None = None,
        *,
        abandon_callers: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Stop the loop and join its thread, for good. Idempotent.

        Args:
            final: Run on the loop first (closing connections); its error is ignored.
            abandon_callers: For the interpreter's exit: a caller still waiting for
                the loop, or calling later (a daemon thread), is never returned to,
                so that no send the exit cut off prints anything.
            timeout: Seconds for all of it; past them the loop's thread (a daemon) is
                let go, to end with the interpreter.
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        with self._lock:
            loop, thread = self._loop, self._thread
            if thread is not None and thread is threading.current_thread():
                if final is not None:
                    final.close()
                raise TelnyxError(f"a {self._user} cannot be closed from its own loop thread")
            # Before ``final`` runs: a caller woken by it (its send cut off) must park.
            self._abandoned = self._abandoned or abandon_callers
            self._stopped = True
            self._loop = self._thread = None
        if loop is None or thread is None:
            if final is not None:
                final.close()
            return
        # Closing must not fail (at exit least of all), nor wait past the deadline.
        if final is not None:
            with contextlib.suppress(Exception):
                self._run_on(loop, final, left())
        # The loop's thread then finishes its tasks and async generators (_serve).
        loop.call_soon_threadsafe(loop.stop)
        thread.join(left())
