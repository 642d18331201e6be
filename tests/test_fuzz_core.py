"""Property tests: the validator and the response parser never crash, and mean what they say."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import telnyx_group_mms as tgm
from telnyx_group_mms.protocol import decode_message, error_from_response
from telnyx_group_mms.serialization import get_converter

DIGITS = "0123456789"


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


def is_http_url(value: str) -> bool:
    lower = value.lower()
    for scheme in ("http://", "https://"):
        if lower.startswith(scheme):
            rest = value[len(scheme) :]
            host = rest
            for sep in "/?#":
                host = host.split(sep, 1)[0]
            return bool(host) and "@" not in host and not any(c.isspace() for c in rest)
    return False


numbers = st.one_of(
    st.from_regex(r"\+[0-9]{0,17}", fullmatch=True),
    st.from_regex(r"[0-9]{3,8}", fullmatch=True),
    # Arabic-Indic three and a fullwidth plus: look like digits and "+", must be refused.
    st.text(alphabet=string.printable + "\u0663\uff0b", max_size=18),
)
urls = st.one_of(
    st.from_regex(r"(https?|HTTP|ftp)://[a-z.]{0,12}(/[ -~]{0,10})?", fullmatch=True),
    st.text(max_size=30),
)
texts = st.one_of(st.none(), st.text(max_size=50))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    from_=numbers,
    to=st.lists(numbers, max_size=10),
    text=texts,
    media=st.one_of(st.none(), st.lists(urls, max_size=12)),
    webhook=st.one_of(st.none(), urls),
)
def test_the_validator_accepts_exactly_what_telnyx_rules_accept(
    from_: str, to: list[str], text: str | None, media: list[str] | None, webhook: str | None
) -> None:
    expected = (
        is_e164(from_)
        and 1 <= len(to) <= 8
        and len(set(to)) == len(to)
        and all(is_e164(n) or is_short_code(n) for n in to)
        and (text is None or text != "")
        and (media is None or (len(media) <= 10 and all(is_http_url(u) for u in media)))
        and (text is not None or bool(media))
        and (webhook is None or is_http_url(webhook))
    )
    if expected:
        tgm.GroupMmsRequest(from_=from_, to=to, text=text, media_urls=media, webhook_url=webhook)
    else:
        with pytest.raises(tgm.RequestValidationError) as info:
            tgm.GroupMmsRequest(
                from_=from_, to=to, text=text, media_urls=media, webhook_url=webhook
            )
        assert info.value.field


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
MESSAGE_KEYS = [
    "id", "type", "direction", "from", "to", "cc", "text", "media", "cost", "cost_breakdown",
    "received_at", "sent_at", "parts", "tags", "errors", "wait_seconds", "tcr_campaign_billable",
]  # fmt: skip
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
@given(st.binary(max_size=200), st.integers(min_value=300, max_value=599))
def test_error_bodies_of_any_shape_give_an_api_status_error(body: bytes, status: int) -> None:
    error = error_from_response(get_converter(), status, {}, body)
    assert isinstance(error, tgm.APIStatusError)
    assert error.status_code == status
