"""Errors read as sentences: Telnyx's title and detail punctuated, connections named right."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO, fast_retry
from .raw_server import RawServer
from .scripted_server import Reply, ScriptedServer


@pytest.mark.parametrize(
    ("error", "summary"),
    [
        (
            {"title": "Resource not found", "detail": "The requested resource could not be found."},
            "Resource not found. The requested resource could not be found.",
        ),
        (
            {"title": "Invalid value.", "detail": "The 'to' list is too long."},
            "Invalid value. The 'to' list is too long.",
        ),
        ({"title": "Blocked", "detail": "blocked"}, "Blocked"),
        ({"detail": "Only a detail."}, "Only a detail."),
        ({"title": "Only a title"}, "Only a title"),
    ],
    ids=["title and detail", "title with a full stop", "same text twice", "detail", "title"],
)
async def test_the_title_and_detail_of_an_api_error_read_as_sentences(
    server: ScriptedServer, error: dict[str, str], summary: str
) -> None:
    server.push(Reply(status=404, body={"errors": [{"code": "10005", **error}]}))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(tgm.NotFoundError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert str(info.value) == f"Telnyx answered 404 (code 10005): {summary}"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, never listening, so none can take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_a_refused_plain_http_connection_names_where_and_why_not_ssl(
    closed_port: int,
) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v2"
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=base_url, retry=fast_retry(max_attempts=1)
    ) as client:
        with pytest.raises(tgm.APIConnectionError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert str(info.value) == (
        f"could not connect to Telnyx at 127.0.0.1:{closed_port} (Connection refused); "
        "nothing was sent"
    )
    assert info.value.outcome is tgm.Outcome.SAFE


async def test_a_malformed_answer_is_described_on_one_line() -> None:
    server = RawServer().start()
    server.answer = lambda: [b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"]
    try:
        async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
            with pytest.raises(tgm.APIConnectionError) as info:
                await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    finally:
        server.stop()

    message = str(info.value)
    assert "\n" not in message
    assert "\\n" not in message
    assert message.startswith("the connection to Telnyx failed after the request was sent")
    assert info.value.outcome_unknown is True
