"""A queued message's webhooks do not claim it was sent before it left its sender's queue."""

from __future__ import annotations

from datetime import datetime, timedelta

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox, SenderQueues

from .conftest import FROM, TO
from .fanout_support import eventually
from .openapi import errors_against
from .recording_receiver import Receiver, verify
from .test_sandbox_rate_limit import FakeClock


async def _send_two(sandbox: Sandbox, receiver: Receiver) -> list[tgm.Message]:
    async with tgm.AsyncTelnyx(api_key="k", base_url=sandbox.base_url) as client:
        return [
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text=f"Hi {n}", webhook_url=receiver.url
            )
            for n in range(2)
        ]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_a_queued_messages_webhooks_report_it_sent_when_it_left_the_queue() -> None:
    # An hour of queueing played in a millisecond: the webhooks come at once, their
    # timestamps still on Telnyx's time.
    settings = SenderQueues(time_scale=3_600_000)
    async with Sandbox(sender_queues=settings, clock=FakeClock()) as sandbox, Receiver() as hooks:
        first, second = await _send_two(sandbox, hooks)
        await sandbox.adrain_webhooks()

    assert (first.wait_seconds, second.wait_seconds) == (0.0, 10.0)
    assert second.received_at is not None
    leaves_queue = second.received_at + timedelta(seconds=10)
    events = [r for r in hooks.received if r.json()["data"]["payload"]["id"] == second.id]
    assert sorted(r.event_type for r in events) == ["message.finalized"] * 2 + ["message.sent"] * 2
    for received in events:
        assert sandbox.public_key is not None
        verify(sandbox.public_key, received)
        data = received.json()["data"]
        assert errors_against("OutboundMessageEvent", received.json()) == []
        assert data["payload"]["wait_seconds"] == 10.0
        assert _at(data["payload"]["sent_at"]) >= leaves_queue
        assert _at(data["occurred_at"]) >= leaves_queue
        if data["event_type"] == "message.finalized":
            assert _at(data["payload"]["completed_at"]) >= _at(data["payload"]["sent_at"])


async def test_a_queued_messages_webhooks_wait_until_it_leaves_the_queue() -> None:
    # One message an hour from FROM, in real time: the second waits an hour.
    settings = SenderQueues(per_number_mps={FROM: 1 / 3600}, max_queue_seconds=7200)
    async with Sandbox(sender_queues=settings, clock=FakeClock()) as sandbox, Receiver() as hooks:
        first, second = await _send_two(sandbox, hooks)
        await eventually(lambda: len(hooks.received) == 2 * len(TO))
        ids = {r.json()["data"]["payload"]["id"] for r in hooks.received}
        attempted = {a.message_id for a in sandbox.webhook_attempts}

    assert second.wait_seconds == 3600.0
    assert ids == attempted == {first.id}


async def test_a_reset_stops_the_webhooks_of_messages_still_in_their_queue() -> None:
    # The second message leaves its queue 0.5 s after it was sent: a test sharing the
    # sandbox after a reset must not see its webhooks.
    settings = SenderQueues(per_number_mps={FROM: 1.0}, time_scale=2)
    async with Sandbox(sender_queues=settings, clock=FakeClock()) as sandbox, Receiver() as hooks:
        first, second = await _send_two(sandbox, hooks)
        await eventually(lambda: len(hooks.received) == 2 * len(TO))
        sandbox.reset()
        await sandbox.adrain_webhooks()

    assert second.wait_seconds == 1.0
    assert {r.json()["data"]["payload"]["id"] for r in hooks.received} == {first.id}
    assert sandbox.webhook_attempts == []
