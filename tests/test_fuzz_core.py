"""Property tests: the validator and the response parser never crash, and mean what they say."""

from __future__ import annotations

import functools
import ipaddress
import json
import string
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import telnyx_group_mms as tgm
from telnyx_group_mms._wire.protocol import decode_message, encode_request, error_from_response
from telnyx_group_mms._wire.serialization import get_converter, request_from_wire

from . import fuzz_support as fuzz

DIGITS = "0123456789"
T = TypeVar("T")
E = TypeVar("E", bound=Exception)


def attempt(call: Callable[[], T], expected: type[E]) -> T | E:
    """What ``call`` returns, or the ``expected`` error it raised (anything else propagates)."""
    try:
        return call()
    except expected as exc:
        return exc


def is_e164(value: str) -> bool:
    # An oracle written without regular expressions, independent of the validator.
    return (
        len(value) >= 3
        and len(value) <= 16
        and value[0] == "+"
        and value[1] in "123456789"
        and all(c in DIGITS for c in value[1:])
    )


def is_short_code(value: str) -> bool:
    return len(value) in (5, 6) and all(c in DIGITS for c in value)


def is_utf8(value: str) -> bool:
    # A lone surrogate cannot be sent; the oracle checks with the codec, not a regex.
    return all(not 0xD800 <= ord(c) <= 0xDFFF for c in value)


def is_http_url(value: str) -> bool:
    # Written from the rules, not from urllib: scheme, then an authority that is a host
    # (a DNS name, or IPv6 in brackets) and an optional port; no spaces or controls.
    if not is_utf8(value) or any(c.isspace() or is_control(c) for c in value):
        return False
    lower = value.lower()
    for scheme in ("http://", "https://"):
        if lower.startswith(scheme):
            authority = value[len(scheme) :]
            for sep in "/?#":
                authority = authority.split(sep, 1)[0]
            return is_authority(authority)
    return False


def is_control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F


def is_authority(authority: str) -> bool:
    if "@" in authority:
        return False
    if authority.startswith("["):
        host, closed, after = authority[1:].partition("]")
        if not closed or (after and not after.startswith(":")):
            return False
        return is_ipv6(host) and is_port(after[1:])
    if "[" in authority or "]" in authority:
        return False
    host, _, port = authority.partition(":")
    return is_host_name(host) and is_port(port)


def is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return "%" not in host


def is_host_name(host: str) -> bool:
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(
        label and len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label)
        for label in labels
    )


def is_port(port: str) -> bool:
    return port == "" or (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535)


numbers = st.one_of(
    st.from_regex(r"\+[0-9]{0,17}", fullmatch=True),
    st.from_regex(r"[0-9]{3,8}", fullmatch=True),
    # Arabic-Indic three and a fullwidth plus: look like digits and "+", must be refused.
    st.text(alphabet=string.printable + "\u0663\uff0b", max_size=18),
)
urls = st.one_of(
    st.from_regex(r"(https?|HTTP|ftp)://[a-z.]{0,12}(/[ -~]{0,10})?", fullmatch=True),
    # Authorities near the edges: brackets, ports, user names, stray colons.
    st.from_regex(
        r"https?://(\[?[a-f0-9:.]{0,8}\]?|[a-z]{1,3}@?[a-z]{0,3})(:[0-9a-z+]{0,6})?[/?#]?",
        fullmatch=True,
    ),
    st.text(max_size=30),
    st.builds("https://example.com/{}".format, fuzz.any_text),
)
texts = st.one_of(st.none(), st.text(max_size=50), fuzz.any_text)
recipient_lists = st.one_of(
    st.lists(numbers, max_size=10),
    # The same recipient twice, which random lists rarely produce.
    st.lists(numbers, min_size=1, max_size=8).map(lambda to: [*to, to[0]]),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    from_=numbers,
    to=recipient_lists,
    text=texts,
    subject=texts,
    media=st.one_of(st.none(), st.lists(urls, max_size=12)),
    webhook=st.one_of(st.none(), urls),
)
def test_the_validator_accepts_exactly_what_telnyx_rules_accept(
    from_: str,
    to: list[str],
    text: str | None,
    subject: str | None,
    media: list[str] | None,
    webhook: str | None,
) -> None:
    expected = (
        is_e164(from_)
        and 1 <= len(to) <= 8
        and len(set(to)) == len(to)
        and all(is_e164(n) or is_short_code(n) for n in to)
        and (text is None or (text != "" and is_utf8(text)))
        and (subject is None or is_utf8(subject))
        and (media is None or (len(media) <= 10 and all(is_http_url(u) for u in media)))
        and (text is not None or bool(media))
        and (webhook is None or is_http_url(webhook))
    )
    fields: dict[str, Any] = {
        "from_": from_, "to": to, "text": text, "subject": subject, "media_urls": media,
        "webhook_url": webhook,
    }  # fmt: skip
    if expected:
        request = tgm.GroupMmsRequest(**fields)
        # What is accepted can be sent, and reads back the same from the wire.
        body = encode_request(get_converter(), request)
        assert request_from_wire(json.loads(body)) == request
    else:
        with pytest.raises(tgm.RequestValidationError) as info:
            tgm.GroupMmsRequest(**fields)
        assert info.value.field


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    fuzz.any_text,
    st.binary(max_size=20),
    st.lists(st.one_of(fuzz.any_text, st.integers(), st.none()), max_size=9),
    st.tuples(fuzz.any_text, fuzz.any_text),
    st.frozensets(fuzz.any_text, max_size=3),
    st.dictionaries(fuzz.any_text, fuzz.any_text, max_size=3),
)
FIELDS = [
    "from_", "to", "text", "subject", "media_urls", "webhook_url", "webhook_failover_url",
    "use_profile_webhooks",
]  # fmt: skip


@settings(max_examples=400)
@given(
    text=texts, subject=texts, media=st.one_of(st.none(), st.lists(urls, min_size=1, max_size=3))
)
def test_any_unicode_text_subject_or_url_is_accepted_exactly_when_it_can_be_sent(
    text: str | None, subject: str | None, media: list[str] | None
) -> None:
    expected = (
        (text is None or (text != "" and is_utf8(text)))
        and (subject is None or is_utf8(subject))
        and (media is None or all(is_http_url(u) for u in media))
        and (text is not None or bool(media))
    )
    make = functools.partial(
        tgm.GroupMmsRequest,
        from_="+13125551234",
        to=["+18655551234"],
        text=text,
        subject=subject,
        media_urls=media,
    )
    if expected:
        encode_request(get_converter(), make())
    else:
        with pytest.raises(tgm.RequestValidationError):
            make()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FIELDS), value=anything)
def test_the_validator_meets_a_value_of_any_type_with_a_validation_error_only(
    name: str, value: object
) -> None:
    fields = {"from_": "+13125551234", "to": ["+18655551234"], "text": "hi", name: value}
    outcome = attempt(lambda: tgm.GroupMmsRequest(**fields), tgm.RequestValidationError)
    if isinstance(outcome, tgm.RequestValidationError):
        assert outcome.field
    else:
        encode_request(get_converter(), outcome)  # accepted means sendable


MESSAGE_KEYS = [
    "id", "type", "direction", "from", "to", "cc", "text", "media", "cost", "cost_breakdown",
    "received_at", "sent_at", "parts", "tags", "errors", "wait_seconds", "tcr_campaign_billable",
]  # fmt: skip
json_values = fuzz.json_values(st.text(max_size=10) | st.sampled_from(MESSAGE_KEYS))
message_like = st.dictionaries(st.sampled_from(MESSAGE_KEYS), json_values, max_size=10)


@settings(max_examples=400)
@given(st.one_of(message_like.map(lambda d: {"data": d}), json_values))
def test_parsing_returns_a_message_or_raises_response_validation_error(document: Any) -> None:
    body = json.dumps(document).encode()
    try:
        msg = decode_message(get_converter(), 200, body)
    except tgm.APIResponseValidationError:
        return
    assert isinstance(msg, tgm.Message)


@settings(max_examples=200)
@given(st.one_of(st.binary(max_size=300), fuzz.deep_json()))
def test_any_bytes_give_a_message_or_a_response_validation_error(body: bytes) -> None:
    outcome = attempt(lambda: decode_message(get_converter(), 200, body), tgm.APIError)
    assert isinstance(outcome, tgm.Message | tgm.APIResponseValidationError)
    assert isinstance(outcome, tgm.Message) or outcome.outcome_unknown


@settings(max_examples=300)
@given(path=st.sampled_from(fuzz.MESSAGE_PATHS), value=fuzz.numbers)
def test_numbers_of_any_size_anywhere_give_a_message_or_a_response_validation_error(
    path: tuple[str | int, ...], value: object
) -> None:
    body = json.dumps({"data": fuzz.nest(path, value)}).encode()
    outcome = attempt(lambda: decode_message(get_converter(), 200, body), tgm.APIError)
    assert isinstance(outcome, tgm.Message | tgm.APIResponseValidationError)


@settings(max_examples=200)
@given(st.binary(max_size=200), st.integers(min_value=300, max_value=599))
def test_error_bodies_of_any_shape_give_an_api_status_error(body: bytes, status: int) -> None:
    error = error_from_response(get_converter(), status, {}, body)
    assert isinstance(error, tgm.APIStatusError)
    assert error.status_code == status


ERROR_KEYS = ["code", "title", "detail", "source", "pointer", "parameter", "meta"]
error_documents = st.one_of(
    st.fixed_dictionaries(
        {"errors": st.lists(fuzz.json_values(st.sampled_from(ERROR_KEYS)), max_size=3)}
    ),
    fuzz.json_values(st.sampled_from([*ERROR_KEYS, "errors"])),
)


@settings(max_examples=300)
@given(error_documents, st.integers(min_value=300, max_value=599))
def test_error_documents_of_any_shape_give_an_api_status_error_with_telnyx_errors(
    document: Any, status: int
) -> None:
    error = error_from_response(get_converter(), status, {}, json.dumps(document).encode())
    assert isinstance(error, tgm.APIStatusError)
    assert all(isinstance(e, tgm.MessageError) for e in error.errors)
