"""Parse a webhook body into a :class:`~telnyx_group_mms.webhooks.WebhookEvent`.

Verification (the signature and the timestamp) lives in :mod:`telnyx_group_mms.webhooks`,
which re-exports :func:`parse_event`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._wire.serialization import PARSE_ERRORS, get_converter
from ..errors import WebhookVerificationError
from ..models import Message
from ._models import WebhookEvent, WebhookEventType, WebhookMeta

__all__ = ["parse_event"]

# Deeply nested JSON can exhaust the recursion limit; that is bad input like any other.
_PARSE_ERRORS: tuple[type[BaseException], ...] = (*PARSE_ERRORS, RecursionError)
_EVENT_TYPES: Mapping[str, WebhookEventType] = {t.value: t for t in WebhookEventType}


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
