"""Test helpers that play Telnyx: realistic webhook bodies, signed with cryptography directly.

The signing here deliberately does not use the package's own ``sign``: a test of
verification must not share the code it checks.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NOW = 1_790_000_000
MESSAGE_ID = "40385f64-5717-4562-b3fc-2c963f66afa6"
FROM = "+13125551234"
TO = ("+18655551234", "+14155551234")


class Signer:
    """An ed25519 key pair standing in for Telnyx's."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        raw_public = self._key.public_key().public_bytes_raw()
        self.public_key = base64.b64encode(raw_public).decode()
        self.private_key = base64.b64encode(self._key.private_bytes_raw()).decode()

    def headers(self, body: bytes, *, timestamp: int = NOW) -> dict[str, str]:
        """The two headers Telnyx sends, in the lowercase it uses."""
        signature = self._key.sign(f"{timestamp}|".encode() + body)
        return {
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": str(timestamp),
        }


def message_payload(
    *,
    message_id: str = MESSAGE_ID,
    statuses: Mapping[str, str] | None = None,
    direction: str = "outbound",
) -> dict[str, Any]:
    """A message as Telnyx puts it in a webhook's ``data.payload``."""
    statuses = statuses if statuses is not None else {TO[0]: "sent"}
    return {
        "record_type": "message",
        "direction": direction,
        "id": message_id,
        "type": "MMS",
        "from": {"phone_number": FROM, "carrier": "TELNYX LLC", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": number,
                "status": status,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
            }
            for number, status in statuses.items()
        ],
        "cc": [],
        "text": "Hello, World!",
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "cost": {"amount": 0.0051, "currency": "USD"},
        "received_at": "2026-09-21T18:10:02.574Z",
        "errors": [],
        "brand_new_field": {"kept": True},
    }


def envelope(
    event_type: str = "message.sent",
    payload: Mapping[str, Any] | None = None,
    *,
    event_id: str | None = None,
    occurred_at: str | None = "2026-09-21T18:10:03.000+00:00",
    meta: Mapping[str, Any] | None = None,
    with_meta: bool = True,
) -> dict[str, Any]:
    """A whole webhook body."""
    document: dict[str, Any] = {
        "data": {
            "event_type": event_type,
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": occurred_at,
            "payload": dict(payload) if payload is not None else message_payload(),
            "record_type": "event",
        }
    }
    if with_meta:
        document["meta"] = dict(meta or {"attempt": 1, "delivered_to": "https://example.com/hooks"})
    return document


def body_of(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document).encode()


def finalized(
    number: str,
    status: str,
    *,
    occurred_at: str | None,
    statuses: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """A ``message.finalized`` envelope reporting ``number`` (and optionally others)."""
    return envelope(
        "message.finalized",
        message_payload(statuses={number: status, **dict(statuses)}),
        occurred_at=occurred_at,
    )
