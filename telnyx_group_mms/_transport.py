"""The HTTP layer: one pooled aiohttp session per client, and the mapping of wire to errors.

aiohttp appears in this module (and in the sandbox and the webhook receiver) only; its
types never reach a public signature, and its exceptions are wrapped in this package's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import time
from collections.abc import Mapping

import aiohttp
import cattrs

from ._wire.protocol import GROUP_MMS_PATH, decode_message, error_from_response
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    ClientClosedError,
    Outcome,
    TelnyxError,
)
from .models import Message

# Transport is the client's own (internal); exchange_error is the one rule of outcomes.
__all__ = ["exchange_error"]


class Exchange:
    """Filled in by :meth:`Transport.post` with what Telnyx answered: for callers that
    want more than the message (the raw response, telemetry)."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: Mapping[str, str] = {}


logger = logging.getLogger("telnyx_group_mms")

_CHUNK = 64 * 1024

# What aiohttp raises while it builds a request and its head, before it writes a byte:
# a URL or header it refuses, an argument of the wrong type. Once the request may be on
# the wire, aiohttp raises ClientError subclasses or timeouts instead (which are UNKNOWN
# here); the fuzz tests of HTTP answers hold it to that, as no answer may end SAFE.
_LOCAL_REFUSALS: tuple[type[Exception], ...] = (
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
    ValueError,
    TypeError,
)


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    # aiohttp's own text says "ssl:default" even for plain http; say where and why.
    os_error = exc.os_error
    if isinstance(os_error, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        reason = f"TLS: {os_error.reason or os_error}"
    elif isinstance(os_error, socket.gaierror) or not os_error.errno:
        reason = os_error.strerror or str(os_error) or type(os_error).__name__
    else:
        reason = os.strerror(os_error.errno)
    return f"could not connect to Telnyx at {exc.host}:{exc.port} ({reason}); nothing was sent"


def exchange_error(exc: Exception, *, answered: bool, timeout: float) -> APIError:
    """The error an exception of the HTTP exchange stands for, its outcome included.

    An exception raised before the request could have been written (building it,
    connecting) is ``SAFE``; once it may have been written, only a certain refusal
    is, and anything else is ``UNKNOWN``: the message may have been sent.

    Args:
        exc: What aiohttp (or the socket) raised.
        answered: True once the answer's status line and headers have been read.
        timeout: The client's timeout, for the message.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            "timed out connecting to Telnyx (or waiting for a pooled connection); nothing was sent",
            outcome=Outcome.SAFE,
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return APIConnectionError(
            f"Telnyx's TLS certificate could not be verified: {exc.certificate_error}",
            outcome=Outcome.FINAL,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(_connect_failure(exc), outcome=Outcome.SAFE)
    if not answered and isinstance(exc, _LOCAL_REFUSALS):
        return APIConnectionError(
            f"the request was refused before it was sent ({type(exc).__name__}: {exc}); "
            "nothing was sent",
            outcome=Outcome.SAFE,
        )
    if isinstance(exc, TimeoutError):
        return APITimeoutError(
            f"no answer from Telnyx within {timeout:g} s; the message may have been sent",
            outcome=Outcome.UNKNOWN,
        )
    # A malformed answer's own message, not its str(): that is a repr over several lines.
    detail = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
    detail = " ".join(detail.split())
    return APIConnectionError(
        f"the connection to Telnyx failed after the request was sent; the message may "
        f"have been sent ({type(exc).__name__}: {detail})",
        outcome=Outcome.UNKNOWN,
    )


class Transport:
    """Posts group MMS bodies to Telnyx over one pooled aiohttp session.

    The session is created lazily on the first send, on the running event loop, and
    serves that loop only.
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
        max_connections: int,
        keepalive_expiry: float,
        max_response_bytes: int,
        converter: cattrs.Converter,
    ) -> None:
        self._url = base_url.rstrip("/") + GROUP_MMS_PATH
        self._headers = dict(headers)
        self._timeout = timeout
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._max_response_bytes = max_response_bytes
        self._converter = converter
        self._session: aiohttp.ClientSession | None = None
        self._default_timeout = aiohttp.ClientTimeout(total=timeout)
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def _open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_expiry,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=self._default_timeout,
            cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
        )
        self._loop = loop
        return self._session

    def _session_for(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        session = self._session
        if session is None:
            if self._closed:
                raise ClientClosedError
            return self._open(loop)
        if loop is not self._loop:
            raise TelnyxError(
                "this client is bound to the event loop it first sent on; one client serves "
                "one event loop, so create a client per loop (or use the sync Telnyx client)"
            )
        return session

    async def post(
        self, body: bytes, *, limit: float | None = None, sink: Exchange | None = None
    ) -> Message:
        """Post one request body and return the message Telnyx accepted.

        Args:
            body: The JSON body.
            limit: This attempt's timeout in seconds, if not the client's.
            sink: Given the answer's status and headers, when there is an answer.

        Raises:
            APIStatusError: Telnyx answered with a non-2xx status.
            APIConnectionError: The exchange failed; ``outcome`` says whether the
                request may have reached Telnyx.
            APIResponseValidationError: A 2xx whose body is not a message.
        """
        session = self._session_for(asyncio.get_running_loop())
        started = time.perf_counter()
        resp = None
        deadline = self._default_timeout if limit is None else self._timeout_of(limit)
        try:
            async with session.post(
                self._url, data=body, allow_redirects=False, timeout=deadline
            ) as resp:
                status = resp.status
                headers = resp.headers
                payload = await self._read(resp)
        except Exception as exc:  # every failure becomes an APIError, its outcome decided
            seconds = self._timeout if limit is None else limit
            raise exchange_error(exc, answered=resp is not None, timeout=seconds) from exc
        if sink is not None:
            sink.status = status
            sink.headers = headers

        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "POST %s -> %d in %.1f ms (x-request-id %s)",
                GROUP_MMS_PATH,
                status,
                (time.perf_counter() - started) * 1000.0,
                headers.get("x-request-id"),
            )
        if 200 <= status < 300:
            if payload is None:
                raise APIResponseValidationError(
                    f"Telnyx answered {status} with a body over {self._max_response_bytes} bytes",
                    status_code=status,
                )
            return decode_message(self._converter, status, payload)
        raise error_from_response(self._converter, status, headers, payload or b"")

    def _timeout_of(self, seconds: float) -> aiohttp.ClientTimeout:
        # Built once per value: a client from with_options(timeout=...) sends with it often.
        found = self._timeouts.get(seconds)
        if found is None:
            found = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        return found

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes | None:
        """The body, or ``None`` when it is larger than the cap (not read in full)."""
        cap = self._max_response_bytes
        length = resp.content_length
        if length is not None and "Content-Encoding" not in resp.headers:
            if length > cap:
                return None
            return await resp.read()
        # Unknown or compressed length: count decompressed bytes as they arrive, so a
        # decompression bomb is stopped at the cap.
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            total += len(chunk)
            if total > cap:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the pooled connections; safe to call more than once, from any loop."""
        session, loop = self._session, self._loop
        self._session = None
        self._closed = True
        if session is None or session.closed:
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop is current:
            await session.close()
        elif loop is not None and loop.is_running():
            close = asyncio.run_coroutine_threadsafe(session.close(), loop)
            await asyncio.wrap_future(close)
        else:
            # The loop the session lived on is gone: its sockets cannot be closed
            # gracefully any more, so let go of them without warnings.
            self.abandon(session)

    @staticmethod
    def abandon(session: aiohttp.ClientSession) -> None:
        """Let go of a session whose event loop is closed, without warnings."""
        connector = session.connector
        session.detach()
        if connector is not None and not connector.closed:
            # With its loop closed, the connector only marks itself closed.
            connector._close()  # noqa: SLF001 - close() would hand back an awaitable

    def forget(self) -> None:
        """Drop the session without touching its sockets or loop (the child after ``fork``).

        The child shares the parent's sockets and selector: closing them here would
        unregister them from the parent's loop too.
        """
        session, self._session, self._loop = self._session, None, None
        if session is not None:
            connector = session.connector
            session.detach()
            if connector is not None:
                connector._closed = True  # noqa: SLF001 - skip the close that would harm the parent
