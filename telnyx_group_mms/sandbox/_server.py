"""``Sandbox``: a local stand-in for Telnyx's group MMS endpoint (tests, demos, benchmarks)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from .._loop_thread import LoopThread
from .._wire.serialization import get_converter
from ..errors import TelnyxError
from ..models import Message
from ._app import API_PREFIX, GroupMmsHandler, build_app
from ._control import ControlHandler, SandboxStats
from ._faults import FaultPlan, FaultRates, RateLimiter
from ._host_guard import ANY_ADDRESS, HostPolicy, host_guard
from ._queues import SenderQueueBook, SenderQueues
from ._records import DEFAULT_HISTORY_BYTES, History, RecordedRequest, message_size, request_size
from ._settings_checks import check_settings
from ._webhooks import DeliveryOutcomes, Signer, WebhookAttempt, WebhookDispatcher, attempt_size
from ._wire import Account

__all__ = ["Sandbox"]

T = TypeVar("T")

# How long stopping waits for requests in flight (a delay fault, say) before cutting them.
_SHUTDOWN_TIMEOUT = 0.5


class Sandbox:
    """An HTTP server on loopback that answers ``POST /v2/messages/group_mms`` like Telnyx.

    Use it as ``async with Sandbox() as sb:`` in async code (it serves on the running
    loop), or ``sb = Sandbox().start()`` / ``sb.stop()`` (or ``with Sandbox() as sb:``)
    in sync code, where it serves on a thread of its own. Point a client at
    :attr:`base_url`. Under ``async with``, use an async client: a sync one would block
    the very loop the sandbox serves on.

    What it saw is in :attr:`messages`, :attr:`requests` and :attr:`stats`, and, for a
    sandbox in another process, at ``GET /_sandbox/stats`` and ``GET /_sandbox/messages``
    (authenticated like the API; see :mod:`telnyx_group_mms.sandbox._control`).

    Args:
        host: The address to listen on. Beyond loopback (``0.0.0.0``, a LAN address)
            an ``api_key`` is required, since anyone who can reach the sandbox could
            otherwise read the numbers and texts it keeps.
        allowed_hosts: More names to answer to in the ``Host`` header (a proxy's, a
            container's). By default it answers only requests addressed to ``host``,
            ``localhost`` and, when listening on every interface, this machine's name
            and any IP address; others get 421, so that a web page cannot read it
            through DNS rebinding.
        port: The port; 0 picks a free one (read it back from :attr:`port`).
        api_key: Accept only this Bearer token; by default any non-empty token.
        fault_rates: Random faults; see :class:`FaultRates`. Scripted faults go through
            :attr:`faults`.
        seed: Seeds random faults and delivery outcomes, so that a run repeats.
        mps: Messages per second allowed per account (API key); excess requests are
            answered 429 (code 10011) with ``Retry-After`` and ``x-ratelimit-*`` headers.
        sender_queues: Queue each ``from`` number's messages at its sending rate, as
            Telnyx does: a message's ``wait_seconds`` is its wait behind its sender's
            earlier messages, and one that would overfill the queue is answered 429
            (code 40318) and not taken in; see :class:`SenderQueues`. Off by default
            (every ``wait_seconds`` is 0).
        webhook_url: Where to deliver webhooks for messages that name no ``webhook_url``.
        webhook_failover_url: Where they go when ``webhook_url`` keeps failing.
        delivery: How recipients fare in ``message.finalized``; all delivered by default.
        webhook_max_attempts: POSTs per URL and event before giving up on that URL.
        webhook_retry_delay: Seconds before the first webhook retry (doubling after).
        max_history: Keep at most this many recent requests, messages and webhook
            attempts each (no count limit by default).
        max_history_bytes: Keep at most about this many bytes of each of the three
            (:data:`DEFAULT_HISTORY_BYTES`, 64 MiB, by default; ``None`` for no limit).
            A record counts its content (a request's body and headers; a message's
            text, subject and URLs; an attempt's URL) plus 1 KiB; the oldest go first,
            and the newest is always kept.
        clock: The monotonic clock the rate limit, the sender queues and
            :attr:`RecordedRequest.arrived_at` read; tests may freeze it.

    Raises:
        ValueError: A setting is out of range.
        TypeError: ``sender_queues`` is not a :class:`SenderQueues`.
        ImportError: ``webhook_url`` is set but ``cryptography`` (extra ``webhooks``),
            needed to sign webhooks, is not installed.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        allowed_hosts: Iterable[str] = (),
        fault_rates: FaultRates | None = None,
        seed: int | None = None,
        mps: int | None = None,
        sender_queues: SenderQueues | None = None,
        webhook_url: str | None = None,
        webhook_failover_url: str | None = None,
        delivery: DeliveryOutcomes | None = None,
        webhook_max_attempts: int = 3,
        webhook_retry_delay: float = 0.1,
        max_history: int | None = None,
        max_history_bytes: int | None = DEFAULT_HISTORY_BYTES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        check_settings(
            host=host,
            port=port,
            api_key=api_key,
            webhook_urls={"webhook_url": webhook_url, "webhook_failover_url": webhook_failover_url},
            webhook_max_attempts=webhook_max_attempts,
            history_limits={"max_history": max_history, "max_history_bytes": max_history_bytes},
        )
        self._host = host
        self._hosts = HostPolicy.listening_on(host, extra=allowed_hosts)
        self._port = port
        self._api_key = api_key
        self._webhook_url = webhook_url
        self._webhook_failover_url = webhook_failover_url
        self.faults = FaultPlan(rates=fault_rates, seed=seed)
        self._clock = clock or time.monotonic
        self._limiter = None if mps is None else RateLimiter(limit=mps, clock=self._clock)
        if sender_queues is not None and not isinstance(sender_queues, SenderQueues):
            raise TypeError(
                f"sender_queues must be a SenderQueues, not {type(sender_queues).__name__}"
            )
        self._queues = (
            None if sender_queues is None else SenderQueueBook(sender_queues, clock=self._clock)
        )
        self._converter = get_converter()

        def bounded(size: Callable[[T], int]) -> History[T]:
            return History(max_count=max_history, max_bytes=max_history_bytes, size=size)

        self._messages = bounded(message_size)
        self._requests = bounded(request_size)
        attempts = bounded(attempt_size)
        try:
            signer: Signer | None = Signer()
        except ImportError:
            if webhook_url is not None:
                raise
            signer = None
        self._dispatcher = WebhookDispatcher(
            converter=self._converter,
            signer=signer,
            outcomes=delivery or DeliveryOutcomes(),
            seed=seed,
            max_attempts=webhook_max_attempts,
            retry_delay=webhook_retry_delay,
            time_scale=1.0 if sender_queues is None else sender_queues.time_scale,
            attempts=attempts,
        )
        self._public_key = None if signer is None else signer.public_key
        self._request_count = 0
        self._accepted_count = 0
        self._handler: GroupMmsHandler | None = None
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._portal: LoopThread | None = None

    # -- what the sandbox saw ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root to give a client, e.g. ``http://127.0.0.1:41234/v2``.

        For a sandbox listening on every interface (``0.0.0.0``, ``::``), the loopback
        address: the one a client on this machine can use.
        """
        host = ANY_ADDRESS.get(self._host, self._host)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def host(self) -> str:
        """The address it listens on, as given."""
        return self._host

    @property
    def port(self) -> int:
        """The port it listens on (the real one once started, when created with port 0)."""
        return self._port

    @property
    def running(self) -> bool:
        """True between start and stop."""
        return self._runner is not None

    @property
    def messages(self) -> list[Message]:
        """The messages accepted so far (the most recent, within the history's limits),
        oldest first."""
        return self._messages.snapshot()

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (the most recent, within the history's limits),
        refused ones too, oldest first.

        Except one refused for its key (401): it is counted, but nothing of it is kept,
        so that a caller without the key cannot make the sandbox hold anything.
        """
        return self._requests.snapshot()

    @property
    def request_count(self) -> int:
        """How many requests arrived since start or :meth:`reset` (history limits aside),
        those refused for their key included."""
        return self._request_count

    @property
    def stats(self) -> SandboxStats:
        """Counts of requests, accepted messages, requests in flight and faults served."""
        faults: Counter[str] = Counter()
        for fault, count in self.faults.served.items():
            faults[str(fault)] += count
        return SandboxStats(
            requests=self._request_count,
            accepted=self._accepted_count,
            in_flight=0 if self._handler is None else self._handler.in_flight,
            faults=dict(faults),
        )

    @property
    def public_key(self) -> str | None:
        """Base64 of the 32-byte ed25519 key that verifies this sandbox's webhooks.

        ``None`` when ``cryptography`` is not installed (no webhooks are sent then).
        """
        return self._public_key

    @property
    def webhook_attempts(self) -> list[WebhookAttempt]:
        """The webhook POSTs made so far (the most recent, within the history's limits),
        oldest first."""
        return self._dispatcher.attempts.snapshot()

    def reset(self) -> None:
        """Forget requests, messages, counts, webhook attempts, scripted faults, rate windows
        and sender queues; webhooks not yet delivered are dropped.

        Random faults and delivery outcomes start again from the seed.
        """
        self._messages.clear()
        self._requests.clear()
        self._request_count = 0
        self._accepted_count = 0
        self.faults.reset()
        if self._limiter is not None:
            self._limiter.reset()
        if self._queues is not None:
            self._queues.reset()
        self._dispatcher.reset()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Sandbox base_url={self.base_url!r} {state}>"

    # -- life cycle ----------------------------------------------------------------------

    def _record(self, request: RecordedRequest | None) -> None:
        self._request_count += 1
        if request is not None:
            self._requests.append(request)

    def _accept(self, message: Message) -> None:
        self._accepted_count += 1
        self._messages.append(message)
        self._dispatcher.schedule(message)

    async def _astart(self) -> None:
        if self._runner is not None:
            raise TelnyxError("this sandbox is already running")
        handler = GroupMmsHandler(
            converter=self._converter,
            account=Account(),
            api_key=self._api_key,
            faults=self.faults,
            limiter=self._limiter,
            queues=self._queues,
            on_request=self._record,
            on_accept=self._accept,
            webhook_url=self._webhook_url,
            webhook_failover_url=self._webhook_failover_url,
            clock=self._clock,
        )
        control = ControlHandler(
            converter=self._converter,
            api_key=self._api_key,
            stats=lambda: self.stats,
            messages=self._messages,
        )
        runner = web.AppRunner(
            build_app(
                handler, control_routes=control.routes(), middlewares=[host_guard(self._hosts)]
            ),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._handler = handler
        self._runner = runner
        self._loop = asyncio.get_running_loop()

    async def _astop(self) -> None:
        runner, self._runner = self._runner, None
        self._loop = None
        if runner is not None:
            await runner.cleanup()
        await self._dispatcher.aclose()

    async def __aenter__(self) -> Sandbox:
        await self._astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._astop()

    def start(self) -> Sandbox:
        """Start serving on a thread of its own (for sync code); returns the sandbox.

        Raises:
            TelnyxError: It is already running.
            OSError: The address is in use.
        """
        if self._runner is not None:
            raise TelnyxError("this sandbox is already running")
        portal = LoopThread(
            name="telnyx-group-mms-sandbox",
            user="started sandbox",
            advice="Under 'async with Sandbox()' use its async methods.",
        )
        try:
            portal.run(self._astart())
        except BaseException:
            portal.stop()
            raise
        self._portal = portal
        return self

    def stop(self) -> None:
        """Stop serving, cancel webhook deliveries still pending, end the thread. Idempotent."""
        portal, self._portal = self._portal, None
        if portal is None:
            return
        try:
            portal.run(self._astop())
        finally:
            portal.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- waiting for webhooks ------------------------------------------------------------

    def drain_webhooks(self, *, timeout: float = 30.0) -> None:
        """Block until every webhook delivery scheduled so far has finished.

        For a sandbox started with :meth:`start`; in async code use :meth:`adrain_webhooks`.

        Raises:
            TimeoutError: Deliveries were still running after ``timeout`` seconds.
            TelnyxError: The sandbox is not running on its own thread.
        """
        if self._portal is None:
            raise TelnyxError(
                "drain_webhooks() needs a sandbox started with start(); "
                "under 'async with' use 'await sandbox.adrain_webhooks()'"
            )
        self._portal.run(self._dispatcher.drain(), timeout=timeout)

    async def adrain_webhooks(self) -> None:
        """Wait until every webhook delivery scheduled so far has finished.

        Works whichever way the sandbox was started, and leaves the caller's event loop
        free meanwhile (so a receiver on that loop can answer). Bound the wait with
        ``asyncio.timeout``.

        Raises:
            TelnyxError: The sandbox is not running.
        """
        loop = self._loop
        if loop is None:
            raise TelnyxError("this sandbox is not running")
        if loop is asyncio.get_running_loop():
            await self._dispatcher.drain()
        else:
            await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(self._dispatcher.drain(), loop)
            )
