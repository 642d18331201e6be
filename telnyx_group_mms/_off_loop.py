"""One-time work (imports, code generation) done off the running event loop.

An event loop serves every task of its program: a web server's loop that spends 200 ms
importing aiohttp holds up every request it serves for as long. What the client loads
on first use is loaded here, once per process, on a thread of its own, while every loop
that needs it awaits it without blocking.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__: list[str] = []  # internal: used by the client and the retry module

T = TypeVar("T")


class Once(Generic[T]):
    """``call()``, run once per process on a thread of its own, awaitable from any loop.

    The first :meth:`get` starts the thread; every caller meanwhile, on any loop, awaits
    the same run (64 concurrent first sends load aiohttp once, not 64 times); later
    calls return the result at once. A failed run is tried again by the next caller.
    A thread of its own rather than a loop's default executor, whose idle worker would
    outlive the client (a thread left behind after ``aclose()``).
    """

    def __init__(self, call: Callable[[], T], *, name: str) -> None:
        self._call = call
        self._name = name
        self._lock = threading.Lock()
        self._future: concurrent.futures.Future[T] | None = None
        self._pid = 0

    def _start(self) -> concurrent.futures.Future[T]:
        with self._lock:
            future = self._future
            stale = future is not None and not future.done() and self._pid != os.getpid()
            if future is None or stale or (future.done() and future.exception() is not None):
                # stale: started before a fork, by a thread the child does not have.
                future = concurrent.futures.Future()
                future.set_running_or_notify_cancel()  # an awaiter's cancel cannot stop it
                threading.Thread(
                    target=self._run, args=(future,), name=self._name, daemon=True
                ).start()
                self._future, self._pid = future, os.getpid()
            return future

    def _run(self, future: concurrent.futures.Future[T]) -> None:
        try:
            future.set_result(self._call())
        except BaseException as exc:  # noqa: BLE001 - handed to every awaiter
            future.set_exception(exc)

    async def get(self) -> T:
        """The result; the running loop waits for it without blocking.

        Raises:
            BaseException: Whatever ``call`` raised.
        """
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            future = self._start()
        if not future.done():
            return await asyncio.wrap_future(future)
        return future.result()
