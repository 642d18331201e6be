"""``AsyncTelnyx``: configuration, lifecycle, and the ``messages`` resource."""

from __future__ import annotations

import enum
import functools
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

import attrs

from ._config import ClientConfig, Secret, resolve_config
from ._off_loop import Once
from ._resources import AsyncMessages
from .errors import ClientClosedError, TelnyxError
from .fanout._engine import AttemptWrapper
from .limits._shared import RateLimits, admission_for, gate_with
from .models import GroupMmsRequest, Message, RawResponse
from .retry import Retrier, RetryPolicy

if TYPE_CHECKING:  # loaded off the event loop on the first send (see _load_send_path)
    import cattrs
    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ._idempotency import AsyncIdempotencyKeys, IdempotencyStoreSetting, KeyedSends
    from ._resources import TracedFanOut
    from ._telemetry import Telemetry
    from ._transport import Transport
    from .limits._shared import Admission

__all__ = ["AsyncTelnyx", "ClientState"]


class ClientState(enum.Enum):
    """Where a client is in its life."""

    NEW = "new"
    """Built; no request sent yet, no connection open."""
    OPEN = "open"
    """Has sent; may hold pooled connections."""
    CLOSED = "closed"
    """Closed; every further call raises :class:`ClientClosedError`."""


def _load_send_path() -> cattrs.Converter:
    """Import the HTTP stack and build the converter, with every hook a send needs.

    The work of a first send (aiohttp, cattrs and orjson imported, the converter and its
    generated code built: a few hundred milliseconds) is done here, on a thread of its
    own (see :class:`Once`), so that an event loop serving other requests never waits
    for it.
    """
    from . import _transport  # noqa: F401 - aiohttp's import is most of the cost
    from ._telemetry import preload
    from ._wire.serialization import get_converter
    from .models import MessageError

    preload()
    converter = get_converter()
    # Hooks cattrs would otherwise generate on the loop at the first error answer.
    converter.get_structure_hook(list[MessageError])
    return converter


_SEND_PATH = Once(_load_send_path, name="telnyx-group-mms-loader")


class AsyncTelnyx:
    """The asyncio client for Telnyx group MMS.

    One client holds one pool of keep-alive connections; share it across tasks, and
    close it with ``async with``, ``await client.close()`` or ``await client.aclose()``.

    Building it does no I/O and loads nothing heavy; the first send loads the HTTP
    stack in a worker thread, so that neither blocks a running event loop.

    Args:
        api_key: Your Telnyx API key; defaults to env ``TELNYX_API_KEY``.
        base_url: The API root; defaults to env ``TELNYX_BASE_URL``, then
            ``https://api.telnyx.com/v2``. Plain ``http://`` only on loopback; no
            user name, password, query or fragment.
        timeout: Seconds one attempt may take, connecting included.
        retry: How failures are retried; see :class:`RetryPolicy`.
        max_connections: Size of the connection pool.
        keepalive_expiry: Seconds after which an idle pooled connection is retired.
        max_response_bytes: Larger response bodies are refused unread.
        idempotency_store: Where ``idempotency_key=`` sends are recorded: a file path
            (SQLite, for the processes of one machine), a ``postgresql://`` URL (shared by
            every process and host using it; the ``postgres`` extra), or an
            :class:`IdempotencyStore`. Nothing is opened until the first keyed send.
        telemetry: ``False`` records no OpenTelemetry spans or metrics. With it on (the
            default), they are recorded when ``opentelemetry-api`` is installed (the
            ``otel`` extra) and an SDK is configured, as of the client's first send.
        tracer_provider: Record spans here instead of the global tracer provider.
        meter_provider: Record metrics here instead of the global meter provider.
        rate_limits: Limits for every send of this client, single sends included: in this
            process, or shared with every process and host using the same Redis (see
            :class:`RateLimits`).

    Raises:
        TelnyxError: No API key, or an unusable setting (named in the message).
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
        # Rebound first, so that a traceback of a refused setting (capture_locals)
        # never shows the key in this frame.
        api_key = None if api_key is None else Secret(api_key)
        self._config = resolve_config(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            max_response_bytes=max_response_bytes,
        )
        self._root: AsyncTelnyx | None = None  # the client this one was derived from
        self._telemetry_settings = (bool(telemetry), tracer_provider, meter_provider)
        self._admission: Admission | None = None
        if rate_limits is not None:
            if not isinstance(rate_limits, RateLimits):
                raise TelnyxError(
                    f"rate_limits must be a RateLimits, got {type(rate_limits).__name__}"
                )
            self._admission = admission_for(
                rate_limits,
                scope=self._config.scope,
                timeout=self._config.timeout,
                max_pause=self._config.retry.max_retry_after,
            )
        self._keys: KeyedSends | None = None
        if idempotency_store is not None:
            from ._idempotency import KeyedSends

            self._keys = KeyedSends(idempotency_store, config=self._config)
        self._setup(self._config)

    def _setup(self, config: ClientConfig) -> None:
        self._retrier = Retrier(config.retry)
        # A derived client's own attempt timeout, when it differs from its pool's.
        self._limit: float | None = None
        # What this client records (decided at its first send; None: nothing).
        self._telemetry: Telemetry | None = None
        self._telemetry_decided = False
        # Set by _open, on the first send: the transport and what the hot path uses.
        self._transport: Transport | None = None
        self._converter: cattrs.Converter
        self._encode: Callable[[cattrs.Converter, GroupMmsRequest], bytes]
        self._post: Callable[[bytes], Awaitable[Message]]
        self._state = ClientState.NEW
        self.messages = AsyncMessages(
            self._send,
            self._send_keyed,
            self._send_raw,
            self._traced_fan_out,
            pool_size=config.max_connections,
            max_retry_after=config.retry.max_retry_after,
            scope=config.scope,
            timeout=config.timeout,
        )

    @property
    def state(self) -> ClientState:
        """``NEW``, ``OPEN`` or ``CLOSED``."""
        root = self._root
        if root is not None and root._state is ClientState.CLOSED:
            return ClientState.CLOSED
        return self._state

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_retry_after: float | None = None,
    ) -> AsyncTelnyx:
        """A client with other per-call settings, sharing this one's connection pool.

        The derived client shares the pool, the idempotency store and the lifecycle of
        the client it came from: closing it (or leaving its ``async with``) does not
        close the original, and closing the original closes it. Building it costs no
        I/O, so it suits one call (``client.with_options(timeout=5).messages...``) as
        well as a block of calls.

        Args:
            timeout: Seconds one attempt may take.
            retry: The retry policy.
            max_retry_after: The longest ``Retry-After`` waited out (of ``retry``, or of
                this client's policy).

        Raises:
            TelnyxError: A setting is unusable (named in the message).
            ClientClosedError: This client is closed.
        """
        self._refuse_if_closed()
        root = self._root or self
        policy = self._config.retry if retry is None else retry
        if not isinstance(policy, RetryPolicy):
            raise TelnyxError(f"retry must be a RetryPolicy, got {type(policy).__name__}")
        try:
            if max_retry_after is not None:
                policy = attrs.evolve(policy, max_retry_after=max_retry_after)
        except (TypeError, ValueError) as exc:
            raise TelnyxError(f"max_retry_after: {exc}") from None
        seconds = self._config.timeout if timeout is None else timeout
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise TelnyxError(f"timeout must be a positive number of seconds, got {timeout!r}")
        derived = object.__new__(AsyncTelnyx)
        derived._config = attrs.evolve(self._config, timeout=float(seconds), retry=policy)
        derived._root = root
        derived._telemetry_settings = root._telemetry_settings
        derived._admission = root._admission
        derived._keys = None if root._keys is None else root._keys.derived(derived._config)
        derived._setup(derived._config)
        if float(seconds) != root._config.timeout:
            derived._limit = float(seconds)
        return derived

    @property
    def base_url(self) -> str:
        """The API root this client sends to."""
        return self._config.base_url

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the key is kept out of its ``repr``)."""
        return self._config

    def __repr__(self) -> str:
        if "_state" not in vars(self):  # a refused setting: tracebacks show it as a local
            return "<AsyncTelnyx (not built)>"
        return f"<AsyncTelnyx base_url={self._config.base_url!r} state={self._state.value}>"

    def _refuse_if_closed(self) -> None:
        if self.state is ClientState.CLOSED:
            raise ClientClosedError

    async def _open(self) -> None:
        """Get ready for the first send; every later send skips this."""
        self._refuse_if_closed()
        root = self._root
        if root is not None:  # a derived client sends through its root's pool
            if root._state is not ClientState.OPEN:
                await root._open()
            self._refuse_if_closed()
            transport = root._transport
            assert transport is not None
            self._transport = transport
            self._converter = root._converter
            self._encode = root._encode
            limit = self._limit
            self._post = (
                transport.post if limit is None else functools.partial(transport.post, limit=limit)
            )
            self._decide_telemetry()
            self._state = ClientState.OPEN
            return
        converter = await _SEND_PATH.get()
        self._refuse_if_closed()  # closed while loading
        if self._transport is None:  # not already opened by a concurrent first send
            from ._transport import Transport
            from ._wire.protocol import encode_request

            config = self._config
            self._transport = Transport(
                base_url=config.base_url,
                headers=config.headers(),
                timeout=config.timeout,
                max_connections=config.max_connections,
                keepalive_expiry=config.keepalive_expiry,
                max_response_bytes=config.max_response_bytes,
                converter=converter,
            )
            self._converter = converter
            self._encode = encode_request
            self._post = self._transport.post
            self._decide_telemetry()
            self._state = ClientState.OPEN

    async def _send(
        self, request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /
    ) -> Message:
        if self._state is not ClientState.OPEN:
            await self._open()
        if self._telemetry is not None:
            return (await self._send_tracked(request, wrap, None)).message
        if self._admission is not None:
            wrap = self._limited(request.from_, wrap)
        body = self._encode(self._converter, request)
        post = self._post
        if wrap is None:
            return await self._retrier.call(lambda: post(body))
        # The fan-out puts its gate (429 pause, rate limits) in front of every attempt,
        # retries included.
        return await self._retrier.call(lambda: wrap(lambda: post(body)))

    async def _send_raw(self, request: GroupMmsRequest, /) -> RawResponse:
        if self._state is not ClientState.OPEN:
            await self._open()
        return await self._send_tracked(request, None, None)

    async def _send_tracked(
        self, request: GroupMmsRequest, wrap: AttemptWrapper | None, parent: Context | None
    ) -> RawResponse:
        """A send that keeps what Telnyx answered, and records telemetry when it is live:
        the raw response's path, and every send's once an OpenTelemetry SDK is set up."""
        from ._transport import Exchange
        from ._wire.protocol import parse_rate_limit

        if self._admission is not None:
            wrap = self._limited(request.from_, wrap)
        body = self._encode(self._converter, request)
        transport = self._transport
        assert transport is not None
        limit = self._limit
        exchange = Exchange()
        telemetry = self._telemetry
        record = (
            None
            if telemetry is None
            else telemetry.begin(recipients=len(request.to), parent=parent)
        )
        attempts = 0

        async def attempt() -> Message:
            nonlocal attempts
            attempts += 1
            return await transport.post(body, limit=limit, sink=exchange)

        run = attempt
        if wrap is not None:
            gate = wrap

            async def run() -> Message:
                asked = time.perf_counter()

                async def admitted() -> Message:
                    if record is not None:
                        record.waited(time.perf_counter() - asked)
                    return await attempt()

                return await gate(admitted)

        started = time.perf_counter()
        if record is None:
            message = await self._retrier.call(run)
        else:
            try:
                with record.current():
                    message = await self._retrier.call(run, observe=record.retried)
            except BaseException as exc:
                record.failed(exc, attempts=attempts)
                raise
            record.sent(message, status=exchange.status, attempts=attempts)
        return RawResponse(
            status_code=exchange.status or 200,
            headers=exchange.headers,
            rate_limit=parse_rate_limit(exchange.headers),
            attempts=attempts,
            elapsed=time.perf_counter() - started,
            message=message,
        )

    def _limited(self, sender: str, inner: AttemptWrapper | None) -> AttemptWrapper:
        assert self._admission is not None
        return gate_with(self._admission, sender, inner)

    def _traced_fan_out(self) -> TracedFanOut | None:
        """For ``send_many``: a send whose spans a fan-out span parents, and the end of
        that span; ``None`` when no tracing is live."""
        telemetry = self._decide_telemetry()
        if telemetry is None or telemetry.tracer is None:
            return None
        parent, span = telemetry.fan_out()

        async def send(request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /) -> Message:
            if self._state is not ClientState.OPEN:
                await self._open()
            return (await self._send_tracked(request, wrap, parent)).message

        def end(results: int, error: BaseException | None) -> None:
            telemetry.end_fan_out(span, results=results, error=error)

        return send, end

    def _decide_telemetry(self) -> Telemetry | None:
        """Whether this client records telemetry, decided once (by its root) and kept."""
        root = self._root or self
        if not root._telemetry_decided:
            from ._telemetry import telemetry_for

            enabled, tracer_provider, meter_provider = root._telemetry_settings
            root._telemetry = telemetry_for(
                enabled=enabled, tracer_provider=tracer_provider, meter_provider=meter_provider
            )
            root._telemetry_decided = True
        self._telemetry = root._telemetry
        return self._telemetry

    async def _send_keyed(self, request: GroupMmsRequest, key: str, /) -> Message:
        from ._idempotency import NO_STORE, check_key

        if self._keys is None:
            raise TelnyxError(NO_STORE)
        check_key(key)
        if self._state is not ClientState.OPEN:
            await self._open()
        return await self._keys.send(
            request, key, post=lambda: self._send(request), converter=self._converter
        )

    @property
    def idempotency_keys(self) -> AsyncIdempotencyKeys:
        """The records of this client's idempotency keys: ``status``, ``resolve`` and
        ``mark_not_sent`` (see :class:`OutcomeUnknownError`)."""
        from ._idempotency import AsyncIdempotencyKeys

        self._refuse_if_closed()
        return AsyncIdempotencyKeys(self._keys)

    async def aclose(self) -> None:
        """Close pooled connections (and the idempotency store the client opened).
        Idempotent; the client cannot be used afterwards.

        A client from :meth:`with_options` only closes itself: the pool it shares is
        its original's."""
        self._state = ClientState.CLOSED
        if self._root is not None:
            return
        if self._transport is not None:
            await self._transport.aclose()
        if self._keys is not None:
            await self._keys.aclose()
        if self._admission is not None:
            await self._admission.aclose()

    async def close(self) -> None:
        """Close pooled connections: the same as :meth:`aclose`, under the name the
        official ``telnyx`` SDK's async client uses (``await client.close()``)."""
        await self.aclose()

    def _forget_connections(self) -> None:
        """Drop pooled connections without closing them (the child after ``fork``)."""
        if self._transport is not None:
            self._transport.forget()
        if self._keys is not None:
            self._keys.forget()
        if self._admission is not None:
            self._admission.forget()

    async def __aenter__(self) -> AsyncTelnyx:
        self._refuse_if_closed()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
