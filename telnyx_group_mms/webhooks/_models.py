"""The events a Telnyx webhook carries, as frozen models with Python names.

Parsing and verification live in :mod:`telnyx_group_mms.webhooks`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from ..models import Message

__all__ = ["WebhookEvent", "WebhookEventType", "WebhookMeta"]


class WebhookEventType(enum.StrEnum):
    """The event types whose payload is parsed into a :class:`~telnyx_group_mms.Message`."""

    MESSAGE_SENT = "message.sent"
    MESSAGE_FINALIZED = "message.finalized"
    MESSAGE_RECEIVED = "message.received"


@attrs.frozen(kw_only=True)
class WebhookMeta:
    """How Telnyx delivered a webhook: the attempt number and the URL it was sent to."""

    attempt: int | None = None
    delivered_to: str | None = None


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One verified Telnyx webhook.

    Attributes:
        id: The event id, the same on every retry of the webhook (use it to de-duplicate).
        event_type: A :class:`WebhookEventType`, or the plain string of another event type.
        occurred_at: When the event happened (timezone-aware), if Telnyx said.
        record_type: ``"event"`` for every Telnyx event.
        payload: A :class:`~telnyx_group_mms.Message` for message events, else the
            payload object as received.
        meta: Delivery details, when the envelope had them.
    """

    id: str
    event_type: WebhookEventType | str
    occurred_at: datetime | None = None
    record_type: str | None = None
    payload: Message | dict[str, Any]
    meta: WebhookMeta | None = None
