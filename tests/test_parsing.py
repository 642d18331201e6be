"""Message parsing is tolerant of the shapes Telnyx's own documents disagree on."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import telnyx_group_mms as tgm
from telnyx_group_mms._wire.protocol import decode_message, error_from_response
from telnyx_group_mms._wire.serialization import get_converter, make_converter

SPEC = yaml.safe_load((Path(__file__).parent / "data" / "telnyx-openapi-group-mms.yml").read_text())
EXAMPLE: dict[str, Any] = SPEC["components"]["schemas"]["OutboundMessagePayload"]["example"]


def parse(data: dict[str, Any]) -> tgm.Message:
    return decode_message(get_converter(), 200, json.dumps({"data": data}).encode())


def test_the_documented_example_parses_into_python_names() -> None:
    msg = parse(EXAMPLE)
    assert msg.id == "40385f64-5717-4562-b3fc-2c963f66afa6"
    assert msg.type == "MMS"
    assert msg.type is tgm.MessageType.MMS
    assert msg.direction == "outbound"
    assert msg.from_ == tgm.Sender(
        phone_number="+18445550001", carrier="TELNYX LLC", line_type="VoIP"
    )
    assert msg.to[0].status == "queued"
    assert msg.to[0].status is tgm.RecipientStatus.QUEUED
    assert msg.cost == tgm.Money(amount=Decimal("0.0051"), currency="USD")
    assert msg.cost_breakdown is not None
    assert msg.cost_breakdown.carrier_fee == tgm.Money(amount=Decimal("0.00305"), currency="USD")
    assert msg.received_at == datetime(2019, 1, 23, 18, 10, 2, 574000, tzinfo=UTC)
    assert msg.sent_at is None
    assert msg.media[0].url is not None and msg.media[0].size is None
    assert msg.tags == ["Greetings"]
    assert msg.wait_seconds == 0.5
    assert msg.tcr_campaign_billable is True
    assert msg.extra == {}


def test_unknown_fields_are_kept_in_extra() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["brand_new_field"] = {"nested": [1, 2]}
    assert parse(data).extra == {"brand_new_field": {"nested": [1, 2]}}


@pytest.mark.parametrize("amount", ["0.0051", 0.0051, 1, "1E-3"])
def test_cost_amount_may_be_a_string_or_a_number_and_is_always_a_decimal(amount: object) -> None:
    data = copy.deepcopy(EXAMPLE)
    data["cost"]["amount"] = amount
    cost = parse(data).cost
    assert cost is not None
    assert isinstance(cost.amount, Decimal)
    assert cost.amount == Decimal(str(amount))


def test_from_may_be_a_bare_string() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["from"] = "+18445550001"
    assert parse(data).from_ == tgm.Sender(phone_number="+18445550001")


def test_missing_fields_are_none_or_empty() -> None:
    msg = parse({"id": "abc"})
    assert msg.id == "abc"
    assert msg.to == [] and msg.cc == [] and msg.media == [] and msg.errors == []
    assert msg.from_ is None and msg.cost is None and msg.received_at is None


def test_null_lists_are_empty_lists() -> None:
    msg = parse({"id": "abc", "to": None, "cc": None, "errors": None, "media": None})
    assert msg.to == [] and msg.cc == [] and msg.errors == [] and msg.media == []


def test_unknown_statuses_and_types_are_kept_as_plain_strings() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["to"][0]["status"] = "carrier_paused"
    data["type"] = "RCS"
    msg = parse(data)
    assert msg.to[0].status == "carrier_paused"
    assert type(msg.to[0].status) is str
    assert msg.type == "RCS"


def test_timestamps_without_offset_are_utc_and_always_tz_aware() -> None:
    msg = parse({"received_at": "2026-01-02T03:04:05", "valid_until": "2026-01-02T03:04:05+02:00"})
    assert msg.received_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert msg.valid_until is not None and msg.valid_until.utcoffset() is not None


def test_error_codes_are_kept_as_the_string_telnyx_sent() -> None:
    msg = parse({"errors": [{"code": 40300, "title": "Blocked"}, {"code": "10011", "title": "x"}]})
    assert [e.code for e in msg.errors] == ["40300", "10011"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"data": null}',
        b'{"data": []}',
        b'{"errors": []}',
        b'{"data": {"to": "not a list"}}',
        b'{"data": {"cost": {"amount": "lots"}}}',
        b'{"data": {"received_at": "yesterday"}}',
        b"\xff\xfe",
        # Numbers no integer field can hold: json reads them as float infinity.
        b'{"data": {"parts": 1e999}}',
        b'{"data": {"num_chars": -Infinity}}',
        b'{"data": {"media": [{"size": 1e400}]}}',
        # Nesting deep enough to exhaust the recursion limit of a JSON parser.
        b"[" * 100_000 + b"]" * 100_000,
        b'{"data": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    ],
    ids=lambda body: repr(body[:40]),
)
def test_a_body_that_is_not_a_message_raises_response_validation_error(body: bytes) -> None:
    with pytest.raises(tgm.APIResponseValidationError) as info:
        decode_message(get_converter(), 200, body)
    assert info.value.outcome_unknown is True
    assert info.value.body == body


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"errors": [{"code": "10007", "meta": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
        b'{"errors": [{"code": 1e999, "title": -1e999}]}',
    ],
    ids=["deep", "deep meta", "infinite code"],
)
def test_an_error_body_of_any_depth_or_number_gives_an_api_status_error(body: bytes) -> None:
    error = error_from_response(get_converter(), 502, {}, body)
    assert isinstance(error, tgm.InternalServerError)
    assert error.body == body


def test_a_message_round_trips_through_the_wire_format() -> None:
    conv = make_converter()
    msg = parse(EXAMPLE)
    wire = conv.unstructure(msg)
    assert wire["from"]["phone_number"] == "+18445550001"
    assert "from_" not in wire
    assert wire["cost"]["amount"] == "0.0051"
    assert wire["received_at"] == "2019-01-23T18:10:02.574Z"
    assert parse(json.loads(json.dumps(wire))) == msg


def test_the_request_serialises_with_wire_names_and_without_none() -> None:
    req = tgm.GroupMmsRequest(from_="+13125551234", to=["+18655551234"], text="Hi")
    wire = get_converter().unstructure(req)
    assert wire == {"from": "+13125551234", "to": ["+18655551234"], "text": "Hi"}
