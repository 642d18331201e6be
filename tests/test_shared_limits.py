"""Rate limits for every send of a client: in this process, and shared through Redis.

Only lower bounds on time ("not too early"), which a slow machine cannot break: the
sandbox records when each request arrived, and a limit that holds spaces them out.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO
from .scripted_server import ScriptedServer
from .services import ThrowawayRedis, free_port

ROOT = Path(__file__).resolve().parent.parent


def span(sandbox: Sandbox, text: str = "shared") -> float:
    """Seconds from the first to the last arrival of the messages with ``text``."""
    times = sorted(r.arrived_at for r in sandbox.requests if json.loads(r.body)["text"] == text)
    return times[-1] - times[0]


def test_client_wide_limits_hold_single_sends_in_this_process() -> None:
    async def scenario() -> float:
        async with Sandbox() as sandbox:
            limits = tgm.RateLimits(rate_limit=5)
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, rate_limits=limits
            ) as client:
                await asyncio.gather(
                    *(
                        client.messages.send_group_mms(from_=FROM, to=TO, text="shared")
                        for _ in range(10)
                    )
                )
            return span(sandbox)

    # A burst of 5, then one every 0.2 s: the 10th at 1 s at the earliest.
    assert asyncio.run(scenario()) >= 0.9


def start_workers(
    sandbox: Sandbox, redis: tuple[str, str], *, count: int, sends: int, rate: str, sender: str
) -> list[subprocess.Popen[str]]:
    go = time.time() + 6.0
    url, namespace = redis
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.shared_limits_worker",
                sandbox.base_url,
                url,
                namespace,
                str(sends),
                str(go),
                rate,
                sender,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def finish(workers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for worker in workers:
        assert worker.stdout is not None
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out
        lines.extend(json.loads(line) for line in out.splitlines())
    return lines


def test_three_processes_share_one_account_rate(redis_namespace: tuple[str, str]) -> None:
    with Sandbox() as sandbox:
        workers = start_workers(sandbox, redis_namespace, count=3, sends=40, rate="10", sender="-")
        lines = finish(workers)
        assert lines.count({"sent": 40}) == 3
        # 120 sends at 10/s, a burst of 10 first: at least 11 s from first to last. Each
        # process on its own limit would take about 4 s.
        assert span(sandbox) >= 10.5


def test_two_processes_share_one_senders_rate(redis_namespace: tuple[str, str]) -> None:
    with Sandbox() as sandbox:
        workers = start_workers(sandbox, redis_namespace, count=2, sends=10, rate="-", sender="5")
        finish(workers)
        # 20 from one sender at 5/s, a burst of 5: at least 3 s.
        assert span(sandbox) >= 2.8


def test_a_429_answered_to_one_process_pauses_the_others(
    redis_namespace: tuple[str, str],
) -> None:
    url, namespace = redis_namespace
    with Sandbox() as sandbox:
        sandbox.faults.script(Fault.status(429, retry_after=2.0))
        (worker,) = start_workers(
            sandbox, redis_namespace, count=1, sends=1, rate="100", sender="-"
        )
        assert finish([worker]) == [{"ready": True}, {"sent": 0, "errors": ["RateLimitError"]}]
        throttled_at = time.monotonic()

        async def after() -> float:
            limits = tgm.RateLimits(rate_limit=100, redis_url=url, namespace=namespace)
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, rate_limits=limits
            ) as client:
                await client.messages.send_group_mms(from_=FROM, to=TO, text="shared")
            return time.monotonic() - throttled_at

        # The worker's 429 said 2 s; this process had no 429 of its own, and waits too.
        assert asyncio.run(after()) >= 1.5
        assert sandbox.request_count == 2


def test_redis_down_fails_safe_naming_the_host_and_sends_resume_when_it_is_back(
    throwaway_redis: ThrowawayRedis,
) -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            limits = tgm.RateLimits(rate_limit=50, redis_url=throwaway_redis.url)
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, rate_limits=limits, timeout=2.0
            ) as client:
                send = client.messages.send_group_mms
                await send(from_=FROM, to=TO, text="shared")
                throwaway_redis.stop()
                with pytest.raises(tgm.BackendUnavailableError) as caught:
                    await send(from_=FROM, to=TO, text="shared")
                assert f"127.0.0.1:{throwaway_redis.port}" in str(caught.value)
                assert "nothing was sent" in str(caught.value)
                assert caught.value.backend == "redis"
                assert sandbox.request_count == 1
                many = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="shared")] * 3
                results = [r async for r in client.messages.send_many(many)]
                assert all(isinstance(r.error, tgm.BackendUnavailableError) for r in results)
                assert sandbox.request_count == 1
                throwaway_redis.start()
                await send(from_=FROM, to=TO, text="shared")
                assert sandbox.request_count == 2

    asyncio.run(scenario())


def test_an_unreachable_redis_never_shows_its_password() -> None:
    async def scenario() -> None:
        url = f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"
        limits = tgm.RateLimits(rate_limit=5, redis_url=url)
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url, rate_limits=limits) as c,
        ):
            with pytest.raises(tgm.BackendUnavailableError) as caught:
                await c.messages.send_group_mms(from_=FROM, to=TO, text="x")
            assert "s3cret-pw" not in str(caught.value) and "127.0.0.1" in str(caught.value)
            assert sandbox.request_count == 0

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"rate_limit": 0}, "rate_limit"),
        ({"redis_url": "http://x"}, "redis_url"),
        ({"namespace": ""}, "namespace"),
        ({"per_sender_rate": -1}, "per_sender_rate"),
    ],
)
def test_unusable_limits_are_refused_naming_the_setting(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        tgm.RateLimits(**settings)


def test_no_phone_number_is_written_to_redis(redis_namespace: tuple[str, str]) -> None:
    import redis

    url, namespace = redis_namespace

    async def scenario() -> None:
        limits = tgm.RateLimits(
            rate_limit=10, per_sender_rate=5, redis_url=url, namespace=namespace
        )
        async with (
            Sandbox() as sandbox,
            tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url, rate_limits=limits) as c,
        ):
            await c.messages.send_group_mms(from_=FROM, to=TO, text="x")

    asyncio.run(scenario())
    keys = [k.decode() for k in redis.Redis.from_url(url).scan_iter(match=f"{namespace}*")]
    assert len(keys) == 2  # the account's bucket and the sender's
    assert not any(FROM[1:] in k or KEY in k for k in keys)


def test_a_keyed_send_stopped_by_redis_leaves_its_key_free_to_send(tmp_path: Path) -> None:
    store = tmp_path / "keys.db"

    async def scenario() -> None:
        down = tgm.RateLimits(rate_limit=5, redis_url=f"redis://127.0.0.1:{free_port()}/0")
        async with Sandbox() as sandbox:
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, rate_limits=down, idempotency_store=store
            ) as client:
                with pytest.raises(tgm.BackendUnavailableError):
                    await client.messages.send_group_mms(
                        from_=FROM, to=TO, text="x", idempotency_key="k"
                    )
                status = await client.idempotency_keys.status("k")
                assert status is not None and status.state is tgm.SendState.FAILED
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, idempotency_store=store
            ) as client:
                await client.messages.send_group_mms(
                    from_=FROM, to=TO, text="x", idempotency_key="k"
                )
            assert sandbox.request_count == 1

    asyncio.run(scenario())


def test_two_fan_outs_share_one_rate_through_redis(redis_namespace: tuple[str, str]) -> None:
    url, namespace = redis_namespace
    limits = tgm.RateLimits(rate_limit=10, redis_url=url, namespace=namespace)
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="shared")] * 20

    async def scenario() -> float:
        async with Sandbox() as sandbox:
            clients = [tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url) for _ in range(2)]

            async def fan_out(client: tgm.AsyncTelnyx) -> list[tgm.SendResult]:
                return [r async for r in client.messages.send_many(requests, rate_limits=limits)]

            batches = await asyncio.gather(*(fan_out(c) for c in clients))
            assert all(r.ok for batch in batches for r in batch)
            for client in clients:
                await client.aclose()
            return span(sandbox)

    # 40 at 10/s between them, a burst of 10: at least 3 s (each alone: about 1 s).
    assert asyncio.run(scenario()) >= 2.8


def test_send_many_takes_rate_limits_or_the_shorthand_not_both() -> None:
    client = tgm.Telnyx(api_key=KEY, base_url="http://127.0.0.1:9/v2")
    with pytest.raises(ValueError, match="not both"):
        client.messages.send_many([], rate_limit=5, rate_limits=tgm.RateLimits(rate_limit=5))
    with pytest.raises(TypeError, match="RateLimits"):
        client.messages.send_many([], rate_limits=5)  # type: ignore[arg-type]
    client.close()


def test_the_sync_client_fans_out_under_in_process_rate_limits() -> None:
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="shared")] * 6
    with Sandbox() as sandbox, tgm.Telnyx(api_key=KEY, base_url=sandbox.base_url) as client:
        results = list(
            client.messages.send_many(requests, rate_limits=tgm.RateLimits(rate_limit=3))
        )
        assert all(r.ok for r in results)
        # A burst of 3, then one every third of a second.
        assert span(sandbox) >= 0.9


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reaches_redis_afresh_and_the_parent_keeps_its_connection(
    redis_namespace: tuple[str, str], server: ScriptedServer, tmp_path: Path
) -> None:
    url, namespace = redis_namespace
    limits = tgm.RateLimits(rate_limit=50, redis_url=url, namespace=namespace)
    client = tgm.Telnyx(
        api_key=KEY,
        base_url=server.base_url,
        rate_limits=limits,
        idempotency_store=tmp_path / "k.db",
    )
    client.messages.send_group_mms(from_=FROM, to=TO, text="parent before", idempotency_key="p1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
        pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            msg = client.messages.send_group_mms(
                from_=FROM, to=TO, text="child", idempotency_key="c1"
            )
            client.close()
            code = 0 if msg.id else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.messages.send_group_mms(from_=FROM, to=TO, text="parent after", idempotency_key="p2")
    client.close()
    assert [s.json()["text"] for s in server.seen] == ["parent before", "child", "parent after"]
