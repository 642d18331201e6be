"""The sandbox's own reading of a group MMS request, and the message it answers with.

Deliberately independent of :class:`~telnyx_group_mms.models.GroupMmsRequest`: the
sandbox stands in for Telnyx, so it must catch a request that a buggy client (this
SDK's included) lets through. No I/O here; :mod:`.app` feeds it bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from .._url_checks import http_url_problem
from ..models import (
    CostBreakdown,
    Direction,
    ErrorSource,
    Media,
    Message,
    MessageError,
    MessageType,
    Money,
    Recipient,
    RecipientStatus,
    Sender,
)

__all__ = [
    "MAX_MEDIA_URLS",
    "MAX_RECIPIENTS",
    "Account",
    "WireRequest",
    "api_error",
    "build_message",
    "encoding_of",
    "error_json",
    "message_json",
    "now",
    "parse_request",
]

MAX_RECIPIENTS = 8
MAX_MEDIA_URLS = 10
_MAX_URL_LENGTH = 2000

_E164_SHAPE = re.compile(r"\+[1-9][0-9]{1,14}")
# Group MMS reaches the US and Canada only: +1, then a 10-digit NANP number whose area
# code does not start with 0 or 1.
_NANP = re.compile(r"\+1[2-9][0-9]{9}")
_SHORT_CODE = re.compile(r"[0-9]{5,6}")

# GSM 03.38: the basic set and the extension table. Any other character means UCS-2.
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"
)

_CARRIERS = (
    "T-MOBILE USA, INC.",
    "CELLCO PARTNERSHIP DBA VERIZON WIRELESS",
    "AT&T WIRELESS",
    "US CELLULAR",
)
# What one recipient of an MMS costs in the sandbox: the rate plus the carrier's fee.
_RATE = Decimal("0.0150")
_CARRIER_FEE = Decimal("0.0050")
_CENTS = Decimal("0.0001")

_TITLES = {
    "10002": "Invalid phone number",
    "10003": "Invalid URL",
    "10004": "Missing required parameter",
    "10005": "Resource not found",
    "10007": "Unexpected error",
    "10009": "Authentication failed",
    "10010": "Authorization failed",
    "10011": "Too many requests",
    "10015": "Bad Request",
    "10016": "Phone number must be in +E.164 format",
    "40300": "Blocked due to STOP message",
    "40318": "Message queue full",
}


_DETAILS = {
    "10005": "The requested resource or URL could not be found.",
    "10007": "An unexpected error occurred.",
    "10009": (
        "The required authentication headers were either invalid or not included in the request."
    ),
    "10010": "You do not have permission to perform the requested action.",
    "10011": "You have exceeded the maximum number of allowed requests.",
    "10015": "The request failed because it was not well-formed.",
    "40300": "A recipient has opted out of messages from this number (STOP).",
    "40318": "Message queue is full. Wait before resending.",
}


def api_error(code: str, detail: str | None = None, *, pointer: str | None = None) -> MessageError:
    """One Telnyx error, titled (and by default detailed) as Telnyx does for that code."""
    return MessageError(
        code=code,
        title=_TITLES.get(code, "Error"),
        detail=detail if detail is not None else _DETAILS.get(code),
        source=None if pointer is None else ErrorSource(pointer=pointer),
    )


def error_json(error: MessageError) -> dict[str, Any]:
    """The wire form of one error, leaving out what is unset (the schema allows no nulls)."""
    wire: dict[str, Any] = {"code": error.code, "title": error.title}
    if error.detail is not None:
        wire["detail"] = error.detail
    if error.source is not None:
        wire["source"] = {
            k: v
            for k, v in (("pointer", error.source.pointer), ("parameter", error.source.parameter))
            if v is not None
        }
    if error.meta is not None:
        wire["meta"] = error.meta
    return wire


def message_json(converter: cattrs.Converter, message: Message) -> dict[str, Any]:
    """The wire form of a message, as Telnyx spells it (every field, nulls included)."""
    wire: dict[str, Any] = converter.unstructure(message)
    if message.errors:
        wire["errors"] = [error_json(e) for e in message.errors]
    return wire


@attrs.frozen(kw_only=True)
class WireRequest:
    """A request body that passed the sandbox's checks, with Python names."""

    from_: str
    to: tuple[str, ...]
    text: str | None = None
    subject: str | None = None
    media_urls: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_failover_url: str | None = None
    use_profile_webhooks: bool = True


def parse_request(content_type: str, body: bytes) -> WireRequest | list[MessageError]:
    """Check a request body as Telnyx would; the request, or every problem found."""
    if content_type != "application/json":
        return [
            api_error(
                "10015",
                f"The Content-Type must be application/json, not {content_type or 'missing'}.",
            )
        ]
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return [api_error("10015", "The request body is not valid JSON.")]
    if not isinstance(document, dict):
        return [api_error("10015", "The request body must be a JSON object.")]
    errors = list(_problems(document))
    if errors:
        return errors
    text = document.get("text") or None
    return WireRequest(
        from_=document["from"],
        to=tuple(document["to"]),
        text=text,
        subject=document.get("subject"),
        media_urls=tuple(document.get("media_urls") or ()),
        webhook_url=document.get("webhook_url"),
        webhook_failover_url=document.get("webhook_failover_url"),
        use_profile_webhooks=document.get("use_profile_webhooks", True),
    )


def _problems(doc: dict[str, Any]) -> Iterator[MessageError]:
    sender = doc.get("from")
    if sender is None:
        yield api_error("10004", "The 'from' parameter is required.", pointer="/from")
    else:
        yield from _check_number(sender, "/from", short_code_ok=False)

    to = doc.get("to")
    if to is None or to == []:
        yield api_error("10004", "The 'to' parameter needs at least one number.", pointer="/to")
    else:
        yield from _check_list(to, "to", limit=MAX_RECIPIENTS, check_item=_check_recipient)
        if isinstance(to, list) and all(isinstance(n, str) for n in to) and len(set(to)) != len(to):
            yield api_error("10015", "A destination appears more than once.", pointer="/to")

    for name in ("text", "subject"):
        if doc.get(name) is not None and not isinstance(doc[name], str):
            yield api_error(
                "10015", f"The '{name}' parameter must be a string.", pointer=f"/{name}"
            )
        elif doc.get(name) is not None and not _is_unicode(doc[name]):
            yield api_error(
                "10015", f"The '{name}' parameter is not valid Unicode text.", pointer=f"/{name}"
            )

    media = doc.get("media_urls")
    if media is not None:
        yield from _check_list(media, "media_urls", limit=MAX_MEDIA_URLS, check_item=_check_url)

    if not doc.get("text") and not media:
        yield api_error("10004", "A message needs 'text' or 'media_urls'.", pointer="/text")

    for name in ("webhook_url", "webhook_failover_url"):
        if doc.get(name) is not None:
            yield from _check_url(doc[name], f"/{name}")
    if not isinstance(doc.get("use_profile_webhooks", True), bool):
        yield api_error(
            "10015",
            "'use_profile_webhooks' must be true or false.",
            pointer="/use_profile_webhooks",
        )


def _check_list(
    value: object,
    name: str,
    *,
    limit: int,
    check_item: Callable[[object, str], Iterator[MessageError]],
) -> Iterator[MessageError]:
    pointer = f"/{name}"
    if not isinstance(value, list):
        yield api_error("10015", f"The '{name}' parameter must be a list.", pointer=pointer)
    elif len(value) > limit:
        yield api_error(
            "10015",
            f"At most {limit} entries are allowed in '{name}'; got {len(value)}.",
            pointer=pointer,
        )
    else:
        for i, item in enumerate(value):
            yield from check_item(item, f"{pointer}/{i}")


def _check_recipient(value: object, pointer: str) -> Iterator[MessageError]:
    return _check_number(value, pointer, short_code_ok=True)


def _check_number(value: object, pointer: str, *, short_code_ok: bool) -> Iterator[MessageError]:
    if not isinstance(value, str):
        yield api_error(
            "10016", "A phone number must be a string in +E.164 format.", pointer=pointer
        )
    elif short_code_ok and _SHORT_CODE.fullmatch(value):
        return
    elif not _E164_SHAPE.fullmatch(value):
        yield api_error("10016", f"{value!r} is not in +E.164 format.", pointer=pointer)
    elif not _NANP.fullmatch(value):
        yield api_error(
            "10002",
            f"{value!r} is not a valid US or Canadian number; group MMS reaches only those.",
            pointer=pointer,
        )


def _is_unicode(text: str) -> bool:
    # JSON's "\ud800" escape decodes to a lone surrogate, which no UTF-8 answer can carry.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_url(value: object, pointer: str) -> Iterator[MessageError]:
    if not isinstance(value, str) or len(value) > _MAX_URL_LENGTH:
        yield api_error("10003", "The URL is invalid, malformed, or too long.", pointer=pointer)
        return
    problem = http_url_problem(value)
    if problem is not None:
        yield api_error("10003", f"{value!r} {problem}.", pointer=pointer)


def now() -> datetime:
    """The current UTC time to the millisecond, as Telnyx writes timestamps.

    Rounding here keeps a recorded message equal to the one the client parsed.
    """
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def encoding_of(text: str) -> str:
    """``GSM-7`` when every character is in the GSM 03.38 alphabet, else ``UCS-2``."""
    return "GSM-7" if _GSM7.issuperset(text) else "UCS-2"


def _carrier_of(number: str) -> tuple[str, str]:
    if _SHORT_CODE.fullmatch(number):
        return "", ""
    # Deterministic per number, so a test sees the same carrier every run.
    return _CARRIERS[sum(map(ord, number)) % len(_CARRIERS)], "Wireless"


@attrs.frozen(kw_only=True)
class Account:
    """The ids the sandbox reports for its one account and messaging profile."""

    organization_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))
    messaging_profile_id: str = attrs.field(factory=lambda: str(uuid.uuid4()))


def build_message(
    request: WireRequest,
    *,
    account: Account,
    received_at: datetime,
    webhook_url: str | None,
    webhook_failover_url: str | None,
    wait_seconds: float = 0.0,
) -> Message:
    """The message Telnyx answers with: every recipient ``queued``, costed per recipient.

    ``wait_seconds`` is how long it waits in its sender's queue before it is sent.
    """
    recipients = []
    for number in request.to:
        carrier, line_type = _carrier_of(number)
        recipients.append(
            Recipient(
                phone_number=number,
                carrier=carrier,
                line_type=line_type,
                status=RecipientStatus.QUEUED,
            )
        )
    count = len(request.to)
    text = request.text or ""
    return Message(
        id=str(uuid.uuid4()),
        record_type="message",
        direction=Direction.OUTBOUND,
        type=MessageType.MMS,
        messaging_profile_id=account.messaging_profile_id,
        organization_id=account.organization_id,
        from_=Sender(phone_number=request.from_, carrier="TELNYX LLC", line_type="VoIP"),
        to=recipients,
        # The schema has no null for text; Telnyx reports a media-only message's as "".
        text=text,
        subject=request.subject,
        media=[Media(url=url) for url in request.media_urls],
        webhook_url=webhook_url,
        webhook_failover_url=webhook_failover_url,
        encoding=encoding_of(text),
        # An MMS carries its body whole, in one part, whatever its length.
        parts=1,
        num_chars=len(text),
        smart_encoding_applied=False,
        cost=Money(amount=((_RATE + _CARRIER_FEE) * count).quantize(_CENTS), currency="USD"),
        cost_breakdown=CostBreakdown(
            carrier_fee=Money(amount=(_CARRIER_FEE * count).quantize(_CENTS), currency="USD"),
            rate=Money(amount=(_RATE * count).quantize(_CENTS), currency="USD"),
        ),
        tcr_campaign_billable=False,
        received_at=received_at,
        wait_seconds=wait_seconds,
    )
