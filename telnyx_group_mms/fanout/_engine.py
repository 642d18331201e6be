"""The fan-out engine behind ``send_many``: bounded concurrency over a lazily read input.

Shape: one producer task pulls requests from the input into per-sender queues
(:mod:`._schedule`), ``concurrency`` worker tasks send them, and the consumer's async
generator yields their results. A free worker is handed the request whose sender is
ready first, its rate limits already waited out; a request whose sender is not ready
holds no worker and no account token.

The input is read ahead of the results yielded by ``2 x concurrency`` requests at most,
as long as some request read can go; beyond that only while every request read waits
for its sender and a worker is free (reading on may find a sender that is ready), and
never by more than ``read_ahead``. So memory is bounded however slow the consumer and
however long the input, and without per-sender limits nothing is read beyond
``2 x concurrency``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Final

from ..errors import RateLimitError, TelnyxError
from ..limits._buckets import PauseGate, SenderLimiters, limiter_for
from ..limits._sender_rates import PerSenderRate, rule_for
from ..models import GroupMmsRequest, Message
from ..retry import should_requeue
from ._account_refusal import BatchStoppedError, is_account_refusal
from ._result import SendResult
from ._schedule import HeldBack, Item, SenderQueues
from ._settings import (
    DEFAULT_READ_AHEAD,
    check_fan_out_settings as check_fan_out_settings,  # for the resource
)

if TYPE_CHECKING:
    from ..limits._buckets import Bucket

__all__ = ["SendResult"]


#: One POST, as the client would make it.
Attempt = Callable[[], Awaitable[Message]]
#: Runs one attempt; the fan-out's gate (pause, rate limits, write-ahead hook) in front.
AttemptWrapper = Callable[[Attempt], Awaitable[Message]]
#: The client's send, with a wrapper around each attempt its retry policy makes.
GatedSend = Callable[[GroupMmsRequest, AttemptWrapper], Awaitable[Message]]
#: Awaited with ``(index, request)`` right before the first POST of an item.
BeforeSend = Callable[[int, GroupMmsRequest], Awaitable[None]]
Requests = Iterable[GroupMmsRequest] | AsyncIterable[GroupMmsRequest]


_DONE: Final = object()


class _CallerFailed(Exception):
    """Code the caller gave (``before_send``, a per-sender rate rule) raised.

    The fan-out stops and re-raises ``error``: it is not the request's failure, even
    when it is a :class:`TelnyxError`.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class FanOut:
    """One run of the fan-out; iterate :meth:`results` once."""

    def __init__(
        self,
        send: GatedSend,
        *,
        concurrency: int,
        rate_limit: float | None,
        per_sender_rate: PerSenderRate | None,
        max_pause: float,
        before_send: BeforeSend | None = None,
        stop_on_account_error: bool = True,
        read_ahead: int = DEFAULT_READ_AHEAD,
    ) -> None:
        self._send = send
        self._concurrency = concurrency
        self._account = limiter_for(rate_limit) if rate_limit is not None else None
        self._senders = (
            SenderLimiters(rule_for(per_sender_rate)) if per_sender_rate is not None else None
        )
        self.gate = PauseGate(max_pause=max_pause)
        self._max_pause = max_pause
        self._before_send = before_send
        self._stop_on_account_error = stop_on_account_error
        self._window = 2 * concurrency
        self._read_ahead = read_ahead
        # Requests read and not yet yielded (those a stop drops stay counted: nothing
        # is read after a stop anyway).
        self._held = 0
        self._queues = SenderQueues(self._limiter_of if self._senders is not None else None)
        # Held by the one free worker choosing the next request; the others wait here.
        self._choosing = asyncio.Lock()
        # Wakes the choosing worker: a request queued, the input ended, a stop.
        self._wake = asyncio.Event()
        # Wakes the producer: a result yielded, a worker found no sender ready, a stop.
        self._want = asyncio.Event()
        # A free worker found requests waiting and none whose sender is ready.
        self._starving = False
        self._input_done = False
        self._results: asyncio.Queue[object] = asyncio.Queue()
        self._stopping = False
        self._error: BaseException | None = None
        self._live = 0
        self._workers: list[asyncio.Task[None]] = []
        # The worker waiting out the limits for the item it was handed, and the item.
        self._admitting: tuple[int, Item] | None = None

    async def results(self, requests: Requests) -> AsyncGenerator[SendResult, None]:
        """Send every request; yield each result as it completes.

        Raises:
            BatchStoppedError: Telnyx refused the account or key (with
                ``stop_on_account_error``), once the sends in flight have been yielded.
            Exception: What the input iterable (or ``before_send``) raised, once the
                sends already in flight have finished and been yielded.
        """
        tasks = [asyncio.create_task(self._produce(requests), name="send_many-input")]
        self._live = self._concurrency
        self._workers = [
            asyncio.create_task(self._worker(n), name=f"send_many-worker-{n}")
            for n in range(self._concurrency)
        ]
        tasks.extend(self._workers)
        try:
            while (result := await self._results.get()) is not _DONE:
                assert isinstance(result, SendResult)
                yield result
                self._held -= 1
                self._want.set()
            if self._error is not None:
                raise self._error
        finally:
            # Normal end, an error, a consumer that stopped early, or cancellation:
            # nothing may outlive the iteration.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _stop(self, error: BaseException | None) -> None:
        if error is not None and self._error is None:
            self._error = error
            self._drop_waiting()
        self._stopping = True
        self._wake.set()
        self._want.set()

    def _drop_waiting(self) -> None:
        """Drop the requests not yet admitted to their first POST.

        Nothing of those items has happened yet (no ``before_send``, no byte sent), so
        they are simply not sent; a rate-limit or 429 wait (minutes, for a long code)
        must not hold up the end of a stopped batch, nor send into a refusal. A worker
        waiting out the limits for such a request is cancelled.
        """
        self._queues.drop_unadmitted()
        if self._admitting is not None:
            number, item = self._admitting
            worker = self._workers[number]
            if not item.admitted and worker is not asyncio.current_task():
                worker.cancel()

    def _may_read(self) -> bool:
        held = self._held
        return self._stopping or (
            held < self._read_ahead and (held < self._window or self._starving)
        )

    async def _produce(self, requests: Requests) -> None:
        error: BaseException | None = None
        try:
            pull = _puller(requests)
            for index in itertools.count():
                while not self._may_read():
                    self._want.clear()
                    await self._want.wait()
                if self._stopping:
                    return
                if self._held >= self._window:
                    # One more for the worker that found no sender ready; it asks again
                    # if this one's sender is not ready either.
                    self._starving = False
                request = await pull()
                if request is _DONE:
                    return
                self._enqueue(index, request)
        except Exception as exc:  # noqa: BLE001 - re-raised in the consumer's task
            error = exc
        finally:
            self._input_done = True
            self._stop(error)

    def _enqueue(self, index: int, request: object) -> None:
        if not isinstance(request, GroupMmsRequest):
            raise TypeError(
                f"send_many takes GroupMmsRequest items; item {index} is {type(request).__name__}"
            )
        # After an error, requests not yet started are dropped: the results yielded
        # stay the exact record of what was attempted.
        if self._error is None:
            self._queues.put(Item(index, request, asyncio.get_running_loop().time()))
            self._held += 1
            self._wake.set()

    def _limiter_of(self, sender: str) -> Bucket | None:
        assert self._senders is not None
        try:
            return self._senders.get(sender)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's rule: as for before_send
            raise _CallerFailed(exc) from exc

    async def _worker(self, number: int) -> None:
        try:
            while (item := await self._next(number)) is not None:
                result = await self._process(item)
                if result is None:  # a 429: back in its sender's queue, ahead of the rest
                    self._queues.put_back(item)
                    self._wake.set()
                    continue
                self._results.put_nowait(result)
                if (
                    result.error is not None
                    and self._stop_on_account_error
                    and is_account_refusal(result.error)
                ):
                    self._stop(BatchStoppedError(result.error, index=item.index))
        except _CallerFailed as failed:
            self._stop(failed.error)
        except Exception as exc:  # noqa: BLE001 - re-raised in the consumer's task
            self._stop(exc)
        finally:
            self._live -= 1
            if self._live == 0:
                self._results.put_nowait(_DONE)

    async def _next(self, number: int) -> Item | None:
        """The next request to send, its limits waited out; ``None`` when there is none.

        One free worker at a time chooses; it sleeps until the first sender is ready
        or something changes (a request read, a stop), and while no request read can
        go it lets the producer read on. A worker that finds a request ready, with room
        in every bucket it needs, takes it at once without waiting its turn to choose.
        """
        loop = asyncio.get_running_loop()
        now = loop.time()
        account = self._account
        if self.gate.resume_at <= now and (account is None or account.has_capacity()):
            item = self._queues.pop(now)
            if item is not None:
                # Neither acquisition waits: there is room, and nothing ran since.
                if item.limiter is not None:
                    await item.limiter.acquire()
                if account is not None:
                    await account.acquire()
                item.ready = True
                return item
        async with self._choosing:
            queues = self._queues
            while True:
                self._wake.clear()
                now = loop.time()
                if (resume_at := self.gate.resume_at) > now:
                    await self._nap(loop, resume_at - now)  # a 429 pause: nothing goes
                    continue
                item = queues.pop(now)
                if item is not None:
                    break
                ready_at = queues.earliest()
                if ready_at is None:
                    self._starving = False
                    if self._input_done or self._error is not None:
                        return None
                    await self._nap(loop, None)
                    continue
                if not self._starving:
                    self._starving = True
                    self._want.set()
                await self._nap(loop, ready_at - now)
            self._starving = False
            self._admitting = (number, item)
            try:
                if item.limiter is not None:
                    await item.limiter.acquire()  # has room: no wait
                if self._account is not None:
                    await self._account.acquire()
                # A 429 may have come while we waited for capacity.
                await self.gate.wait()
            finally:
                self._admitting = None
        # Held back by its limits (or a pause) since both it and this worker were there.
        item.waited = max(0.0, loop.time() - max(item.queued_at, now))
        item.ready = True
        return item

    async def _nap(self, loop: asyncio.AbstractEventLoop, delay: float | None) -> None:
        """Sleep ``delay`` seconds (``None``: for ever), or until ``_wake`` is set."""
        timer = None if delay is None else loop.call_later(delay, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            if timer is not None:
                timer.cancel()

    async def _process(self, item: Item) -> SendResult | None:
        """Send ``item``; its result, or ``None`` when it is to be queued again after a 429."""

        async def attempt(post: Attempt) -> Message:
            if item.ready:
                item.ready = False  # handed out by _next, its limits waited out
            else:
                await self._admit(item)
            if item.attempts == 0:
                item.admitted = True  # before any await: a stop may no longer cancel it
                if self._before_send is not None:
                    try:
                        await self._before_send(item.index, item.request)
                    except asyncio.CancelledError:
                        raise  # the worker itself is being cancelled
                    except BaseException as exc:
                        # Carried past the per-request handling (see _CallerFailed);
                        # a BaseException too, which would otherwise end this worker
                        # silently and the batch early, with no error.
                        raise _CallerFailed(exc) from exc
                item.started = asyncio.get_running_loop().time()
            item.attempts += 1
            try:
                return await post()
            except RateLimitError as exc:
                # A full sender queue is that sender's alone: it holds up no other.
                if not exc.queue_full:
                    self.gate.pause(exc.retry_after)
                raise

        error: TelnyxError
        try:
            message = await self._send(item.request, HeldBack(attempt, waited=item.waited))
        except RateLimitError as exc:
            if should_requeue(exc, requeues=item.requeues, max_pause=self._max_pause):
                item.requeues += 1
                return None
            error = exc
        except TelnyxError as exc:
            error = exc
        else:
            return self._result(item, message=message)
        return self._result(item, error=error)

    def _result(
        self, item: Item, *, message: Message | None = None, error: TelnyxError | None = None
    ) -> SendResult:
        elapsed = asyncio.get_running_loop().time() - item.started if item.attempts else 0.0
        return SendResult(
            index=item.index,
            request=item.request,
            message=message,
            error=error,
            attempts=item.attempts,
            elapsed=elapsed,
        )

    async def _admit(self, item: Item) -> None:
        """For a retry by the client's policy: wait out any 429 pause and the limits."""
        gate = self.gate
        await gate.wait()
        # The sender's bucket first: waiting there must not hold account-wide capacity
        # that other senders could use.
        if item.limiter is not None and self._senders is not None:
            await self._senders.acquire(item.request.from_, item.limiter)
        if self._account is not None:
            await self._account.acquire()
        # A 429 may have come while we waited for capacity.
        await gate.wait()


def _puller(requests: Requests) -> Callable[[], Awaitable[object]]:
    """One way to pull the next item (or ``_DONE``) from a sync or an async iterable."""
    if isinstance(requests, AsyncIterable):
        return functools.partial(anext, aiter(requests), _DONE)
    iterator = iter(requests)

    async def pull() -> object:
        return next(iterator, _DONE)

    return pull
