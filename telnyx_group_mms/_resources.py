"""The ``messages`` resource of the async client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Protocol

from .fanout._engine import (
    AttemptWrapper,
    BeforeSend,
    FanOut,
    Requests,
    SendResult,
    check_fan_out_settings,
)
from .limits._sender_rates import PerSenderRate
from .limits._shared import Admission, RateLimits, admission_for, gate_with
from .models import GroupMmsRequest, Message, RawResponse

__all__ = ["AsyncMessages", "AsyncMessagesWithRawResponse"]


class SendFn(Protocol):
    """The client's send: encode, then POST under its retry policy."""

    async def __call__(
        self, request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /
    ) -> Message: ...


class KeyedSendFn(Protocol):
    """The client's send under an idempotency key (see ``AsyncTelnyx``)."""

    async def __call__(self, request: GroupMmsRequest, key: str, /) -> Message: ...


#: A fan-out's traced send, and the end of its span (told the results and any error).
TracedFanOut = tuple[SendFn, Callable[[int, BaseException | None], None]]


class RawSendFn(Protocol):
    """The client's send that keeps what Telnyx answered besides the message."""

    async def __call__(self, request: GroupMmsRequest, /) -> RawResponse: ...


class AsyncMessagesWithRawResponse:
    """``client.messages.with_raw_response``: each send returns a :class:`RawResponse`.

    ``.parse()`` of it gives the :class:`Message` the plain call returns; the errors are
    those of the plain calls. Idempotency keys are for the plain calls: a raw response
    describes one HTTP exchange, which a keyed call may not make.
    """

    def __init__(self, send_raw: RawSendFn) -> None:
        self._send_raw = send_raw

    async def send(self, request: GroupMmsRequest, /) -> RawResponse:
        """Send one validated request; see :meth:`AsyncMessages.send`."""
        return await self._send_raw(request)

    async def send_group_mms(
        self,
        *,
        from_: str,
        to: Sequence[str],
        text: str | None = None,
        subject: str | None = None,
        media_urls: Sequence[str] | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        use_profile_webhooks: bool | None = None,
    ) -> RawResponse:
        """Send one group MMS; see :meth:`AsyncMessages.send_group_mms`."""
        request = GroupMmsRequest(
            from_=from_,
            to=to,
            text=text,
            subject=subject,
            media_urls=media_urls,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
            use_profile_webhooks=use_profile_webhooks,
        )
        return await self._send_raw(request)


class AsyncMessages:
    """Sends group MMS messages; reached as ``AsyncTelnyx(...).messages``."""

    def __init__(
        self,
        send: SendFn,
        send_keyed: KeyedSendFn,
        send_raw: RawSendFn,
        traced_fan_out: Callable[[], TracedFanOut | None],
        *,
        pool_size: int,
        max_retry_after: float,
        scope: str,
        timeout: float,
    ) -> None:
        self._send = send
        self._send_keyed = send_keyed
        self._traced_fan_out = traced_fan_out
        self.with_raw_response = AsyncMessagesWithRawResponse(send_raw)
        """The same sends, returning a :class:`RawResponse` (status, headers, request id,
        rate-limit headers, attempts, elapsed) instead of the message."""
        self._pool_size = pool_size
        self._max_retry_after = max_retry_after
        self._scope = scope
        self._timeout = timeout

    async def send(
        self, request: GroupMmsRequest, /, *, idempotency_key: str | None = None
    ) -> Message:
        """Send one validated request.

        Args:
            request: The request.
            idempotency_key: Send at most once under this key (1 to 255 characters), as
                recorded in the client's ``idempotency_store``: a second call with the
                key and the same message returns the first call's :class:`Message` and
                sends nothing. The key stays in your process; Telnyx never sees it.

        Returns:
            The message as Telnyx accepted it (each recipient usually ``queued``).

        Raises:
            APIStatusError: Telnyx refused it (see the subclass and ``errors``).
            APIConnectionError: The exchange failed; check ``outcome_unknown`` before
                resending, since Telnyx may have accepted the message.
            APIResponseValidationError: Telnyx answered 2xx with something that is not
                a message (``outcome_unknown`` is True).
            TelnyxError: The client is closed or serves another event loop, or
                ``idempotency_key`` was given to a client without a store.
            OutcomeUnknownError: An earlier send under ``idempotency_key`` may have
                reached Telnyx; nothing was sent.
            SendInProgressError: Another send under ``idempotency_key`` is still in
                flight after waiting the client's ``timeout``; nothing was sent.
            IdempotencyKeyReusedError: ``idempotency_key`` was first used for another
                message; nothing was sent.
        """
        if idempotency_key is None:
            return await self._send(request)
        return await self._send_keyed(request, idempotency_key)

    async def send_group_mms(
        self,
        *,
        from_: str,
        to: Sequence[str],
        text: str | None = None,
        subject: str | None = None,
        media_urls: Sequence[str] | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        use_profile_webhooks: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send one group MMS from ``from_`` to up to 8 recipients.

        Arguments are those of :class:`GroupMmsRequest`, and ``idempotency_key`` as for
        :meth:`send`; errors those of :meth:`send`.

        Raises:
            RequestValidationError: The input breaks Telnyx's rules; nothing was sent.
        """
        request = GroupMmsRequest(
            from_=from_,
            to=to,
            text=text,
            subject=subject,
            media_urls=media_urls,
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
            use_profile_webhooks=use_profile_webhooks,
        )
        if idempotency_key is None:
            return await self._send(request)
        return await self._send_keyed(request, idempotency_key)

    def send_many(
        self,
        requests: Requests,
        *,
        concurrency: int = 32,
        rate_limit: float | None = None,
        per_sender_rate: PerSenderRate | None = None,
        before_send: BeforeSend | None = None,
        stop_on_account_error: bool = True,
        rate_limits: RateLimits | None = None,
    ) -> AsyncGenerator[SendResult, None]:
        """Send many requests concurrently; yield a :class:`SendResult` as each completes.

        The input is read lazily, never more than ``2 x concurrency`` requests ahead of
        the results, so a generator of a million rows costs no more memory than ten.
        A failed request never stops the others, except a refusal of the account or
        key (see ``stop_on_account_error``). Close the iterator early with
        ``contextlib.aclosing`` (or cancel the task) and the requests still in flight are
        cancelled, their connections closed: they may or may not have reached Telnyx
        and are not yielded (``before_send`` is how a caller learns of them first).

        A 429 pauses every worker for its ``Retry-After`` (capped by the client's
        ``RetryPolicy.max_retry_after``); the request is then retried, under the client's
        policy and up to 8 further rounds, so a throttled batch slows down and still ends.
        A 429 with code 40318 (the sender's queue is full) pauses no one and is not sent
        again by the fan-out: its result carries the error, safe to send later.

        Args:
            requests: An iterable or async iterable of :class:`GroupMmsRequest`.
            concurrency: Requests in flight at most. It may not exceed the client's
                ``max_connections``, which would otherwise become the real limit.
            rate_limit: Account-wide messages per second (Telnyx's default is 15/s);
                ``None`` for no limit. Fractions work; up to one second's worth may go
                out in a burst after an idle spell.
            per_sender_rate: Messages per second per ``from_`` number, each with a
                bucket of its own: one number for every sender; a :class:`SenderRates`
                for the rate of each sender's kind (``SenderRates()``: Telnyx's defaults,
                long code 0.1/s, toll-free 20/s), with overrides; or a callable
                ``(from_) -> rate``, returning ``None`` for no limit, asked when a
                sender is first met (and again if its idle limiter was dropped); if it
                raises, the fan-out stops as when ``before_send`` raises. ``None`` for
                no limit at all.
            before_send: Awaited with ``(index, request)`` right before the first POST
                of each request, after any rate-limit wait: the place for a write-ahead
                record. If it raises, that request is not sent and the fan-out stops
                (in-flight sends finish and are yielded), then the error propagates.
            stop_on_account_error: Stop at the first refusal of the account or key
                rather than of the request (a 401 or 403, or a Telnyx code meaning the
                same: see :func:`is_account_refusal`). On by default: Telnyx refuses
                every later request the same way, so carrying on only sends each of
                them into that refusal. The requests in flight finish and are yielded
                (the refused one with its error); requests still waiting for a rate
                limit or a pause are not sent; then the iteration raises
                :class:`BatchStoppedError`. ``False``: every request is sent and
                yields its own result, as for any other failure.

            rate_limits: This fan-out's limits as a :class:`RateLimits`: with a
                ``redis_url``, shared with every process and host using the same Redis
                and namespace (a batch on three machines keeps one account rate); if
                Redis fails, each request it stops is yielded with
                :class:`BackendUnavailableError`, nothing sent. Instead of
                ``rate_limit`` and ``per_sender_rate``, which are its in-process
                shorthand. A client built with ``rate_limits=`` applies its own too.

        Returns:
            An async iterator of results, in completion order; ``index`` is the
            request's 0-based position in the input.

        Raises:
            BatchStoppedError: From the iteration, after the in-flight results: Telnyx
                refused the account or key (with ``stop_on_account_error``).
            ValueError: A setting is out of range (checked at once, not on iteration).
                A ``per_sender_rate`` callable that returns something other than a
                positive number or ``None`` stops the fan-out with a ``ValueError``
                naming the sender, raised from the iteration.
        """
        check_fan_out_settings(
            concurrency=concurrency,
            rate_limit=rate_limit,
            per_sender_rate=per_sender_rate,
            pool_size=self._pool_size,
        )
        traced = self._traced_fan_out()
        send: SendFn = self._send if traced is None else traced[0]
        admission = None
        if rate_limits is not None:
            admission = self._admission_for(rate_limits, shorthand=(rate_limit, per_sender_rate))
            send = _gated_send(send, admission)
        engine = FanOut(
            send,
            concurrency=concurrency,
            rate_limit=rate_limit,
            per_sender_rate=per_sender_rate,
            max_pause=self._max_retry_after,
            before_send=before_send,
            stop_on_account_error=stop_on_account_error,
        )
        if traced is None and admission is None:
            return engine.results(requests)
        return _ending(
            engine.results(requests),
            end=None if traced is None else traced[1],
            close=None if admission is None else admission.aclose,
        )

    def _admission_for(self, limits: RateLimits, *, shorthand: tuple[object, object]) -> Admission:
        if not isinstance(limits, RateLimits):
            raise TypeError(f"rate_limits must be a RateLimits, not {type(limits).__name__}")
        if shorthand != (None, None):
            raise ValueError(
                "give rate_limits, or rate_limit and per_sender_rate (its in-process "
                "shorthand), not both"
            )
        return admission_for(
            limits, scope=self._scope, timeout=self._timeout, max_pause=self._max_retry_after
        )


def _gated_send(send: SendFn, admission: Admission) -> SendFn:
    """``send``, each attempt of it admitted by ``admission`` (one fan-out's own limits)."""

    async def gated(request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /) -> Message:
        return await send(request, gate_with(admission, request.from_, wrap))

    return gated


async def _ending(
    results: AsyncGenerator[SendResult, None],
    *,
    end: Callable[[int, BaseException | None], None] | None,
    close: Callable[[], Awaitable[None]] | None,
) -> AsyncGenerator[SendResult, None]:
    """``results``, then the end of the fan-out's span and the close of its own limits,
    however the iteration ends."""
    count = 0
    error: BaseException | None = None
    try:
        async for result in results:
            count += 1
            yield result
    except BaseException as exc:
        error = exc
        raise
    finally:
        await results.aclose()
        if end is not None:
            end(count, error)
        if close is not None:
            await close()
