"""``Telnyx``: the sync client, a thin facade over :class:`AsyncTelnyx`.

Every call runs the async core on one private event loop in a daemon thread; nothing
is re-implemented here.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Sequence,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from ._config import ClientConfig, Secret
from ._loop_thread import LoopThread
from .client import AsyncTelnyx
from .errors import ClientClosedError, TelnyxError
from .fanout._engine import BeforeSend, SendResult
from .limits._sender_rates import PerSenderRate
from .models import GroupMmsRequest, Message, RawResponse
from .retry import RetryPolicy

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._idempotency import IdempotencyStoreSetting
    from .limits._shared import RateLimits
    from .stores._keys import KeyStatus

__all__ = ["IdempotencyKeys", "Messages", "MessagesWithRawResponse", "Telnyx"]

T = TypeVar("T")

# Seconds closing may take (connections, then the loop thread), at exit too.
_CLOSE_TIMEOUT = 5.0


class _Runtime:
    """The loop thread and async client of one process (a forked child gets new ones)."""

    def __init__(self, core: AsyncTelnyx) -> None:
        self.pid = os.getpid()
        self.core = core
        self.portal = LoopThread(
            name="telnyx-group-mms",
            user="sync Telnyx client",
            advice="Use AsyncTelnyx there (for example in an on_retry callback).",
        )

    def shutdown(self, *, at_exit: bool = True) -> None:
        """Close connections and stop the loop thread, within _CLOSE_TIMEOUT.

        ``at_exit`` (the default, for the finalizer: the interpreter exits, or the
        client was dropped unclosed): a daemon thread still waiting for a send is never
        returned to, so the exit prints nothing; the send is simply not completed.
        """
        if os.getpid() != self.pid:
            return
        self.portal.stop(self.core.aclose(), abandon_callers=at_exit, timeout=_CLOSE_TIMEOUT)


class Telnyx:
    """The sync client for Telnyx group MMS, for code that is not async.

    Takes the same arguments as :class:`AsyncTelnyx`. Safe to share across threads (they
    share one connection pool), usable inside a running event loop, and after
    ``os.fork()`` (the child starts its own loop and pool on first use). Close it with
    ``with`` or :meth:`close`; an interpreter that exits without closing it exits cleanly.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        keepalive_expiry: float | None = None,
        max_response_bytes: int | None = None,
        idempotency_store: IdempotencyStoreSetting | None = None,
        rate_limits: RateLimits | None = None,
        telemetry: bool = True,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        # As in AsyncTelnyx: no traceback frame of a refused setting shows the key.
        api_key = None if api_key is None else Secret(api_key)
        core = AsyncTelnyx(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            max_response_bytes=max_response_bytes,
            idempotency_store=idempotency_store,
            rate_limits=rate_limits,
            telemetry=telemetry,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
        )
        self._lock = threading.Lock()
        self._closed = False
        self._root: Telnyx | None = None  # the client this one was derived from
        self._core = core
        self._install(_Runtime(core))
        self.messages = Messages(self)

    def _install(self, runtime: _Runtime) -> None:
        self._runtime = runtime
        self._finalizer = weakref.finalize(self, runtime.shutdown)

    def _current(self) -> _Runtime:
        runtime = self._runtime
        if runtime.pid == os.getpid():
            return runtime
        with self._lock:
            runtime = self._runtime
            if runtime.pid != os.getpid():
                # A forked child: the parent's loop thread does not exist here, and its
                # sockets are the parent's. Start afresh on first use.
                self._finalizer.detach()
                runtime.core._forget_connections()  # noqa: SLF001 - same package
                self._install(_Runtime(runtime.core))
                runtime = self._runtime
        return runtime

    def _bound(self) -> tuple[AsyncTelnyx, LoopThread]:
        """The async client this one drives, and the loop thread it runs on."""
        root = self._root or self
        if self._closed or root._closed:  # noqa: SLF001 - a derived client's root
            raise ClientClosedError
        return self._core, root._current().portal  # noqa: SLF001

    def _run(self, call: Callable[[AsyncTelnyx], Coroutine[Any, Any, T]]) -> T:
        core, portal = self._bound()
        return portal.run(call(core))

    @property
    def base_url(self) -> str:
        """The API root this client sends to."""
        return self._core.base_url

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the key is kept out of its ``repr``)."""
        return self._core.config

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_retry_after: float | None = None,
    ) -> Telnyx:
        """A client with other per-call settings, sharing this one's pool and loop thread.

        See :meth:`AsyncTelnyx.with_options`: closing the derived client does not close
        the original; closing the original closes it.
        """
        root = self._root or self
        if self._closed or root._closed:  # noqa: SLF001 - a derived client's root
            raise ClientClosedError
        derived = object.__new__(Telnyx)
        derived._core = self._core.with_options(
            timeout=timeout, retry=retry, max_retry_after=max_retry_after
        )
        derived._root = root
        derived._closed = False
        derived._lock = root._lock  # noqa: SLF001
        derived.messages = Messages(derived)
        return derived

    @property
    def idempotency_keys(self) -> IdempotencyKeys:
        """The records of this client's idempotency keys; see :class:`IdempotencyKeys`."""
        if self._closed:
            raise ClientClosedError
        return IdempotencyKeys(self)

    def __repr__(self) -> str:
        if "_runtime" not in vars(self):  # a refused setting: tracebacks show it as a local
            return "<Telnyx (not built)>"
        state = "closed" if self._closed else self._core.state.value
        return f"<Telnyx base_url={self.base_url!r} state={state}>"

    def close(self) -> None:
        """Close connections and stop the private loop. Idempotent.

        A client from :meth:`with_options` only closes itself.

        Raises:
            TelnyxError: Called from the client's own loop thread (an ``on_retry`` or
                ``before_send`` callback); the client is left open and usable.
        """
        if self._root is not None:
            self._closed = True
            return
        if self._runtime.portal.is_current():
            # Refused before anything changes: stopping the loop from inside it cannot
            # work, and marking the client closed would strand its loop thread.
            raise TelnyxError("a sync Telnyx client cannot be closed from its own loop thread")
        self._closed = True
        # detach() hands the shutdown to one caller only, and keeps it from running again
        # at exit.
        if self._runtime.pid == os.getpid() and self._finalizer.detach() is not None:
            self._runtime.shutdown(at_exit=False)

    def __enter__(self) -> Telnyx:
        if self._closed:
            raise ClientClosedError
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_END = object()


async def _next(results: AsyncIterator[SendResult]) -> SendResult | object:
    # StopAsyncIteration does not cross run_coroutine_threadsafe well: map it to a marker.
    try:
        return await anext(results)
    except StopAsyncIteration:
        return _END


class _Interrupted(Exception):
    """A sync callback (``before_send``, a per-sender rate rule) raised a non-``Exception``
    (KeyboardInterrupt, SystemExit) on the loop thread.

    Raised as is there, it would escape the event loop and end its thread, leaving the
    caller blocked for ever; carried as an ordinary error it stops the fan-out as any
    failing callback does, and is raised again on the caller's thread.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


P = ParamSpec("P")
R = TypeVar("R")


def _carrying_interrupts(call: Callable[P, R]) -> Callable[P, R]:
    """``call``, with a KeyboardInterrupt or SystemExit it raises carried (see _Interrupted)."""

    def carried(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return call(*args, **kwargs)
        except Exception:
            raise
        except BaseException as exc:
            raise _Interrupted(exc) from exc

    return carried


def _iterate_on(
    client: Telnyx, portal: LoopThread, results: AsyncGenerator[SendResult, None]
) -> Generator[SendResult, None, None]:
    # ``client`` is only held, as this generator's local: a client dropped while its
    # iteration goes on must not be garbage collected (its finalizer stops the loop).
    try:
        while True:
            try:
                result = portal.run(_next(results))
            except _Interrupted as carried:
                raise carried.error from None
            if result is _END:
                return
            assert isinstance(result, SendResult)
            yield result
    finally:
        # Reached on exhaustion, on ``break`` (the generator is closed), and on Ctrl-C
        # (LoopThread.run has already cancelled the step in progress, which closed it).
        # Once the client is closed (or the interpreter exits) its loop has closed the
        # fan-out already, and must not be started again: that would hang the exit.
        if portal.running:
            with contextlib.suppress(TelnyxError):  # closed meanwhile, by another thread
                portal.run(results.aclose())


def _awaitable(before_send: Callable[[int, GroupMmsRequest], None]) -> BeforeSend:
    """The sync ``before_send`` as the fan-out's hook: called inline, on the loop thread.

    Inline rather than in a worker thread (``asyncio.to_thread``): calls then come one at
    a time from one thread, in the order requests are admitted, so the hook needs no
    lock, as with the async client; a call back into this client from the hook fails at
    once with TelnyxError (the loop thread refuses it) instead of, from a worker thread,
    ``close()`` stopping the loop under the caller waiting on it; and no hook is left
    running on a thread once the iteration is closed. The cost is that the loop waits
    while the hook runs; a write that must reach the disk before its send costs that
    wait in any case.
    """
    if not callable(before_send) or inspect.iscoroutinefunction(before_send):
        raise TypeError(
            f"before_send of the sync client must be a plain function, got {before_send!r}; "
            "an async hook belongs to AsyncTelnyx's send_many"
        )

    call: Callable[[int, GroupMmsRequest], object] = _carrying_interrupts(before_send)

    async def hook(index: int, request: GroupMmsRequest) -> None:
        if inspect.isawaitable(result := call(index, request)):
            # An async callable the check above could not see (a partial, an object):
            # its work would silently never run.
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(
                "before_send of the sync client returned an awaitable; it must be a "
                "plain function (an async hook belongs to AsyncTelnyx's send_many)"
            )

    return hook


class MessagesWithRawResponse:
    """``client.messages.with_raw_response``: each send returns a :class:`RawResponse`;
    see :class:`AsyncMessagesWithRawResponse`."""

    def __init__(self, client: Telnyx) -> None:
        self._client = client

    def send(self, request: GroupMmsRequest, /) -> RawResponse:
        """Send one validated request; see :meth:`AsyncMessages.send`."""
        return self._client._run(  # noqa: SLF001 - same package
            lambda core: core.messages.with_raw_response.send(request)
        )

    def send_group_mms(
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
        return self.send(request)


class Messages:
    """Sends group MMS messages; reached as ``Telnyx(...).messages``."""

    def __init__(self, client: Telnyx) -> None:
        self._client = client
        self.with_raw_response = MessagesWithRawResponse(client)
        """The same sends, returning a :class:`RawResponse` instead of the message."""

    def send(self, request: GroupMmsRequest, /, *, idempotency_key: str | None = None) -> Message:
        """Send one validated request; see :meth:`AsyncMessages.send`."""
        return self._client._run(  # noqa: SLF001 - same package
            lambda core: core.messages.send(request, idempotency_key=idempotency_key)
        )

    def send_group_mms(
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
        """Send one group MMS; see :meth:`AsyncMessages.send_group_mms`.

        Raises:
            RequestValidationError: The input breaks Telnyx's rules; nothing was sent.
        """
        # Validate in the caller's thread, so bad input never touches the loop.
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
        return self.send(request, idempotency_key=idempotency_key)

    def send_many(
        self,
        requests: Iterable[GroupMmsRequest],
        *,
        concurrency: int = 32,
        rate_limit: float | None = None,
        per_sender_rate: PerSenderRate | None = None,
        before_send: Callable[[int, GroupMmsRequest], None] | None = None,
        stop_on_account_error: bool = True,
        rate_limits: RateLimits | None = None,
    ) -> Generator[SendResult, None, None]:
        """Send many requests concurrently; see :meth:`AsyncMessages.send_many`.

        The work runs on the client's private loop; ``requests`` is read there, lazily.
        Leaving the loop early (``break``, an exception, Ctrl-C) cancels the requests
        in flight and closes their connections before control returns; a generator kept
        in a variable is closed with ``close()`` (or ``contextlib.closing``).

        Args:
            requests: An iterable of :class:`GroupMmsRequest`.
            concurrency: Requests in flight at most (see the async method).
            rate_limit: Account-wide messages per second; ``None`` for no limit.
            per_sender_rate: A rate, a :class:`SenderRates` or a ``(from_) -> rate``
                callable, as for the async method.
            before_send: A plain function called with ``(index, request)`` right before
                the first POST of each request, after any rate-limit wait: the place
                for a write-ahead record. If it raises (``KeyboardInterrupt`` and
                ``SystemExit`` included), that request is not sent and the fan-out
                stops (in-flight sends finish and are yielded), then the error
                propagates. It runs on the client's loop thread, one call at a
                time, while the loop waits for it: keep it quick (a local write). It
                cannot use this client (that raises :class:`TelnyxError`).
            stop_on_account_error: Stop at the first refusal of the account or key
                (on by default), as for the async method: the in-flight results are
                yielded, then :class:`BatchStoppedError` is raised.
            rate_limits: This fan-out's :class:`RateLimits`, in this process or shared
                through Redis, as for the async method.

        Raises:
            BatchStoppedError: From the iteration: Telnyx refused the account or key.
            ValueError: A setting is out of range (checked at once).
            TypeError: ``before_send`` is an ``async`` function (use
                :class:`AsyncTelnyx` for that).
        """
        client = self._client
        if client._closed:  # noqa: SLF001 - same package
            raise ClientClosedError
        hook = _awaitable(before_send) if before_send is not None else None
        if callable(per_sender_rate) and not isinstance(per_sender_rate, type):
            # A rule runs on the loop thread too (a class is left for the check to refuse).
            per_sender_rate = _carrying_interrupts(per_sender_rate)
        core, portal = client._bound()  # noqa: SLF001 - same package
        results = core.messages.send_many(
            requests,
            concurrency=concurrency,
            rate_limit=rate_limit,
            per_sender_rate=per_sender_rate,
            before_send=hook,
            stop_on_account_error=stop_on_account_error,
            rate_limits=rate_limits,
        )
        return _iterate_on(client, portal, results)


class IdempotencyKeys:
    """The records of a sync client's idempotency keys; see :class:`AsyncIdempotencyKeys`."""

    def __init__(self, client: Telnyx) -> None:
        self._client = client

    def status(self, key: str) -> KeyStatus | None:
        """Where ``key`` stands, or ``None`` when no record of it is kept."""
        return self._client._run(lambda core: core.idempotency_keys.status(key))  # noqa: SLF001

    def resolve(self, key: str, *, message_id: str) -> bool:
        """Record an unknown key as sent, as message ``message_id``."""
        return self._client._run(  # noqa: SLF001 - same package
            lambda core: core.idempotency_keys.resolve(key, message_id=message_id)
        )

    def mark_not_sent(self, key: str) -> bool:
        """Record an unknown key as not sent: the next send under it goes out."""
        return self._client._run(  # noqa: SLF001 - same package
            lambda core: core.idempotency_keys.mark_not_sent(key)
        )
