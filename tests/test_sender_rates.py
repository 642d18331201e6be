"""Per-sender rates by kind of number: which rate each sender gets, and that it is honoured.

Nothing here measures time. Which bucket a sender gets is read from the limiter itself;
that a toll-free sender is not held to a long code's rate is shown by a long code slow
enough (one message per 1,000 s) that its second message cannot go out during the test,
while every toll-free message goes out and is yielded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms._numbers import TOLL_FREE_PREFIXES
from telnyx_group_mms.limits._buckets import SenderLimiters
from telnyx_group_mms.limits._sender_rates import rule_for
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import collect

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

TOLL_FREE = "+18885550100"
OTHER = "+13125550000"
# One message, then the next after 1,000 s: a second one never goes out in a test.
GLACIAL = 0.001


def request(sender: str, text: str) -> tgm.GroupMmsRequest:
    return tgm.GroupMmsRequest(from_=sender, to=TO, text=text)


async def take(results: AsyncIterator[tgm.SendResult], n: int) -> list[tgm.SendResult]:
    """The first ``n`` results; fails (rather than hangs) if they do not come."""
    return [await asyncio.wait_for(anext(results), 30) for _ in range(n)]


# -- which rate each sender gets ---------------------------------------------------


@pytest.mark.parametrize("prefix", TOLL_FREE_PREFIXES)
def test_every_nanp_toll_free_area_code_gets_the_toll_free_rate(prefix: str) -> None:
    number = prefix + "5550100"
    assert tgm.SenderRates.kind_of(number) is tgm.SenderKind.TOLL_FREE
    assert tgm.SenderRates().rate_for(number) == 20.0


@pytest.mark.parametrize(
    ("sender", "kind", "rate"),
    [
        ("+13125551234", tgm.SenderKind.LONG_CODE, 0.1),
        ("+18015551234", tgm.SenderKind.LONG_CODE, 0.1),  # 801 is Utah, not toll-free
        ("+18105551234", tgm.SenderKind.LONG_CODE, 0.1),
        ("+448001234567", tgm.SenderKind.LONG_CODE, 0.1),  # UK 0800: not NANP
        ("12345", tgm.SenderKind.SHORT_CODE, 1000.0),
        ("123456", tgm.SenderKind.SHORT_CODE, 1000.0),
        ("1234567", tgm.SenderKind.LONG_CODE, 0.1),
    ],
)
def test_the_defaults_are_telnyxs_rate_for_each_kind_of_number(
    sender: str, kind: tgm.SenderKind, rate: float
) -> None:
    assert tgm.SenderRates.kind_of(sender) is kind
    assert tgm.SenderRates().rate_for(sender) == rate


def test_an_override_wins_over_the_kind_and_none_means_no_limit() -> None:
    rates = tgm.SenderRates(
        long_code=2, toll_free=None, overrides={OTHER: 7.5, "+18005550000": 0.5, FROM: None}
    )
    assert rates.rate_for(OTHER) == 7.5
    assert rates.rate_for("+18005550000") == 0.5  # toll-free by prefix, overridden
    assert rates.rate_for(FROM) is None
    assert rates.rate_for("+13125559999") == 2
    assert rates.rate_for(TOLL_FREE) is None


def test_sender_rates_is_a_frozen_keyword_only_value() -> None:
    given = {OTHER: 3.0}
    rates = tgm.SenderRates(overrides=given)
    given[OTHER] = 99.0  # the caller's dict changing later changes nothing
    assert rates.rate_for(OTHER) == 3.0
    with pytest.raises(TypeError):
        rates.overrides[OTHER] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        rates.toll_free = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        tgm.SenderRates(0.1)  # type: ignore[call-arg]
    assert rates == tgm.SenderRates(overrides={OTHER: 3.0})
    assert hash(rates) == hash(tgm.SenderRates(overrides={OTHER: 3.0}))
    assert repr(rates) == (
        "SenderRates(long_code=0.1, toll_free=20.0, short_code=1000.0, "
        "overrides={'+13125550000': 3.0})"
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"long_code": 0}, "long_code"),
        ({"toll_free": -20}, "toll_free"),
        ({"short_code": float("inf")}, "short_code"),
        ({"toll_free": "fast"}, "toll_free"),
        ({"long_code": True}, "long_code"),
        ({"long_code": 1e-320}, "long_code"),
        ({"overrides": {OTHER: 0}}, r"overrides\['\+13125550000'\]"),
        ({"overrides": {"18005551234": 1.0}}, "overrides: key '18005551234' is not a"),
        ({"overrides": {1: 1.0}}, "overrides: key 1 is not a"),
        ({"overrides": [(OTHER, 1.0)]}, "overrides must be a mapping"),
    ],
)
def test_bad_rates_are_refused_at_construction_naming_the_field(
    settings: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        tgm.SenderRates(**settings)  # type: ignore[arg-type]


# -- the limiter each sender gets ---------------------------------------------------


def bucket(limiters: SenderLimiters, sender: str) -> tuple[float, float] | None:
    limiter = limiters.get(sender)
    return None if limiter is None else (limiter.max_rate, limiter.time_period)


def test_each_sender_gets_a_bucket_at_the_rate_of_its_kind() -> None:
    limiters = SenderLimiters(rule_for(tgm.SenderRates(overrides={OTHER: None})))
    assert bucket(limiters, TOLL_FREE) == (20.0, 1.0)
    assert bucket(limiters, FROM) == (1.0, 10.0)  # 0.1/s: one now, then one per 10 s
    assert bucket(limiters, OTHER) is None
    # Each sender keeps its own bucket; the unlimited one is remembered as unlimited.
    assert limiters.get(TOLL_FREE) is limiters.get(TOLL_FREE)
    assert limiters.get(TOLL_FREE) is not limiters.get("+18005550000")
    assert len(limiters) == 4


def test_a_plain_number_gives_every_sender_its_own_bucket_at_that_rate() -> None:
    limiters = SenderLimiters(rule_for(2.5))
    assert bucket(limiters, TOLL_FREE) == bucket(limiters, FROM) == (2.5, 1.0)
    assert limiters.get(TOLL_FREE) is not limiters.get(FROM)


def test_the_rule_is_asked_once_per_sender() -> None:
    asked: Counter[str] = Counter()

    def rule(sender: str) -> float | None:
        asked[sender] += 1
        return None if sender == TOLL_FREE else 1.0

    limiters = SenderLimiters(rule)
    for _ in range(5):
        limiters.get(FROM)
        limiters.get(TOLL_FREE)
    assert asked == Counter({FROM: 1, TOLL_FREE: 1})


async def test_limiters_stay_bounded_with_unlimited_and_limited_senders_mixed() -> None:
    # Toll-free senders unlimited, long codes at 1000/s: entries of both kinds come and go.
    limiters = SenderLimiters(rule_for(tgm.SenderRates(long_code=1000.0, toll_free=None)))
    for n in range(3000):
        limiter = limiters.get(f"+1{800 if n % 2 else 312}{n:07d}")
        if limiter is not None:
            await limiter.acquire()
        if n % 500 == 499:
            await asyncio.sleep(0.01)  # long enough for a 1000/s bucket to drain
    assert len(limiters) <= 1024


# -- through send_many, against the sandbox -----------------------------------------


async def test_a_toll_free_sender_is_not_held_to_a_long_codes_rate(
    telnyx_sandbox: Sandbox,
) -> None:
    requests = [
        request(FROM, "long code 0"),
        request(FROM, "long code 1"),
        *(request(TOLL_FREE, f"toll-free {n}") for n in range(12)),
    ]
    rates = tgm.SenderRates(long_code=GLACIAL)  # toll-free keeps Telnyx's 20/s
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(requests, concurrency=4, per_sender_rate=rates)
        async with contextlib.aclosing(results):
            # The long code's second message waits 1,000 s in its bucket, holding one
            # worker; the other workers send every toll-free message meanwhile.
            done = await take(results, 13)
    assert all(r.ok for r in done)
    assert sorted(r.request.text or "" for r in done) == sorted(
        ["long code 0", *(f"toll-free {n}" for n in range(12))]
    )
    posted = [seen.json()["text"] for seen in telnyx_sandbox.requests]
    assert "long code 1" not in posted
    assert len(posted) == 13


async def test_a_callable_rule_sets_each_senders_rate_and_none_leaves_it_unlimited(
    telnyx_sandbox: Sandbox,
) -> None:
    asked: list[str] = []

    def rule(sender: str) -> float | None:
        asked.append(sender)
        return None if sender == TOLL_FREE else GLACIAL

    requests = [
        request(FROM, "long code 0"),
        request(FROM, "long code 1"),
        *(request(TOLL_FREE, f"toll-free {n}") for n in range(30)),  # past any 20/s burst
    ]
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(requests, concurrency=4, per_sender_rate=rule)
        async with contextlib.aclosing(results):
            done = await take(results, 31)
    assert all(r.ok for r in done)
    assert sorted(Counter(asked).values()) == [1, 1]
    assert "long code 1" not in [seen.json()["text"] for seen in telnyx_sandbox.requests]


async def test_a_rule_giving_a_bad_rate_stops_the_fan_out_naming_the_sender(
    telnyx_sandbox: Sandbox,
) -> None:
    requests = [request(TOLL_FREE, "fine"), request(FROM, "bad rate"), request(TOLL_FREE, "late")]
    got: list[tgm.SendResult] = []
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            requests, concurrency=1, per_sender_rate=lambda s: 0 if s == FROM else None
        )
        with pytest.raises(ValueError, match=r"rate for '\+13125551234'.*got 0"):
            await collect(results, got)
    assert [r.request.text for r in got] == ["fine"]
    assert [seen.json()["text"] for seen in telnyx_sandbox.requests] == ["fine"]


async def test_a_rule_raising_a_telnyx_error_stops_the_fan_out_instead_of_failing_a_row(
    telnyx_sandbox: Sandbox,
) -> None:
    def rule(sender: str) -> float:
        raise tgm.TelnyxError("rates unavailable")

    got: list[tgm.SendResult] = []
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many([request(FROM, "x")], per_sender_rate=rule)
        with pytest.raises(tgm.TelnyxError, match="rates unavailable"):
            await collect(results, got)
    assert got == []
    assert telnyx_sandbox.request_count == 0


# 1e-320: positive, but one message's interval (1 / rate) is infinite.
@pytest.mark.parametrize("bad", ["auto", 0, -1.0, True, float("nan"), 1e-320, float, {FROM: 1.0}])
async def test_send_many_refuses_an_unusable_per_sender_rate_at_once(
    telnyx_sandbox: Sandbox, bad: object
) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        with pytest.raises(ValueError, match="per_sender_rate"):
            client.messages.send_many([], per_sender_rate=bad)  # type: ignore[arg-type]
    with (
        tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as sync_client,
        pytest.raises(ValueError, match="per_sender_rate"),
    ):
        sync_client.messages.send_many([], per_sender_rate=bad)  # type: ignore[arg-type]


def test_the_sync_client_takes_rates_by_kind_too(telnyx_sandbox: Sandbox) -> None:
    requests = [request(FROM, "long code"), *(request(TOLL_FREE, f"tf {n}") for n in range(5))]
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = list(client.messages.send_many(requests, per_sender_rate=tgm.SenderRates()))
    assert sorted(r.index for r in results if r.ok) == list(range(6))
