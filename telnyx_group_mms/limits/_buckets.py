"""Rate limits for the fan-out: account-wide and per-sender limiters, and the shared 429 pause.

The limiters are aiolimiter's leaky buckets; this module only decides their shape and
keeps one per sender without letting the map grow with the number of senders ever seen.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

    #: A token bucket, for modules that hold one without importing aiolimiter.
    Bucket: TypeAlias = AsyncLimiter

__all__: list[str] = []  # internal: the fan-out is the public face

#: How long every worker waits after a 429 that did not say (no ``Retry-After``).
DEFAULT_PAUSE = 1.0
# Per-sender limiters kept beyond this many are dropped once they are idle again.
_MAX_IDLE_SENDERS = 1024
_INFINITY = float("inf")


def check_rate(name: str, rate: object) -> None:
    """Raise :class:`ValueError` unless ``rate`` is ``None`` or a positive finite number.

    A rate so small that one message's interval (``1 / rate``) is infinite (below about
    5.6e-309) is refused too: its limiter would divide by zero when a second message
    waits.
    """
    if rate is None:
        return
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not 0 < rate < _INFINITY
        or not 1 / rate < _INFINITY
    ):
        raise ValueError(
            f"{name} must be a positive number of messages per second or None (no limit), "
            f"got {rate!r}"
        )


def limiter_for(rate: float) -> AsyncLimiter:
    """A leaky bucket that admits ``rate`` acquisitions per second on average.

    Its capacity (the burst it admits after an idle spell) is one second's worth, and
    at least one acquisition: ``AsyncLimiter(0.1, 1)`` could never admit a whole one,
    so 0.1/s becomes ``AsyncLimiter(1, 10)``: one now, then one every ten seconds.
    """
    capacity = max(1.0, rate)
    # Imported here: a client that never fans out with a rate limit never loads it.
    from aiolimiter import AsyncLimiter

    return AsyncLimiter(capacity, capacity / rate)


def seconds_until_ready(limiter: AsyncLimiter) -> float:
    """Seconds until ``limiter`` admits one more acquisition (``0.0``: it would now).

    This is the wait :meth:`AsyncLimiter.acquire` itself would make; the fan-out asks
    it to hand its workers the request whose sender is ready first, rather than have
    a worker wait in a bucket another sender's request does not need.
    """
    if limiter.has_capacity():  # leaks the bucket up to now first
        return 0.0
    # aiolimiter keeps the level to itself; acquire() waits on exactly this excess.
    excess = limiter._level + 1 - limiter.max_rate  # noqa: SLF001
    return excess * limiter.time_period / limiter.max_rate


def is_idle(limiter: AsyncLimiter) -> bool:
    """True when the bucket has drained: a fresh limiter would behave the same."""
    return limiter.has_capacity(limiter.max_rate)


class SenderLimiters:
    """One limiter per ``from_`` number, created on first use at the rate ``rule`` gives.

    Limiters of senders not used lately are dropped once they have drained, which loses
    nothing (a drained bucket and a new one admit the same), so memory follows the
    senders active at once rather than every sender in the batch. A sender the rule
    leaves unlimited is remembered as such (``None``), so the rule runs once per sender
    while it is remembered. A limiter someone is waiting on through :meth:`acquire` is
    never dropped, though its bucket may read empty: a long code's waiter is woken just
    as its bucket drains, and a new limiter would let the sender send at once again.
    """

    def __init__(self, rule: Callable[[str], float | None]) -> None:
        self._rule = rule
        self._limiters: OrderedDict[str, AsyncLimiter | None] = OrderedDict()
        # Senders with a wait in progress in acquire(), and how many.
        self._waiting: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._limiters)

    def get(self, sender: str) -> AsyncLimiter | None:
        """The limiter of ``sender``, or ``None`` when it has no limit.

        Raises:
            ValueError: The rule gave something that is not a rate (nor ``None``).
        """
        limiters = self._limiters
        if sender in limiters:
            limiters.move_to_end(sender)
            return limiters[sender]
        rate = self._rule(sender)
        check_rate(f"the per_sender_rate rule's rate for {sender!r}", rate)
        self._evict_idle()
        limiter = limiters[sender] = limiter_for(rate) if rate is not None else None
        return limiter

    async def acquire(self, sender: str, limiter: AsyncLimiter) -> None:
        """Wait for a place in ``limiter``, the one :meth:`get` gave for ``sender``."""
        waiting = self._waiting
        waiting[sender] = waiting.get(sender, 0) + 1
        try:
            await limiter.acquire()
        finally:
            if waiting[sender] == 1:
                del waiting[sender]
            else:
                waiting[sender] -= 1

    def _evict_idle(self) -> None:
        limiters = self._limiters
        # The least recently used come first; stop at the first still draining or waited
        # on, so the cost per new sender stays small.
        while len(limiters) >= _MAX_IDLE_SENDERS:
            sender, oldest = next(iter(limiters.items()))
            if oldest is not None and (sender in self._waiting or not is_idle(oldest)):
                return
            del limiters[sender]


class PauseGate:
    """A shared "resume at" time: after a 429, every worker waits it out before sending.

    One throttled request therefore slows the whole fan-out, instead of its siblings
    carrying on into more 429s.
    """

    def __init__(self, *, max_pause: float) -> None:
        self._max_pause = max_pause
        self._resume_at = 0.0
        self.pauses = 0

    @property
    def resume_at(self) -> float:
        """Loop time before which nothing is sent."""
        return self._resume_at

    def pause(self, retry_after: float | None) -> None:
        """Hold every sender for ``retry_after`` seconds (capped), from now."""
        wait = DEFAULT_PAUSE if retry_after is None else retry_after
        until = asyncio.get_running_loop().time() + min(wait, self._max_pause)
        if until > self._resume_at:
            self._resume_at = until
            self.pauses += 1

    async def wait(self) -> None:
        """Return once no pause is in force (at once when none is)."""
        loop = asyncio.get_running_loop()
        # A pause may be extended while we sleep; look again after each nap.
        while (delay := self._resume_at - loop.time()) > 0:  # noqa: ASYNC110 - a deadline, not an event
            await asyncio.sleep(delay)
