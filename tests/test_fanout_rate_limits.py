"""send_many: account and per-sender rate limits, and the 429 pause shared by every worker.

Rates are checked with bounds that a slow machine can only make truer: a limiter can
only delay sends, so "no more than N sends before t" and "the last send not before t"
hold however busy the machine is.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.limits._buckets import SenderLimiters, is_idle, limiter_for
from telnyx_group_mms.retry import RATE_LIMIT_REQUEUES
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import FROM, KEY, TO, fast_retry
from .fanout_support import make_requests

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

OTHER = "+13125550000"


@pytest.mark.parametrize(
    ("rate", "capacity", "period"),
    [(0.1, 1.0, 10.0), (0.5, 1.0, 2.0), (2.5, 2.5, 1.0), (15, 15, 1)],
)
def test_a_rate_becomes_a_bucket_of_one_seconds_worth_and_at_least_one(
    rate: float, capacity: float, period: float
) -> None:
    limiter = limiter_for(rate)
    assert (limiter.max_rate, limiter.time_period) == (capacity, period)
    assert limiter.max_rate / limiter.time_period == pytest.approx(rate)


async def test_a_long_code_rate_admits_one_now_and_then_waits() -> None:
    limiter = limiter_for(0.1)  # AsyncLimiter(0.1, 1) could never admit a whole message
    await asyncio.wait_for(limiter.acquire(), 1)
    assert not limiter.has_capacity()
    assert not is_idle(limiter)


async def test_the_account_rate_limit_spaces_sends(telnyx_sandbox: Sandbox) -> None:
    loop = asyncio.get_running_loop()
    sent_at: list[float] = []

    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        sent_at.append(loop.time())

    start = loop.time()
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            make_requests(30), concurrency=10, rate_limit=20, before_send=before_send
        )
        assert all([r.ok async for r in results])
    # A burst of one second's worth (20), then 20/s: the 30th cannot go before 0.5 s,
    # and no more than 20 + 20 x 0.25 can go in the first quarter second.
    assert max(sent_at) - start >= 0.5 - 0.01
    assert sum(1 for t in sent_at if t - start <= 0.25) <= 25


async def test_a_slow_sender_does_not_hold_up_the_others(telnyx_sandbox: Sandbox) -> None:
    requests = [
        tgm.GroupMmsRequest(from_=FROM, to=TO, text="first from the slow sender"),
        tgm.GroupMmsRequest(from_=FROM, to=TO, text="second from the slow sender"),
        tgm.GroupMmsRequest(from_=OTHER, to=TO, text="from another sender"),
    ]
    loop = asyncio.get_running_loop()
    sent_at: dict[str | None, float] = {}

    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        sent_at[request.text] = loop.time()

    start = loop.time()
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            requests, concurrency=3, per_sender_rate=1.0, before_send=before_send
        )
        assert all([r.ok async for r in results])
    order = [seen.json()["text"] for seen in telnyx_sandbox.requests]
    # The slow sender's second message waits a second for its bucket; the other
    # sender's message does not wait behind it.
    assert order.index("from another sender") < order.index("second from the slow sender")
    assert sent_at["second from the slow sender"] - start >= 1.0 - 0.01


async def test_per_sender_limiters_do_not_grow_with_every_sender_ever_seen() -> None:
    limiters = SenderLimiters(lambda _sender: 1000.0)
    for n in range(3000):
        await limiters.get(f"+1312{n:07d}").acquire()
        if n % 500 == 499:
            await asyncio.sleep(0.01)  # long enough for a 1000/s bucket to drain
    assert len(limiters) <= 1024


async def test_a_429_pauses_every_worker_for_its_retry_after(telnyx_sandbox: Sandbox) -> None:
    # The first request is throttled for 0.6 s; the three others of the first wave
    # take 0.4 s. Without a shared pause they would send again at 0.4 s.
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=0.6), *[Fault.delay(0.4)] * 3)
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(12), concurrency=4)]
    assert all(r.ok for r in results)
    assert telnyx_sandbox.request_count == 13
    # The sandbox's own record of arrivals: nothing came during the pause.
    arrivals = [seen.arrived_at for seen in telnyx_sandbox.requests]
    assert all(at >= arrivals[0] + 0.6 for at in arrivals[4:])
    retried = [r for r in results if r.attempts == 2]
    assert len(retried) == 1


async def test_throttling_slows_the_batch_instead_of_failing_rows(telnyx_sandbox: Sandbox) -> None:
    # The client's own retries are off: every 429 is the fan-out's to absorb.
    telnyx_sandbox.faults.script(*[Fault.status(429, retry_after=0.01)] * 6)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=telnyx_sandbox.base_url, retry=tgm.RetryPolicy(max_attempts=1)
    ) as client:
        results = [r async for r in client.messages.send_many(make_requests(4), concurrency=2)]
    assert all(r.ok for r in results)
    assert telnyx_sandbox.request_count == 4 + 6
    assert len(telnyx_sandbox.messages) == 4


async def test_sustained_throttling_still_ends_with_the_rows_failed(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    always = FaultRates(rates={Fault.status(429, retry_after=0): 1.0})
    sandbox = telnyx_sandbox_factory(fault_rates=always)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=sandbox.base_url, retry=fast_retry(max_attempts=2)
    ) as client:
        results = [r async for r in client.messages.send_many(make_requests(3), concurrency=3)]
    assert all(isinstance(r.error, tgm.RateLimitError) for r in results)
    assert not any(r.outcome_unknown for r in results)
    rounds = RATE_LIMIT_REQUEUES + 1
    assert sandbox.request_count == 3 * rounds * 2
    assert sandbox.messages == []
    assert all(r.attempts == rounds * 2 for r in results)


async def test_a_429_asking_more_than_the_policy_allows_fails_the_row_at_once(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=120))
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=telnyx_sandbox.base_url, retry=tgm.RetryPolicy(max_retry_after=0.2)
    ) as client:
        results = [r async for r in client.messages.send_many(make_requests(3), concurrency=1)]
    assert isinstance(results[0].error, tgm.RateLimitError)
    assert [r.ok for r in results] == [False, True, True]
    # The pause was capped at max_retry_after, so the batch went on.
    first, second = telnyx_sandbox.requests[:2]
    assert second.arrived_at - first.arrived_at >= 0.2


async def test_a_sender_limiter_with_a_wait_in_progress_is_never_dropped() -> None:
    limiters = SenderLimiters(lambda _sender: 1.0)
    slow = limiters.get(FROM)
    assert slow is not None
    await limiters.acquire(FROM, slow)  # its one place for this second is taken
    waiting = asyncio.create_task(limiters.acquire(FROM, slow))
    await asyncio.sleep(0)  # the second message now waits in the bucket
    for n in range(1023):  # newer senders fill the map up to its bound
        limiters.get(f"+1312{n:07d}")
    # The loop is held up (a busy batch) past the moment the bucket drains, so the
    # bucket reads empty while its waiter has not yet been woken.
    time.sleep(1.05)  # noqa: ASYNC251 - the hold-up is the point

    limiters.get("+13120009999")  # a new sender: the least recently used may go

    assert limiters.get(FROM) is slow
    await waiting
