"""The sync client: one private loop thread, from scripts, threads, running loops and forks."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms._loop_thread import LoopThread

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import Reply, ScriptedServer


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "telnyx-group-mms"]


def test_a_sync_send_returns_the_message(server: ScriptedServer) -> None:
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url) as client:
        msg = client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        again = client.messages.send(tgm.GroupMmsRequest(from_=FROM, to=TO, text="Again"))
    assert msg.id is not None and again.id is not None
    assert server.posts == 2


def test_the_sync_client_retries_like_the_async_one(server: ScriptedServer) -> None:
    server.push(Reply(status=503), Reply(status=500))
    with (
        tgm.Telnyx(api_key=KEY, base_url=server.base_url, retry=fast_retry()) as client,
        pytest.raises(tgm.InternalServerError) as info,
    ):
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.outcome_unknown is True
    assert server.posts == 2


def test_close_is_idempotent_stops_the_thread_and_refuses_further_sends(
    server: ScriptedServer,
) -> None:
    client = tgm.Telnyx(api_key=KEY, base_url=server.base_url)
    client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert len(loop_threads()) == 1
    client.close()
    client.close()
    assert loop_threads() == []
    with pytest.raises(tgm.TelnyxError, match="closed"):
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert loop_threads() == []


def test_no_thread_starts_before_the_first_send() -> None:
    client = tgm.Telnyx(api_key=KEY)
    assert loop_threads() == []
    client.close()
    assert loop_threads() == []


def test_bad_input_is_refused_in_the_callers_thread(server: ScriptedServer) -> None:
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url) as client:
        with pytest.raises(tgm.RequestValidationError):
            client.messages.send_group_mms(from_=FROM, to=["nope"], text="Hello")
        assert loop_threads() == []
    assert server.posts == 0


def test_many_threads_share_one_loop_and_one_pool(server: ScriptedServer) -> None:
    results: list[tgm.Message] = []
    errors: list[BaseException] = []
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url) as client:
        barrier = threading.Barrier(8)

        def work() -> None:
            barrier.wait()
            try:
                for _ in range(5):
                    results.append(client.messages.send_group_mms(from_=FROM, to=TO, text="Hi"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(loop_threads()) == 1
    assert errors == []
    assert len({m.id for m in results}) == 40
    assert server.posts == 40
    assert server.connections <= 8


async def test_the_sync_client_works_inside_a_running_event_loop(server: ScriptedServer) -> None:
    # A sync helper called from async code, or a notebook cell.
    with tgm.Telnyx(api_key=KEY, base_url=server.base_url) as client:
        msg = client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert msg.id is not None


def test_a_call_from_the_private_loop_thread_raises_instead_of_deadlocking(
    server: ScriptedServer,
) -> None:
    seen: list[BaseException] = []

    def on_retry(event: tgm.RetryEvent) -> None:
        try:
            client.messages.send_group_mms(from_=FROM, to=TO, text="nested")
        except tgm.TelnyxError as exc:
            seen.append(exc)

    server.push(Reply(status=503))
    client = tgm.Telnyx(api_key=KEY, base_url=server.base_url, retry=fast_retry(on_retry=on_retry))
    with client:
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert len(seen) == 1
    assert "own event loop thread" in str(seen[0])
    assert server.posts == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_fresh_loop_and_pool(server: ScriptedServer) -> None:
    client = tgm.Telnyx(api_key=KEY, base_url=server.base_url)
    client.messages.send_group_mms(from_=FROM, to=TO, text="parent before")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, on 3.12+
        pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            msg = client.messages.send_group_mms(from_=FROM, to=TO, text="child")
            client.close()
            code = 0 if msg.id else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's loop and pooled connection are untouched by the child.
    client.messages.send_group_mms(from_=FROM, to=TO, text="parent after")
    client.close()
    assert [s.json()["text"] for s in server.seen] == ["parent before", "child", "parent after"]
    assert server.seen[0].connection == server.seen[2].connection


def test_an_interpreter_exiting_without_close_exits_cleanly(server: ScriptedServer) -> None:
    script = textwrap.dedent(
        f"""
        import telnyx_group_mms as tgm
        client = tgm.Telnyx(api_key="k", base_url={server.base_url!r})
        client.messages.send_group_mms(from_="{FROM}", to={TO!r}, text="bye")
        print("sent")
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "sent"
    assert done.stderr == ""
    assert time.monotonic() - started < 60
    assert server.posts == 1


def test_ctrl_c_in_the_caller_cancels_the_work_on_the_loop() -> None:
    portal = LoopThread(name="test-loop", user="test client", advice="")
    cancelled = threading.Event()

    async def long_send() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    # What a terminal's Ctrl-C does: SIGINT, handled by the main thread.
    main = threading.main_thread().ident
    assert main is not None
    threading.Timer(0.2, signal.pthread_kill, (main, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        portal.run(long_send())
    assert cancelled.wait(5)
    portal.stop()
