"""DeliveryTracker follows each recipient to a final status, whatever order events arrive in."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from hypothesis import given, settings, strategies as st

import telnyx_group_mms as tgm
from telnyx_group_mms.webhooks import parse_event

from .webhook_support import MESSAGE_ID, TO, envelope, finalized, message_payload

S = tgm.RecipientStatus


def sent(number: str, *, occurred_at: str = "2026-09-21T18:10:01Z") -> tgm.WebhookEvent:
    return parse_event(
        envelope(
            "message.sent", message_payload(statuses={number: "sent"}), occurred_at=occurred_at
        )
    )


def final(
    number: str, status: str, *, occurred_at: str = "2026-09-21T18:10:05Z"
) -> tgm.WebhookEvent:
    return parse_event(finalized(number, status, occurred_at=occurred_at))


def send_response() -> tgm.Message:
    """The message the send call returned: every recipient queued."""
    return tgm.Message(
        id=MESSAGE_ID,
        direction=tgm.Direction.OUTBOUND,
        to=[tgm.Recipient(phone_number=n, status=S.QUEUED) for n in TO],
    )


def test_each_recipient_reaches_its_own_final_status() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.expect(send_response())
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.QUEUED, TO[1]: S.QUEUED}
    for event in (sent(TO[0]), sent(TO[1]), final(TO[0], "delivered")):
        assert tracker.feed(event)
    assert not tracker.is_final(MESSAGE_ID)
    assert tracker.feed(final(TO[1], "delivery_failed"))
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED, TO[1]: S.DELIVERY_FAILED}
    assert tracker.is_final(MESSAGE_ID)


def test_a_late_sent_never_moves_a_recipient_backwards() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(final(TO[0], "delivered"))
    assert not tracker.feed(sent(TO[0], occurred_at="2026-09-21T18:10:09Z"))
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED}


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_the_outcome_does_not_depend_on_arrival_order(order: tuple[int, ...]) -> None:
    events = [sent(TO[0]), sent(TO[1]), final(TO[0], "delivered"), final(TO[1], "expired")]
    tracker = tgm.DeliveryTracker()
    tracker.expect(send_response())
    for index in order:
        tracker.feed(events[index])
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED, TO[1]: S.EXPIRED}
    assert tracker.is_final(MESSAGE_ID)


@pytest.mark.parametrize("reverse", [False, True])
def test_between_two_final_statuses_the_later_occurrence_wins(reverse: bool) -> None:
    unconfirmed = final(TO[0], "delivery_unconfirmed", occurred_at="2026-09-21T18:10:05Z")
    delivered = final(TO[0], "delivered", occurred_at="2026-09-21T18:11:00Z")
    tracker = tgm.DeliveryTracker()
    for event in (delivered, unconfirmed) if reverse else (unconfirmed, delivered):
        tracker.feed(event)
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED}


def test_without_times_to_tell_them_apart_the_first_final_status_stays() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(parse_event(finalized(TO[0], "delivered", occurred_at=None)))
    assert not tracker.feed(parse_event(finalized(TO[0], "expired", occurred_at=None)))
    assert tracker.feed(final(TO[1], "delivered", occurred_at="2026-09-21T18:10:05Z"))
    assert not tracker.feed(final(TO[1], "expired", occurred_at="2026-09-21T18:10:05Z"))
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED, TO[1]: S.DELIVERED}


@pytest.mark.parametrize("reverse", [False, True])
def test_a_final_status_with_a_time_wins_over_one_without(reverse: bool) -> None:
    untimed = parse_event(finalized(TO[0], "delivery_unconfirmed", occurred_at=None))
    timed = final(TO[0], "delivered")
    tracker = tgm.DeliveryTracker()
    for event in (timed, untimed) if reverse else (untimed, timed):
        tracker.feed(event)
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED}


def test_an_unknown_status_ranks_with_sent() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(sent(TO[0]))
    odd = parse_event(
        envelope(
            "message.sent",
            message_payload(statuses={TO[0]: "carrier_hold"}),
            occurred_at="2026-09-21T18:10:02Z",
        )
    )
    assert tracker.feed(odd)
    assert tracker.status(MESSAGE_ID) == {TO[0]: "carrier_hold"}
    assert tracker.feed(final(TO[0], "delivered"))
    assert not tracker.feed(odd)


def test_without_expect_only_the_recipients_heard_from_are_known() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(final(TO[0], "delivered"))
    assert tracker.is_final(MESSAGE_ID)  # the tracker cannot know of TO[1] yet
    tracker.expect(send_response())
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.DELIVERED, TO[1]: S.QUEUED}
    assert not tracker.is_final(MESSAGE_ID)


def test_a_webhook_naming_every_recipient_moves_only_those_it_advances() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(final(TO[1], "delivered"))
    both = finalized(
        TO[0], "sending_failed", occurred_at="2026-09-21T18:10:09Z", statuses=[(TO[1], "sent")]
    )
    assert tracker.feed(parse_event(both))
    assert tracker.status(MESSAGE_ID) == {TO[0]: S.SENDING_FAILED, TO[1]: S.DELIVERED}


def test_inbound_and_other_events_are_ignored() -> None:
    tracker = tgm.DeliveryTracker()
    inbound = envelope(
        "message.received",
        message_payload(statuses={TO[0]: "webhook_delivered"}, direction="inbound"),
    )
    other = envelope("number_order.complete", {"id": "n-1"})
    inbound_sent = envelope("message.sent", message_payload(direction="inbound"))
    for document in (inbound, other, inbound_sent):
        assert not tracker.feed(parse_event(document))
    assert tracker.status(MESSAGE_ID) == {}
    assert not tracker.is_final("never-heard-of")


def test_a_forgotten_message_is_unknown_again() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.feed(final(TO[0], "delivered"))
    tracker.forget(MESSAGE_ID)
    assert tracker.status(MESSAGE_ID) == {}
    assert len(tracker) == 0


def test_memory_is_bounded_by_forgetting_the_least_recently_updated() -> None:
    tracker = tgm.DeliveryTracker(max_messages=2)
    for message_id in ("m1", "m2", "m3"):
        tracker.expect(
            tgm.Message(id=message_id, to=[tgm.Recipient(phone_number=TO[0], status="queued")])
        )
    assert len(tracker) == 2
    assert tracker.status("m1") == {}
    assert tracker.status("m3") == {TO[0]: S.QUEUED}


async def test_a_waited_message_is_not_evicted() -> None:
    tracker = tgm.DeliveryTracker(max_messages=1)
    tracker.expect(send_response())
    waiter = asyncio.create_task(tracker.wait_final(MESSAGE_ID))
    await asyncio.sleep(0)
    tracker.expect(tgm.Message(id="other", to=[tgm.Recipient(phone_number=TO[0], status="queued")]))
    for number in TO:
        tracker.feed(final(number, "delivered"))
    assert await waiter == {TO[0]: S.DELIVERED, TO[1]: S.DELIVERED}


async def test_wait_final_returns_once_every_recipient_is_final() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.expect(send_response())
    waiter = asyncio.create_task(tracker.wait_final(MESSAGE_ID, timeout=30))
    tracker.feed(final(TO[0], "delivered"))
    await asyncio.sleep(0)
    assert not waiter.done()
    tracker.feed(final(TO[1], "delivered"))
    assert await waiter == {TO[0]: S.DELIVERED, TO[1]: S.DELIVERED}
    # Already final: returns at once.
    assert await tracker.wait_final(MESSAGE_ID) == {TO[0]: S.DELIVERED, TO[1]: S.DELIVERED}


async def test_wait_final_times_out_when_a_recipient_never_reports() -> None:
    tracker = tgm.DeliveryTracker()
    tracker.expect(send_response())
    tracker.feed(final(TO[0], "delivered"))
    with pytest.raises(TimeoutError):
        await tracker.wait_final(MESSAGE_ID, timeout=0.01)


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_messages"):
        tgm.DeliveryTracker(max_messages=0)


statuses = st.sampled_from([s.value for s in S if s is not S.RECEIVED] + ["carrier_hold"])


@settings(max_examples=200, deadline=None)
@given(
    reports=st.lists(st.tuples(st.sampled_from(TO), statuses), min_size=1, max_size=12).map(
        lambda items: [(n, s, i) for i, (n, s) in enumerate(items)]
    ),
    order=st.randoms(use_true_random=False),
)
def test_with_distinct_times_any_arrival_order_gives_the_same_statuses(
    reports: list[tuple[str, str, int]], order: random.Random
) -> None:
    def event(number: str, status: str, second: int) -> tgm.WebhookEvent:
        stamp = f"2026-09-21T18:{second // 60:02d}:{second % 60:02d}Z"
        return parse_event(finalized(number, status, occurred_at=stamp))

    events = [event(*report) for report in reports]
    in_order = tgm.DeliveryTracker()
    for e in events:
        in_order.feed(e)
    shuffled = tgm.DeliveryTracker()
    order.shuffle(events)
    for e in events:
        shuffled.feed(e)
    assert shuffled.status(MESSAGE_ID) == in_order.status(MESSAGE_ID)
    assert shuffled.is_final(MESSAGE_ID) == in_order.is_final(MESSAGE_ID)
