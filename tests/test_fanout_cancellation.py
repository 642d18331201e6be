"""send_many: a consumer that stops early cancels the work in flight, cleanly.

"Cleanly" is checked three ways: the server sees every held request abandoned (the
connections were closed, not left dangling), the same client can then fill its whole
pool again (nothing leaked), and no warning or asyncio error is reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading

import pytest

import telnyx_group_mms as tgm

from .conftest import KEY
from .fanout_support import eventually, make_requests, wait_until
from .scripted_server import Reply, ScriptedServer

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")

POOL = 4


def hold_all_but_the_first(server: ScriptedServer) -> None:
    """The first request is answered; every later one is held (for a minute)."""
    server.push(Reply())
    server.default = Reply(delay=60)


async def pool_still_whole(client: tgm.AsyncTelnyx, server: ScriptedServer) -> None:
    """POOL concurrent sends succeed: no connection is still held by cancelled work."""
    server.default = Reply()
    results = client.messages.send_many(make_requests(POOL * 2), concurrency=POOL)
    done = await asyncio.wait_for(_all_ok(results), 10)
    assert done == POOL * 2


async def _all_ok(results: object) -> int:
    count = 0
    async for result in results:  # type: ignore[attr-defined]
        assert result.ok
        count += 1
    return count


async def test_breaking_out_closes_the_requests_in_flight(server: ScriptedServer) -> None:
    hold_all_but_the_first(server)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, max_connections=POOL
    ) as client:
        results = client.messages.send_many(make_requests(100), concurrency=POOL)
        async with contextlib.aclosing(results):
            async for result in results:
                assert result.ok
                break
        await eventually(lambda: server.abandoned == POOL)
        assert server.posts == 1 + POOL
        await pool_still_whole(client, server)


async def test_a_plain_break_is_cleaned_up_by_the_event_loop(server: ScriptedServer) -> None:
    hold_all_but_the_first(server)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, max_connections=POOL
    ) as client:
        async for _ in client.messages.send_many(make_requests(100), concurrency=POOL):
            break
        # The unreferenced generator is closed by asyncio's async-generator finaliser.
        await eventually(lambda: server.abandoned == POOL)
        await pool_still_whole(client, server)


async def test_cancelling_the_consuming_task_cancels_the_sends(server: ScriptedServer) -> None:
    hold_all_but_the_first(server)
    first = asyncio.Event()

    async def consume(client: tgm.AsyncTelnyx) -> None:
        async for _ in client.messages.send_many(make_requests(100), concurrency=POOL):
            first.set()

    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, max_connections=POOL
    ) as client:
        task = asyncio.create_task(consume(client))
        await first.wait()
        await eventually(lambda: server.in_flight == POOL)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await eventually(lambda: server.abandoned == POOL)
        assert server.posts == 1 + POOL
        await pool_still_whole(client, server)


def test_breaking_out_of_the_sync_twin_cancels_before_control_returns(
    server: ScriptedServer,
) -> None:
    hold_all_but_the_first(server)
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url, max_connections=POOL) as client:
        for result in client.messages.send_many(make_requests(100), concurrency=POOL):
            assert result.ok
            break
        wait_until(lambda: server.abandoned == POOL)
        server.default = Reply()
        again = list(client.messages.send_many(make_requests(POOL * 2), concurrency=POOL))
        assert all(r.ok for r in again)
    assert server.posts == 1 + POOL + POOL * 2


def test_ctrl_c_in_the_sync_twin_cancels_the_sends_in_flight(server: ScriptedServer) -> None:
    hold_all_but_the_first(server)
    main = threading.main_thread()
    assert threading.current_thread() is main

    def interrupt_once_all_are_held() -> None:
        wait_until(lambda: server.in_flight == POOL)
        signal.pthread_kill(main.ident or 0, signal.SIGINT)

    received: list[tgm.SendResult] = []
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url, max_connections=POOL) as client:
        interrupter = threading.Thread(target=interrupt_once_all_are_held)
        interrupter.start()
        results = client.messages.send_many(make_requests(100), concurrency=POOL)
        with pytest.raises(KeyboardInterrupt):
            received.extend(results)
        interrupter.join()
        wait_until(lambda: server.abandoned == POOL)
        server.default = Reply()
        again = list(client.messages.send_many(make_requests(POOL), concurrency=POOL))
        assert all(r.ok for r in again)
    assert len(received) == 1
    assert os.getpid() > 0  # still this process: the interrupt did not escape the test
