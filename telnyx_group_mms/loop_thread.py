"""A private event loop on a daemon thread, for running the async core from sync code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .errors import TelnyxError

__all__: list[str] = []  # internal: the sync client is the public face

T = TypeVar("T")


async def _signalling(coro: Coroutine[Any, Any, T], finished: threading.Event) -> T:
    try:
        return await coro
    finally:
        finished.set()


class LoopThread:
    """Starts its loop on first use; runs coroutines on it from any other thread.

    It works from plain scripts, from many threads at once, and from inside another
    running event loop (the calling thread blocks, the private loop does the work).
    """

    def __init__(self, name: str = "telnyx-group-mms") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        """True once the loop thread runs."""
        return self._loop is not None

    def _ensure(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
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
        loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Run ``coro`` on the private loop and return its result.

        If the caller is interrupted (Ctrl-C), the coroutine is cancelled before the
        interruption propagates.

        Raises:
            TelnyxError: Called from the private loop's own thread (it would deadlock).
        """
        if self._thread is not None and threading.current_thread() is self._thread:
            coro.close()
            raise TelnyxError(
                "a sync Telnyx client was called from its own event loop thread (for "
                "example from an on_retry callback); that would deadlock. Use AsyncTelnyx there"
            )
        loop = self._ensure()
        finished = threading.Event()
        future = asyncio.run_coroutine_threadsafe(_signalling(coro, finished), loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise
        except BaseException:
            # KeyboardInterrupt and friends: stop the work we started, then let go. The
            # cancelled future is done at once, but the coroutine may still be unwinding
            # (closing connections): wait for that, boundedly.
            if not future.done() or not finished.is_set():
                future.cancel()
                finished.wait(5.0)
            raise

    def stop(self) -> None:
        """Stop the loop and join its thread. Idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread is threading.current_thread():
            raise TelnyxError("a sync Telnyx client cannot be closed from its own loop thread")
        # Finish async generators on their own loop; the caller may be running another.
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
