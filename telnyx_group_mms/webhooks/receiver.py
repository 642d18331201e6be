"""A ready aiohttp handler for Telnyx webhooks: verify, de-duplicate, call you, answer fast.

>>> from aiohttp import web
>>> from telnyx_group_mms.webhooks.receiver import webhook_handler
>>> async def on_event(event):                       # doctest: +SKIP
...     tracker.feed(event)
>>> app = web.Application()
>>> webhook_handler(on_event).attach(app, "/webhooks/telnyx")   # doctest: +SKIP

``attach`` routes ``POST /webhooks/telnyx`` to the receiver's ``handle`` method.

Nothing is read that will be refused: the signature headers (present, well formed, a fresh
timestamp) are checked before the body is read, and the receiver reads at most
``max_body_bytes`` of body itself (256 KiB by default, decompressed bytes counted), whatever
the app's ``client_max_size`` says; beyond that the answer is 413.

Telnyx wants a 2xx within 2 seconds and retries otherwise. The handler runs your callback
as a task and waits for it up to ``ack_within`` seconds (1 s by default):

- if it finishes in time, the answer is 200, or 500 when it raised, so Telnyx delivers
  the event again (the de-duplicator forgets a failed event, so the retry is handled);
- if it is still running, the answer is 200 at once and the callback goes on in the
  background; its failure is then only logged, since the 200 has already told Telnyx the
  event was received. Keep slow work durable (a queue) if every event matters.

Background callbacks are finished (or, after a grace period, cancelled) when the app
cleans up: :meth:`WebhookReceiver.attach` arranges that, or call
:meth:`WebhookReceiver.aclose` yourself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import WebhookVerificationError
from ._dedupe import EventDeduplicator
from ._models import WebhookEvent
from ._signing import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TOLERANCE,
    check_tolerance,
    unwrap,
    verify_headers,
)

__all__ = ["EventCallback", "WebhookReceiver", "webhook_handler"]

logger = logging.getLogger("telnyx_group_mms.webhooks")

#: What the receiver calls with each verified, first-seen event.
EventCallback = Callable[[WebhookEvent], Awaitable[object]]


class WebhookReceiver:
    """Receives Telnyx webhooks in an aiohttp app (see :func:`webhook_handler`).

    :meth:`handle` is the request handler; :meth:`attach` routes it and arranges for
    background callbacks to finish when the app cleans up.
    """

    def __init__(
        self,
        callback: EventCallback,
        *,
        public_key: str | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        deduplicate: bool | EventDeduplicator = True,
        ack_within: float | None = 1.0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        check_tolerance(tolerance)
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise TypeError(f"max_body_bytes must be an int, not {max_body_bytes!r}")
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be at least 1, not {max_body_bytes!r}")
        if ack_within is not None and not ack_within >= 0:
            raise ValueError(f"ack_within must be >= 0 or None, not {ack_within!r}")
        self._callback = callback
        self._public_key = public_key
        self._tolerance = tolerance
        self._ack_within = ack_within
        self.max_body_bytes = max_body_bytes
        self.deduplicator: EventDeduplicator | None = (
            deduplicate
            if isinstance(deduplicate, EventDeduplicator)
            else (EventDeduplicator() if deduplicate else None)
        )
        self._tasks: set[asyncio.Task[bool]] = set()
        self._closed = False

    @property
    def pending(self) -> int:
        """How many callbacks are still running in the background."""
        return len(self._tasks)

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp request handler: route ``POST`` requests of your webhook path here."""
        if self._closed:
            return web.json_response({"error": "the receiver is shutting down"}, status=503)
        try:
            verify_headers(request.headers, tolerance=self._tolerance)
            body = await self._read_body(request)
            event = unwrap(
                body, request.headers, public_key=self._public_key, tolerance=self._tolerance
            )
        except _BodyTooLargeError:
            return _refuse(f"the webhook body is larger than {self.max_body_bytes} bytes", 413)
        except web.RequestPayloadError as exc:
            # Broken chunked framing, or a body that does not decompress.
            return _refuse(f"the webhook body could not be read: {exc}", 400)
        except WebhookVerificationError as exc:
            return _refuse(str(exc), 400)
        if self.deduplicator is not None and not self.deduplicator.first_time(event):
            return web.json_response({"status": "duplicate"})
        task = asyncio.get_running_loop().create_task(self._run(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # asyncio.wait neither raises nor cancels the task when the time is up, and a
        # cancelled request leaves the callback running.
        if self._ack_within is None or self._ack_within > 0:
            await asyncio.wait((task,), timeout=self._ack_within)
        if not task.done():
            return web.json_response({"status": "accepted"})
        if task.cancelled() or not task.result():
            return web.json_response({"error": "the event callback failed"}, status=500)
        return web.json_response({"status": "ok"})

    async def _read_body(self, request: web.Request) -> bytes:
        """The body, read from the stream: ``request.read()`` would apply the app's limit.

        Raises:
            _BodyTooLargeError: As soon as the body is known to exceed the limit; the
                rest is left unread.
        """
        limit = self.max_body_bytes
        length = request.content_length
        if length is not None and length > limit:
            raise _BodyTooLargeError
        body = bytearray()
        while chunk := await request.content.read(limit + 1 - len(body)):
            body += chunk
            if len(body) > limit:
                raise _BodyTooLargeError
        return bytes(body)

    def attach(self, app: web.Application, path: str) -> None:
        """Serve ``POST path`` with this receiver, and finish its callbacks on app cleanup."""
        app.router.add_post(path, self.handle)
        app.on_cleanup.append(self._on_cleanup)

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Refuse new webhooks (503), wait up to ``grace`` seconds for running callbacks,
        then cancel those still running."""
        self._closed = True
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        if late:
            logger.warning("cancelled %d webhook callback(s) still running at shutdown", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    async def _on_cleanup(self, _app: web.Application) -> None:
        await self.aclose()

    async def _run(self, event: WebhookEvent) -> bool:
        # The callback is user code: whatever it raises is contained, logged, and turned
        # into a 500 (or only a log line once the 200 has gone).
        try:
            await self._callback(event)
        except Exception:
            logger.exception(
                "the webhook callback failed for event %s (%s)", event.id, event.event_type
            )
            if self.deduplicator is not None:
                self.deduplicator.forget(event)
            return False
        return True


class _BodyTooLargeError(Exception):
    """The request's body is longer than the receiver's ``max_body_bytes``."""


def _refuse(reason: str, status: int) -> web.Response:
    # What is left of a refused body is read and dropped by aiohttp after the answer (its
    # lingering close, up to 10 s), so that the sender gets the answer; none of it is kept.
    logger.warning("rejected a webhook: %s", reason)
    return web.json_response({"error": reason}, status=status)


def webhook_handler(
    callback: EventCallback,
    *,
    public_key: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    deduplicate: bool | EventDeduplicator = True,
    ack_within: float | None = 1.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebhookReceiver:
    """An aiohttp handler that verifies Telnyx webhooks and passes each event to ``callback``.

    Args:
        callback: An async function called once per verified event (duplicates skipped).
        public_key: The base64 ed25519 public key; defaults to ``TELNYX_PUBLIC_KEY``.
        tolerance: Seconds a webhook's timestamp may differ from the local clock.
        deduplicate: True for an in-memory de-duplicator by event id, False for none, or
            an :class:`~telnyx_group_mms.EventDeduplicator` of your own (to share it).
        ack_within: Seconds to wait for the callback before answering 200 anyway; 0
            always answers at once, None always waits.
        max_body_bytes: The largest body read, in bytes (decompressed); a larger one is
            answered 413 unread. The app's ``client_max_size`` does not apply.

    Returns:
        The receiver: ``receiver.attach(app, "/path")``; or route ``receiver.handle``
        yourself and ``await receiver.aclose()`` when the app shuts down.
    """
    return WebhookReceiver(
        callback,
        public_key=public_key,
        tolerance=tolerance,
        deduplicate=deduplicate,
        ack_within=ack_within,
        max_body_bytes=max_body_bytes,
    )
