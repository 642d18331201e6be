"""Whatever arrives, unwrap either returns an event or raises WebhookVerificationError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telnyx_group_mms.webhooks import WebhookEvent, WebhookVerificationError, unwrap

from .webhook_support import NOW, Signer, envelope

SIGNER = Signer()

header_names = st.sampled_from(
    ["telnyx-signature-ed25519", "Telnyx-Timestamp", "telnyx-timestamp", "TELNYX-SIGNATURE-ED25519"]
) | st.text(max_size=20)
header_values = st.text(max_size=100) | st.binary(max_size=100)
# Keys the parser knows, so generated objects reach its every branch, not only "unknown".
known_keys = st.sampled_from(
    [
        *("from", "to", "cc", "media", "cost", "cost_breakdown", "errors", "parts", "sent_at"),
        *("direction", "type", "tags", "id", "event_type", "occurred_at", "record_type"),
        *("payload", "attempt", "delivered_to", "amount", "phone_number", "status", "url"),
        *("size", "source", "meta", "code", "carrier_fee"),
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(known_keys | st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def attempt(body: Any, headers: Any) -> None:
    try:
        event = unwrap(body, headers, public_key=SIGNER.public_key, now=NOW)
    except WebhookVerificationError:
        return
    assert isinstance(event, WebhookEvent)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=300) | st.text(max_size=300),
    headers=st.dictionaries(header_names, header_values, max_size=4),
)
def test_arbitrary_requests_are_rejected_cleanly(
    body: bytes | str, headers: dict[str, Any]
) -> None:
    attempt(body, headers)


@settings(max_examples=150, deadline=None)
@given(
    data=json_values,
    payload=json_values,
    meta=json_values,
    event_type=st.sampled_from(
        ["message.sent", "message.finalized", "message.received", "other.event"]
    ),
)
def test_signed_bodies_of_any_shape_parse_or_are_rejected_cleanly(
    data: Any, payload: Any, meta: Any, event_type: str
) -> None:
    # Signed, so only parsing stands between the body and an event.
    document = envelope(event_type)
    base_payload = document["data"]["payload"]
    if isinstance(data, dict):
        document["data"].update(data)
    document["data"]["payload"] = (
        {**base_payload, **payload} if isinstance(payload, dict) else payload
    )
    document["meta"] = meta
    body = json.dumps(document).encode()
    attempt(body, SIGNER.headers(body))
