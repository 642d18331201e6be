"""The models: the group MMS request (validated when built) and the message Telnyx returns.

Every model is a frozen, keyword-only attrs class. Wire names (``from``) live only in
:mod:`telnyx_group_mms._wire.serialization`; here the sender is ``from_``.

Parsing is tolerant because Telnyx's own documents disagree on shapes: a missing field
is ``None`` (or an empty list), unknown fields are kept in :attr:`Message.extra`, and a
status or type this package does not know yet is kept as its plain string.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from ._numbers import E164, SHORT_CODE
from ._url_checks import http_url_problem
from .errors import RequestValidationError

__all__ = [
    "CostBreakdown",
    "Direction",
    "ErrorSource",
    "FINAL_STATUSES",
    "GroupMmsRequest",
    "MAX_MEDIA_URLS",
    "MAX_RECIPIENTS",
    "Media",
    "Message",
    "MessageError",
    "MessageType",
    "Money",
    "RateLimitInfo",
    "RawResponse",
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


# The request: validated on construction so that bad input never reaches Telnyx.
#: Telnyx accepts at most this many recipients in one group MMS.
MAX_RECIPIENTS = 8
#: At most this many media URLs per message.
MAX_MEDIA_URLS = 10


def _fail(field: str, problem: str) -> RequestValidationError:
    return RequestValidationError(f"{field}: {problem}", field=field)


def _as_str_tuple(value: object, field: str) -> tuple[str, ...]:
    # A bare string is a sequence too; taking it apart character by character
    # would produce a baffling error, so name the mistake instead.
    # Lists and tuples first: the Sequence check is an ABC lookup, needed only for others.
    if (value.__class__ is not list and value.__class__ is not tuple) and (
        isinstance(value, str | bytes) or not isinstance(value, Sequence)
    ):
        raise _fail(field, f"must be a list of strings, not {type(value).__name__}")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _fail(f"{field}[{i}]", f"must be a string, not {type(item).__name__}")
    return items


def _check_sendable(field: str, value: str) -> None:
    # A lone surrogate (left by a lenient decode, or by a JSON "\ud800" escape) cannot be
    # encoded as UTF-8: refuse it here, not when the body is encoded inside a send.
    # ASCII text (the commonest) cannot hold one, and isascii() reads a flag, not the text.
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(
            field, f"has a lone surrogate at position {exc.start}, which is not valid text"
        ) from None


def _check_url(field: str, value: object) -> None:
    if not isinstance(value, str):
        raise _fail(field, f"must be a string, not {type(value).__name__}")
    _check_sendable(field, value)
    problem = http_url_problem(value)
    if problem is not None:
        raise _fail(field, f"{value!r} {problem}")


@attrs.frozen(kw_only=True)
class GroupMmsRequest:
    """One group MMS: one sender, up to 8 recipients, text and/or media.

    Validated on construction; any problem raises :class:`RequestValidationError` naming
    the field, and nothing is sent.

    Args:
        from_: The sending number, +E.164 (``+13125551234``).
        to: 1 to 8 distinct recipients, each +E.164 or a 5-6 digit short code.
        text: The message body; when given, not empty.
        subject: The MMS subject line.
        media_urls: Up to 10 http(s) URLs; the media must total under 1 MB. Every URL
            must be well formed: a host name or IP address (IPv6 in brackets), a port
            from 1 to 65535 if any, no user name or password, no spaces.
        webhook_url: Where Telnyx posts delivery updates for this message.
        webhook_failover_url: Where they go if ``webhook_url`` fails.
        use_profile_webhooks: Also use the messaging profile's webhooks
            (Telnyx's default is true).

    Raises:
        RequestValidationError: The request breaks one of Telnyx's rules.
    """

    from_: str
    to: Sequence[str]
    text: str | None = None
    subject: str | None = None
    media_urls: Sequence[str] | None = None
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    use_profile_webhooks: bool | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.from_, str) or E164.fullmatch(self.from_) is None:
            raise _fail("from_", f"{self.from_!r} is not a +E.164 phone number")

        to = _as_str_tuple(self.to, "to")
        if not to:
            raise _fail("to", "needs at least one recipient")
        if len(to) > MAX_RECIPIENTS:
            raise _fail("to", f"has {len(to)} recipients; at most {MAX_RECIPIENTS} are allowed")
        for i, number in enumerate(to):
            if E164.fullmatch(number) is None and SHORT_CODE.fullmatch(number) is None:
                raise _fail(
                    f"to[{i}]", f"{number!r} is neither a +E.164 number nor a 5-6 digit short code"
                )
        if len(set(to)) != len(to):
            dup = next(n for i, n in enumerate(to) if n in to[:i])
            raise _fail("to", f"{dup!r} appears more than once")
        object.__setattr__(self, "to", to)

        if self.text is not None:
            if not isinstance(self.text, str):
                raise _fail("text", f"must be a string, not {type(self.text).__name__}")
            if not self.text:
                raise _fail("text", "must not be empty; omit it to send media only")
            _check_sendable("text", self.text)
        if self.subject is not None:
            if not isinstance(self.subject, str):
                raise _fail("subject", f"must be a string, not {type(self.subject).__name__}")
            _check_sendable("subject", self.subject)

        if self.media_urls is not None:
            media = _as_str_tuple(self.media_urls, "media_urls")
            if len(media) > MAX_MEDIA_URLS:
                raise _fail(
                    "media_urls", f"has {len(media)} URLs; at most {MAX_MEDIA_URLS} are allowed"
                )
            for i, url in enumerate(media):
                _check_url(f"media_urls[{i}]", url)
            object.__setattr__(self, "media_urls", media or None)

        if self.text is None and not self.media_urls:
            raise _fail("text", "a message needs text or at least one media URL")

        if self.webhook_url is not None:
            _check_url("webhook_url", self.webhook_url)
        if self.webhook_failover_url is not None:
            _check_url("webhook_failover_url", self.webhook_failover_url)
        if self.use_profile_webhooks is not None and not isinstance(
            self.use_profile_webhooks, bool
        ):
            raise _fail("use_profile_webhooks", "must be true or false")


@attrs.frozen(kw_only=True)
class RateLimitInfo:
    """Telnyx's ``x-ratelimit-*`` headers, each ``None`` where absent or unreadable.

    Attributes:
        limit: Requests allowed in the window.
        remaining: Requests left in it.
        reset: Seconds until it resets.
    """

    limit: int | None
    remaining: int | None
    reset: float | None


@attrs.frozen(kw_only=True)
class RawResponse:
    """One send's HTTP answer, from ``client.messages.with_raw_response``.

    Attributes:
        status_code: The status of the answer (of the last attempt, after retries).
        headers: Its headers: a read-only mapping, case-insensitive.
        request_id: Telnyx's ``x-request-id``, the id support asks for.
        rate_limit: The ``x-ratelimit-*`` headers, parsed.
        attempts: POSTs made, retries included.
        elapsed: Seconds from the first attempt to the answer, waits included.
    """

    status_code: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    rate_limit: RateLimitInfo
    attempts: int
    elapsed: float
    message: Message = attrs.field(repr=False)

    @property
    def request_id(self) -> str | None:
        """Telnyx's ``x-request-id``, or ``None`` if it sent none."""
        return self.headers.get("x-request-id")

    def parse(self) -> Message:
        """The message Telnyx accepted, as the plain call returns it."""
        return self.message
