"""Requests read ahead and waiting per sender, and the choice of which one goes next.

The fan-out keeps the requests it has read, and no worker has yet, in one queue per
sending number. A worker free to send is handed the request whose sender has been
ready the longest: ready once its sender's bucket admits one more (see
:func:`~telnyx_group_mms.limits._buckets.seconds_until_ready`) and it has been read,
whichever is later; ties go to input order. So a request whose sender is not ready
holds no worker and no account token, and without per-sender limits every request is
ready as it is read and the order is the input's.

The queues are ordered by a heap of one entry per sender with requests waiting. An
entry may say a sender is ready sooner than it is (its bucket is read only when the
entry comes to the top, and a retry may have used the bucket since); it is corrected
then, never later than the truth, so no sender waits longer than its bucket says.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..limits._buckets import seconds_until_ready
from ..models import GroupMmsRequest, Message

if TYPE_CHECKING:
    from ..limits._buckets import Bucket

__all__: list[str] = []  # internal: the fan-out is the public face

#: The limiter of a sender (``None``: no limit), asked each time the sender's first
#: request in line is looked at, so that the limiters' own bookkeeping (which drops
#: idle ones) stays the one truth. It may raise: the rule behind it is the caller's code.
LimiterOf = Callable[[str], "Bucket | None"]


class Item:
    """The mutable bookkeeping of one request while it is worked on."""

    __slots__ = (
        "admitted",
        "attempts",
        "index",
        "limiter",
        "queued_at",
        "ready",
        "request",
        "requeues",
        "started",
        "waited",
    )

    def __init__(self, index: int, request: GroupMmsRequest, queued_at: float) -> None:
        self.index = index
        self.request = request
        self.queued_at = queued_at
        self.attempts = 0
        self.requeues = 0
        self.started = 0.0
        # True once the first admission is over: from then on ``before_send`` may have
        # run and the request may be on its way, so a stop must let it finish.
        self.admitted = False
        # True while the limits have been waited out for the next attempt already.
        self.ready = False
        # The sender's limiter, once the request has been handed out (for retries).
        self.limiter: Bucket | None = None
        # Seconds it was held back by the limits or a pause, with a worker free for it.
        self.waited = 0.0


class _SenderQueue:
    __slots__ = ("items", "sender")

    def __init__(self, sender: str | None) -> None:
        self.sender = sender
        self.items: deque[Item] = deque()


class SenderQueues:
    """The requests read and not yet handed to a worker, one queue per sender.

    With ``limiter_of=None`` (no per-sender limits) every request shares one queue,
    first in, first out.
    """

    def __init__(self, limiter_of: LimiterOf | None) -> None:
        self._per_sender = limiter_of is not None
        self._limiter_of: LimiterOf = limiter_of or _unlimited
        self._queues: dict[str | None, _SenderQueue] = {}
        # (ready at, index of the queue's first request, queue): one entry per queue.
        self._heap: list[tuple[float, int, _SenderQueue]] = []
        self._count = 0

    def __len__(self) -> int:
        """Requests waiting."""
        return self._count

    def put(self, item: Item) -> None:
        """Queue a request just read, behind the others of its sender."""
        queue = self._queue_of(item)
        queue.items.append(item)
        self._count += 1
        if len(queue.items) == 1:
            self._schedule(queue, item.queued_at)

    def put_back(self, item: Item) -> None:
        """Queue a request to be sent again (after a 429), ahead of its sender's others."""
        queue = self._queue_of(item)
        queue.items.appendleft(item)
        self._count += 1
        if len(queue.items) == 1:
            self._schedule(queue, item.queued_at)
        # Otherwise the queue's entry keeps its time, which is no later than this
        # request's: it was read before the requests behind it.

    def earliest(self) -> float | None:
        """Loop time at which the first sender may be ready (``None``: nothing waits)."""
        return self._heap[0][0] if self._heap else None

    def pop(self, now: float) -> Item | None:
        """The request whose sender has been ready the longest, or ``None`` if no sender
        is ready at ``now``. Its sender's bucket has room: acquiring it does not wait.

        Raises:
            Exception: What ``limiter_of`` raised; the request stays queued.
        """
        heap = self._heap
        while heap:
            ready_at, _, queue = heap[0]
            if ready_at > now:
                return None
            sender = queue.sender
            limiter = None if sender is None else self._limiter_of(sender)
            if limiter is not None and (wait := seconds_until_ready(limiter)) > 0:
                # Strictly later than now, however small the wait (else this loops).
                later = max(now + wait, math.nextafter(now, math.inf))
                heapq.heapreplace(heap, (later, queue.items[0].index, queue))
                continue
            items = queue.items
            item = items.popleft()
            self._count -= 1
            if items:
                # Ready at once as far as the heap knows; the bucket is read when this
                # entry comes to the top, after the caller has taken its token.
                heapq.heapreplace(heap, (items[0].queued_at, items[0].index, queue))
            else:
                heapq.heappop(heap)
                del self._queues[queue.sender]
            item.limiter = limiter
            return item
        return None

    def drop_unadmitted(self) -> None:
        """Forget every request not yet admitted once (the batch is stopping)."""
        queues = list(self._queues.values())
        self._queues.clear()
        self._heap.clear()
        self._count = 0
        for queue in queues:
            kept = [item for item in queue.items if item.admitted]
            if kept:
                queue.items = deque(kept)
                self._queues[queue.sender] = queue
                self._count += len(kept)
                self._schedule(queue, kept[0].queued_at)

    def _queue_of(self, item: Item) -> _SenderQueue:
        sender = item.request.from_ if self._per_sender else None
        queue = self._queues.get(sender)
        if queue is None:
            queue = self._queues[sender] = _SenderQueue(sender)
        return queue

    def _schedule(self, queue: _SenderQueue, at: float) -> None:
        heapq.heappush(self._heap, (at, queue.items[0].index, queue))


def _unlimited(sender: str) -> None:
    return None


_Post = Callable[[], Awaitable[Message]]
_Wrapper = Callable[[_Post], Awaitable[Message]]


class HeldBack:
    """The fan-out's wrapper around each attempt of one request, telling how long the
    request was held back by its limits before it was handed out (for telemetry)."""

    __slots__ = ("_attempt", "waited")

    def __init__(
        self,
        attempt: Callable[[Callable[[], Awaitable[Message]]], Awaitable[Message]],
        *,
        waited: float,
    ) -> None:
        self._attempt = attempt
        self.waited = waited

    async def __call__(self, post: _Post) -> Message:
        return await self._attempt(post)
