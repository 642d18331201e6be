"""An event loop on a virtual clock: time jumps ahead whenever every task waits on a timer.

Whenever the loop would sleep (no callback ready, no I/O ready), the clock jumps to the
next timer instead, so a fan-out that spends 20 s waiting on rate limits runs in the
time its own code takes, and every time it reads is exact. For code that does no real
I/O (a fake send): with nothing scheduled at all, nothing can ever happen, and the loop
says so instead of hanging.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer is set")
        # At least one step of the float each turn, as a real clock moves: a timer due
        # a hair from now (a bucket that has all but drained) must come due.
        now = self._clock.now
        self._clock.now = max(now + timeout, math.nextafter(now, math.inf))
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose :meth:`time` is the virtual clock, from 0."""

    def __init__(self) -> None:
        self._virtual = _Clock()
        super().__init__(_JumpingSelector(self._virtual))

    def time(self) -> float:
        return self._virtual.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh :class:`VirtualClockLoop`."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
