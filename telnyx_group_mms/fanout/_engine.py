"""The fan-out engine behind ``send_many``: bounded concurrency over a lazily read input.

Shape: one producer task pulls requests from the input, ``concurrency`` worker tasks
send them, and the consumer's async generator yields their results. A semaphore of
``2 x concurrency`` tokens, taken before an item is pulled and given back when its result
is yielded, keeps the input from being read further ahead than that, however slow the
consumer and however long the input.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from typing import Final

import attrs

from ..errors import APIError, RateLimitError, TelnyxError
from ..limits._buckets import PauseGate, SenderLimiters, check_rate, limiter_for
from ..limits._sender_rates import PerSenderRate, check_per_sender_rate, rule_for
from ..models import GroupMmsRequest, Message
from ..retry import should_requeue
from ._account_refusal import BatchStoppedError, is_account_refusal

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


@attrs.frozen(kw_only=True)
class SendResult:
    """The outcome of one request of :meth:`AsyncMessages.send_many`.

    Attributes:
        index: The 0-based position of the request in the input.
        request: The request.
        message: The message Telnyx accepted, or ``None`` when the send failed.
        error: Why it failed, or ``None``. ``error.outcome_unknown`` (when the error is
            an :class:`APIError`) says Telnyx may have accepted it anyway.
        attempts: POSTs made for this request (0 when none could be made).
        elapsed: Seconds from the first POST to the outcome (rate-limit waits before
            the first POST excluded).
    """

    index: int
    request: GroupMmsRequest
    message: Message | None = None
    error: TelnyxError | None = None
    attempts: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when Telnyx accepted the message."""
        return self.message is not None

    @property
    def outcome_unknown(self) -> bool:
        """True when the send failed in a way that may have let the message out."""
        return isinstance(self.error, APIError) and self.error.outcome_unknown


def check_fan_out_settings(
    *,
    concurrency: int,
    rate_limit: float | None,
    per_sender_rate: PerSenderRate | None,
    pool_size: int,
) -> None:
    """Refuse settings the fan-out cannot honour.

    Raises:
        ValueError: ``concurrency`` is below 1 or above the connection pool (which
            would silently become the real limit), a rate is not positive, or
            ``per_sender_rate`` is neither a rate, a :class:`SenderRates` nor a callable.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
    if concurrency > pool_size:
        raise ValueError(
            f"concurrency {concurrency} exceeds the client's connection pool "
            f"(max_connections={pool_size}), which would become the real limit; create the "
            f"client with max_connections={concurrency} or more"
        )
    check_rate("rate_limit", rate_limit)
    check_per_sender_rate(per_sender_rate)


class _Item:
    """The mutable bookkeeping of one request while it is worked on."""

    __slots__ = ("admitted", "attempts", "index", "request", "started")

    def __init__(self, index: int, request: GroupMmsRequest) -> None:
        self.index = index
        self.request = request
        self.attempts = 0
        self.started = 0.0
        # True once the first admission is over: from then on ``before_send`` may have
        # run and the request may be on its way, so a stop must let it finish.
        self.admitted = False


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
        self._tokens = asyncio.Semaphore(2 * concurrency)
        self._work: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._results: asyncio.Queue[object] = asyncio.Queue()
        self._stopping = False
        self._error: BaseException | None = None
        self._live = 0
        self._workers: list[asyncio.Task[None]] = []
        # The item each worker holds (by worker number), for a stop to find who waits.
        self._current: list[_Item | None] = [None] * concurrency

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
                self._tokens.release()
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
        if not self._stopping:
            self._stopping = True
            for _ in range(self._concurrency):
                self._work.put_nowait(None)

    def _drop_waiting(self) -> None:
        """Cancel the workers still waiting to admit their item's first POST.

        Nothing of those items has happened yet (no ``before_send``, no byte sent), so
        they are simply not sent; a rate-limit or 429 wait (minutes, for a long code)
        must not hold up the end of a stopped batch, nor send into a refusal.
        """
        me = asyncio.current_task()
        for worker, item in zip(self._workers, self._current, strict=True):
            if item is not None and not item.admitted and worker is not me:
                worker.cancel()

    async def _produce(self, requests: Requests) -> None:
        error: BaseException | None = None
        try:
            pull = _puller(requests)
            for index in itertools.count():
                # A token per item pulled, given back when its result is yielded.
                await self._tokens.acquire()
                if self._stopping:
                    return
                request = await pull()
                if request is _DONE:
                    return
                self._enqueue(index, request)
        except Exception as exc:  # noqa: BLE001 - re-raised in the consumer's task
            error = exc
        finally:
            self._stop(error)

    def _enqueue(self, index: int, request: object) -> None:
        if not isinstance(request, GroupMmsRequest):
            raise TypeError(
                f"send_many takes GroupMmsRequest items; item {index} is {type(request).__name__}"
            )
        self._work.put_nowait(_Item(index, request))

    async def _worker(self, number: int) -> None:
        try:
            while True:
                item = await self._work.get()
                # After an error, requests not yet started are dropped: the results
                # yielded stay the exact record of what was attempted.
                if item is None or self._error is not None:
                    return
                self._current[number] = item
                result = await self._process(item)
                self._current[number] = None
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

    async def _process(self, item: _Item) -> SendResult:
        async def attempt(post: Attempt) -> Message:
            await self._admit(item.request)
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
        for requeue in itertools.count():
            try:
                message = await self._send(item.request, attempt)
            except RateLimitError as exc:
                error = exc
                if not should_requeue(exc, requeues=requeue, max_pause=self._max_pause):
                    break
            except TelnyxError as exc:
                error = exc
                break
            else:
                return self._result(item, message=message)
        return self._result(item, error=error)

    def _result(
        self, item: _Item, *, message: Message | None = None, error: TelnyxError | None = None
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

    async def _admit(self, request: GroupMmsRequest) -> None:
        """Wait out any 429 pause and the rate limits, then return at once."""
        gate = self.gate
        await gate.wait()
        # The sender's bucket first: waiting there (0.1/s for a long code) must not
        # hold account-wide capacity that other senders could use.
        if self._senders is not None:
            try:
                limiter = self._senders.get(request.from_)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # as for before_send
                raise _CallerFailed(exc) from exc
            if limiter is not None:
                await self._senders.acquire(request.from_, limiter)
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
