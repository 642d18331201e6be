"""A full sender queue (429, code 40318) is a safe failure: nothing was sent, resending is safe.

Telnyx documents 40318 as "Message queue is full. Wait before resending": the message
was not taken in. The client raises :class:`RateLimitError` with outcome ``SAFE``; its
retries send again but never twice, and ``bulk`` records the row ``failed`` (not sent, sent
again by the next run), never ``sent`` or ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.retry import classify
from telnyx_group_mms.sandbox import Fault, Sandbox, SenderQueues

from .conftest import FROM, KEY, TO, fast_retry
from .fanout_support import accepted_per_text, make_requests, posts_per_text
from .test_sandbox_rate_limit import FakeClock

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def one_place(telnyx_sandbox_factory: Callable[..., Sandbox], clock: FakeClock) -> Sandbox:
    """Long codes whose queue holds one message (10 s of sending at 0.1 a second)."""
    return telnyx_sandbox_factory(sender_queues=SenderQueues(max_queue_seconds=10), clock=clock)


async def _send(
    sandbox: Sandbox, text: str, *, retry: tgm.RetryPolicy | None = None
) -> tgm.Message:
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=sandbox.base_url, retry=retry or fast_retry()
    ) as client:
        return await client.messages.send_group_mms(from_=FROM, to=TO, text=text)


async def test_a_full_queue_raises_rate_limit_error_40318_whose_outcome_is_safe(
    one_place: Sandbox,
) -> None:
    await _send(one_place, "first")

    with pytest.raises(tgm.RateLimitError) as caught:
        await _send(one_place, "refused", retry=fast_retry(max_attempts=1))

    error = caught.value
    assert (error.status_code, error.code) == (429, "40318")
    assert error.errors[0].title == "Message queue full"
    assert error.outcome is tgm.Outcome.SAFE
    assert classify(error) is tgm.Outcome.SAFE
    assert error.outcome_unknown is False
    assert error.retry_after is None
    assert error.request_id is not None


async def test_retries_while_the_queue_stays_full_never_take_the_message_in(
    one_place: Sandbox,
) -> None:
    await _send(one_place, "first")

    with pytest.raises(tgm.RateLimitError):
        await _send(one_place, "refused", retry=fast_retry(max_attempts=3))

    assert posts_per_text(one_place)["refused"] == 3
    assert accepted_per_text(one_place) == {"first": 1}


async def test_a_retry_after_the_queue_drains_sends_the_message_exactly_once(
    one_place: Sandbox, clock: FakeClock
) -> None:
    await _send(one_place, "first")

    def drain(event: tgm.RetryEvent) -> None:
        # Ten seconds on the sandbox's clock: the first message has left the queue.
        assert isinstance(event.cause, tgm.RateLimitError) and event.cause.code == "40318"
        clock.now += 10

    message = await _send(one_place, "second", retry=fast_retry(max_attempts=3, on_retry=drain))

    assert message.wait_seconds == 0.0
    assert posts_per_text(one_place) == {"first": 1, "second": 2}
    assert accepted_per_text(one_place) == {"first": 1, "second": 1}
    assert [m.id for m in one_place.messages][-1] == message.id


def test_the_sync_client_raises_the_same_safe_error(one_place: Sandbox) -> None:
    with tgm.Telnyx(api_key=KEY, base_url=one_place.base_url, retry=fast_retry()) as client:
        client.messages.send_group_mms(from_=FROM, to=TO, text="first")
        with pytest.raises(tgm.RateLimitError) as caught:
            client.messages.send_group_mms(from_=FROM, to=TO, text="refused")

    assert caught.value.code == "40318"
    assert caught.value.outcome is tgm.Outcome.SAFE


# -- fan-out and bulk ------------------------------------------------------------------------


async def test_the_fan_out_sends_a_refused_request_no_more_and_other_senders_carry_on(
    one_place: Sandbox,
) -> None:
    other = "+18445551234"  # toll-free: 20 a second, room for 200
    requests = [
        tgm.GroupMmsRequest(from_=sender, to=TO, text=f"{sender} {n}")
        for n in range(2)
        for sender in (FROM, other)
    ]
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=one_place.base_url, retry=fast_retry(max_attempts=1)
    ) as client:
        results = [r async for r in client.messages.send_many(requests, concurrency=1)]

    by_text = {r.request.text: r for r in results}
    refused = by_text[f"{FROM} 1"]
    assert isinstance(refused.error, tgm.RateLimitError) and refused.error.queue_full
    # One POST: not requeued round after round as a 10011 would be.
    assert (refused.attempts, refused.outcome_unknown) == (1, False)
    assert [t for t, r in by_text.items() if r.ok] == [f"{FROM} 0", f"{other} 0", f"{other} 1"]
    assert posts_per_text(one_place)[f"{FROM} 1"] == 1
    assert accepted_per_text(one_place)[f"{FROM} 1"] == 0


async def test_a_full_queue_pauses_no_other_request_of_the_fan_out(
    telnyx_sandbox: Sandbox,
) -> None:
    # A 40318 asking for an hour: a 10011 like it would hold every worker that long
    # (max_retry_after allows it); a full queue is its sender's alone, so nothing waits.
    telnyx_sandbox.faults.script(Fault.status(429, code="40318", retry_after=3600))
    policy = tgm.RetryPolicy(max_attempts=1, max_retry_after=3600)
    async with (
        tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url, retry=policy) as client,
        asyncio.timeout(30),  # a pause would hang the test: fail it instead
    ):
        requests = make_requests(4)
        results = [r async for r in client.messages.send_many(requests, concurrency=1)]

    refused = [r for r in results if not r.ok]
    assert [r.index for r in refused] == [0]
    assert isinstance(refused[0].error, tgm.RateLimitError) and refused[0].error.queue_full
    assert sorted(r.index for r in results if r.ok) == [1, 2, 3]


def test_only_code_40318_is_a_full_queue() -> None:
    def error(code: str) -> tgm.RateLimitError:
        detail = tgm.MessageError(code=code, title="t")
        return tgm.RateLimitError("429", status_code=429, errors=[detail])

    assert error("40318").queue_full
    assert not error("10011").queue_full
    assert not tgm.RateLimitError("429", status_code=429).queue_full


async def _bulk(sandbox: Sandbox, path: Path, results: Path) -> tgm.BulkSummary:
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=sandbox.base_url, retry=fast_retry(max_attempts=1)
    ) as client:
        return await tgm.run_bulk(path, client=client, results_path=results, concurrency=1)


async def test_bulk_records_a_refused_row_failed_and_the_next_run_sends_only_it(
    telnyx_sandbox_factory: Callable[..., Sandbox], clock: FakeClock, tmp_path: Path
) -> None:
    # A queue of 20 s: two of the three rows fit.
    sandbox = telnyx_sandbox_factory(sender_queues=SenderQueues(max_queue_seconds=20), clock=clock)
    batch = tmp_path / "batch.csv"
    batch.write_text("from,to,text\n" + "".join(f"{FROM},{TO[0]},row {n}\n" for n in range(3)))
    results = tmp_path / "results.jsonl"

    first = await _bulk(sandbox, batch, results)
    first_rows = [json.loads(line) for line in results.read_text().splitlines()]
    clock.now += 30  # the queue has emptied
    second = await _bulk(sandbox, batch, results)

    assert (first.sent, first.failed, first.unknown, first.exit_code) == (2, 1, 0, 1)
    refused = [row for row in first_rows if row["state"] != "sent"]
    assert [(r["state"], r["error_code"], r["message_id"]) for r in refused] == [
        ("failed", "40318", None)
    ]
    assert "Message queue full" in refused[0]["error_detail"]
    assert (second.sent, second.sent_before, second.to_send, second.exit_code) == (3, 2, 1, 0)
    assert accepted_per_text(sandbox) == {"row 0": 1, "row 1": 1, "row 2": 1}
