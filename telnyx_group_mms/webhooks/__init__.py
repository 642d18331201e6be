"""Verify Telnyx webhooks and parse them into events, with no web framework involved.

Verification and signing live in :mod:`._signing`, the event models in :mod:`._models`,
parsing in :mod:`._parsing`, de-duplication in :mod:`._dedupe` and the delivery tracker in
:mod:`._tracker`. The aiohttp receiver is :mod:`telnyx_group_mms.webhooks.receiver`, a module
of its own: importing this package does not load aiohttp.
"""

from ..errors import WebhookVerificationError
from ._dedupe import EventDeduplicator
from ._models import WebhookEvent, WebhookEventType, WebhookMeta
from ._parsing import parse_event
from ._signing import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_TOLERANCE,
    PUBLIC_KEY_ENV,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_tolerance as check_tolerance,  # public before the move; kept importable
    generate_key_pair,
    sign,
    unwrap,
    verify,
    verify_headers,
)
from ._tracker import DeliveryTracker

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
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
    "verify_headers",
]
