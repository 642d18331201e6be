"""Whatever arrives, unwrap either returns an event or raises WebhookVerificationError.

And whatever is changed in a request Telnyx signed, it is refused: never accepted.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from telnyx_group_mms.webhooks import WebhookEvent, WebhookVerificationError, unwrap

from . import fuzz_support as fuzz
from .webhook_support import NOW, Signer, body_of, envelope

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
json_values = fuzz.json_values(known_keys | st.text(max_size=12))


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


@settings(max_examples=100, deadline=None)
@given(body=fuzz.deep_json())
def test_signed_bodies_nested_too_deep_are_rejected_cleanly(body: bytes) -> None:
    attempt(body, SIGNER.headers(body))


@settings(max_examples=200, deadline=None)
@given(path=st.sampled_from(fuzz.MESSAGE_PATHS), value=fuzz.numbers)
def test_signed_messages_with_numbers_of_any_size_parse_or_are_rejected_cleanly(
    path: tuple[str | int, ...], value: object
) -> None:
    document = envelope("message.sent")
    document["data"]["payload"].update(fuzz.nest(path, value))
    body = json.dumps(document).encode()
    attempt(body, SIGNER.headers(body))


SIGNED = body_of(envelope("message.finalized"))
HEADERS = SIGNER.headers(SIGNED)


def _flip(data: bytes, index: int, mask: int) -> bytes:
    index %= len(data)
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def changed_body(body: bytes, change: tuple[Any, ...]) -> bytes:
    """``body`` with one change, described as data so that a failure prints readably."""
    match change:
        case ("flip", int(index), int(mask)):
            return _flip(body, index, mask)
        case ("delete", int(index)):
            index %= len(body)
            return body[:index] + body[index + 1 :]
        case ("insert", int(index), bytes(extra)):
            index %= len(body)
            return body[:index] + extra + body[index:]
        case ("reformat",):
            # The same JSON, other bytes: the signature covers the bytes.
            return json.dumps(json.loads(body), separators=(",", ":")).encode()
        case ("append", bytes(extra)):
            return body + extra
    raise AssertionError(change)


def changed_headers(headers: dict[str, str], change: tuple[Any, ...]) -> dict[str, str]:
    """``headers`` with one change, described as data."""
    signature = base64.b64decode(headers[SIGNATURE])
    match change:
        case ("timestamp", int(offset)):
            return {**headers, TIMESTAMP: str(NOW + offset)}
        case ("timestamp text", str(text)):
            return {**headers, TIMESTAMP: text}
        case ("drop", str(name)):
            return {k: v for k, v in headers.items() if k != name}
        case ("flip signature", int(index), int(mask)):
            signature = _flip(signature, index, mask)
        case ("truncate signature", int(length)):
            signature = signature[:length]
        case ("signature of", bytes(other)):
            signature = base64.b64decode(SIGNER.headers(other)[SIGNATURE])
        case ("signed by another key",):
            signature = base64.b64decode(Signer().headers(SIGNED)[SIGNATURE])
        case ("second signature header", bytes(other)):
            return {**headers, SIGNATURE.title(): SIGNER.headers(other)[SIGNATURE]}
        case _:
            raise AssertionError(change)
    # Changed as bytes, then encoded: base64 text has spellings that decode alike.
    return {**headers, SIGNATURE: base64.b64encode(signature).decode()}


SIGNATURE, TIMESTAMP = "telnyx-signature-ed25519", "telnyx-timestamp"
index, mask, other = st.integers(min_value=0), st.integers(1, 255), st.binary(max_size=20)
body_changes = st.one_of(
    st.tuples(st.just("flip"), index, mask),
    st.tuples(st.just("delete"), index),
    st.tuples(st.just("insert"), index, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("append"), st.sampled_from([b"\n", b" ", b"\x00", b"{}"])),
    st.just(("reformat",)),
)
header_changes = st.one_of(
    # Another timestamp, inside the tolerance or not: the signature covers it too.
    st.tuples(st.just("timestamp"), st.integers(-10_000, 10_000).filter(bool)),
    # (Surrounding spaces are no change: HTTP strips them from every header value.)
    st.tuples(st.just("timestamp text"), st.sampled_from([f"0{NOW}", f"+{NOW}", f"{NOW}.0"])),
    st.tuples(st.just("drop"), st.sampled_from([SIGNATURE, TIMESTAMP])),
    st.tuples(st.just("flip signature"), index, mask),
    st.tuples(st.just("truncate signature"), st.integers(0, 63)),
    st.tuples(st.just("signature of"), other.filter(lambda b: b != SIGNED)),
    st.just(("signed by another key",)),
    st.tuples(st.just("second signature header"), other.filter(lambda b: b != SIGNED)),
)


@settings(max_examples=300, deadline=None)
@given(body_change=st.none() | body_changes, header_change=st.none() | header_changes)
def test_a_signed_request_changed_in_any_way_is_refused_never_accepted(
    body_change: tuple[Any, ...] | None, header_change: tuple[Any, ...] | None
) -> None:
    body = SIGNED if body_change is None else changed_body(SIGNED, body_change)
    headers = HEADERS if header_change is None else changed_headers(HEADERS, header_change)
    assume(body != SIGNED or headers != HEADERS)

    with pytest.raises(WebhookVerificationError):
        unwrap(body, headers, public_key=SIGNER.public_key, now=NOW)


def test_the_unchanged_signed_request_is_accepted() -> None:
    # The control for the test above: its changes, not its set-up, are what is refused.
    assert unwrap(SIGNED, HEADERS, public_key=SIGNER.public_key, now=NOW).id
