"""Verify Telnyx webhooks and parse them into events, with no web framework involved.

Telnyx signs every webhook with ed25519 over ``f"{timestamp}|"`` followed by the raw body,
and sends the signature (base64) and the timestamp (Unix seconds) in the headers
``telnyx-signature-ed25519`` and ``telnyx-timestamp``. :func:`unwrap` checks both against
the public key from the Telnyx portal and returns a :class:`WebhookEvent`; anything wrong
with the request raises :class:`WebhookVerificationError` naming the cause.

The ``cryptography`` package does the ed25519 work; it is imported only when a webhook is
verified (``pip install 'telnyx-group-mms[webhooks]'``). Without it verification fails
closed: every webhook is rejected with an error saying how to install it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .delivery_tracker import DeliveryTracker
from .errors import WebhookVerificationError
from .models import Message
from .serialization import PARSE_ERRORS, get_converter
from .webhook_models import WebhookEvent, WebhookEventType, WebhookMeta

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "DEFAULT_TOLERANCE",
    "DeliveryTracker",
    "EventDeduplicator",
    "PUBLIC_KEY_ENV",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookMeta",
    "WebhookVerificationError",
    "generate_key_pair",
    "parse_event",
    "sign",
    "unwrap",
    "verify",
]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
#: The environment variable holding the base64 public key when ``public_key`` is not given.
PUBLIC_KEY_ENV = "TELNYX_PUBLIC_KEY"
#: Seconds a webhook's timestamp may differ from the local clock, either way.
DEFAULT_TOLERANCE = 300.0

_INSTALL_HINT = "pip install 'telnyx-group-mms[webhooks]'"
# Unix seconds as ASCII digits; 12 digits reach far beyond any real clock and keep
# int() away from absurdly long input.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_BYTES = 64
_KEY_BYTES = 32
# Deeply nested JSON can exhaust the recursion limit; that is bad input like any other.
_PARSE_ERRORS: tuple[type[BaseException], ...] = (*PARSE_ERRORS, RecursionError)
_EVENT_TYPES: Mapping[str, WebhookEventType] = {t.value: t for t in WebhookEventType}


def unwrap(
    payload: bytes | str,
    headers: Mapping[str, str],
    *,
    public_key: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a webhook and parse it into an event.

    Args:
        payload: The request body exactly as received (``str`` is encoded as UTF-8).
        headers: The request headers; names are matched case-insensitively.
        public_key: The base64 ed25519 public key from the Telnyx portal; defaults to the
            ``TELNYX_PUBLIC_KEY`` environment variable.
        tolerance: Seconds the timestamp may lie before or after ``now``.
        now: The current Unix time (defaults to :func:`time.time`).

    Returns:
        The verified event.

    Raises:
        WebhookVerificationError: The webhook is not signed by that key, is stale, or is
            not a Telnyx event; the message names the cause.
        ValueError: ``tolerance`` is negative.
    """
    raw = verify(payload, headers, public_key=public_key, tolerance=tolerance, now=now)
    return parse_event(raw)


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    *,
    public_key: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bytes:
    """Check a webhook's signature and timestamp without parsing its body.

    Takes the same arguments as :func:`unwrap`.

    Returns:
        The raw body bytes that were verified.

    Raises:
        WebhookVerificationError: Like :func:`unwrap`, except for body parsing.
        ValueError: ``tolerance`` is negative.
    """
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be a number of seconds >= 0, not {tolerance!r}")
    key = _public_key(public_key)
    raw = _body_bytes(payload)
    signature_text, timestamp_text = _signature_headers(headers)
    if not _TIMESTAMP_RE.fullmatch(timestamp_text):
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} header is not a whole number of Unix seconds: "
            f"{_clip(timestamp_text)}"
        )
    age = (time.time() if now is None else now) - int(timestamp_text)
    if age > tolerance:
        raise WebhookVerificationError(
            f"the webhook timestamp is {age:.0f} s old, beyond the tolerance of {tolerance:g} s"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the webhook timestamp is {-age:.0f} s in the future, "
            f"beyond the tolerance of {tolerance:g} s"
        )
    signature = _b64decode(signature_text, what=f"the {SIGNATURE_HEADER} header")
    if len(signature) != _SIGNATURE_BYTES:
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header decodes to {len(signature)} bytes, "
            f"not a {_SIGNATURE_BYTES}-byte ed25519 signature"
        )
    from cryptography.exceptions import InvalidSignature  # present: _public_key loaded it

    try:
        key.verify(signature, timestamp_text.encode("ascii") + b"|" + raw)
    except InvalidSignature:
        raise WebhookVerificationError(
            "the signature does not match the body and timestamp "
            "(a different public key, or a body altered after signing)"
        ) from None
    return raw


def parse_event(payload: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """Parse a webhook body into an event, without verifying it.

    Use :func:`unwrap` for webhooks from the network; this is for bodies already verified
    (or stored) elsewhere.

    Raises:
        WebhookVerificationError: The body is not JSON, or not a Telnyx event.
    """
    if isinstance(payload, Mapping):
        document: object = payload
    else:
        try:
            document = json.loads(payload)
        except (ValueError, TypeError, RecursionError) as exc:
            raise WebhookVerificationError(f"the webhook body is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise _not_an_event("the body is not a JSON object")
    data = document.get("data")
    if not isinstance(data, Mapping):
        raise _not_an_event("it has no 'data' object")
    event_id = data.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise _not_an_event("data.id is missing or not a string")
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise _not_an_event("data.event_type is missing or not a string")
    record_type = data.get("record_type")
    if record_type is not None and not isinstance(record_type, str):
        raise _not_an_event("data.record_type is not a string")
    body = data.get("payload")
    if not isinstance(body, Mapping):
        raise _not_an_event("data.payload is missing or not an object")
    known_type = _EVENT_TYPES.get(event_type)
    converter = get_converter()
    try:
        occurred_raw = data.get("occurred_at")
        occurred_at = None if occurred_raw is None else converter.structure(occurred_raw, datetime)
        message = None if known_type is None else converter.structure(body, Message)
    except _PARSE_ERRORS as exc:
        raise _not_an_event(f"{event_type} does not have the expected shape: {exc}") from None
    return WebhookEvent(
        id=event_id,
        event_type=known_type or event_type,
        occurred_at=occurred_at,
        record_type=record_type,
        payload=dict(body) if message is None else message,
        meta=_meta(document.get("meta")),
    )


class EventDeduplicator:
    """Remembers recent event ids, so a webhook Telnyx retried is handled once.

    In memory and bounded: past ``max_size`` ids the least recently seen is forgotten.
    Safe to share between threads.

    >>> dedupe = EventDeduplicator()
    >>> if dedupe.first_time(event):  # doctest: +SKIP
    ...     handle(event)
    """

    def __init__(self, *, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, not {max_size!r}")
        self.max_size = max_size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event: WebhookEvent | str) -> bool:
        """Record an event (or event id); True if it had not been seen before."""
        event_id = _event_id(event)
        with self._lock:
            if event_id in self._ids:
                self._ids.move_to_end(event_id)
                return False
            self._ids[event_id] = None
            if len(self._ids) > self.max_size:
                self._ids.popitem(last=False)
            return True

    def forget(self, event: WebhookEvent | str) -> None:
        """Forget an event, so its next delivery counts as the first (after a failure)."""
        with self._lock:
            self._ids.pop(_event_id(event), None)

    def __contains__(self, event: object) -> bool:
        if not isinstance(event, WebhookEvent | str):
            return False
        with self._lock:
            return _event_id(event) in self._ids

    def __len__(self) -> int:
        return len(self._ids)


def generate_key_pair() -> tuple[str, str]:
    """A new ed25519 key pair for tests and local tools, as ``(private, public)`` base64.

    Raises:
        WebhookVerificationError: ``cryptography`` is not installed.
    """
    private_cls, _ = _ed25519()
    private = private_cls.generate()
    raw_private = private.private_bytes_raw()
    raw_public = private.public_key().public_bytes_raw()
    return base64.b64encode(raw_private).decode(), base64.b64encode(raw_public).decode()


def sign(payload: bytes | str, *, private_key: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Telnyx would send with ``payload``, signed with ``private_key``.

    For tests of a receiver and for local tools that play Telnyx; ``private_key`` is the
    base64 of a raw 32-byte ed25519 private key (see :func:`generate_key_pair`).

    Raises:
        WebhookVerificationError: ``cryptography`` is not installed, or the key is malformed.
    """
    raw_key = _b64decode(private_key, what="the private key")
    if len(raw_key) != _KEY_BYTES:
        raise WebhookVerificationError(f"the private key must be {_KEY_BYTES} bytes")
    key = _ed25519()[0].from_private_bytes(raw_key)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode("ascii") + b"|" + _body_bytes(payload))
    return {SIGNATURE_HEADER: base64.b64encode(signature).decode(), TIMESTAMP_HEADER: stamp}


def _public_key(public_key: str | None) -> Ed25519PublicKey:
    text = os.environ.get(PUBLIC_KEY_ENV) if public_key is None else public_key
    if not text or not text.strip():
        raise WebhookVerificationError(
            f"no public key to verify webhooks with: pass public_key= or set {PUBLIC_KEY_ENV}"
        )
    return _load_public_key(text.strip())


@functools.lru_cache(maxsize=16)
def _load_public_key(text: str) -> Ed25519PublicKey:
    # Cached: a busy receiver verifies every webhook with the same key.
    _, public_cls = _ed25519()
    raw = _b64decode(text, what="the public key")
    if len(raw) != _KEY_BYTES:
        raise WebhookVerificationError(
            f"the public key decodes to {len(raw)} bytes, not a {_KEY_BYTES}-byte ed25519 key"
        )
    return public_cls.from_public_bytes(raw)


def _ed25519() -> tuple[type[Ed25519PrivateKey], type[Ed25519PublicKey]]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
            Ed25519PublicKey,
        )
    except ImportError:
        raise WebhookVerificationError(
            "verifying webhooks needs the 'cryptography' package, and no webhook is "
            f"accepted without it: {_INSTALL_HINT}"
        ) from None
    return Ed25519PrivateKey, Ed25519PublicKey


def _signature_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    # One pass over the headers serves plain dicts in any case and multidicts alike.
    found: dict[str, str] = {}
    try:
        items = list(headers.items())
    except (AttributeError, TypeError):
        raise WebhookVerificationError("the headers are not a mapping") from None
    for name, value in items:
        key = _text(name).lower() if isinstance(name, str | bytes) else None
        if key not in (SIGNATURE_HEADER, TIMESTAMP_HEADER):
            continue
        if not isinstance(value, str | bytes):
            raise WebhookVerificationError(f"the {key} header is not text")
        text = _text(value).strip()
        if found.setdefault(key, text) != text:
            raise WebhookVerificationError(f"the {key} header appears twice with different values")
    for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER):
        if not found.get(name):
            raise WebhookVerificationError(f"missing header {name}")
    return found[SIGNATURE_HEADER], found[TIMESTAMP_HEADER]


def _text(value: str | bytes) -> str:
    # HTTP header bytes are Latin-1 by definition; any byte decodes.
    return value if isinstance(value, str) else value.decode("latin-1")


def _body_bytes(payload: bytes | str) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        try:
            return payload.encode("utf-8")
        except UnicodeEncodeError:
            raise WebhookVerificationError("the webhook body is not valid Unicode text") from None
    raise WebhookVerificationError(
        f"the webhook body must be bytes or str, not {type(payload).__name__}"
    )


def _b64decode(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError(f"{what} is not valid base64") from None


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _not_an_event(reason: str) -> WebhookVerificationError:
    return WebhookVerificationError(f"the webhook body is not a Telnyx event: {reason}")


def _meta(value: object) -> WebhookMeta | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _not_an_event("meta is not an object")
    attempt = value.get("attempt")
    delivered_to = value.get("delivered_to")
    if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int)):
        raise _not_an_event("meta.attempt is not an integer")
    if delivered_to is not None and not isinstance(delivered_to, str):
        raise _not_an_event("meta.delivered_to is not a string")
    return WebhookMeta(attempt=attempt, delivered_to=delivered_to)


def _event_id(event: WebhookEvent | str) -> str:
    return event if isinstance(event, str) else event.id
