"""send_many: lazy input, bounded concurrency, every item accounted for, input errors."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import CountingSource, accepted_per_text, collect, make_requests
from .scripted_server import Reply, ScriptedServer

# The sandbox serves these tests; the scripted server only the one that needs it to hold
# answers until a given number of requests is in flight.

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")


async def test_every_request_yields_one_result_with_its_input_index(
    telnyx_sandbox: Sandbox,
) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(50), concurrency=8)]
    assert sorted(r.index for r in results) == list(range(50))
    for result in results:
        assert result.ok and result.error is None and result.attempts == 1
        assert result.message is not None and result.message.text == f"row {result.index}"
        assert result.request.text == f"row {result.index}"
    assert telnyx_sandbox.request_count == 50
    assert accepted_per_text(telnyx_sandbox) == Counter(f"row {n}" for n in range(50))


@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_the_input_is_never_read_more_than_twice_concurrency_ahead_of_the_results(
    telnyx_sandbox: Sandbox, concurrency: int
) -> None:
    source = CountingSource(make_requests(1_000_000))
    seen = 0
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(source, concurrency=concurrency)
        async with contextlib.aclosing(results):
            async for _ in results:
                seen += 1
                assert source.pulled <= seen + 2 * concurrency
                if seen == 100:
                    break
    assert source.pulled <= 100 + 2 * concurrency


async def test_an_async_iterable_input_is_read_lazily_too(telnyx_sandbox: Sandbox) -> None:
    pulled = 0

    async def rows() -> AsyncIterator[tgm.GroupMmsRequest]:
        nonlocal pulled
        for request in make_requests(10_000):
            pulled += 1
            yield request

    seen = 0
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(rows(), concurrency=4)
        async with contextlib.aclosing(results):
            async for _ in results:
                seen += 1
                assert pulled <= seen + 8
                if seen == 30:
                    break


async def test_in_flight_requests_reach_the_concurrency_and_never_exceed_it(
    server: ScriptedServer,
) -> None:
    # The server holds every answer until 12 requests are in flight at once: the fan-out
    # must get there (the pool is not a hidden limit) and never beyond.
    server.hold_until = 12
    server.default = Reply(delay=0.01)
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(60), concurrency=12)]
    assert all(r.ok for r in results)
    assert server.max_in_flight == 12


async def test_a_concurrency_above_the_connection_pool_is_refused_at_once() -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url="http://127.0.0.1:9", max_connections=8) as c:
        with pytest.raises(ValueError, match="max_connections=8"):
            c.messages.send_many([], concurrency=9)
        for bad in ({"concurrency": 0}, {"rate_limit": 0}, {"per_sender_rate": -1.0}):
            settings = {"concurrency": 2, **bad}
            with pytest.raises(ValueError, match="must be"):
                c.messages.send_many([], **settings)  # type: ignore[arg-type]


async def test_a_failed_request_does_not_stop_the_others(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(409, code="40300"))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(10), concurrency=1)]
    assert [r.ok for r in results] == [False] + [True] * 9
    failed = results[0]
    assert isinstance(failed.error, tgm.ConflictError) and failed.error.code == "40300"
    assert failed.message is None and not failed.outcome_unknown


async def test_an_unknown_outcome_is_reported_as_such_and_not_resent(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(500))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(3), concurrency=1)]
    assert results[0].outcome_unknown and results[0].attempts == 1
    assert telnyx_sandbox.request_count == 3


async def test_an_error_of_the_input_propagates_after_the_sends_in_flight_are_yielded(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(fault_rates=FaultRates(rates={Fault.delay(0.02): 1.0}))

    def rows() -> Iterator[tgm.GroupMmsRequest]:
        yield from make_requests(25)
        raise LookupError("row 26 could not be read")

    results: list[tgm.SendResult] = []
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url) as client:
        with pytest.raises(LookupError, match="row 26"):
            await collect(client.messages.send_many(rows(), concurrency=4), results)
    # Every request that was sent was yielded: the results are the complete record.
    assert len(results) == sandbox.request_count
    assert all(r.ok for r in results)
    assert len({r.index for r in results}) == len(results)


async def test_an_item_that_is_not_a_request_stops_the_fan_out_with_a_type_error(
    telnyx_sandbox: Sandbox,
) -> None:
    items: list[object] = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="ok"), "not a request"]
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        with pytest.raises(TypeError, match="item 1 is str"):
            await collect(client.messages.send_many(items, concurrency=1), [])  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [OSError("disk full"), tgm.LedgerError("disk full")])
async def test_a_failing_before_send_hook_sends_nothing_more_and_propagates(
    telnyx_sandbox: Sandbox, error: Exception
) -> None:
    calls = itertools.count()

    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        if next(calls) == 5:
            raise error

    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            make_requests(100), concurrency=2, before_send=before_send
        )
        with pytest.raises(type(error), match="disk full"):
            await collect(results, [])
    # The hook ran before each POST; the one that failed was not sent, nor anything after.
    assert telnyx_sandbox.request_count == 5


class _Abort(BaseException):
    """Not an Exception: a hook's own way to abort, like GeneratorExit or SystemExit."""


async def test_a_before_send_raising_a_base_exception_stops_the_batch_and_propagates(
    telnyx_sandbox: Sandbox,
) -> None:
    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        if index == 2:
            raise _Abort("stop here")

    got: list[tgm.SendResult] = []
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = client.messages.send_many(
            make_requests(5), concurrency=1, before_send=before_send
        )
        # It used to end its worker silently: the batch stopped early with no error.
        with pytest.raises(_Abort, match="stop here"):
            await collect(results, got)
    assert [r.index for r in got] == [0, 1]
    assert telnyx_sandbox.request_count == 2


async def test_an_empty_input_yields_nothing(telnyx_sandbox: Sandbox) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        assert [r async for r in client.messages.send_many([], concurrency=3)] == []
    assert telnyx_sandbox.request_count == 0


async def test_an_input_that_is_not_iterable_raises_instead_of_hanging(
    telnyx_sandbox: Sandbox,
) -> None:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        with pytest.raises(TypeError, match="not iterable"):
            await asyncio.wait_for(collect(client.messages.send_many(42), []), 10)  # type: ignore[arg-type]
