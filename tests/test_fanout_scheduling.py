"""send_many's scheduling: no sender holds up another, and the read-ahead stays bounded.

Two kinds of test. On a virtual clock (:mod:`.virtual_clock`), the engine runs over a
fake send, so the time every message goes out is exact and a 20-second batch runs in
the time the engine's own code takes: these may bound time from above. Against the
sandbox, in real time, only orderings and lower bounds on time are asserted, which a
slow machine cannot break.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.fanout._engine import Attempt, AttemptWrapper, FanOut
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import KEY, TO
from .fanout_support import CountingSource
from .virtual_clock import run_virtual

SLOW = "+13125550001"
FAST = "+13125550002"
OTHER = "+18005550003"  # toll-free, so SenderRates gives it a rate of its own


def rows(sender: str, n: int, *, start: int = 0) -> list[tgm.GroupMmsRequest]:
    return [tgm.GroupMmsRequest(from_=sender, to=TO, text=f"{sender} {i}") for i in range(start, n)]


class FakeTelnyx:
    """A send for :class:`FanOut` that takes ``latency`` seconds and logs when it posts."""

    def __init__(self, latency: float = 0.05) -> None:
        self.latency = latency
        self.posted: list[tuple[float, str, str | None]] = []  # (time, from_, text)
        self.in_flight = 0
        self.max_in_flight = 0

    async def send(self, request: tgm.GroupMmsRequest, gate: AttemptWrapper) -> tgm.Message:
        async def post() -> tgm.Message:
            loop = asyncio.get_running_loop()
            self.posted.append((loop.time(), request.from_, request.text))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency)
            finally:
                self.in_flight -= 1
            return tgm.Message(text=request.text)

        attempt: Attempt = post
        return await gate(attempt)

    def finished(self, sender: str) -> float:
        return max(at for at, from_, _ in self.posted if from_ == sender)

    def order(self) -> list[str]:
        return [from_ for _, from_, _ in self.posted]


def fan_out(fake: FakeTelnyx, **settings: object) -> FanOut:
    options: dict[str, object] = {
        "concurrency": 32,
        "rate_limit": None,
        "per_sender_rate": None,
        "max_pause": 60.0,
    }
    options.update(settings)
    return FanOut(fake.send, **options)  # type: ignore[arg-type]


async def send_all(engine: FanOut, requests: object) -> list[tgm.SendResult]:
    return [result async for result in engine.results(requests)]  # type: ignore[arg-type]


# -- on a virtual clock -----------------------------------------------------------------

SLOW_ROWS = rows(SLOW, 100)
FAST_ROWS = rows(FAST, 2_000)


def slow_ahead_order(order: str) -> list[tgm.GroupMmsRequest]:
    if order == "slow-first":
        return SLOW_ROWS + FAST_ROWS
    if order == "fast-first":
        return FAST_ROWS + SLOW_ROWS
    if order == "interleaved":
        pairs = [r for pair in zip(SLOW_ROWS, FAST_ROWS, strict=False) for r in pair]
        return pairs + FAST_ROWS[len(SLOW_ROWS) :]
    mixed = SLOW_ROWS + FAST_ROWS
    random.Random(15).shuffle(mixed)
    return mixed


@pytest.mark.parametrize("order", ["slow-first", "fast-first", "interleaved", "random"])
def test_each_sender_finishes_as_its_own_rate_allows_in_any_order(order: str) -> None:
    # A slow number ahead of a fast one: 100 rows at 5/s and 2,000 at 100/s each need
    # 20 s alone (less the one second's burst their buckets allow); the old engine took
    # 31.8 s slow-first.
    fake = FakeTelnyx()
    rates = tgm.SenderRates(long_code=5, overrides={FAST: 100})

    async def main() -> tuple[list[tgm.SendResult], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await send_all(fan_out(fake, per_sender_rate=rates), slow_ahead_order(order))
        return results, loop.time() - start

    results, makespan = run_virtual(main())
    assert sorted(r.index for r in results) == list(range(2_100))
    assert all(r.ok for r in results)
    for sender in (SLOW, FAST):
        assert 19.0 - 0.01 <= fake.finished(sender) <= 1.1 * 20
    assert makespan <= 1.1 * 20


def test_a_request_whose_sender_is_not_ready_holds_no_worker() -> None:
    # One worker. The slow sender's second message waits a second for its bucket; the
    # other sender's ten go meanwhile, not behind it.
    fake = FakeTelnyx(latency=0.01)
    requests = rows(SLOW, 3) + rows(OTHER, 10)
    rates = tgm.SenderRates(long_code=1.0, toll_free=None)
    run_virtual(send_all(fan_out(fake, concurrency=1, per_sender_rate=rates), requests))
    assert fake.order() == [SLOW] + [OTHER] * 10 + [SLOW] * 2
    slow_times = [at for at, sender, _ in fake.posted if sender == SLOW]
    assert slow_times[1] >= 1.0 and slow_times[2] >= 2.0


def test_the_account_limit_is_spent_only_on_senders_that_are_ready() -> None:
    # An account limit of 10/s (a burst of 10) and a sender at 1/s ahead of 20 rows of
    # an unlimited one: the unlimited sender gets every account token the slow one
    # cannot use, so its 20 go within the 10/s the account allows.
    fake = FakeTelnyx(latency=0.01)
    requests = rows(SLOW, 4) + rows(OTHER, 20)
    rates = tgm.SenderRates(long_code=1.0, toll_free=None)
    engine = fan_out(fake, concurrency=4, rate_limit=10, per_sender_rate=rates)
    run_virtual(send_all(engine, requests))
    # 10 at once (one of them the slow sender's), then one every 0.1 s.
    assert fake.finished(OTHER) <= 1.2 + 0.01
    assert fake.finished(SLOW) >= 3.0
    assert fake.order()[:10].count(SLOW) == 1


def test_among_ready_senders_the_input_order_is_kept() -> None:
    fake = FakeTelnyx(latency=0.01)
    requests = [
        tgm.GroupMmsRequest(from_=sender, to=TO, text=str(i))
        for i, sender in enumerate([SLOW, FAST, OTHER] * 5)
    ]
    run_virtual(send_all(fan_out(fake, concurrency=1, per_sender_rate=1000.0), requests))
    assert [text for _, _, text in fake.posted] == [str(i) for i in range(15)]


def test_with_every_sender_waiting_the_input_is_read_ahead_no_further_than_read_ahead() -> None:
    # Every row from one sender at 1/s: nothing read can go, so the fan-out reads on,
    # but never beyond read_ahead requests ahead of the results it has yielded.
    fake = FakeTelnyx(latency=0.01)
    source = CountingSource(iter(rows(SLOW, 1_000)))
    furthest: list[int] = []

    async def main() -> None:
        engine = fan_out(fake, concurrency=4, per_sender_rate=1.0, read_ahead=50)
        seen = 0
        results = engine.results(source)  # type: ignore[arg-type]
        async with contextlib.aclosing(results):
            async for _ in results:
                seen += 1
                furthest.append(source.pulled - seen)
                if seen == 30:
                    break

    run_virtual(main())
    assert max(furthest) <= 50
    assert max(furthest) >= 40  # it did read ahead, looking for a ready sender


def test_read_ahead_reaches_a_ready_sender_behind_a_waiting_one() -> None:
    # 300 rows of a sender at 1/s, then 50 of an unlimited one: with room to read past
    # the first 300, the unlimited sender's rows all go in the first second; with a
    # read-ahead of 100 they wait for the slow rows ahead of them to go.
    requests = rows(SLOW, 300) + rows(OTHER, 50)
    rates = tgm.SenderRates(long_code=1.0, toll_free=None)

    def other_done(read_ahead: int) -> float:
        fake = FakeTelnyx(latency=0.01)
        engine = fan_out(fake, concurrency=4, per_sender_rate=rates, read_ahead=read_ahead)

        async def main() -> None:
            results = engine.results(requests)
            async with contextlib.aclosing(results):
                async for _ in results:
                    if Counter(fake.order())[OTHER] == 50:
                        break

        run_virtual(main())
        return fake.finished(OTHER)

    assert other_done(1_000) <= 1.0
    assert other_done(100) >= 200.0


def test_without_per_sender_limits_the_read_ahead_stays_at_twice_the_concurrency() -> None:
    fake = FakeTelnyx(latency=0.01)
    source = CountingSource(iter(rows(FAST, 500)))
    furthest = 0

    async def main() -> None:
        nonlocal furthest
        seen = 0
        async for _ in fan_out(fake, concurrency=4, rate_limit=50).results(source):  # type: ignore[arg-type]
            seen += 1
            furthest = max(furthest, source.pulled - seen)

    run_virtual(main())
    assert furthest <= 8


def test_a_read_ahead_below_twice_the_concurrency_bounds_the_requests_in_flight() -> None:
    fake = FakeTelnyx(latency=0.01)
    run_virtual(send_all(fan_out(fake, concurrency=8, read_ahead=3), rows(FAST, 40)))
    assert len(fake.posted) == 40
    assert fake.max_in_flight <= 3


def test_workers_stay_busy_with_many_slow_senders() -> None:
    # 50 long codes at 0.5/s, 10 rows each, in sender order (each sender's rows
    # together): every sender needs 18 s (a burst of one, then one every 2 s), and the
    # batch needs no more, since the workers are never all held by waiting senders.
    fake = FakeTelnyx(latency=0.05)
    requests = [r for n in range(50) for r in rows(f"+1312555{n:04d}", 10)]

    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await send_all(fan_out(fake, concurrency=8, per_sender_rate=0.5), requests)
        return loop.time() - start

    assert run_virtual(main()) <= 18.0 + 1.0


def test_closing_early_waits_for_no_senders_bucket() -> None:
    # Requests of a long code wait in its queue (one every 10 s); leaving after the
    # first result ends the fan-out at once, with nothing left running.
    fake = FakeTelnyx(latency=0.01)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        engine = fan_out(fake, concurrency=4, per_sender_rate=0.1)
        results = engine.results(rows(SLOW, 50))
        async with contextlib.aclosing(results):
            async for _ in results:
                break
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []
        return loop.time()

    assert run_virtual(main()) < 1.0
    assert len(fake.posted) == 1


class ThrottlingTelnyx(FakeTelnyx):
    """A fake send with a random latency that answers some first attempts 429."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)
        self.throttled_at: list[tuple[float, float]] = []  # (answered at, retry after)
        self.tried: set[str | None] = set()

    async def send(self, request: tgm.GroupMmsRequest, gate: AttemptWrapper) -> tgm.Message:
        async def post() -> tgm.Message:
            loop = asyncio.get_running_loop()
            self.posted.append((loop.time(), request.from_, request.text))
            await asyncio.sleep(self.random.uniform(0.001, 0.05))
            if request.text not in self.tried and self.random.random() < 0.05:
                self.tried.add(request.text)
                self.throttled_at.append((loop.time(), 0.2))
                raise tgm.RateLimitError("throttled", status_code=429, retry_after=0.2)
            self.tried.add(request.text)
            return tgm.Message(text=request.text)

        return await gate(post)


def never_faster_than(times: list[float], rate: float) -> bool:
    """No run of sends beats a bucket of one second's worth (at least one) at ``rate``."""
    capacity = max(1.0, rate)
    times = sorted(times)
    return all(
        j - i + 1 <= capacity + rate * (times[j] - times[i]) + 1e-6
        for i in range(len(times))
        for j in range(i, len(times))
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_under_throttling_every_limit_holds_and_every_request_yields_once(seed: int) -> None:
    pick = random.Random(seed)
    rates: dict[str, float | None] = {
        "+13125550010": 0.5,
        "+13125550011": 2.0,
        "+13125550012": 10.0,
        "+13125550013": None,
        "+13125550014": 50.0,
    }
    requests = [
        tgm.GroupMmsRequest(from_=pick.choice(list(rates)), to=TO, text=str(i)) for i in range(300)
    ]
    source = CountingSource(iter(requests))
    fake = ThrottlingTelnyx(seed)
    furthest = 0

    async def main() -> list[tgm.SendResult]:
        nonlocal furthest
        engine = fan_out(
            fake,
            concurrency=6,
            rate_limit=40,
            per_sender_rate=lambda sender: rates[sender],
            read_ahead=50,
        )
        got = []
        async for result in engine.results(source):  # type: ignore[arg-type]
            got.append(result)
            furthest = max(furthest, source.pulled - len(got))
        return got

    results = run_virtual(main())
    assert sorted(r.index for r in results) == list(range(300))
    assert all(r.ok for r in results)
    assert fake.throttled_at  # the seeds do throttle
    assert furthest <= 50
    every = [at for at, _, _ in fake.posted]
    assert never_faster_than(every, 40)
    for sender, rate in rates.items():
        if rate is not None:
            assert never_faster_than([at for at, s, _ in fake.posted if s == sender], rate)
    for answered, retry_after in fake.throttled_at:  # the pause held every sender
        assert not [at for at in every if answered < at < answered + retry_after - 1e-9]


# -- against the sandbox, in real time --------------------------------------------------

pytestmark_sandbox = pytest.mark.usefixtures("no_asyncio_errors")


@pytestmark_sandbox
async def test_a_slow_senders_rows_first_do_not_hold_up_a_fast_senders(
    telnyx_sandbox: Sandbox,
) -> None:
    # The slow sender (1/s, a burst of one) sends its 3rd message no earlier than 2 s
    # after its 1st; by then the fast sender's 100, read behind all 20 slow rows, have
    # long gone (the old engine had every worker waiting in the slow sender's bucket).
    requests = rows(SLOW, 20) + rows(OTHER, 100)
    rates = tgm.SenderRates(long_code=1.0, toll_free=None)
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(requests, concurrency=8, per_sender_rate=rates)
        async with contextlib.aclosing(results):
            done = 0
            async for _ in results:
                done += 1
                if done == 102:
                    break
    arrivals = [(seen.arrived_at, seen.json()["from"]) for seen in telnyx_sandbox.requests]
    slow = [at for at, sender in arrivals if sender == SLOW]
    assert len(slow) >= 2
    if len(slow) >= 3:
        assert slow[2] - slow[0] >= 2.0 - 0.05
    third = slow[2] if len(slow) >= 3 else float("inf")
    fast_before = sum(1 for at, sender in arrivals if sender == OTHER and at < third)
    assert fast_before >= 90


@pytestmark_sandbox
async def test_a_requeued_request_waits_for_its_sender_without_holding_a_worker(
    telnyx_sandbox: Sandbox,
) -> None:
    # One worker. The slow sender's first message is throttled (429, 0.1 s); sent again
    # it needs its sender's next token, a second later. The other sender's rows go in
    # that second instead of waiting behind it.
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=0.1))
    requests = rows(SLOW, 1) + rows(OTHER, 10)
    rates = tgm.SenderRates(long_code=1.0, toll_free=None)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=telnyx_sandbox.base_url, retry=tgm.RetryPolicy(max_attempts=1)
    ) as client:
        results = client.messages.send_many(requests, concurrency=1, per_sender_rate=rates)
        done = [r async for r in results]
    assert all(r.ok for r in done)
    arrivals = [(seen.arrived_at, seen.json()["from"]) for seen in telnyx_sandbox.requests]
    slow = [at for at, sender in arrivals if sender == SLOW]
    assert len(slow) == 2
    assert slow[1] - slow[0] >= 1.0 - 0.05
    assert sum(1 for at, sender in arrivals if sender == OTHER and at < slow[1]) >= 8


@pytestmark_sandbox
async def test_the_input_is_read_no_further_than_read_ahead(telnyx_sandbox: Sandbox) -> None:
    source = CountingSource(iter(rows(SLOW, 10_000)))
    seen = 0
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            source, concurrency=4, per_sender_rate=2.0, read_ahead=25
        )
        async with contextlib.aclosing(results):
            async for _ in results:
                seen += 1
                assert source.pulled <= seen + 25
                if seen == 3:
                    break
    assert source.pulled <= 3 + 25


def test_the_sync_client_takes_read_ahead_too(telnyx_sandbox: Sandbox) -> None:
    source = CountingSource(iter(rows(SLOW, 10_000)))
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            source, concurrency=2, per_sender_rate=2.0, read_ahead=7
        )
        with contextlib.closing(results):
            for seen, _ in enumerate(results, start=1):
                assert source.pulled <= seen + 7
                if seen == 3:
                    break
    assert source.pulled <= 3 + 7


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_an_unusable_read_ahead_is_refused_at_once(telnyx_sandbox: Sandbox, bad: object) -> None:
    with (
        tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client,
        pytest.raises(ValueError, match="read_ahead"),
    ):
        client.messages.send_many([], read_ahead=bad)  # type: ignore[arg-type]
