"""The wire: what goes out, what comes back, and how transport failures are mapped."""

from __future__ import annotations

import asyncio
import gzip
import re
import zlib
from collections.abc import Callable, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO, fast_retry
from .raw_server import Answer, RawServer
from .scripted_server import Reply, ScriptedServer

URL = re.compile(r"^https://api\.telnyx\.test/v2/messages/group_mms$")


async def test_the_request_is_a_json_post_with_wire_names_and_auth_headers(
    server: ScriptedServer,
) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        await client.messages.send_group_mms(
            from_=FROM, to=TO, text="Hello", media_urls=["https://example.com/a.png"]
        )
    seen = server.seen[0]
    assert seen.method == "POST"
    assert seen.path == "/v2/messages/group_mms"
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith(f"telnyx-group-mms/{tgm.__version__}")
    assert seen.json() == {
        "from": FROM,
        "to": TO,
        "text": "Hello",
        "media_urls": ["https://example.com/a.png"],
    }


async def test_a_send_returns_the_parsed_message(server: ScriptedServer) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        msg = await client.messages.send(tgm.GroupMmsRequest(from_=FROM, to=TO, text="Hi"))
    assert isinstance(msg, tgm.Message)
    assert [r.phone_number for r in msg.to] == TO
    assert all(r.status == "queued" for r in msg.to)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, tgm.BadRequestError),
        (401, tgm.AuthenticationError),
        (403, tgm.PermissionDeniedError),
        (404, tgm.NotFoundError),
        (409, tgm.ConflictError),
        (422, tgm.UnprocessableEntityError),
        (429, tgm.RateLimitError),
        (500, tgm.InternalServerError),
        (503, tgm.InternalServerError),
        (418, tgm.APIStatusError),
    ],
)
async def test_each_status_maps_to_its_error_with_telnyx_details(
    server: ScriptedServer, status: int, error: type[tgm.APIStatusError]
) -> None:
    body = {
        "errors": [
            {
                "code": "40300",
                "title": "Blocked due to STOP message",
                "detail": "The recipient replied STOP.",
                "source": {"pointer": "/to"},
                "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/40300"},
            }
        ]
    }
    server.push(Reply(status=status, body=body, headers={"x-request-id": "req-123"}))
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, retry=fast_retry(max_attempts=1)
    ) as client:
        with pytest.raises(error) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    exc = info.value
    assert type(exc) is error
    assert exc.status_code == status
    assert exc.request_id == "req-123"
    assert exc.code == "40300"
    assert exc.errors[0].source == tgm.ErrorSource(pointer="/to")
    assert exc.errors[0].meta == body["errors"][0]["meta"]
    assert "40300" in str(exc) and "Blocked due to STOP message" in str(exc)


async def test_an_error_body_of_another_shape_gives_an_empty_errors_list(
    server: ScriptedServer,
) -> None:
    server.push(Reply(status=400, body=b"<html>Bad gateway</html>"))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(tgm.BadRequestError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.errors == []
    assert info.value.body == b"<html>Bad gateway</html>"


async def test_redirects_are_never_followed(server: ScriptedServer) -> None:
    server.push(Reply(status=307, headers={"Location": server.base_url + "/messages/group_mms"}))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(tgm.APIStatusError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.status_code == 307
    assert server.posts == 1


async def test_a_response_body_over_the_cap_is_refused_unread(server: ScriptedServer) -> None:
    server.push(Reply(status=200, body=b"{" + b" " * 5000 + b"}"))
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, max_response_bytes=1000
    ) as client:
        with pytest.raises(tgm.APIResponseValidationError) as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.outcome_unknown is True
    assert "1000 bytes" in str(info.value)


async def test_a_decompression_bomb_is_stopped_at_the_cap(server: ScriptedServer) -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    server.push(Reply(status=200, body=bomb, headers={"Content-Encoding": "gzip"}))
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, max_response_bytes=100_000
    ) as client:
        with pytest.raises(tgm.APIResponseValidationError):
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    srv = RawServer().start()
    yield srv
    srv.stop()


def _endless(head: bytes, chunk: Callable[[], bytes]) -> Answer:
    def answer() -> Iterator[bytes]:
        yield head
        while True:
            yield chunk()

    return answer


def _endless_gzip() -> Answer:
    # A gzip stream of zeros that never ends: about 64 bytes on the wire per 64 KiB.
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(64 * 1024)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
    return _endless(head, lambda: squeeze.compress(zeros) + squeeze.flush(zlib.Z_SYNC_FLUSH))


SPACES = b" " * 65536
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        _endless(
            OK + b"Transfer-Encoding: chunked\r\n\r\n", lambda: b"10000\r\n" + SPACES + b"\r\n"
        ),
        _endless(OK + b"Connection: close\r\n\r\n", lambda: SPACES),
        _endless(OK + b"Content-Length: 10000000000\r\n\r\n", lambda: SPACES),
        _endless_gzip(),
    ],
    ids=["chunked", "no length", "10 GB length", "gzip bomb"],
)
async def test_an_endless_body_is_refused_at_the_cap_without_being_read(
    raw_server: RawServer, answer: Answer
) -> None:
    # An endless body cannot be read in full: the error (not a timeout) proves the
    # client stopped at the cap.
    raw_server.answer = answer
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=raw_server.base_url, max_response_bytes=1_000_000, timeout=60
    ) as client:
        with pytest.raises(tgm.APIResponseValidationError, match="over 1000000 bytes") as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.outcome_unknown is True
    assert raw_server.requests == 1


async def test_a_compressed_message_is_read_normally(server: ScriptedServer) -> None:
    body = gzip.compress(b'{"data": {"id": "m1", "type": "MMS"}}')
    server.push(Reply(status=200, body=body, headers={"Content-Encoding": "gzip"}))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        msg = await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert msg.id == "m1"


async def test_connections_are_pooled_and_reused(server: ScriptedServer) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        for _ in range(5):
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert server.posts == 5
    assert server.connections == 1


async def test_idle_pooled_connections_are_retired_after_keepalive_expiry(
    server: ScriptedServer,
) -> None:
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, keepalive_expiry=0.1
    ) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        await asyncio.sleep(0.4)
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert server.connections == 2


def test_the_default_keepalive_is_shorter_than_common_server_idle_timeouts() -> None:
    from telnyx_group_mms._config import DEFAULT_KEEPALIVE_EXPIRY

    # nginx 75 s, AWS load balancers 60 s, Node.js 5 s: retire ours no later than that.
    assert DEFAULT_KEEPALIVE_EXPIRY <= 5.0


@pytest.mark.parametrize(
    ("raised", "error", "unknown"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), tgm.APITimeoutError, False),
        (
            aiohttp.ClientConnectorDNSError(
                aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
                OSError(-2, "Name or service not known"),
            ),
            tgm.APIConnectionError,
            False,
        ),
        (aiohttp.SocketTimeoutError("read"), tgm.APITimeoutError, True),
        (aiohttp.ServerDisconnectedError(), tgm.APIConnectionError, True),
        (aiohttp.ClientPayloadError("truncated"), tgm.APIConnectionError, True),
        (ConnectionResetError("reset"), tgm.APIConnectionError, True),
    ],
)
async def test_transport_failures_map_to_errors_that_say_whether_the_message_may_have_gone(
    raised: Exception, error: type[tgm.APIConnectionError], unknown: bool
) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, exception=raised, repeat=True)
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url="https://api.telnyx.test/v2", retry=fast_retry()
        ) as client:
            with pytest.raises(error) as info:
                await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        calls = sum(len(v) for v in mocked.requests.values())
    assert type(info.value) is error
    assert info.value.outcome_unknown is unknown
    assert isinstance(info.value.__cause__, type(raised))
    # Safe failures are retried (3 attempts); unknown ones are sent once.
    assert calls == (1 if unknown else 3)
