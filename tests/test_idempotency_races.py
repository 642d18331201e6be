"""Idempotency keys under concurrency: tasks, processes, and a holder killed mid-send.

Each test counts the POSTs that reached the sandbox for the raced message: one, however
many callers raced, and none after a holder died with its outcome unknown.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, FaultRates, Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import wait_until

ROOT = Path(__file__).resolve().parent.parent


def raced(sandbox: Sandbox) -> int:
    return sum(1 for message in sandbox.messages if message.text == "raced")


def test_ten_tasks_with_one_key_post_once_and_get_the_same_message(store: str) -> None:
    async def scenario() -> tuple[list[tgm.Message], int]:
        slow = FaultRates(rates={Fault.delay(0.3): 1.0})
        async with Sandbox(fault_rates=slow) as sandbox:
            async with tgm.AsyncTelnyx(
                api_key=KEY, base_url=sandbox.base_url, idempotency_store=store
            ) as client:
                sends = [
                    client.messages.send_group_mms(
                        from_=FROM, to=TO, text="raced", idempotency_key="one-key"
                    )
                    for _ in range(10)
                ]
                messages = await asyncio.gather(*sends)
            return messages, raced(sandbox)

    messages, posts = asyncio.run(scenario())
    assert posts == 1
    assert all(message == messages[0] for message in messages)


def start_worker(base_url: str, store: str, key: str, start_at: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.idempotency_worker", base_url, store, key, str(start_at)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> int:
    code = process.wait(timeout=30)
    assert process.stdout is not None
    process.stdout.close()
    return code


def line_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"the worker ended early (exit {process.wait()})"
    return dict(json.loads(line))


def test_four_processes_racing_on_one_key_post_once(store: str) -> None:
    slow = FaultRates(rates={Fault.delay(0.3): 1.0})
    with Sandbox(fault_rates=slow) as sandbox:
        # Every worker claims at this moment, once loaded (a few seconds on 2 cores).
        go = time.time() + 8.0
        workers = [start_worker(sandbox.base_url, store, "raced-key", go) for _ in range(4)]
        for worker in workers:
            assert line_of(worker) == {"ready": True}
        assert time.time() < go, "the workers took too long to load; the race did not happen"
        outcomes = [line_of(worker) for worker in workers]
        for worker in workers:
            assert finish(worker) == 0
        assert raced(sandbox) == 1
    ids = {outcome.get("id") for outcome in outcomes}
    assert len(ids) == 1 and None not in ids, outcomes


def test_a_holder_killed_mid_post_leaves_the_key_unknown_and_nothing_is_resent(
    store: str,
) -> None:
    with Sandbox() as sandbox:
        worker = start_worker(sandbox.base_url, store, "killed-key", 0)
        assert line_of(worker) == {"ready": True}
        # The warm-up went through; the raced send is held open by the sandbox.
        sandbox.faults.script(Fault.delay(5))
        wait_until(lambda: sandbox.request_count == 2, within=30)
        os.kill(worker.pid, signal.SIGKILL)
        assert finish(worker) == -signal.SIGKILL
        with (
            tgm.Telnyx(api_key=KEY, base_url=sandbox.base_url, idempotency_store=store) as client,
            pytest.raises(tgm.OutcomeUnknownError, match="killed-key"),
        ):
            client.messages.send_group_mms(
                from_=FROM, to=TO, text="raced", idempotency_key="killed-key"
            )
        assert sandbox.request_count == 2
        with tgm.Telnyx(api_key=KEY, base_url=sandbox.base_url, idempotency_store=store) as c:
            status = c.idempotency_keys.status("killed-key")
        assert status is not None and status.state is tgm.SendState.UNKNOWN


def test_the_task_queue_example_texts_the_group_once_over_three_runs(store: str) -> None:
    ran = subprocess.run(
        [sys.executable, "examples/task_queue_worker.py", "--store", store],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count("the queue runs the task again") == 2
    assert "POSTs that reached Telnyx: 1" in ran.stdout


def test_two_stores_claiming_fresh_keys_at_once_never_both_win(store: str) -> None:
    async def scenario() -> list[list[tgm.ClaimKind]]:
        stores = [
            tgm.PostgresIdempotencyStore(store)
            if store.startswith("postgresql")
            else tgm.SqliteIdempotencyStore(store)
            for _ in range(2)
        ]
        try:
            outcomes = []
            for i in range(30):
                claims = await asyncio.gather(
                    *(
                        s.claim(scope="s", key=f"k{i}", digest="d", owner=f"o{n}", hold=60)
                        for n, s in enumerate(stores)
                    )
                )
                outcomes.append([c.kind for c in claims])
            return outcomes
        finally:
            for s in stores:
                await s.aclose()

    for kinds in asyncio.run(scenario()):
        assert sorted(k.value for k in kinds) == ["claimed", "in_progress"], kinds
