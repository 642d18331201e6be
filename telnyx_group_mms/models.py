"""Response models: the message Telnyx returns, with Python names.

Every model is a frozen, keyword-only attrs class. Wire names (``from``) live only in
:mod:`telnyx_group_mms.serialization`; here the sender is ``from_``.

Parsing is tolerant because Telnyx's own documents disagree on shapes: a missing field
is ``None`` (or an empty list), unknown fields are kept in :attr:`Message.extra`, and a
status or type this package does not know yet is kept as its plain string.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

__all__ = [
    "CostBreakdown",
    "Direction",
    "ErrorSource",
    "FINAL_STATUSES",
    "Media",
    "Message",
    "MessageError",
    "MessageType",
    "Money",
    "Recipient",
    "RecipientStatus",
    "Sender",
]


class MessageType(enum.StrEnum):
    """The kind of message Telnyx sent (a group MMS is always ``MMS``)."""

    SMS = "SMS"
    MMS = "MMS"


class Direction(enum.StrEnum):
    """Whether the message was sent by you (outbound) or to you (inbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class RecipientStatus(enum.StrEnum):
    """The delivery status of one recipient, as Telnyx reports it."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    EXPIRED = "expired"
    SENDING_FAILED = "sending_failed"
    DELIVERY_UNCONFIRMED = "delivery_unconfirmed"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RECEIVED = "received"


#: Statuses after which Telnyx sends no further update for a recipient.
FINAL_STATUSES: frozenset[str] = frozenset(
    {
        RecipientStatus.DELIVERED,
        RecipientStatus.DELIVERY_FAILED,
        RecipientStatus.SENDING_FAILED,
        RecipientStatus.DELIVERY_UNCONFIRMED,
        RecipientStatus.EXPIRED,
    }
)


@attrs.frozen(kw_only=True)
class Sender:
    """The sending address of a message."""

    phone_number: str | None = None
    carrier: str | None = None
    line_type: str | None = None


@attrs.frozen(kw_only=True)
class Recipient:
    """One recipient of a message and its delivery status."""

    phone_number: str | None = None
    carrier: str | None = None
    line_type: str | None = None
    status: RecipientStatus | str | None = None


@attrs.frozen(kw_only=True)
class Media:
    """One media item attached to a message."""

    url: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    size: int | None = None


@attrs.frozen(kw_only=True)
class Money:
    """An amount of money; ``amount`` is always a :class:`~decimal.Decimal`."""

    amount: Decimal | None = None
    currency: str | None = None


@attrs.frozen(kw_only=True)
class CostBreakdown:
    """The parts a message's cost is made of."""

    carrier_fee: Money | None = None
    rate: Money | None = None


@attrs.frozen(kw_only=True)
class ErrorSource:
    """Where in the request an error points."""

    pointer: str | None = None
    parameter: str | None = None


@attrs.frozen(kw_only=True)
class MessageError:
    """One entry of Telnyx's ``errors`` list.

    ``code`` is the string exactly as Telnyx sent it (``"40300"``, ``"10011"``).
    """

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    source: ErrorSource | None = None
    meta: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Message:
    """A message as Telnyx describes it in a send response or a webhook.

    Fields Telnyx did not send are ``None`` (or empty lists); fields this package does
    not know are kept, as received, in ``extra``.
    """

    id: str | None = None
    record_type: str | None = None
    direction: Direction | str | None = None
    type: MessageType | str | None = None
    messaging_profile_id: str | None = None
    organization_id: str | None = None
    from_: Sender | None = None
    to: list[Recipient] = attrs.field(factory=list)
    cc: list[Recipient] = attrs.field(factory=list)
    text: str | None = None
    subject: str | None = None
    media: list[Media] = attrs.field(factory=list)
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    encoding: str | None = None
    parts: int | None = None
    num_chars: int | None = None
    smart_encoding_applied: bool | None = None
    tags: list[str] = attrs.field(factory=list)
    cost: Money | None = None
    cost_breakdown: CostBreakdown | None = None
    tcr_campaign_id: str | None = None
    tcr_campaign_billable: bool | None = None
    tcr_campaign_registered: str | None = None
    received_at: datetime | None = None
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    valid_until: datetime | None = None
    errors: list[MessageError] = attrs.field(factory=list)
    wait_seconds: float | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)
