"""End to end: the sandbox sends signed webhooks to the aiohttp receiver, and the tracker
follows every recipient of every group MMS to a final status."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import DeliveryOutcomes, Sandbox
from telnyx_group_mms.webhooks import WebhookEvent
from telnyx_group_mms.webhooks.receiver import webhook_handler

pytest.importorskip("cryptography")

FROM = "+13125551234"
GROUPS = [
    ["+18655551234", "+14155551234", "+12125550100"],
    ["+13125550111", "+13125550112"],
    ["+16465550001", "+16465550002", "+16465550003", "+16465550004"],
]


class Receiver:
    """A web app that verifies with the sandbox's key and feeds a tracker."""

    def __init__(self) -> None:
        self.tracker = tgm.DeliveryTracker()
        self.events: list[WebhookEvent] = []
        self.fail_next = 0
        self.url = ""

    async def on_event(self, event: WebhookEvent) -> None:
        if self.fail_next:
            # A receiver that crashes makes Telnyx (and the sandbox) deliver again.
            self.fail_next -= 1
            raise RuntimeError("receiver hiccup")
        self.events.append(event)
        self.tracker.feed(event)


@pytest.fixture
async def receiver_and_sandbox() -> AsyncIterator[tuple[Receiver, Sandbox]]:
    receiver = Receiver()
    app = web.Application()
    runner = web.AppRunner(app, access_log=None)
    # The key is known only once the sandbox exists, so the route is added after it.
    async with Sandbox(
        delivery=DeliveryOutcomes(
            failure_rate=0.3,
            statuses={"+13125550112": "delivery_failed", "+16465550004": "expired"},
        ),
        seed=7,
        webhook_retry_delay=0.01,
    ) as sb:
        assert sb.public_key is not None
        webhook_handler(receiver.on_event, public_key=sb.public_key).attach(app, "/hooks")
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
        try:
            yield receiver, sb
        finally:
            await sb.adrain_webhooks()
            await runner.cleanup()


async def test_every_recipient_reaches_a_final_status_through_verified_webhooks(
    receiver_and_sandbox: tuple[Receiver, Sandbox],
) -> None:
    receiver, sb = receiver_and_sandbox
    receiver.fail_next = 2
    sent: list[tgm.Message] = []
    async with tgm.AsyncTelnyx(api_key="test", base_url=sb.base_url) as client:
        for group in GROUPS:
            msg = await client.messages.send_group_mms(
                from_=FROM, to=group, text="Reminder", webhook_url=receiver.url
            )
            receiver.tracker.expect(msg)
            sent.append(msg)

    for msg, group in zip(sent, GROUPS, strict=True):
        assert msg.id is not None
        final = await receiver.tracker.wait_final(msg.id, timeout=20)
        assert set(final) == set(group)
        assert all(status in tgm.FINAL_STATUSES for status in final.values())
        assert receiver.tracker.is_final(msg.id)

    await sb.adrain_webhooks()
    # Each recipient produced exactly one sent and one finalized event, each handled once,
    # although the receiver failed twice and the sandbox delivered those again.
    handled = Counter((e.event_type, e.payload.to[0].phone_number) for e in receiver.events)  # type: ignore[union-attr]
    recipients = sum(len(g) for g in GROUPS)
    assert sum(handled.values()) == 2 * recipients
    assert set(handled.values()) == {1}
    retried = [a for a in sb.webhook_attempts if a.attempt > 1]
    assert len(retried) >= 2

    # The tracker agrees with what the sandbox decided for each recipient.
    finalized = {
        e.payload.to[0].phone_number: e.payload.to[0].status  # type: ignore[union-attr]
        for e in receiver.events
        if e.event_type == "message.finalized"
    }
    for msg in sent:
        assert msg.id is not None
        tracked = receiver.tracker.status(msg.id)
        assert tracked == {number: finalized[number] for number in tracked}
    assert finalized["+13125550112"] == "delivery_failed"
    assert finalized["+16465550004"] == "expired"
    assert "delivery_failed" in finalized.values()
    assert "delivered" in finalized.values()
