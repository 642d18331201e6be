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
import math
import os
import re
import time
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from ..errors import WebhookVerificationError
from ._models import WebhookEvent
from ._parsing import parse_event

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "PUBLIC_KEY_ENV",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "check_tolerance",
    "generate_key_pair",
    "sign",
    "unwrap",
    "verify",
    "verify_headers",
]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
#: The environment variable holding the base64 public key when ``public_key`` is not given.
PUBLIC_KEY_ENV = "TELNYX_PUBLIC_KEY"
#: Seconds a webhook's timestamp may differ from the local clock, either way.
DEFAULT_TOLERANCE = 300.0
#: The largest webhook body a receiver reads (256 KiB): Telnyx's webhooks are a few KB, and
#: a receiver that reads whatever it is sent can be made to hold any amount of memory.
DEFAULT_MAX_BODY_BYTES = 256 * 1024

_INSTALL_HINT = "pip install 'telnyx-group-mms[webhooks]'"
# Unix seconds as ASCII digits; 12 digits reach far beyond any real clock and keep
# int() away from absurdly long input.
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_SIGNATURE_BYTES = 64
_KEY_BYTES = 32


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
        ValueError: ``tolerance`` is negative or not finite, or ``now`` is not finite.
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
        ValueError: ``tolerance`` is negative or not finite, or ``now`` is not finite.
    """
    signature, timestamp_text = _checked_headers(headers, tolerance=tolerance, now=now)
    key = _public_key(public_key)
    raw = _body_bytes(payload)
    from cryptography.exceptions import InvalidSignature  # present: _public_key loaded it

    try:
        key.verify(signature, timestamp_text.encode("ascii") + b"|" + raw)
    except InvalidSignature:
        raise WebhookVerificationError(
            "the signature does not match the body and timestamp "
            "(a different public key, or a body altered after signing)"
        ) from None
    return raw


def verify_headers(
    headers: Mapping[str, str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """The checks that need no body: both headers present and well formed, the timestamp fresh.

    A receiver calls this before it reads the body, so that an unsigned or stale request is
    refused unread; :func:`unwrap` makes the same checks again, then checks the signature.

    Raises:
        WebhookVerificationError: A header is missing or malformed, or the timestamp is
            beyond ``tolerance``; the message names the cause.
        ValueError: ``tolerance`` is negative or not finite, or ``now`` is not finite.
    """
    _checked_headers(headers, tolerance=tolerance, now=now)


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


def check_tolerance(tolerance: float) -> None:
    """Refuse a tolerance that would let stale webhooks through (negative, nan, infinite)."""
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number of seconds >= 0, not {tolerance!r}")


def _checked_headers(
    headers: Mapping[str, str], *, tolerance: float, now: float | None
) -> tuple[bytes, str]:
    # The signature bytes and the timestamp text, once both are known to be usable.
    check_tolerance(tolerance)
    if now is not None and not math.isfinite(now):
        # nan compares false with everything: it would pass every timestamp.
        raise ValueError(f"now must be a finite number of Unix seconds, not {now!r}")
    signature_text, timestamp_text = _signature_headers(headers)
    if not _TIMESTAMP_RE.fullmatch(timestamp_text):
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} header is not a whole number of Unix seconds: "
            f"{_clip(timestamp_text)}"
        )
    age = (time.time() if now is None else now) - int(timestamp_text)
    if abs(age) > tolerance:
        when = "old" if age > 0 else "in the future"
        raise WebhookVerificationError(
            f"the webhook timestamp is {_beyond(abs(age), tolerance)} s {when}, "
            f"beyond the tolerance of {_seconds(tolerance)} s"
        )
    signature = _b64decode(signature_text, what=f"the {SIGNATURE_HEADER} header")
    if len(signature) != _SIGNATURE_BYTES:
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header decodes to {len(signature)} bytes, "
            f"not a {_SIGNATURE_BYTES}-byte ed25519 signature"
        )
    return signature, timestamp_text


def _beyond(age: float, tolerance: float) -> str:
    # The age with as few decimals as it takes to stay above the tolerance, truncated so
    # that it never overstates: 300.3 s, not "300 s, beyond the tolerance of 300 s".
    # Decimal, since float truncation turns 300.3 into 300.29999...; the microsecond
    # rounding first drops float noise only.
    exact, limit = Decimal(repr(round(age, 6))), Decimal(_seconds(tolerance))
    for digits in range(7):
        shown = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN)
        if shown > limit:
            return str(shown)
    return str(exact)


def _seconds(value: float) -> str:
    value = float(value)  # an int tolerance is welcome too
    return str(int(value)) if value.is_integer() else repr(value)


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
