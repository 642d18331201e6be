"""Delivery webhooks from the sandbox: ``message.sent`` then ``message.finalized`` per
recipient, signed with ed25519 as Telnyx signs them, retried, then sent to the failover URL.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import attrs
import cattrs

from .._version import __version__
from .._wire.json_codec import dumps_stdlib
from ..models import FINAL_STATUSES, Message, MessageError, Recipient, RecipientStatus
from ._records import History
from ._wire import message_json, now

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["DeliveryOutcomes", "Signer", "WebhookAttempt", "WebhookDispatcher", "attempt_size"]

logger = logging.getLogger("telnyx_group_mms.sandbox")

#: Telnyx expects a webhook receiver to answer 2xx within this many seconds.
WEBHOOK_TIMEOUT = 2.0
_MAX_CONCURRENT_MESSAGES = 64
_INSTALL_HINT = "pip install 'telnyx-group-mms[webhooks]'"

# Realistic reasons a carrier gives for not delivering (Telnyx's 40xxx delivery errors).
_CARRIER_FAILURES = (
    ("40001", "Not routable", "The destination is a landline or a non-routable number."),
    ("40002", "Blocked as spam (temporary)", "The carrier's spam filter blocked the message."),
    ("40004", "Rejected by destination", "The recipient's carrier rejected the message."),
    ("40006", "Recipient unavailable", "The recipient's carrier server is unavailable."),
    ("40008", "Undeliverable", "The carrier did not accept the message."),
)
_FAILURE_FOR_STATUS = {
    RecipientStatus.SENDING_FAILED: ("40008", "Undeliverable", "The message could not be sent."),
    RecipientStatus.EXPIRED: ("40005", "Message expired", "The message expired before delivery."),
}


def _check_outcomes(instance: object, attribute: object, value: Mapping[str, str]) -> None:
    for number, status in value.items():
        if status not in FINAL_STATUSES:
            raise ValueError(
                f"{status!r} for {number} is not a final status; use one of "
                + ", ".join(sorted(FINAL_STATUSES))
            )


def _check_rate(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


@attrs.frozen(kw_only=True)
class DeliveryOutcomes:
    """How recipients fare in the ``message.finalized`` webhooks.

    Args:
        failure_rate: Probability that a recipient ends ``delivery_failed`` (with a
            realistic 40xxx error), drawn from the sandbox's seeded generator.
        statuses: A fixed final status for given numbers (``{"+18655551234":
            "delivery_failed"}``), which wins over ``failure_rate``.
    """

    failure_rate: float = attrs.field(default=0.0, validator=_check_rate)
    statuses: Mapping[str, str] = attrs.field(factory=dict, validator=_check_outcomes)


@attrs.frozen(kw_only=True)
class WebhookAttempt:
    """One POST of one webhook event, as the sandbox made it.

    Attributes:
        status: The receiver's HTTP status; ``None`` when it could not be reached in time.
    """

    event_id: str
    event_type: str
    message_id: str
    recipient: str
    url: str
    attempt: int
    status: int | None

    @property
    def ok(self) -> bool:
        """True when the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


def attempt_size(attempt: WebhookAttempt) -> int:
    """What an attempt counts for in its history, overhead aside: its URL."""
    return len(attempt.url)


class Signer:
    """An ed25519 key pair that signs webhooks as Telnyx does.

    Raises:
        ImportError: The ``cryptography`` package (extra ``webhooks``) is not installed.
    """

    def __init__(self) -> None:
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
        except ImportError as exc:
            raise ImportError(
                f"signing sandbox webhooks needs the cryptography package: {_INSTALL_HINT}"
            ) from exc
        self._key: Ed25519PrivateKey = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        """The base64 signature of ``f"{timestamp}|{body}"``."""
        return base64.b64encode(self._key.sign(timestamp.encode() + b"|" + body)).decode()


class WebhookDispatcher:
    """Delivers the webhooks of accepted messages in background tasks on the sandbox's loop."""

    def __init__(
        self,
        *,
        converter: cattrs.Converter,
        attempts: History[WebhookAttempt],
        signer: Signer | None,
        outcomes: DeliveryOutcomes,
        seed: int | None,
        max_attempts: int = 3,
        retry_delay: float = 0.1,
        timeout: float = WEBHOOK_TIMEOUT,
        time_scale: float = 1.0,
    ) -> None:
        self._converter = converter
        self._signer = signer
        self._outcomes = outcomes
        self._seed = None if seed is None else f"{seed}:deliveries"
        self._rng = random.Random(self._seed)
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._timeout = timeout
        self._time_scale = time_scale
        self._tasks: set[asyncio.Task[None]] = set()
        # Bumped by reset(): a delivery scheduled before it sends and records nothing
        # more. (A counter, not task.cancel(): reset() may run on another thread.)
        self._generation = 0
        self._session: aiohttp.ClientSession | None = None
        self._limit: asyncio.Semaphore | None = None
        self._warned = False
        #: Every POST made, within the limits the sandbox set on its history.
        self.attempts = attempts

    def schedule(self, message: Message) -> None:
        """Start delivering ``message``'s webhooks, if it has a webhook URL."""
        if message.webhook_url is None:
            return
        if self._signer is None:
            if not self._warned:
                self._warned = True
                logger.warning("sandbox webhooks are not sent: %s", _INSTALL_HINT)
            return
        finals = [self._final_for(r) for r in message.to]
        task = asyncio.get_running_loop().create_task(
            self._deliver_message(message, finals, self._generation)
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("sandbox webhook delivery failed", exc_info=task.exception())

    def _final_for(self, recipient: Recipient) -> tuple[str, MessageError | None]:
        status = self._outcomes.statuses.get(recipient.phone_number or "")
        if status is None:
            failed = self._rng.random() < self._outcomes.failure_rate
            status = RecipientStatus.DELIVERY_FAILED if failed else RecipientStatus.DELIVERED
        if status == RecipientStatus.DELIVERY_FAILED:
            code, title, detail = self._rng.choice(_CARRIER_FAILURES)
        elif status in _FAILURE_FOR_STATUS:
            code, title, detail = _FAILURE_FOR_STATUS[RecipientStatus(status)]
        else:
            return status, None
        return status, MessageError(code=code, title=title, detail=detail)

    async def _deliver_message(
        self, message: Message, finals: list[tuple[str, MessageError | None]], generation: int
    ) -> None:
        wait = message.wait_seconds or 0.0
        if wait:
            # A queued message is sent when it leaves its sender's queue, not before;
            # waiting here, outside the semaphore, holds up no other message.
            await asyncio.sleep(wait / self._time_scale)
        if self._limit is None:
            self._limit = asyncio.Semaphore(_MAX_CONCURRENT_MESSAGES)
        async with self._limit:
            sent_at = _not_before(now(), message.received_at, wait)
            for recipient in message.to:
                sent = attrs.evolve(recipient, status=RecipientStatus.SENT)
                payload = attrs.evolve(message, to=[sent], sent_at=sent_at)
                await self._deliver_event(
                    "message.sent", payload, occurred_at=sent_at, generation=generation
                )
            for recipient, (status, error) in zip(message.to, finals, strict=True):
                final = attrs.evolve(recipient, status=status)
                completed_at = max(now(), sent_at)
                payload = attrs.evolve(
                    message,
                    to=[final],
                    sent_at=sent_at,
                    completed_at=completed_at,
                    errors=[] if error is None else [error],
                )
                await self._deliver_event(
                    "message.finalized", payload, occurred_at=completed_at, generation=generation
                )

    async def _deliver_event(
        self, event_type: str, payload: Message, *, occurred_at: datetime, generation: int
    ) -> None:
        data = {
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": self._converter.unstructure(occurred_at),
            "payload": message_json(self._converter, payload),
            "record_type": "event",
        }
        urls = [u for u in (payload.webhook_url, payload.webhook_failover_url) if u]
        attempt = 0
        for url in urls:
            for tries in range(self._max_attempts):
                if tries:
                    await asyncio.sleep(self._retry_delay * 2 ** (tries - 1))
                if generation != self._generation:
                    return  # the sandbox was reset: this message is forgotten
                attempt += 1
                status, failure = await self._post(url, {"data": data, "meta": _meta(attempt, url)})
                if generation != self._generation:
                    return
                self.attempts.append(
                    WebhookAttempt(
                        event_id=data["id"],
                        event_type=event_type,
                        message_id=payload.id or "",
                        recipient=payload.to[0].phone_number or "",
                        url=url,
                        attempt=attempt,
                        status=status,
                    )
                )
                if status is not None and 200 <= status < 300:
                    return
                # One line per failed attempt, so a dead receiver shows; no number, no
                # text, and the URL without its query (which may carry a token).
                logger.warning(
                    "sandbox webhook %s for message %s: POST to %s failed (%s), try %d of %d",
                    event_type,
                    payload.id,
                    _shown(url),
                    failure or f"answered {status}",
                    tries + 1,
                    self._max_attempts,
                )

    async def _post(self, url: str, envelope: dict[str, Any]) -> tuple[int | None, str | None]:
        """The receiver's status, or ``None`` and why it could not be had."""
        assert self._signer is not None
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        body = dumps_stdlib(envelope)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"telnyx-group-mms-sandbox/{__version__}",
            "telnyx-timestamp": timestamp,
            "telnyx-signature-ed25519": self._signer.sign(timestamp, body),
        }
        try:
            # A redirect is the receiver's answer, not an errand: following a 303 would
            # let a webhook_url make the sandbox GET any other URL.
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                return response.status, None
        except TimeoutError:
            return None, f"no answer within {self._timeout:g} s"
        except aiohttp.ClientError as exc:
            return None, _reason(exc)

    async def drain(self) -> None:
        """Wait until every scheduled delivery has finished (retries included)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def reset(self) -> None:
        """Forget the attempts made so far and stop deliveries not yet made (queued
        messages' included); outcomes start again from the seed."""
        self._generation += 1
        self.attempts.clear()
        self._rng = random.Random(self._seed)

    async def aclose(self) -> None:
        """Cancel pending deliveries and close connections."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Both belong to this loop; a sandbox started again gets new ones on its new loop.
        self._limit = None
        if self._session is not None:
            await self._session.close()
            self._session = None


def _not_before(current: datetime, received_at: datetime | None, wait: float) -> datetime:
    """``current``, or when the message leaves its queue if that is later.

    Under a time scale above 1 the queue is left before the wall clock gets there; the
    webhooks still report the time Telnyx would have sent it.
    """
    if received_at is None or not wait:
        return current
    return max(current, received_at + timedelta(seconds=wait))


def _reason(exc: aiohttp.ClientError) -> str:
    """What went wrong, briefly: the error's class, and the system's word for it if any."""
    name = type(exc).__name__
    errno = getattr(exc, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return f"{name}: {os.strerror(errno)}"
    strerror = getattr(exc, "strerror", None)
    return f"{name}: {strerror}" if isinstance(strerror, str) and strerror else name


def _shown(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _meta(attempt: int, url: str) -> dict[str, Any]:
    return {"attempt": attempt, "delivered_to": url}
