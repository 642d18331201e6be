"""Whatever bytes a server answers, a send ends in a Message or an APIError, and never
claims that a message certainly did not go out when it may have.

The server writes raw bytes (``RawServer``): broken status lines, lying lengths, bogus
encodings, headers of any value, bodies of any shape, so the client's whole HTTP stack
meets them, not only the parser behind it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import telnyx_group_mms as tgm

from . import fuzz_support as fuzz
from .conftest import FROM, KEY, TO
from .raw_server import RawServer

statuses = st.sampled_from(
    [200, 201, 202, 204, 301, 307, 400, 401, 404, 409, 413, 422, 429, 500, 502, 503, 504]
) | st.integers(min_value=100, max_value=999)
status_lines = st.one_of(
    statuses.map(lambda code: f"HTTP/1.1 {code} Whatever\r\n".encode()),
    st.sampled_from([b"HTTP/1.0 200 OK\r\n", b"HTTP/2 200\r\n", b"\r\n", b"200 OK\r\n"]),
    st.binary(max_size=30).map(lambda junk: junk + b"\r\n"),
)
header_names = st.sampled_from(
    [
        *(b"Content-Length", b"Transfer-Encoding", b"Content-Encoding", b"Content-Type"),
        *(b"Retry-After", b"retry-after-ms", b"x-request-id", b"Location", b"Connection"),
    ]
)
header_values = st.sampled_from(
    [
        *(b"0", b"7", b"-1", b"abc", b"99999999999999999999", b"chunked", b"gzip", b"br"),
        *(b"deflate", b"identity", b"close", b"keep-alive", b"application/json", b"1e999"),
        *(b"nan", b"Wed, 21 Oct 2015 07:28:00 GMT", b"Wed, 21 Oct 9999 07:28:00 GMT"),
    ]
) | st.binary(max_size=20).filter(lambda value: b"\r" not in value and b"\n" not in value)
headers = st.lists(
    st.tuples(header_names, header_values).map(lambda nv: nv[0] + b": " + nv[1] + b"\r\n"),
    max_size=5,
).map(b"".join)
message_like = st.dictionaries(
    st.sampled_from(["id", "to", "from", "text", "parts", "cost", "errors", "received_at"]),
    fuzz.json_values(st.text(max_size=8)),
    max_size=5,
)
bodies = st.one_of(
    st.binary(max_size=200),
    message_like.map(lambda data: json.dumps({"data": data}).encode()),
    st.builds(lambda data: json.dumps({"errors": [data]}).encode(), message_like),
    fuzz.deep_json(max_depth=10_000),
)
answers = st.builds(
    lambda line, head, body: line + head + b"\r\n" + body, status_lines, headers, bodies
)


@pytest.fixture(scope="module")
def raw_server() -> Iterator[RawServer]:
    srv = RawServer().start()
    yield srv
    srv.stop()


async def _send(base_url: str) -> tgm.Message | tgm.APIError:
    # One attempt: a retry would hide which answer produced which outcome.
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=base_url, timeout=10, retry=tgm.RetryPolicy(max_attempts=1)
    ) as client:
        try:
            return await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        except tgm.APIError as exc:
            return exc


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer=answers)
def test_any_answer_gives_a_message_or_an_api_error_that_never_overclaims_safety(
    raw_server: RawServer, answer: bytes
) -> None:
    raw_server.answer = lambda: [answer]
    before = raw_server.requests

    outcome = asyncio.run(_send(raw_server.base_url))

    assert raw_server.requests == before + 1
    if isinstance(outcome, tgm.Message):
        return
    assert isinstance(outcome, tgm.APIError)
    if outcome.outcome is tgm.Outcome.SAFE:
        # Only Telnyx's "not taken in" statuses may say so: garbage after the request
        # was sent must leave the outcome unknown (or final), never invite a resend.
        assert isinstance(outcome, tgm.APIStatusError)
        assert outcome.status_code in (429, 503)
