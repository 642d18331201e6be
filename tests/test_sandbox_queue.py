"""Per-sender queues in the sandbox: ``wait_seconds`` per sender, and 429 code 40318 when full.

Every test runs the sandbox on a frozen clock that moves only when told to, so no test
sleeps or measures time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest

from telnyx_group_mms.sandbox import Sandbox, SenderQueues
from telnyx_group_mms.sandbox._queues import (
    MAX_QUEUE_SECONDS,
    SenderKind,
    SenderQueueBook,
    sender_kind,
)

from .conftest import FROM, TO
from .openapi import errors_against_error_response, errors_against_response
from .test_sandbox_rate_limit import FakeClock
from .wire_client import Answer, control, post

OTHER_LONG_CODE = "+13125559876"
TOLL_FREE = "+18445551234"


def send(sandbox: Sandbox, sender: str = FROM, text: str = "Hello") -> Answer:
    return post(sandbox.base_url, {"from": sender, "to": TO, "text": text})


def waits(answers: list[Answer]) -> list[float]:
    return [a.json()["data"]["wait_seconds"] for a in answers]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queued(telnyx_sandbox_factory: Callable[..., Sandbox], clock: FakeClock) -> Sandbox:
    """A sandbox with Telnyx's default queues, on the frozen clock."""
    return telnyx_sandbox_factory(sender_queues=SenderQueues(), clock=clock)


# -- wait_seconds ------------------------------------------------------------------------


def test_each_queued_message_waits_one_sending_interval_more_than_the_last(
    queued: Sandbox,
) -> None:
    long_code = [send(queued) for _ in range(3)]
    toll_free = [send(queued, TOLL_FREE) for _ in range(3)]

    assert waits(long_code) == [0.0, 10.0, 20.0]  # 0.1 messages a second
    assert waits(toll_free) == [0.0, 0.05, 0.1]  # 20 a second
    assert [m.wait_seconds for m in queued.messages] == [0.0, 10.0, 20.0, 0.0, 0.05, 0.1]


def test_each_sender_has_a_queue_of_its_own(queued: Sandbox) -> None:
    answers = [send(queued, sender) for sender in (FROM, OTHER_LONG_CODE) * 3]

    assert waits(answers[0::2]) == [0.0, 10.0, 20.0]
    assert waits(answers[1::2]) == [0.0, 10.0, 20.0]


def test_a_queue_drains_at_its_senders_rate_as_time_passes(
    queued: Sandbox, clock: FakeClock
) -> None:
    first = [send(queued) for _ in range(3)]  # the queue empties 30 s from now
    clock.now += 25
    behind_the_last = send(queued)
    clock.now += 3600
    after_it_emptied = send(queued)

    assert waits([*first, behind_the_last, after_it_emptied]) == [0.0, 10.0, 20.0, 5.0, 0.0]


def test_rates_are_configurable_by_kind_and_by_number(
    telnyx_sandbox_factory: Callable[..., Sandbox], clock: FakeClock
) -> None:
    settings = SenderQueues(long_code_mps=2, toll_free_mps=4, per_number_mps={OTHER_LONG_CODE: 1})
    sandbox = telnyx_sandbox_factory(sender_queues=settings, clock=clock)

    assert waits([send(sandbox) for _ in range(2)]) == [0.0, 0.5]
    assert waits([send(sandbox, TOLL_FREE) for _ in range(2)]) == [0.0, 0.25]
    assert waits([send(sandbox, OTHER_LONG_CODE) for _ in range(2)]) == [0.0, 1.0]


def test_a_queued_answer_conforms_to_telnyxs_response_schema(queued: Sandbox) -> None:
    send(queued)
    answer = send(queued)

    assert answer.status == 200
    assert answer.json()["data"]["wait_seconds"] == 10.0
    assert errors_against_response(answer.json()) == []


def test_queues_are_off_by_default_so_nothing_waits(
    telnyx_sandbox: Sandbox,
) -> None:
    answers = [send(telnyx_sandbox) for _ in range(5)]

    assert [a.status for a in answers] == [200] * 5
    assert waits(answers) == [0.0] * 5


def test_reset_empties_the_queues(queued: Sandbox) -> None:
    send(queued)
    send(queued)

    queued.reset()

    assert waits([send(queued)]) == [0.0]


@pytest.mark.parametrize(
    "number", ["+18005551234", "+18335551234", "+18445551234", "+18555551234",
               "+18665551234", "+18775551234", "+18885551234"],
)  # fmt: skip
def test_the_nanp_toll_free_area_codes_are_toll_free(number: str) -> None:
    assert sender_kind(number) is SenderKind.TOLL_FREE


@pytest.mark.parametrize("number", [FROM, "+18225551234", "+18995551234", "+14155551234"])
def test_every_other_number_is_a_long_code(number: str) -> None:
    assert sender_kind(number) is SenderKind.LONG_CODE


# -- a full queue: 429, code 40318 --------------------------------------------------------


@pytest.fixture
def small(telnyx_sandbox_factory: Callable[..., Sandbox], clock: FakeClock) -> Sandbox:
    """Long codes (one message per 10 s) whose queues hold 30 s: three messages."""
    settings = SenderQueues(max_queue_seconds=30)
    return telnyx_sandbox_factory(api_key="test-key", sender_queues=settings, clock=clock)


def test_a_message_that_would_overfill_the_queue_is_refused_429_code_40318(
    small: Sandbox,
) -> None:
    accepted = [send(small, text=f"fits {n}") for n in range(3)]
    refused = send(small, text="one too many")

    assert [a.status for a in accepted] == [200, 200, 200]
    assert refused.status == 429
    assert refused.errors == [
        {
            "code": "40318",
            "title": "Message queue full",
            "detail": "Message queue is full. Wait before resending.",
        }
    ]
    assert errors_against_error_response(refused.json()) == []
    assert "x-request-id" in refused.headers
    # Telnyx documents no Retry-After for 40318; the sandbox sends none (nor rate headers).
    assert not {"retry-after", "x-ratelimit-reset"} & set(refused.headers)


def test_a_refused_message_is_not_recorded_as_accepted_anywhere(small: Sandbox) -> None:
    for n in range(3):
        send(small, text=f"fits {n}")
    send(small, text="one too many")

    stats = control(small.base_url, "stats").json()["data"]
    listed = control(small.base_url, "messages").json()
    assert (stats["requests"], stats["accepted"], stats["faults"]) == (4, 3, {})
    assert (small.stats.requests, small.stats.accepted) == (4, 3)
    assert [m["text"] for m in listed["data"]] == ["fits 0", "fits 1", "fits 2"]
    assert listed["meta"]["total"] == 3
    assert [m.text for m in small.messages] == ["fits 0", "fits 1", "fits 2"]


def test_a_full_queue_refuses_only_its_own_sender_and_only_until_it_drains(
    small: Sandbox, clock: FakeClock
) -> None:
    for _ in range(3):
        send(small)
    other = send(small, OTHER_LONG_CODE)
    clock.now += 9.9
    still_full = send(small)
    clock.now += 0.1  # the first message has left: one place is free, at the back

    drained = send(small)

    assert other.status == 200
    assert still_full.status == 429
    assert drained.status == 200
    assert drained.json()["data"]["wait_seconds"] == 20.0


def _admitted(settings: SenderQueues, sender: str) -> int:
    book = SenderQueueBook(settings, clock=lambda: 0.0)
    count = 0
    while book.admit(sender) is not None:
        count += 1
    return count


def test_the_default_queues_hold_telnyxs_documented_queue_lengths() -> None:
    # Telnyx documents 1,440 queued messages for a long code and 288,000 for a toll-free
    # number: four hours of sending at 0.1 and 20 messages a second.
    assert _admitted(SenderQueues(), FROM) == 1_440
    assert _admitted(SenderQueues(), TOLL_FREE) == 288_000


@pytest.mark.parametrize(
    ("mps", "max_queue_seconds"),
    [(3.0, MAX_QUEUE_SECONDS), (13.0, MAX_QUEUE_SECONDS), (7.0, 3600.0), (0.7, 3600.0)],
)
def test_a_queue_holds_exactly_its_cap_of_sending_at_any_rate(
    mps: float, max_queue_seconds: float
) -> None:
    # Four hours at 3/s is 43,200 messages: a running float sum of 1/3 s intervals
    # reached the cap one message early.
    settings = SenderQueues(long_code_mps=mps, max_queue_seconds=max_queue_seconds)

    assert _admitted(settings, FROM) == round(max_queue_seconds * mps)


def test_wait_seconds_keep_their_milliseconds_after_a_day_at_a_large_time_scale() -> None:
    clock = FakeClock()
    book = SenderQueueBook(SenderQueues(time_scale=3600), clock=clock)
    clock.now += 86_400.0  # a day up: 311 million Telnyx seconds on the scaled clock
    waits = []
    while (wait := book.admit(TOLL_FREE)) is not None:
        waits.append(wait)

    assert len(waits) == 288_000
    assert waits[-1] == 14_399.95
    assert waits[:3] == [0.0, 0.05, 0.1]


def test_a_reset_during_an_admission_leaves_every_queue_empty() -> None:
    to_reset: list[SenderQueueBook] = []

    class ResetMidway(SenderQueues):
        """Rates whose lookup resets the book in the middle of ``admit``: where a reset
        from a test's thread can land while the sandbox's own thread admits."""

        def mps_for(self, number: str) -> float:
            while to_reset:
                to_reset.pop().reset()
            return super().mps_for(number)

    book = SenderQueueBook(ResetMidway(), clock=lambda: 0.0)
    book.admit(FROM)
    to_reset.append(book)

    book.admit(FROM)  # the reset lands while this one is admitted

    assert book.admit(FROM) == 0.0


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"long_code_mps": 0}, "long_code_mps must be a positive number"),
        ({"toll_free_mps": -1}, "toll_free_mps must be a positive number"),
        ({"long_code_mps": math.nan}, "long_code_mps must be a positive number"),
        ({"max_queue_seconds": math.inf}, "max_queue_seconds must be a positive number"),
        ({"time_scale": 0}, "time_scale must be a positive number"),
        ({"time_scale": True}, "time_scale must be a positive number"),
        ({"per_number_mps": {FROM: True}}, f"the rate of {FROM} must be a positive number"),
        ({"per_number_mps": {"3125551234": 1}}, "keys must be +E.164 numbers"),
        ({"per_number_mps": {FROM: 0}}, f"the rate of {FROM} must be a positive number"),
        ({"max_queue_seconds": 5}, "every message would be refused"),
    ],
)
def test_bad_queue_settings_are_refused_with_a_clear_error(
    settings: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        SenderQueues(**settings)


def test_the_sandbox_refuses_queue_settings_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="sender_queues must be a SenderQueues"):
        Sandbox(sender_queues={"long_code_mps": 1})  # type: ignore[arg-type]


def test_per_number_rates_are_a_copy_of_the_callers_mapping() -> None:
    rates = {FROM: 1.0}
    settings = SenderQueues(per_number_mps=rates)
    rates[FROM] = 1000.0

    assert settings.mps_for(FROM) == 1.0
