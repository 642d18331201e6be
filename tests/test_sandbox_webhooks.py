"""The sandbox delivers signed ``message.sent`` / ``message.finalized`` webhooks per recipient."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidSignature

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import DeliveryOutcomes, Sandbox

from .conftest import FROM, TO
from .openapi import errors_against
from .recording_receiver import Received, Receiver, verify
from .scripted_server import ScriptedServer


async def _send(
    sandbox: Sandbox,
    *,
    to: list[str] = TO,
    webhook_url: str | None = None,
    webhook_failover_url: str | None = None,
) -> tgm.Message:
    async with tgm.AsyncTelnyx(api_key="k", base_url=sandbox.base_url) as client:
        return await client.messages.send_group_mms(
            from_=FROM,
            to=to,
            text="Hi",
            webhook_url=webhook_url,
            webhook_failover_url=webhook_failover_url,
        )


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"


async def test_each_recipient_gets_a_sent_then_a_finalized_event_signed_by_the_sandbox() -> None:
    async with Sandbox() as sandbox, Receiver() as receiver:
        message = await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    assert sandbox.public_key is not None
    assert len(receiver.received) == 2 * len(TO)
    for number in TO:
        mine = [r for r in receiver.received if r.recipient["phone_number"] == number]
        assert [r.event_type for r in mine] == ["message.sent", "message.finalized"]
        assert [r.recipient["status"] for r in mine] == ["sent", "delivered"]
    for received in receiver.received:
        verify(sandbox.public_key, received)
        assert abs(int(received.headers["telnyx-timestamp"]) - time.time()) < 300
        envelope = received.json()
        assert errors_against("OutboundMessageEvent", envelope) == []
        assert envelope["data"]["record_type"] == "event"
        assert envelope["data"]["payload"]["id"] == message.id
        assert envelope["meta"] == {"attempt": 1, "delivered_to": receiver.url}
    finalized = [r.json()["data"]["payload"] for r in receiver.received[len(TO) :]]
    assert all(p["completed_at"] and p["sent_at"] and p["errors"] == [] for p in finalized)
    assert len({r.json()["data"]["id"] for r in receiver.received}) == 2 * len(TO)


async def test_the_signature_check_rejects_another_key_and_a_changed_body() -> None:
    # Guards the test above: a verify() that accepted anything would prove nothing.
    async with Sandbox() as sandbox, Sandbox() as other, Receiver() as receiver:
        await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    received = receiver.received[0]
    assert other.public_key is not None
    with pytest.raises(InvalidSignature):
        verify(other.public_key, received)
    assert sandbox.public_key is not None
    tampered = Received(received.headers, received.body.replace(b'"sent"', b'"delivered"'))
    with pytest.raises(InvalidSignature):
        verify(sandbox.public_key, tampered)


async def test_a_failing_receiver_gets_three_attempts_then_the_failover_url_gets_the_event() -> (
    None
):
    async with (
        Sandbox(webhook_retry_delay=0) as sandbox,
        Receiver(*[500] * 6) as primary,
        Receiver() as failover,
    ):
        await _send(sandbox, to=[TO[0]], webhook_url=primary.url, webhook_failover_url=failover.url)
        await sandbox.adrain_webhooks()

    assert [r.json()["meta"]["attempt"] for r in primary.received] == [1, 2, 3, 1, 2, 3]
    assert [r.event_type for r in failover.received] == ["message.sent", "message.finalized"]
    assert [r.json()["meta"] for r in failover.received] == [
        {"attempt": 4, "delivered_to": failover.url}
    ] * 2
    first_event_ids = {r.json()["data"]["id"] for r in primary.received[:3]}
    assert first_event_ids == {failover.received[0].json()["data"]["id"]}
    assert [(a.url, a.attempt, a.ok) for a in sandbox.webhook_attempts[:4]] == [
        (primary.url, 1, False),
        (primary.url, 2, False),
        (primary.url, 3, False),
        (failover.url, 4, True),
    ]
    for received in [*primary.received, *failover.received]:
        assert sandbox.public_key is not None
        verify(sandbox.public_key, received)


async def test_a_retried_event_keeps_its_id_so_receivers_can_drop_duplicates() -> None:
    async with Sandbox(webhook_retry_delay=0) as sandbox, Receiver(503) as receiver:
        await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    first, retried = receiver.received[:2]
    assert first.json()["data"] == retried.json()["data"]
    assert (first.json()["meta"]["attempt"], retried.json()["meta"]["attempt"]) == (1, 2)
    assert len(receiver.received) == 2 * len(TO) + 1


async def test_an_unreachable_webhook_url_falls_over_to_the_failover_url() -> None:
    dead = _closed_port_url()
    async with Sandbox(webhook_retry_delay=0) as sandbox, Receiver() as failover:
        await _send(sandbox, webhook_url=dead, webhook_failover_url=failover.url)
        await sandbox.adrain_webhooks()

    assert len(failover.received) == 2 * len(TO)
    assert [a.status for a in sandbox.webhook_attempts[:3]] == [None, None, None]


async def test_without_a_failover_url_an_event_is_given_up_after_three_attempts() -> None:
    async with Sandbox(webhook_retry_delay=0) as sandbox, Receiver(*[500] * 100) as receiver:
        await _send(sandbox, to=[TO[0]], webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    assert [r.event_type for r in receiver.received] == ["message.sent"] * 3 + [
        "message.finalized"
    ] * 3


async def test_the_sandbox_default_webhook_url_serves_requests_that_name_none() -> None:
    async with Receiver() as default, Receiver() as own, Sandbox(webhook_url=default.url) as sb:
        message = await _send(sb)
        await _send(sb, webhook_url=own.url)
        await sb.adrain_webhooks()

    assert message.webhook_url == default.url
    assert len(default.received) == len(own.received) == 2 * len(TO)


async def test_a_message_without_a_webhook_url_sends_no_webhook() -> None:
    async with Sandbox() as sandbox:
        await _send(sandbox)
        await sandbox.adrain_webhooks()

    assert sandbox.webhook_attempts == []


async def test_a_failure_rate_ends_recipients_delivery_failed_with_a_carrier_error() -> None:
    outcomes = DeliveryOutcomes(failure_rate=1.0)
    async with Sandbox(delivery=outcomes) as sandbox, Receiver() as receiver:
        await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    finalized = [r for r in receiver.received if r.event_type == "message.finalized"]
    assert {r.recipient["status"] for r in finalized} == {"delivery_failed"}
    for received in finalized:
        (error,) = received.json()["data"]["payload"]["errors"]
        assert error["code"].startswith("400")
        assert error["title"]
        assert errors_against("OutboundMessageEvent", received.json()) == []


async def test_given_numbers_end_with_the_status_configured_for_them() -> None:
    outcomes = DeliveryOutcomes(statuses={TO[0]: "expired", TO[1]: "delivery_unconfirmed"})
    async with Sandbox(delivery=outcomes) as sandbox, Receiver() as receiver:
        await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    final = {
        r.recipient["phone_number"]: r.recipient["status"]
        for r in receiver.received
        if r.event_type == "message.finalized"
    }
    assert final == {TO[0]: "expired", TO[1]: "delivery_unconfirmed"}


def test_a_final_status_that_is_not_final_is_refused() -> None:
    with pytest.raises(ValueError, match="not a final status"):
        DeliveryOutcomes(statuses={TO[0]: "sent"})


async def _final_statuses(seed: int) -> list[str]:
    numbers = [f"+1865555{i:04d}" for i in range(8)]
    outcomes = DeliveryOutcomes(failure_rate=0.5)
    async with Sandbox(delivery=outcomes, seed=seed) as sandbox, Receiver() as receiver:
        for _ in range(3):
            await _send(sandbox, to=numbers, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()
    return [r.recipient["status"] for r in receiver.received if r.event_type == "message.finalized"]


async def test_reset_restarts_outcomes_from_the_seed() -> None:
    outcomes = DeliveryOutcomes(failure_rate=0.5)
    numbers = [f"+1865555{i:04d}" for i in range(8)]
    runs = []
    async with Sandbox(delivery=outcomes, seed=9) as sandbox, Receiver() as receiver:
        for _ in range(2):
            await _send(sandbox, to=numbers, webhook_url=receiver.url)
            await sandbox.adrain_webhooks()
            runs.append([a.event_type for a in sandbox.webhook_attempts])
            runs.append(
                [
                    r.recipient["status"]
                    for r in receiver.received
                    if r.event_type == "message.finalized"
                ]
            )
            receiver.received.clear()
            sandbox.reset()

    assert runs[0] == runs[2]
    assert runs[1] == runs[3]
    assert {"delivered", "delivery_failed"} == set(runs[1])


async def test_outcomes_repeat_with_the_same_seed() -> None:
    first, second, other = (
        await _final_statuses(4),
        await _final_statuses(4),
        await _final_statuses(5),
    )

    assert first == second
    assert first != other
    assert {"delivered", "delivery_failed"} == set(first)


def test_a_sandbox_on_its_own_thread_delivers_and_drains_from_sync_code(
    telnyx_sandbox_factory: Callable[..., Sandbox], server: ScriptedServer
) -> None:
    sandbox = telnyx_sandbox_factory(webhook_url=server.base_url + "/hooks")
    with tgm.Telnyx(api_key="k", base_url=sandbox.base_url) as client:
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hi")

    sandbox.drain_webhooks(timeout=30)

    assert server.posts == 2 * len(TO)
    assert sandbox.public_key is not None
    for seen in server.seen:
        verify(sandbox.public_key, Received(seen.headers, seen.body))


async def test_an_async_test_can_drain_a_sandbox_running_on_its_own_thread(
    telnyx_sandbox: Sandbox,
) -> None:
    async with Receiver() as receiver:
        await _send(telnyx_sandbox, webhook_url=receiver.url)
        await asyncio.wait_for(telnyx_sandbox.adrain_webhooks(), 30)

    assert len(receiver.received) == 2 * len(TO)


async def test_stopping_cancels_deliveries_still_pending_without_warnings() -> None:
    async with Receiver(hang=True) as receiver, Sandbox() as sandbox:
        await _send(sandbox, webhook_url=receiver.url)
        await asyncio.wait_for(receiver.arrived.wait(), 30)

    assert sandbox.webhook_attempts == []
    assert len(receiver.received) == 1


def test_drain_webhooks_needs_a_sandbox_on_its_own_thread() -> None:
    with pytest.raises(tgm.TelnyxError, match="start"):
        Sandbox().drain_webhooks()


def _without_cryptography(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry makes the import fail, as it does where the extra is not installed.
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)


def test_a_default_webhook_url_without_cryptography_is_refused_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_cryptography(monkeypatch)

    with pytest.raises(ImportError, match=r"telnyx-group-mms\[webhooks\]"):
        Sandbox(webhook_url="http://127.0.0.1:9/hooks")


async def test_without_cryptography_messages_are_accepted_and_no_webhook_is_sent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _without_cryptography(monkeypatch)

    async with Sandbox() as sandbox, Receiver() as receiver:
        await _send(sandbox, webhook_url=receiver.url)
        await sandbox.adrain_webhooks()

    assert sandbox.public_key is None
    assert len(sandbox.messages) == 1
    assert receiver.received == []
    assert "telnyx-group-mms[webhooks]" in caplog.text


def test_a_sandbox_started_again_still_delivers(server: ScriptedServer) -> None:
    sandbox = Sandbox(webhook_url=server.base_url + "/hooks")
    for _ in range(2):
        with sandbox, tgm.Telnyx(api_key="k", base_url=sandbox.base_url) as client:
            client.messages.send_group_mms(from_=FROM, to=TO, text="Hi")
            sandbox.drain_webhooks(timeout=30)

    assert server.posts == 2 * 2 * len(TO)
    assert all(a.ok for a in sandbox.webhook_attempts)
