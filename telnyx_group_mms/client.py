"""``AsyncTelnyx``: configuration, lifecycle, and the ``messages`` resource."""

from __future__ import annotations

import enum
from types import TracebackType

from .config import ClientConfig, resolve_config
from .errors import TelnyxError
from .fanout import AttemptWrapper
from .models import Message
from .protocol import encode_request
from .request import GroupMmsRequest
from .resources import AsyncMessages
from .retry import Retrier, RetryPolicy
from .serialization import get_converter
from .transport import Transport

__all__ = ["AsyncTelnyx", "ClientState"]


class ClientState(enum.Enum):
    """Where a client is in its life."""

    NEW = "new"
    """Built; no request sent yet, no connection open."""
    OPEN = "open"
    """Has sent; may hold pooled connections."""
    CLOSED = "closed"
    """Closed; every further call raises :class:`TelnyxError`."""


class AsyncTelnyx:
    """The asyncio client for Telnyx group MMS.

    One client holds one pool of keep-alive connections; share it across tasks, and
    close it with ``async with`` or :meth:`aclose`.

    Args:
        api_key: Your Telnyx API key; defaults to env ``TELNYX_API_KEY``.
        base_url: The API root; defaults to env ``TELNYX_BASE_URL``, then
            ``https://api.telnyx.com/v2``. Plain ``http://`` only on loopback.
        timeout: Seconds one attempt may take, connecting included.
        retry: How failures are retried; see :class:`RetryPolicy`.
        max_connections: Size of the connection pool.
        keepalive_expiry: Seconds after which an idle pooled connection is retired.
        max_response_bytes: Larger response bodies are refused unread.

    Raises:
        TelnyxError: No API key, or an unusable setting.
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
    ) -> None:
        self._config = resolve_config(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            max_response_bytes=max_response_bytes,
        )
        self._setup(self._config)

    def _setup(self, config: ClientConfig) -> None:
        # Everything a send needs is built here, once, not per call.
        self._converter = get_converter()
        self._retrier = Retrier(config.retry)
        self._transport = Transport(
            base_url=config.base_url,
            headers=config.headers(),
            timeout=config.timeout,
            max_connections=config.max_connections,
            keepalive_expiry=config.keepalive_expiry,
            max_response_bytes=config.max_response_bytes,
            converter=self._converter,
        )
        self._state = ClientState.NEW
        self.messages = AsyncMessages(
            self._send,
            pool_size=config.max_connections,
            max_retry_after=config.retry.max_retry_after,
        )

    @property
    def state(self) -> ClientState:
        """``NEW``, ``OPEN`` or ``CLOSED``."""
        return self._state

    @property
    def base_url(self) -> str:
        """The API root this client sends to."""
        return self._config.base_url

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the key is kept out of its ``repr``)."""
        return self._config

    def __repr__(self) -> str:
        return f"<AsyncTelnyx base_url={self._config.base_url!r} state={self._state.value}>"

    async def _send(
        self, request: GroupMmsRequest, wrap: AttemptWrapper | None = None, /
    ) -> Message:
        if self._state is ClientState.CLOSED:
            raise TelnyxError("this client is closed; create a new one")
        self._state = ClientState.OPEN
        body = encode_request(self._converter, request)
        post = self._transport.post
        if wrap is None:
            return await self._retrier.call(lambda: post(body))
        # The fan-out puts its gate (429 pause, rate limits) in front of every attempt,
        # retries included.
        return await self._retrier.call(lambda: wrap(lambda: post(body)))

    async def aclose(self) -> None:
        """Close pooled connections. Idempotent; the client cannot be used afterwards."""
        self._state = ClientState.CLOSED
        await self._transport.aclose()

    def _forget_connections(self) -> None:
        """Drop pooled connections without closing them (the child after ``fork``)."""
        self._transport.forget()

    async def __aenter__(self) -> AsyncTelnyx:
        if self._state is ClientState.CLOSED:
            raise TelnyxError("this client is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
