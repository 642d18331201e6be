"""The aiohttp receiver, over real HTTP on 127.0.0.1: verify, skip duplicates, answer fast."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import telnyx_group_mms as tgm
from telnyx_group_mms.webhooks.receiver import WebhookReceiver, webhook_handler

from .webhook_support import MESSAGE_ID, TO, Signer, body_of, envelope, finalized

PATH = "/webhooks/telnyx"
Serve = Callable[[WebhookReceiver], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an app with the receiver attached; stop it (running app cleanup) afterwards."""
    clients: list[TestClient[Any, Any]] = []

    async def start(receiver: WebhookReceiver) -> TestClient[Any, Any]:
        app = web.Application()
        receiver.attach(app, PATH)
        client = TestClient(TestServer(app, host="127.0.0.1", port=0))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def post(
    client: TestClient[Any, Any], signer: Signer, document: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    body = body_of(document)
    headers = {k.title(): v for k, v in signer.headers(body, timestamp=int(time.time())).items()}
    async with client.post(PATH, data=body, headers=headers) as response:
        return response.status, await response.json()


async def test_a_signed_webhook_reaches_the_callback_and_gets_200(
    serve: Serve, signer: Signer
) -> None:
    tracker = tgm.DeliveryTracker()

    async def on_event(event: tgm.WebhookEvent) -> None:
        tracker.feed(event)

    client = await serve(webhook_handler(on_event, public_key=signer.public_key))
    for number in TO:
        status, answer = await post(
            client, signer, finalized(number, "delivered", occurred_at="2026-09-21T18:10:05Z")
        )
        assert (status, answer) == (200, {"status": "ok"})
    assert tracker.status(MESSAGE_ID) == dict.fromkeys(TO, tgm.RecipientStatus.DELIVERED)
    assert tracker.is_final(MESSAGE_ID)


async def test_a_bad_signature_gets_400_with_the_cause_and_no_callback(
    serve: Serve, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tgm.WebhookEvent] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        calls.append(event)

    client = await serve(webhook_handler(on_event, public_key=signer.public_key))
    with caplog.at_level(logging.WARNING, logger="telnyx_group_mms.webhooks"):
        status, answer = await post(client, Signer(), envelope())
    assert status == 400
    assert "signature does not match" in answer["error"]
    assert "signature does not match" in caplog.text
    async with client.post(PATH, data=b"{}") as response:
        assert response.status == 400
        assert "missing header" in (await response.json())["error"]
    assert calls == []


async def test_a_duplicate_gets_200_without_calling_back_again(
    serve: Serve, signer: Signer
) -> None:
    calls: list[int | None] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        calls.append(event.meta.attempt if event.meta else None)

    client = await serve(webhook_handler(on_event, public_key=signer.public_key))
    first = envelope(event_id="evt-1", meta={"attempt": 1})
    retry = envelope(event_id="evt-1", meta={"attempt": 2})
    assert await post(client, signer, first) == (200, {"status": "ok"})
    assert await post(client, signer, retry) == (200, {"status": "duplicate"})
    assert calls == [1]


async def test_without_deduplication_every_delivery_calls_back(
    serve: Serve, signer: Signer
) -> None:
    calls: list[str] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        calls.append(event.id)

    client = await serve(webhook_handler(on_event, public_key=signer.public_key, deduplicate=False))
    for _ in range(2):
        assert await post(client, signer, envelope(event_id="evt-1")) == (200, {"status": "ok"})
    assert calls == ["evt-1", "evt-1"]


async def test_a_shared_deduplicator_is_used(serve: Serve, signer: Signer) -> None:
    dedupe = tgm.EventDeduplicator()
    dedupe.first_time("evt-1")

    async def on_event(event: tgm.WebhookEvent) -> None:
        raise AssertionError("a known event must not be handled again")

    client = await serve(
        webhook_handler(on_event, public_key=signer.public_key, deduplicate=dedupe)
    )
    assert await post(client, signer, envelope(event_id="evt-1")) == (200, {"status": "duplicate"})


async def test_a_failing_callback_gets_500_so_telnyx_retries_and_the_retry_is_handled(
    serve: Serve, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int | None] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        attempts.append(event.meta.attempt if event.meta else None)
        if len(attempts) == 1:
            raise RuntimeError("database down")

    client = await serve(webhook_handler(on_event, public_key=signer.public_key))
    with caplog.at_level(logging.ERROR, logger="telnyx_group_mms.webhooks"):
        status, answer = await post(client, signer, envelope(event_id="evt-1", meta={"attempt": 1}))
    assert (status, answer) == (500, {"error": "the event callback failed"})
    assert "database down" in caplog.text
    assert await post(client, signer, envelope(event_id="evt-1", meta={"attempt": 2})) == (
        200,
        {"status": "ok"},
    )
    assert attempts == [1, 2]


@pytest.mark.parametrize("ack_within", [0, 0.05])
async def test_a_slow_callback_is_acknowledged_at_once_and_finished_on_app_cleanup(
    serve: Serve, signer: Signer, ack_within: float
) -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        await release.wait()
        finished.append(event.id)

    receiver = webhook_handler(on_event, public_key=signer.public_key, ack_within=ack_within)
    client = await serve(receiver)
    assert await post(client, signer, envelope(event_id="evt-1")) == (200, {"status": "accepted"})
    assert finished == []
    assert receiver.pending == 1
    release.set()
    await client.close()  # the app's cleanup waits for the callback
    assert finished == ["evt-1"]
    assert receiver.pending == 0


async def test_with_ack_within_none_the_answer_waits_for_the_callback(
    serve: Serve, signer: Signer
) -> None:
    finished: list[str] = []

    async def on_event(event: tgm.WebhookEvent) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        finished.append(event.id)

    client = await serve(webhook_handler(on_event, public_key=signer.public_key, ack_within=None))
    assert await post(client, signer, envelope(event_id="evt-1")) == (200, {"status": "ok"})
    assert finished == ["evt-1"]


async def test_a_background_failure_is_logged(
    serve: Serve, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()

    async def on_event(event: tgm.WebhookEvent) -> None:
        await release.wait()
        raise RuntimeError("late failure")

    receiver = webhook_handler(on_event, public_key=signer.public_key, ack_within=0)
    client = await serve(receiver)
    assert await post(client, signer, envelope(event_id="evt-1")) == (200, {"status": "accepted"})
    with caplog.at_level(logging.ERROR, logger="telnyx_group_mms.webhooks"):
        release.set()
        await receiver.aclose()
    assert "late failure" in caplog.text


async def test_app_cleanup_cancels_callbacks_that_outlive_the_grace_period(
    signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    cancelled = asyncio.Event()

    async def on_event(event: tgm.WebhookEvent) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    receiver = webhook_handler(on_event, public_key=signer.public_key, ack_within=0)
    app = web.Application()
    app.router.add_post(PATH, receiver.handle)

    async def close_quickly(_app: web.Application) -> None:
        await receiver.aclose(grace=0)

    app.on_cleanup.append(close_quickly)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        assert await post(client, signer, envelope()) == (200, {"status": "accepted"})
    finally:
        with caplog.at_level(logging.WARNING, logger="telnyx_group_mms.webhooks"):
            await client.close()
    assert cancelled.is_set()
    assert receiver.pending == 0
    assert "cancelled 1 webhook callback" in caplog.text


async def test_a_closed_receiver_answers_503_so_telnyx_tries_again(signer: Signer) -> None:
    async def on_event(event: tgm.WebhookEvent) -> None:
        raise AssertionError("not called once closed")

    receiver = webhook_handler(on_event, public_key=signer.public_key)
    await receiver.aclose()
    app = web.Application()
    app.router.add_post(PATH, receiver.handle)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        status, answer = await post(client, signer, envelope())
    finally:
        await client.close()
    assert status == 503
    assert "shutting down" in answer["error"]


def test_bad_settings_are_refused() -> None:
    async def on_event(event: tgm.WebhookEvent) -> None:
        return None

    with pytest.raises(ValueError, match="tolerance"):
        webhook_handler(on_event, tolerance=-1)
    with pytest.raises(ValueError, match="ack_within"):
        webhook_handler(on_event, ack_within=-0.5)
