"""Verified webhooks become WebhookEvents: messages as Message, other payloads as dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.webhooks import WebhookVerificationError, parse_event, unwrap

from .webhook_support import MESSAGE_ID, NOW, TO, Signer, body_of, envelope, message_payload


@pytest.mark.parametrize(
    ("event_type", "member"),
    [
        ("message.sent", tgm.WebhookEventType.MESSAGE_SENT),
        ("message.finalized", tgm.WebhookEventType.MESSAGE_FINALIZED),
        ("message.received", tgm.WebhookEventType.MESSAGE_RECEIVED),
    ],
)
def test_message_events_carry_a_message(event_type: str, member: tgm.WebhookEventType) -> None:
    signer = Signer()
    body = body_of(envelope(event_type, event_id="evt-1"))
    event = unwrap(body, signer.headers(body), public_key=signer.public_key, now=NOW)
    assert event.id == "evt-1"
    assert event.event_type is member
    assert event.record_type == "event"
    assert event.occurred_at == datetime(2026, 9, 21, 18, 10, 3, tzinfo=UTC)
    message = event.payload
    assert isinstance(message, tgm.Message)
    assert message.id == MESSAGE_ID
    assert message.from_ == tgm.Sender(
        phone_number="+13125551234", carrier="TELNYX LLC", line_type="VoIP"
    )
    assert [(r.phone_number, r.status) for r in message.to] == [(TO[0], tgm.RecipientStatus.SENT)]
    assert message.cost == tgm.Money(amount=Decimal("0.0051"), currency="USD")
    assert message.extra == {"brand_new_field": {"kept": True}}


def test_other_event_types_keep_the_payload_as_a_dict() -> None:
    payload = {"id": "n-1", "phone_number": "+13125551234", "status": "ported"}
    event = parse_event(body_of(envelope("number_order.complete", payload)))
    assert event.event_type == "number_order.complete"
    assert not isinstance(event.event_type, tgm.WebhookEventType)
    assert event.payload == payload


def test_meta_is_parsed_when_present() -> None:
    event = parse_event(
        envelope(meta={"attempt": 3, "delivered_to": "https://failover.example.com/hooks"})
    )
    assert event.meta == tgm.WebhookMeta(
        attempt=3, delivered_to="https://failover.example.com/hooks"
    )


def test_meta_is_none_when_absent() -> None:
    assert parse_event(envelope(with_meta=False)).meta is None


def test_partial_meta_keeps_what_is_there() -> None:
    assert parse_event(envelope(meta={"attempt": 2})).meta == tgm.WebhookMeta(attempt=2)


def test_occurred_at_is_optional_and_never_naive() -> None:
    assert parse_event(envelope(occurred_at=None)).occurred_at is None
    naive = parse_event(envelope(occurred_at="2026-09-21T18:10:03")).occurred_at
    assert naive == datetime(2026, 9, 21, 18, 10, 3, tzinfo=UTC)


def test_an_unknown_recipient_status_is_kept_as_text() -> None:
    event = parse_event(envelope(payload=message_payload(statuses={TO[0]: "gw_timeout"})))
    assert isinstance(event.payload, tgm.Message)
    assert event.payload.to[0].status == "gw_timeout"


def test_str_and_mapping_bodies_parse_alike() -> None:
    document = envelope(event_id="evt-2")
    assert (
        parse_event(body_of(document).decode())
        == parse_event(document)
        == parse_event(body_of(document))
    )


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ({"occurred_at": "yesterday"}, "does not have the expected shape"),
        ({"record_type": 7}, "data.record_type"),
        ({"payload": {"parts": "many"}}, "does not have the expected shape"),
        ({"payload": {"parts": float("inf")}}, "does not have the expected shape"),
        ({"payload": {"media": [{"size": float("-inf")}]}}, "does not have the expected shape"),
        ({"payload": []}, "data.payload"),
        ({"id": ""}, "data.id"),
    ],
)
def test_a_malformed_envelope_is_not_an_event(change: dict[str, object], cause: str) -> None:
    document = envelope()
    document["data"].update(change)
    with pytest.raises(WebhookVerificationError, match=cause):
        parse_event(document)


@pytest.mark.parametrize(
    ("meta", "cause"),
    [
        ("yes", "meta is not an object"),
        ({"attempt": "1"}, "meta.attempt"),
        ({"attempt": True}, "meta.attempt"),
        ({"delivered_to": 5}, "meta.delivered_to"),
    ],
)
def test_malformed_meta_is_not_an_event(meta: object, cause: str) -> None:
    document = envelope()
    document["meta"] = meta
    with pytest.raises(WebhookVerificationError, match=cause):
        parse_event(document)


def test_a_signed_body_with_a_number_too_large_for_any_int_is_rejected_not_raised() -> None:
    # 1e999 reads as float infinity: a parse failure, never an OverflowError to the caller.
    signer = Signer()
    body = body_of(envelope()).replace(b'"parts": 1,', b'"parts": 1e999,')
    assert b"1e999" in body
    with pytest.raises(WebhookVerificationError, match="expected shape"):
        unwrap(body, signer.headers(body), public_key=signer.public_key, now=NOW)


def test_events_are_frozen() -> None:
    event = parse_event(envelope())
    with pytest.raises(AttributeError):
        event.id = "other"  # type: ignore[misc]
