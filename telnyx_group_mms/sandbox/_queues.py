"""Per-sender message queues: how long an accepted message waits, and when a queue is full.

Telnyx sends each number's messages at that number's rate and queues the excess; the
message resource's ``wait_seconds`` says how long a message waits in that queue. When a
sender's queue is full, Telnyx refuses the message with HTTP 429, code 40318 ("Message
queue full": "Wait before resending"), and takes nothing in.

Telnyx's documented defaults (developers.telnyx.com, "SMS messaging rate limits"): a long
code sends 0.1 messages a second and queues at most 1,440; a toll-free number 20 a second
and 288,000 at most. Both queue lengths are four hours of sending, so the sandbox caps a
queue by time: a sender's queue holds at most ``max_queue_seconds`` (four hours) of its
messages, which reproduces those lengths and carries over to any rate.

The sandbox's own assumptions, where Telnyx documents nothing: one group MMS counts as
one message of its sender whatever its number of recipients; the account-wide MMS queue
(15 a second) is not modelled; a 40318 answer carries no ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Final

import attrs

from .._numbers import E164, SenderKind, sender_kind

__all__ = [
    "LONG_CODE_MPS",
    "MAX_QUEUE_SECONDS",
    "TOLL_FREE_MPS",
    "SenderQueueBook",
    "SenderQueues",
]

#: A long code's default sending rate, in messages per second (Telnyx's documented default).
LONG_CODE_MPS: Final = 0.1
#: A toll-free number's default sending rate, in messages per second.
TOLL_FREE_MPS: Final = 20.0
#: How much sending a sender's queue holds: four hours, as Telnyx's queue lengths imply.
MAX_QUEUE_SECONDS: Final = 4 * 3600.0
# Rounding in a queue's length is far below this; without it a queue exactly full to the
# cap could refuse one message early.
_SLACK = 1e-9


def _is_positive_number(value: object) -> bool:
    # A bool is an int to Python, but True is no rate (SenderRates refuses it too).
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _positive_finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not _is_positive_number(value):
        raise ValueError(f"{attribute.name} must be a positive number, got {value!r}")


def _copied(rates: Mapping[str, float]) -> dict[str, float]:
    # A copy: the caller's dict changing later must not change a frozen setting.
    return dict(rates)


def _check_per_number(
    instance: object, attribute: attrs.Attribute[Mapping[str, float]], value: Mapping[str, float]
) -> None:
    for number, mps in value.items():
        if not isinstance(number, str) or not E164.fullmatch(number):
            raise ValueError(f"per_number_mps keys must be +E.164 numbers, got {number!r}")
        if not _is_positive_number(mps):
            raise ValueError(f"the rate of {number} must be a positive number, got {mps!r}")


@attrs.frozen(kw_only=True)
class SenderQueues:
    """How the sandbox queues each sender's messages (pass to ``Sandbox(sender_queues=...)``).

    Each ``from`` number sends at its rate: ``per_number_mps[number]`` if given, else
    ``toll_free_mps`` for a toll-free number (+1 800/833/844/855/866/877/888), else
    ``long_code_mps``. A message waits (``wait_seconds``) behind the earlier messages of
    its sender still queued; one that would take the queue past ``max_queue_seconds`` of
    sending is refused 429, code 40318, and not taken in.

    Args:
        long_code_mps: Messages per second a long code sends (Telnyx's default: 0.1).
        toll_free_mps: Messages per second a toll-free number sends (default: 20).
        per_number_mps: Rates for given numbers, e.g. a 10DLC number's campaign rate.
        max_queue_seconds: Sending time a sender's queue holds at most (default four
            hours: 1,440 messages at 0.1/s, 288,000 at 20/s, Telnyx's queue lengths).
        time_scale: How many times faster than real time queues drain and queued
            messages' webhooks come (``wait_seconds`` stays in Telnyx's seconds). 3600
            plays an hour of queueing in a second.

    Raises:
        ValueError: A rate, the cap or the time scale is not a positive number, a
            ``per_number_mps`` key is not +E.164, or a rate is too slow for one message
            to fit in ``max_queue_seconds``.
    """

    long_code_mps: float = attrs.field(default=LONG_CODE_MPS, validator=_positive_finite)
    toll_free_mps: float = attrs.field(default=TOLL_FREE_MPS, validator=_positive_finite)
    per_number_mps: Mapping[str, float] = attrs.field(
        factory=dict, converter=_copied, validator=_check_per_number
    )
    max_queue_seconds: float = attrs.field(default=MAX_QUEUE_SECONDS, validator=_positive_finite)
    time_scale: float = attrs.field(default=1.0, validator=_positive_finite)

    def __attrs_post_init__(self) -> None:
        slowest = min([self.long_code_mps, self.toll_free_mps, *self.per_number_mps.values()])
        if 1 / slowest > self.max_queue_seconds + _SLACK:
            raise ValueError(
                f"at {slowest:g} messages per second one message takes {1 / slowest:g} s, "
                f"more than max_queue_seconds={self.max_queue_seconds:g}: every message "
                "would be refused"
            )

    def mps_for(self, number: str) -> float:
        """The sending rate of ``number``, in messages per second."""
        rate = self.per_number_mps.get(number)
        if rate is not None:
            return rate
        if sender_kind(number) is SenderKind.TOLL_FREE:
            return self.toll_free_mps
        return self.long_code_mps


class SenderQueueBook:
    """The sandbox's queues: for each sender, when its current backlog began and its size.

    A sender's queue is kept as the clock reading when it last started from empty and
    the count of messages admitted since, not as a running sum of sending intervals: a
    sum drifts by a rounding error per message (a queue at 3 messages a second held
    43,199, not 43,200), and an absolute time that grows with the sandbox's uptime
    loses the milliseconds of ``wait_seconds`` under a large ``time_scale``.

    :meth:`admit` runs on the sandbox's event loop; :meth:`reset` may come from another
    thread (a sync test resetting a sandbox that serves on its own thread): it swaps in
    a new dict, so an admission under way writes to the old one and cannot bring a queue
    back after the reset.
    """

    def __init__(self, settings: SenderQueues, *, clock: Callable[[], float]) -> None:
        self.settings = settings
        self._clock = clock
        # Per sender: (clock reading when its queue last started from empty, messages
        # admitted since then).
        self._queues: dict[str, tuple[float, int]] = {}

    def admit(self, sender: str) -> float | None:
        """Queue one message of ``sender``: its wait in seconds, or None when the queue is full."""
        queues = self._queues
        settings = self.settings
        now = self._clock()
        mps = settings.mps_for(sender)
        began, count = queues.get(sender, (now, 0))
        # Telnyx seconds of sending done since the backlog began (times the time scale).
        sent_for = (now - began) * settings.time_scale
        wait = count / mps - sent_for
        if not wait > 0:  # empty (or an overflowed time scale): start afresh from now
            began, count, sent_for, wait = now, 0, 0.0, 0.0
        if (count + 1) / mps - sent_for > settings.max_queue_seconds + _SLACK:
            return None
        queues[sender] = (began, count + 1)
        # Milliseconds, as Telnyx's timestamps: received_at + wait_seconds stays exact.
        return round(wait, 3)

    def reset(self) -> None:
        """Empty every queue."""
        self._queues = {}
