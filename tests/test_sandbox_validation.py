"""The sandbox checks the wire itself and answers 400 with Telnyx's codes and pointers.

Its checks are independent of the SDK's own validator, so they catch what a buggy
client sends; every case here bypasses the SDK.
"""

from __future__ import annotations

from typing import Any

import pytest

from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, TO
from .openapi import errors_against_error_response
from .wire_client import post


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"from": FROM, "to": list(TO), "text": "Hello"}
    for name, value in changes.items():
        if value is ...:
            body.pop(name, None)
        else:
            body[name] = value
    return body


BAD_BODIES = [
    pytest.param(_body(**{"from": ...}), "10004", "/from", id="from missing"),
    pytest.param(_body(**{"from": None}), "10004", "/from", id="from null"),
    pytest.param(_body(**{"from": "13125551234"}), "10016", "/from", id="from without +"),
    pytest.param(_body(**{"from": "+1 312 555 1234"}), "10016", "/from", id="from with spaces"),
    pytest.param(_body(**{"from": 13125551234}), "10016", "/from", id="from a number"),
    pytest.param(_body(**{"from": "+447911123456"}), "10002", "/from", id="from outside US/CA"),
    pytest.param(_body(**{"from": "+11125551234"}), "10002", "/from", id="from bad area code"),
    pytest.param(_body(**{"from": "12345"}), "10016", "/from", id="from a short code"),
    pytest.param(_body(to=...), "10004", "/to", id="to missing"),
    pytest.param(_body(to=[]), "10004", "/to", id="to empty"),
    pytest.param(_body(to="+18655551234"), "10015", "/to", id="to a string"),
    pytest.param(
        _body(to=[f"+1865555{i:04d}" for i in range(9)]), "10015", "/to", id="nine recipients"
    ),
    pytest.param(_body(to=["+18655551234", "8655551234"]), "10016", "/to/1", id="to without +"),
    pytest.param(_body(to=["+18655551234", "+33612345678"]), "10002", "/to/1", id="to abroad"),
    pytest.param(_body(to=["+18655551234", 42]), "10016", "/to/1", id="to not a string"),
    pytest.param(_body(to=["+18655551234"] * 2), "10015", "/to", id="to repeated"),
    pytest.param(_body(text=...), "10004", "/text", id="no text and no media"),
    pytest.param(_body(text=""), "10004", "/text", id="empty text and no media"),
    pytest.param(_body(text=5), "10015", "/text", id="text not a string"),
    pytest.param(_body(subject=["x"]), "10015", "/subject", id="subject not a string"),
    # JSON's "\ud800" escape: a lone surrogate, which no UTF-8 text can hold.
    pytest.param(_body(text="a\ud800"), "10015", "/text", id="text with a lone surrogate"),
    pytest.param(_body(subject="\udfff"), "10015", "/subject", id="subject lone surrogate"),
    pytest.param(
        _body(media_urls=["https://x.test/\udc80"]), "10003", "/media_urls/0", id="url surrogate"
    ),
    pytest.param(_body(media_urls="https://x.test/a.png"), "10015", "/media_urls", id="media str"),
    pytest.param(
        _body(media_urls=[f"https://x.test/{i}.png" for i in range(11)]),
        "10015",
        "/media_urls",
        id="eleven media",
    ),
    pytest.param(_body(media_urls=["ftp://x.test/a.png"]), "10003", "/media_urls/0", id="ftp"),
    pytest.param(_body(media_urls=["https://x.test/a b"]), "10003", "/media_urls/0", id="space"),
    pytest.param(_body(webhook_url="hooks.test/x"), "10003", "/webhook_url", id="webhook_url"),
    pytest.param(
        _body(webhook_failover_url="https://"), "10003", "/webhook_failover_url", id="failover"
    ),
    pytest.param(
        _body(webhook_url="http://[::1/x"), "10003", "/webhook_url", id="webhook_url bracket"
    ),
    pytest.param(
        _body(webhook_failover_url="http://h:99999/"), "10003", "/webhook_failover_url", id="port"
    ),
    pytest.param(
        _body(media_urls=["https://[::1]x/a.png"]), "10003", "/media_urls/0", id="after bracket"
    ),
    pytest.param(
        _body(use_profile_webhooks="yes"),
        "10015",
        "/use_profile_webhooks",
        id="use_profile_webhooks not a bool",
    ),
]


@pytest.mark.parametrize(("body", "code", "pointer"), BAD_BODIES)
def test_a_bad_body_is_answered_400_with_the_code_and_pointer_telnyx_uses(
    telnyx_sandbox: Sandbox, body: dict[str, Any], code: str, pointer: str
) -> None:
    answer = post(telnyx_sandbox.base_url, body)

    assert answer.status == 400
    assert (code, pointer) in [(e["code"], e["source"]["pointer"]) for e in answer.errors]
    assert errors_against_error_response(answer.json()) == []
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]
    assert telnyx_sandbox.messages == []


def test_every_problem_of_a_body_is_reported_at_once(telnyx_sandbox: Sandbox) -> None:
    answer = post(telnyx_sandbox.base_url, {"to": ["nope"]})

    assert answer.status == 400
    assert sorted(answer.codes) == ["10004", "10004", "10016"]


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe", b'"a string"', b"[1, 2]", b"[" * 100_000 + b"]" * 100_000],
    ids=lambda raw: repr(raw[:20]),
)
def test_a_body_that_is_not_a_json_object_is_a_bad_request_code_10015(
    telnyx_sandbox: Sandbox, raw: bytes
) -> None:
    answer = post(telnyx_sandbox.base_url, raw)

    assert answer.status == 400
    assert answer.codes == ["10015"]
    assert errors_against_error_response(answer.json()) == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_a_bad_request_code_10015(
    telnyx_sandbox: Sandbox, content_type: str | None
) -> None:
    answer = post(telnyx_sandbox.base_url, content_type=content_type)

    assert answer.status == 400
    assert answer.codes == ["10015"]
    assert "Content-Type" in answer.errors[0]["detail"]


def test_json_with_a_charset_parameter_is_accepted(telnyx_sandbox: Sandbox) -> None:
    answer = post(telnyx_sandbox.base_url, content_type="application/json; charset=utf-8")
    assert answer.status == 200


@pytest.mark.parametrize(
    "body",
    [
        _body(text=..., media_urls=["https://x.test/a.png"]),
        _body(to=["+18655551234", "12345", "654321"]),
        _body(to=[f"+1865555{i:04d}" for i in range(8)]),
        _body(subject="Hi", webhook_url="http://127.0.0.1:9/hooks", use_profile_webhooks=False),
        _body(unknown_field="ignored, as Telnyx ignores it"),
    ],
    ids=["media only", "short codes", "eight recipients", "optional fields", "unknown field"],
)
def test_a_valid_body_is_accepted(telnyx_sandbox: Sandbox, body: dict[str, Any]) -> None:
    answer = post(telnyx_sandbox.base_url, body)

    assert answer.status == 200, answer.body
    assert [m.id for m in telnyx_sandbox.messages] == [answer.json()["data"]["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/messages"), ("GET", "/messages/group_mms"), ("POST", "/v1/messages/group_mms")],
)
def test_anything_but_the_endpoint_is_a_telnyx_shaped_404(
    telnyx_sandbox: Sandbox, method: str, path: str
) -> None:
    answer = post(telnyx_sandbox.base_url, path=path, method=method)

    assert answer.status == 404
    assert answer.codes == ["10005"]
    assert telnyx_sandbox.messages == []


def test_an_oversized_body_is_a_telnyx_shaped_413(telnyx_sandbox: Sandbox) -> None:
    answer = post(telnyx_sandbox.base_url, b"{" + b" " * (2 * 1024 * 1024) + b"}")

    assert answer.status == 413
    assert answer.codes == ["10015"]
    assert telnyx_sandbox.messages == []
