"""The sandbox answers like Telnyx: a message that conforms to the published schema."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, TO
from .openapi import errors_against, errors_against_response
from .wire_client import post


def _send(sandbox: Sandbox, **fields: Any) -> dict[str, Any]:
    answer = post(sandbox.base_url, {"from": FROM, "to": list(TO), "text": "Hello", **fields})
    assert answer.status == 200, answer.body
    data: dict[str, Any] = answer.json()["data"]
    return data


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"text": "Hi 😀", "subject": "S", "media_urls": ["https://x.test/a.png"]},
        {"text": None, "media_urls": ["https://x.test/a.png", "http://x.test/b.gif"]},
        {"to": ["12345"], "webhook_url": "http://127.0.0.1:9/h"},
    ],
    ids=["text", "everything", "media only", "short code"],
)
def test_every_answer_conforms_to_the_published_response_schema(
    telnyx_sandbox: Sandbox, fields: dict[str, Any]
) -> None:
    answer = post(
        telnyx_sandbox.base_url, {"from": FROM, "to": list(TO), "text": "Hello", **fields}
    )

    assert answer.status == 200
    assert errors_against_response(answer.json()) == []
    assert errors_against("OutboundMessagePayload", answer.json()["data"]) == []


def test_the_schema_check_itself_catches_a_nonconforming_message() -> None:
    # Guards the test above: a validator that accepted anything would prove nothing.
    assert errors_against("OutboundMessagePayload", {"id": "not-a-uuid", "parts": 0}) != []


def test_a_message_has_a_fresh_uuid_and_is_an_outbound_mms(telnyx_sandbox: Sandbox) -> None:
    first, second = _send(telnyx_sandbox), _send(telnyx_sandbox)

    assert uuid.UUID(first["id"]) != uuid.UUID(second["id"])
    assert (first["type"], first["direction"], first["record_type"]) == (
        "MMS",
        "outbound",
        "message",
    )


def test_each_recipient_appears_once_queued_with_a_carrier(telnyx_sandbox: Sandbox) -> None:
    data = _send(telnyx_sandbox, to=["+18655551234", "+14155551234", "12345"])

    assert [r["phone_number"] for r in data["to"]] == ["+18655551234", "+14155551234", "12345"]
    assert {r["status"] for r in data["to"]} == {"queued"}
    assert all(r["carrier"] and r["line_type"] == "Wireless" for r in data["to"][:2])
    assert data["from"]["phone_number"] == FROM


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Hello @ £5 {ok}", "GSM-7"),
        ("Grüße ¿qué?", "GSM-7"),
        ("Hi 😀", "UCS-2"),
        ("Привет", "UCS-2"),
    ],
)
def test_the_encoding_follows_the_text(telnyx_sandbox: Sandbox, text: str, encoding: str) -> None:
    data = _send(telnyx_sandbox, text=text)

    assert data["encoding"] == encoding
    assert data["num_chars"] == len(text)
    assert data["parts"] == 1


@pytest.mark.parametrize("count", [1, 3, 8])
def test_the_cost_grows_with_the_number_of_recipients(telnyx_sandbox: Sandbox, count: int) -> None:
    data = _send(telnyx_sandbox, to=[f"+1865555{i:04d}" for i in range(count)])

    one = _send(telnyx_sandbox, to=["+18655550000"])
    amount = Decimal(data["cost"]["amount"])
    assert amount == Decimal(one["cost"]["amount"]) * count
    assert data["cost"]["currency"] == "USD"
    breakdown = data["cost_breakdown"]
    assert (
        Decimal(breakdown["rate"]["amount"]) + Decimal(breakdown["carrier_fee"]["amount"]) == amount
    )


def test_media_echo_the_media_urls_and_text_and_subject_are_kept(telnyx_sandbox: Sandbox) -> None:
    urls = ["https://x.test/a.png", "https://x.test/b.gif"]

    data = _send(telnyx_sandbox, text="T", subject="S", media_urls=urls)

    assert [m["url"] for m in data["media"]] == urls
    assert (data["text"], data["subject"]) == ("T", "S")


def test_received_at_is_now(telnyx_sandbox: Sandbox) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    data = _send(telnyx_sandbox)
    after = datetime.now(UTC) + timedelta(seconds=1)

    assert before <= datetime.fromisoformat(data["received_at"]) <= after


def test_every_answer_carries_a_distinct_request_id(telnyx_sandbox: Sandbox) -> None:
    ids = {post(telnyx_sandbox.base_url).headers["x-request-id"] for _ in range(3)}
    ids.add(post(telnyx_sandbox.base_url, key=None).headers["x-request-id"])

    assert len(ids) == 4


def test_the_answer_is_the_message_the_sandbox_recorded(telnyx_sandbox: Sandbox) -> None:
    data = _send(telnyx_sandbox, webhook_url="http://127.0.0.1:9/h")

    (message,) = telnyx_sandbox.messages
    assert message.id == data["id"]
    assert message.from_ == tgm.Sender(phone_number=FROM, carrier="TELNYX LLC", line_type="VoIP")
    assert message.webhook_url == "http://127.0.0.1:9/h"
    assert message.cost == tgm.Money(amount=Decimal(data["cost"]["amount"]), currency="USD")
