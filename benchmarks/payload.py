"""The canned exchange every candidate performs: one realistic group MMS and its answer."""

from __future__ import annotations

import json
from typing import Any

API_KEY = "KEY_benchmark_0123456789"
PATH = "/v2/messages/group_mms"

#: Keyword arguments of ``send_group_mms`` in both SDKs (they share the spelling).
SEND_KWARGS: dict[str, Any] = {
    "from_": "+13125551234",
    "to": ["+18655551234", "+14155551234", "+12125550123"],
    "text": "Dinner at 8? Reply with a yes or a no.",
    "subject": "Tonight",
    "media_urls": ["https://media.example.com/menu.png"],
    "webhook_url": "https://hooks.example.com/telnyx",
}

#: The request as it goes on the wire, serialised once (what the floor posts).
WIRE_REQUEST: bytes = json.dumps(
    {("from" if k == "from_" else k): v for k, v in SEND_KWARGS.items()},
    separators=(",", ":"),
).encode()

_MESSAGE: dict[str, Any] = {
    "cc": [],
    "completed_at": None,
    "cost": {"amount": "0.0153", "currency": "USD"},
    "cost_breakdown": {
        "carrier_fee": {"amount": "0.00915", "currency": "USD"},
        "rate": {"amount": "0.00615", "currency": "USD"},
    },
    "direction": "outbound",
    "encoding": "GSM-7",
    "errors": [],
    "from": {"carrier": "TELNYX LLC", "line_type": "VoIP", "phone_number": "+13125551234"},
    "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
    "media": [
        {
            "content_type": None,
            "sha256": None,
            "size": None,
            "url": "https://media.example.com/menu.png",
        }
    ],
    "messaging_profile_id": "4000eba1-a0c0-4563-9925-b25e842a7cb6",
    "num_chars": 38,
    "organization_id": "b448f9cc-a842-4784-98e9-03c1a5872950",
    "parts": 1,
    "received_at": "2026-11-27T18:10:02.574Z",
    "record_type": "message",
    "sent_at": None,
    "subject": "Tonight",
    "tags": [],
    "tcr_campaign_billable": True,
    "tcr_campaign_id": "TCPA3X7",
    "tcr_campaign_registered": "REGISTERED",
    "text": "Dinner at 8? Reply with a yes or a no.",
    "to": [
        {
            "carrier": "T-MOBILE USA, INC.",
            "line_type": "Wireless",
            "phone_number": number,
            "status": "queued",
        }
        for number in SEND_KWARGS["to"]
    ],
    "type": "MMS",
    "valid_until": "2026-11-27T19:10:02.574Z",
    "wait_seconds": 0.0,
    "webhook_failover_url": None,
    "webhook_url": "https://hooks.example.com/telnyx",
}

#: Telnyx's answer: ``{"data": <message>}``, as Telnyx spells it (every field present).
WIRE_RESPONSE: bytes = json.dumps({"data": _MESSAGE}).encode()
