"""The sandbox starts and stops from sync code (its own thread) and from async code."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, TO
from .wire_client import post


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "telnyx-group-mms-sandbox"]


def test_start_serves_on_its_own_thread_and_stop_ends_it() -> None:
    before = len(_sandbox_threads())
    sandbox = Sandbox().start()
    try:
        assert sandbox.running
        assert sandbox.port > 0
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}/v2"
        assert len(_sandbox_threads()) == before + 1
        assert post(sandbox.base_url).status == 200
    finally:
        sandbox.stop()

    assert not sandbox.running
    assert len(_sandbox_threads()) == before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sandbox.port), timeout=5).close()


def test_stop_is_idempotent_and_a_stopped_sandbox_can_start_again() -> None:
    sandbox = Sandbox().start()
    sandbox.stop()
    sandbox.stop()

    with sandbox:
        assert post(sandbox.base_url).status == 200


def test_starting_a_running_sandbox_is_refused() -> None:
    with Sandbox() as sandbox, pytest.raises(tgm.TelnyxError, match="already running"):
        sandbox.start()


def test_a_port_in_use_is_reported_and_leaves_nothing_running() -> None:
    before = len(_sandbox_threads())
    with Sandbox() as taken, pytest.raises(OSError, match="in use"):
        Sandbox(port=taken.port).start()

    assert len(_sandbox_threads()) == before


async def test_async_with_serves_on_the_running_loop() -> None:
    async with Sandbox() as sandbox, tgm.AsyncTelnyx(api_key="k", base_url=sandbox.base_url) as c:
        message = await c.messages.send_group_mms(from_=FROM, to=TO, text="hi")

    assert [m.id for m in sandbox.messages] == [message.id]
    assert not sandbox.running


def test_a_started_sandbox_serves_a_sync_client(telnyx_sandbox: Sandbox) -> None:
    with tgm.Telnyx(api_key="k", base_url=telnyx_sandbox.base_url) as client:
        client.messages.send_group_mms(from_=FROM, to=TO, text="hi")

    assert len(telnyx_sandbox.messages) == 1


async def test_a_started_sandbox_serves_an_async_client(telnyx_sandbox: Sandbox) -> None:
    async with tgm.AsyncTelnyx(api_key="k", base_url=telnyx_sandbox.base_url) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="hi")

    assert len(telnyx_sandbox.messages) == 1


def test_messages_are_kept_in_order_and_requests_as_they_arrived(telnyx_sandbox: Sandbox) -> None:
    texts = ["one", "two", "three"]
    for text in texts:
        post(telnyx_sandbox.base_url, {"from": FROM, "to": TO, "text": text})
    post(telnyx_sandbox.base_url, b"{broken")

    assert [m.text for m in telnyx_sandbox.messages] == texts
    requests = telnyx_sandbox.requests
    assert len(requests) == 4
    assert [r.json()["text"] for r in requests[:3]] == texts
    assert requests[3].body == b"{broken"
    assert requests[0].method == "POST"
    assert requests[0].path == "/v2/messages/group_mms"
    assert requests[0].headers["Authorization"] == "Bearer test-key"


def test_each_request_records_its_arrival_on_the_sandbox_clock(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    ticks = itertools.count(100.0, 10.0)
    sandbox = telnyx_sandbox_factory(clock=lambda: next(ticks))
    post(sandbox.base_url)
    post(sandbox.base_url, b"{broken")

    assert [r.arrived_at for r in sandbox.requests] == [100.0, 110.0]


def test_arrivals_default_to_the_monotonic_clock(telnyx_sandbox: Sandbox) -> None:
    before = time.monotonic()
    post(telnyx_sandbox.base_url)
    after = time.monotonic()

    assert before <= telnyx_sandbox.requests[0].arrived_at <= after


def test_reset_forgets_messages_requests_and_scripted_faults(telnyx_sandbox: Sandbox) -> None:
    post(telnyx_sandbox.base_url)
    telnyx_sandbox.faults.script(Fault.status(503))

    telnyx_sandbox.reset()

    assert telnyx_sandbox.messages == []
    assert telnyx_sandbox.requests == []
    assert telnyx_sandbox.request_count == 0
    assert telnyx_sandbox.faults.pending == 0
    assert post(telnyx_sandbox.base_url).status == 200


def test_max_history_keeps_only_the_most_recent(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(max_history=2)
    for text in ["a", "b", "c"]:
        post(sandbox.base_url, {"from": FROM, "to": TO, "text": text})

    assert [m.text for m in sandbox.messages] == ["b", "c"]
    assert len(sandbox.requests) == 2
    assert sandbox.request_count == 3


def test_stop_does_not_wait_long_for_a_request_held_by_a_delay_fault() -> None:
    sandbox = Sandbox().start()
    sandbox.faults.script(Fault.delay(60))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            post(sandbox.base_url)
        except BaseException as exc:  # the connection is cut when the sandbox stops
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not sandbox.requests:
        threading.Event().wait(0.01)
    sandbox.stop()
    caller.join(30)

    assert not caller.is_alive()
    assert len(errors) == 1


@pytest.mark.parametrize(
    "options",
    [
        {"port": 70000},
        {"webhook_url": "ftp://x"},
        {"webhook_url": "http://[::1/x"},
        {"webhook_max_attempts": 0},
        {"mps": 0},
        {"host": "0.0.0.0"},  # beyond loopback, without an api_key
    ],
)
def test_impossible_settings_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        Sandbox(**options)  # type: ignore[arg-type]
