"""``Telnyx``: the sync client, a thin facade over :class:`AsyncTelnyx`.

Every call runs the async core on one private event loop in a daemon thread; nothing
is re-implemented here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, TypeVar

from .client import AsyncTelnyx
from .errors import TelnyxError
from .loop_thread import LoopThread
from .models import Message
from .request import GroupMmsRequest
from .retry import RetryPolicy

__all__ = ["Messages", "Telnyx"]

T = TypeVar("T")

# Seconds the interpreter waits at exit for an unclosed client to close its connections.
_EXIT_CLOSE_TIMEOUT = 5.0


class _Runtime:
    """The loop thread and async client of one process (a forked child gets new ones)."""

    def __init__(self, core: AsyncTelnyx) -> None:
        self.pid = os.getpid()
        self.core = core
        self.portal = LoopThread()

    def shutdown(self) -> None:
        # Also runs at interpreter exit for a client never closed: close politely, bounded.
        if os.getpid() != self.pid or not self.portal.started:
            return
        with contextlib.suppress(Exception):  # closing must never raise at exit
            self.portal.run(self.core.aclose(), timeout=_EXIT_CLOSE_TIMEOUT)
        self.portal.stop()


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
    ) -> None:
        core = AsyncTelnyx(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            max_response_bytes=max_response_bytes,
        )
        self._lock = threading.Lock()
        self._closed = False
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

    def _run(self, call: Callable[[AsyncTelnyx], Coroutine[Any, Any, T]]) -> T:
        if self._closed:
            raise TelnyxError("this client is closed; create a new one")
        runtime = self._current()
        return runtime.portal.run(call(runtime.core))

    @property
    def base_url(self) -> str:
        """The API root this client sends to."""
        return self._runtime.core.base_url

    def __repr__(self) -> str:
        state = "closed" if self._closed else self._runtime.core.state.value
        return f"<Telnyx base_url={self.base_url!r} state={state}>"

    def close(self) -> None:
        """Close connections and stop the private loop. Idempotent."""
        self._closed = True
        if self._runtime.pid == os.getpid():
            self._finalizer()

    def __enter__(self) -> Telnyx:
        if self._closed:
            raise TelnyxError("this client is closed; create a new one")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Messages:
    """Sends group MMS messages; reached as ``Telnyx(...).messages``."""

    def __init__(self, client: Telnyx) -> None:
        self._client = client

    def send(self, request: GroupMmsRequest, /) -> Message:
        """Send one validated request; see :meth:`AsyncMessages.send`."""
        return self._client._run(lambda core: core.messages.send(request))  # noqa: SLF001

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
        return self.send(request)
