"""The fan-out's re-send after a 429 is a retry decision, made in the retry module."""

from __future__ import annotations

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.retry import RATE_LIMIT_REQUEUES, should_requeue


def _429(*, code: str = "10011", retry_after: float | None = None) -> tgm.RateLimitError:
    return tgm.RateLimitError(
        "rate limited",
        status_code=429,
        errors=[tgm.MessageError(code=code, title="Too many requests")],
        retry_after=retry_after,
    )


def test_a_plain_429_is_sent_again_until_the_bound() -> None:
    error = _429(retry_after=1.0)
    assert all(
        should_requeue(error, requeues=n, max_pause=60.0) for n in range(RATE_LIMIT_REQUEUES)
    )
    assert not should_requeue(error, requeues=RATE_LIMIT_REQUEUES, max_pause=60.0)


def test_a_full_sender_queue_is_never_sent_again_by_the_fan_out() -> None:
    assert not should_requeue(_429(code="40318"), requeues=0, max_pause=60.0)


@pytest.mark.parametrize(("retry_after", "expected"), [(None, True), (60.0, True), (60.5, False)])
def test_a_wait_longer_than_the_longest_pause_is_not_waited_out(
    retry_after: float | None, expected: bool
) -> None:
    assert should_requeue(_429(retry_after=retry_after), requeues=0, max_pause=60.0) is expected
