"""The fast JSON codec gives the values the standard library gives, whatever the bytes."""

from __future__ import annotations

import codecs
import json
import platform
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from telnyx_group_mms._wire import json_codec
from telnyx_group_mms._wire.protocol import decode_message, encode_request
from telnyx_group_mms._wire.serialization import get_converter
from telnyx_group_mms.models import GroupMmsRequest, Message

from .fuzz_support import any_text, json_values

#: JSON numbers: integers of up to 41 digits, fractions, exponents.
_NUMBER = r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?"


def _outcome(read: Any, body: bytes) -> tuple[str, str]:
    """What reading ``body`` gives, comparable even for NaN (by repr) and errors (by kind)."""
    try:
        return ("value", repr(read(body)))
    except (ValueError, RecursionError) as exc:
        return ("error", "RecursionError" if isinstance(exc, RecursionError) else "ValueError")


def _same_as_json(body: bytes) -> None:
    assert _outcome(json_codec.loads, body) == _outcome(json_codec.loads_stdlib, body)


def test_cpython_installs_get_the_fast_codec() -> None:
    # orjson is a dependency on CPython: a missing install step would silently slow sends.
    if platform.python_implementation() == "CPython":
        assert json_codec.FAST


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=json_values(st.text(max_size=8)),
    ensure_ascii=st.booleans(),
    indent=st.none() | st.integers(0, 2),
)
def test_any_json_document_reads_as_json_reads_it(
    value: Any, ensure_ascii: bool, indent: int | None
) -> None:
    _same_as_json(json.dumps(value, ensure_ascii=ensure_ascii, indent=indent).encode())


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_any_bytes_read_as_json_reads_them_or_fail_as_it_fails(body: bytes) -> None:
    _same_as_json(body)


@settings(max_examples=300)
@given(st.from_regex(_NUMBER, fullmatch=True))
def test_any_number_reads_to_the_same_int_or_float(number: str) -> None:
    _same_as_json(number.encode())
    _same_as_json(f'{{"wait_seconds": {number}, "parts": [{number}]}}'.encode())


@pytest.mark.parametrize(
    "number",
    [
        "9223372036854775807",  # the largest int64: orjson keeps it
        "18446744073709551615",  # the largest uint64
        "18446744073709551616",  # one more: orjson alone would make it a float
        "-9223372036854775809",
        "123456789012345678901234567890",
    ],
)
def test_integers_beyond_64_bits_stay_exact(number: str) -> None:
    value = json_codec.loads(f'{{"n": {number}}}'.encode())["n"]
    assert type(value) is int
    assert value == int(number)


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"[Infinity, -Infinity]",
        b"1e999",
        b'"\\ud800"',  # a lone surrogate escape
        codecs.BOM_UTF8 + b'{"a": 1}',
        '{"a": "é"}'.encode("utf-16"),
        '{"a": "é"}'.encode("utf-32-le"),
        b'{"a": 1, "a": 2}',  # the last duplicate wins, as in json
        b'"\\u0000\\n\\t\\u2028"',
        b"\xff",  # not UTF-8 at all
        b"",
    ],
)
def test_what_only_json_reads_is_read_as_json_reads_it(body: bytes) -> None:
    _same_as_json(body)


@settings(max_examples=300)
@given(any_text)
def test_strings_encode_byte_for_byte_as_json_encodes_them(text: str) -> None:
    try:
        expected = json_codec.dumps_stdlib([text, {"k": text}, True, None])
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: both refuse it
        with pytest.raises(TypeError):
            json_codec.dumps([text, {"k": text}, True, None])
        return
    assert json_codec.dumps([text, {"k": text}, True, None]) == expected


def test_control_and_separator_characters_encode_as_json_encodes_them() -> None:
    every_escape = "".join(map(chr, range(0x20))) + '"\\/\x7f\u2028\u2029\ufeff'
    assert json_codec.dumps(every_escape) == json_codec.dumps_stdlib(every_escape)


def test_a_request_body_is_byte_for_byte_the_standard_encoding() -> None:
    request = GroupMmsRequest(
        from_="+13125551234",
        to=("+18655551234", "55555"),
        text="Café \u2014 \U0001f37d at 8?\n",
        subject="Tonight",
        media_urls=("https://media.example.com/menu.png",),
        use_profile_webhooks=False,
    )
    converter = get_converter()
    body = encode_request(converter, request)
    assert body == json_codec.dumps_stdlib(converter.unstructure(request))
    assert json.loads(body)["from"] == "+13125551234"


def test_a_message_keeps_a_huge_unknown_number_exactly() -> None:
    body = b'{"data": {"id": "m1", "parts": 1, "ticket": 123456789012345678901234567890}}'
    message = decode_message(get_converter(), 200, body)
    assert isinstance(message, Message)
    assert message.extra == {"ticket": 123456789012345678901234567890}
