"""GroupMmsRequest refuses input Telnyx would refuse, naming the field, before any send."""

from __future__ import annotations

from typing import Any

import pytest

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO
from .scripted_server import ScriptedServer


def make(**overrides: Any) -> tgm.GroupMmsRequest:
    fields: dict[str, Any] = {"from_": FROM, "to": TO, "text": "Hello"}
    fields.update(overrides)
    return tgm.GroupMmsRequest(**fields)


def test_a_valid_request_keeps_its_values_and_freezes_lists_into_tuples() -> None:
    req = make(media_urls=["https://example.com/a.png"], subject="Hi")
    assert req.to == tuple(TO)
    assert req.media_urls == ("https://example.com/a.png",)
    with pytest.raises(AttributeError):
        req.text = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"from_": "13125551234"}, "from_"),
        ({"from_": "+03125551234"}, "from_"),
        ({"from_": "+1"}, "from_"),
        ({"from_": "+1234567890123456"}, "from_"),
        ({"from_": "+1 312 555 1234"}, "from_"),
        ({"from_": 13125551234}, "from_"),
        ({"to": []}, "to"),
        ({"to": [f"+1312555{i:04d}" for i in range(9)]}, "to"),
        ({"to": ["+18655551234", "+18655551234"]}, "to"),
        ({"to": "+18655551234"}, "to"),
        ({"to": ["+18655551234", "1234"]}, "to[1]"),
        ({"to": ["1234567"]}, "to[0]"),
        ({"to": ["+1865555123a"]}, "to[0]"),
        ({"to": [18655551234]}, "to[0]"),
        ({"text": None}, "text"),
        ({"text": ""}, "text"),
        ({"text": None, "media_urls": []}, "text"),
        ({"media_urls": [f"https://e.com/{i}.png" for i in range(11)]}, "media_urls"),
        ({"media_urls": ["ftp://example.com/a.png"]}, "media_urls[0]"),
        ({"media_urls": ["https://"]}, "media_urls[0]"),
        ({"media_urls": ["https://exa mple.com/a.png"]}, "media_urls[0]"),
        ({"webhook_url": "example.com/hooks"}, "webhook_url"),
        ({"webhook_failover_url": "javascript:alert(1)"}, "webhook_failover_url"),
        ({"subject": 5}, "subject"),
        ({"use_profile_webhooks": "yes"}, "use_profile_webhooks"),
    ],
)
def test_invalid_input_raises_a_validation_error_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(tgm.RequestValidationError) as info:
        make(**overrides)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, tgm.TelnyxError)


@pytest.mark.parametrize(
    "to",
    [
        ["12345"],
        ["123456"],
        ["+18655551234", "12345"],
        [f"+1312555{i:04d}" for i in range(8)],
        ["+442071838750"],
        ["+123"],
    ],
)
def test_recipients_may_be_e164_numbers_or_short_codes_up_to_eight(to: list[str]) -> None:
    assert make(to=to).to == tuple(to)


def test_media_without_text_is_a_valid_message() -> None:
    req = make(text=None, media_urls=["http://example.com/a.gif"])
    assert req.text is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"text": "caf\udce9 tonight"}, "text"),
        ({"subject": "\ud800"}, "subject"),
        ({"media_urls": ["https://example.com/\udfff.png"]}, "media_urls[0]"),
        ({"webhook_url": "https://example.com/\ud83d"}, "webhook_url"),
        ({"webhook_failover_url": "https://\udc80.example.com/"}, "webhook_failover_url"),
    ],
)
def test_a_lone_surrogate_is_refused_at_construction_not_at_send(
    overrides: dict[str, Any], field: str
) -> None:
    # What a bad decode (errors="surrogateescape") or a JSON "\ud800" escape leaves in a
    # string: it cannot be sent as UTF-8, and must not fail later, inside a fan-out.
    with pytest.raises(tgm.RequestValidationError) as info:
        make(**overrides)
    assert info.value.field == field
    assert "tonight" not in str(info.value)


def test_text_with_any_valid_unicode_is_kept() -> None:
    text = "\U0001f600 \u00e9\u0301 \u4f60\u597d \x00 \u202e"
    assert make(text=text, subject=text).text == text


def test_the_validation_error_never_echoes_the_message_text() -> None:
    with pytest.raises(tgm.RequestValidationError) as info:
        make(text="secret words", to=["bad"])
    assert "secret words" not in str(info.value)


async def test_invalid_input_sends_nothing(server: ScriptedServer) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(tgm.RequestValidationError):
            await client.messages.send_group_mms(from_=FROM, to=[], text="x")
    assert server.posts == 0
