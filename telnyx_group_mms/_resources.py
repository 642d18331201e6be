"""The ``messages`` resource of the async client."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol

from .fanout._engine import (
    AttemptWrapper,
    BeforeSend,
    FanOut,
    Requests,
    SendResult,
    check_fan_out_settings,
)
from .fanout._settings import DEFAULT_READ_AHEAD
from .limits._sender_rates import PerSenderRate
from .models import GroupMmsRequest, Message

__all__ = ["AsyncMessages"]


class SendFn(Protocol):
    """The client's send: encode, then POST under its retry policy."""

    async def __call__(
        self, request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /
    ) -> Message: ...


class AsyncMessages:
    """Sends group MMS messages; reached as ``AsyncTelnyx(...).messages``."""

    def __init__(self, send: SendFn, *, pool_size: int, max_retry_after: float) -> None:
        self._send = send
        self._pool_size = pool_size
        self._max_retry_after = max_retry_after

    async def send(self, request: GroupMmsRequest, /) -> Message:
        """Send one validated request.

        Returns:
            The message as Telnyx accepted it (each recipient usually ``queued``).

        Raises:
            APIStatusError: Telnyx refused it (see the subclass and ``errors``).
            APIConnectionError: The exchange failed; check ``outcome_unknown`` before
                resending, since Telnyx may have accepted the message.
            APIResponseValidationError: Telnyx answered 2xx with something that is not
                a message (``outcome_unknown`` is True).
            TelnyxError: The client is closed or serves another event loop.
        """
        return await self._send(request)

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
    ) -> Message:
        """Send one group MMS from ``from_`` to up to 8 recipients.

        Arguments are those of :class:`GroupMmsRequest`; errors those of :meth:`send`.

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
        return await self._send(request)

    def send_many(
        self,
        requests: Requests,
        *,
        concurrency: int = 32,
        rate_limit: float | None = None,
        per_sender_rate: PerSenderRate | None = None,
        before_send: BeforeSend | None = None,
        stop_on_account_error: bool = True,
        read_ahead: int = DEFAULT_READ_AHEAD,
    ) -> AsyncGenerator[SendResult, None]:
        """Send many requests concurrently; yield a :class:`SendResult` as each completes.

        The input is read lazily, ``2 x concurrency`` requests ahead of the results
        (further only while every request read waits for its sender's rate, up to
        ``read_ahead``), so a generator of a million rows costs no more memory than ten.
        A free worker is handed the request whose sender is ready first: a slow
        sender's requests wait in its own queue, holding no worker, while other
        senders' go.
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
            read_ahead: How many requests may be read ahead of the results yielded, at
                most (default 10,000). Beyond ``2 x concurrency``, the input is read on
                only while a worker is free and every request read waits for its
                sender's rate (``per_sender_rate``), looking for a sender that is ready.

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
            read_ahead=read_ahead,
        )
        engine = FanOut(
            self._send,
            concurrency=concurrency,
            rate_limit=rate_limit,
            per_sender_rate=per_sender_rate,
            max_pause=self._max_retry_after,
            before_send=before_send,
            stop_on_account_error=stop_on_account_error,
            read_ahead=read_ahead,
        )
        return engine.results(requests)
