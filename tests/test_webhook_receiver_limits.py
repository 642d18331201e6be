"""The aiohttp receiver reads no body it will refuse: signature headers first, then at most
``max_body_bytes`` of body, whatever the app's ``client_max_size`` allows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientSession, web

import telnyx_group_mms as tgm
from telnyx_group_mms.webhooks import DEFAULT_MAX_BODY_BYTES
from telnyx_group_mms.webhooks.receiver import WebhookReceiver, webhook_handler

from .webhook_support import Signer, body_of, envelope

PATH = "/webhooks/telnyx"
# What the app alone would let through: far more than any webhook.
GENEROUS_CLIENT_MAX_SIZE = 1024**3


class Calls:
    def __init__(self) -> None:
        self.events: list[tgm.WebhookEvent] = []

    async def __call__(self, event: tgm.WebhookEvent) -> None:
        self.events.append(event)


Serve = Callable[[WebhookReceiver], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve a receiver on a default app that would itself accept bodies up to 1 GiB."""
    runners: list[web.AppRunner] = []

    async def start(receiver: WebhookReceiver) -> str:
        app = web.Application(client_max_size=GENEROUS_CLIENT_MAX_SIZE)
        receiver.attach(app, PATH)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}{PATH}"

    yield start
    for runner in runners:
        await runner.cleanup()


class EndlessBody:
    """A request body that sends ``first`` and then nothing more until released.

    A receiver that waited for the whole body would never answer."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.released = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.first), 64 * 1024):
            yield self.first[start : start + 64 * 1024]
        await self.released.wait()


def fresh_headers(signer: Signer, body: bytes = b"{}") -> dict[str, str]:
    """Headers that pass every check a receiver can make without the body."""
    return signer.headers(body, timestamp=int(time.time()))


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with ClientSession() as session, session.post(url, data=body, headers=headers) as r:
        return r.status, await r.json()


async def answer_while_streaming(
    url: str, headers: dict[str, str], body: EndlessBody
) -> tuple[int, Any]:
    async with ClientSession() as session:
        try:
            # The deadline only turns a receiver that waits for the body into a failure.
            async with asyncio.timeout(30):
                async with session.post(url, data=body.__aiter__(), headers=headers) as response:
                    return response.status, await response.json()
        finally:
            body.released.set()


async def test_an_unsigned_request_is_refused_before_its_body_is_read(serve: Serve) -> None:
    calls = Calls()
    url = await serve(webhook_handler(calls, public_key=Signer().public_key))

    status, answer = await answer_while_streaming(url, {}, EndlessBody(b"x" * 1000))

    assert status == 400
    assert "missing header telnyx-signature-ed25519" in answer["error"]
    assert calls.events == []


async def test_a_stale_request_is_refused_before_its_body_is_read(serve: Serve) -> None:
    signer = Signer()
    url = await serve(webhook_handler(Calls(), public_key=signer.public_key))
    stale = signer.headers(b"{}", timestamp=int(time.time()) - 3600)

    status, answer = await answer_while_streaming(url, stale, EndlessBody(b"x" * 1000))

    assert status == 400
    assert "s old, beyond the tolerance" in answer["error"]


async def test_a_body_over_the_limit_gets_413_without_the_rest_being_read(serve: Serve) -> None:
    signer = Signer()
    calls = Calls()
    receiver = webhook_handler(calls, public_key=signer.public_key, max_body_bytes=1000)
    url = await serve(receiver)

    status, answer = await answer_while_streaming(
        url, fresh_headers(signer), EndlessBody(b"x" * 1001)
    )

    assert status == 413
    assert answer["error"] == "the webhook body is larger than 1000 bytes"
    assert calls.events == []


async def test_a_declared_length_over_the_limit_gets_413_at_once(serve: Serve) -> None:
    signer = Signer()
    url = await serve(webhook_handler(Calls(), public_key=signer.public_key))
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [
        f"POST {PATH} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {100 * 1024**3}",  # 100 GiB announced, none sent
        *(f"{name}: {value}" for name, value in fresh_headers(signer).items()),
    ]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        async with asyncio.timeout(30):
            status_line = await reader.readline()
    finally:
        writer.close()
    assert status_line.split()[1] == b"413"


async def test_the_default_limit_admits_the_largest_webhook_telnyx_sends(serve: Serve) -> None:
    # Eight recipients, ten long media URLs and a long text in \u escapes: still well
    # under the default limit.
    signer = Signer()
    calls = Calls()
    url = await serve(webhook_handler(calls, public_key=signer.public_key))
    document = envelope()
    payload = document["data"]["payload"]
    payload["to"] = [dict(payload["to"][0], phone_number=f"+1312555{n:04d}") for n in range(8)]
    payload["media"] = [{"url": "https://example.com/" + "m" * 2000} for _ in range(10)]
    payload["text"] = "\u00e9" * 5000
    body = body_of(document).replace("\u00e9".encode(), b"\\u00e9")
    assert len(body) < DEFAULT_MAX_BODY_BYTES / 4

    assert await post(url, body, fresh_headers(signer, body)) == (200, {"status": "ok"})
    assert len(calls.events) == 1


@pytest.mark.parametrize(("extra", "status"), [(0, 200), (1, 413)])
async def test_the_limit_is_configurable_and_inclusive(
    serve: Serve, extra: int, status: int
) -> None:
    signer = Signer()
    body = body_of(envelope())
    receiver = webhook_handler(Calls(), public_key=signer.public_key, max_body_bytes=len(body))
    url = await serve(receiver)
    sent = body + b" " * extra  # JSON still, and signed as sent
    assert (await post(url, sent, fresh_headers(signer, sent)))[0] == status


async def test_a_replayed_request_within_the_tolerance_is_handled_once(serve: Serve) -> None:
    # The signature cannot tell a replay from the original; the event id can.
    signer = Signer()
    calls = Calls()
    url = await serve(webhook_handler(calls, public_key=signer.public_key))
    body = body_of(envelope(event_id="evt-replayed"))
    headers = fresh_headers(signer, body)
    answers = [await post(url, body, headers) for _ in range(3)]
    assert answers == [(200, {"status": "ok"})] + [(200, {"status": "duplicate"})] * 2
    assert [e.id for e in calls.events] == ["evt-replayed"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("max_body_bytes", 0),
        ("max_body_bytes", -1),
        ("tolerance", float("nan")),
        ("tolerance", float("inf")),
    ],
)
def test_settings_that_would_disable_a_limit_are_refused(setting: str, value: float) -> None:
    with pytest.raises(ValueError, match=setting):
        webhook_handler(Calls(), **{setting: value})  # type: ignore[arg-type]


async def test_a_body_that_does_not_decompress_gets_400_not_500(serve: Serve) -> None:
    signer = Signer()
    url = await serve(webhook_handler(Calls(), public_key=signer.public_key))
    headers = fresh_headers(signer) | {"Content-Encoding": "gzip"}
    status, answer = await post(url, b"not gzip at all", headers)
    assert status == 400
    assert "could not be read" in answer["error"]
