"""The sync client's ``send_many(before_send=...)``: the async contract, from plain functions."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable, Iterator

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO
from .fanout_support import make_requests


def collect_sync(results: Iterable[tgm.SendResult], into: list[tgm.SendResult]) -> None:
    """Append every result to ``into``, so that those before an error are kept."""
    for result in results:
        into.append(result)


@pytest.fixture
def client(telnyx_sandbox: Sandbox) -> Iterator[tgm.Telnyx]:
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as sync_client:
        yield sync_client


def test_before_send_is_called_right_before_each_first_post(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    seen: list[tuple[int, str | None, int]] = []

    def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        seen.append((index, request.text, telnyx_sandbox.request_count))

    results = list(
        client.messages.send_many(make_requests(10), concurrency=1, before_send=before_send)
    )
    assert all(r.ok for r in results)
    # One call per request, each before its POST reached the server and after the last.
    assert seen == [(n, f"row {n}", n) for n in range(10)]


def test_before_send_is_called_once_per_request_whatever_the_concurrency(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    hooked: list[int] = []
    results = list(
        client.messages.send_many(
            make_requests(40), concurrency=8, before_send=lambda i, r: hooked.append(i)
        )
    )
    assert sorted(hooked) == sorted(r.index for r in results) == list(range(40))
    assert telnyx_sandbox.request_count == 40


def test_before_send_waits_for_the_senders_rate_limit(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    hooked: list[int] = []
    # One message per 1,000 s from this sender: the second waits in its bucket, so its
    # hook must not have run when the first result is in.
    results = client.messages.send_many(
        make_requests(2),
        concurrency=2,
        per_sender_rate=0.001,
        before_send=lambda i, r: hooked.append(i),
    )
    with contextlib.closing(results):
        assert next(results).ok
    assert hooked == [0]
    assert telnyx_sandbox.request_count == 1


@pytest.mark.parametrize("error", [OSError("disk full"), tgm.LedgerError("disk full")])
def test_a_failing_before_send_stops_the_fan_out_after_yielding_what_was_sent(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox, error: Exception
) -> None:
    calls = itertools.count()

    def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        if next(calls) == 5:
            raise error

    got: list[tgm.SendResult] = []
    results = client.messages.send_many(make_requests(100), concurrency=2, before_send=before_send)
    with pytest.raises(type(error), match="disk full"):
        collect_sync(results, got)
    # The request whose hook failed was not sent, nor anything after; the five sent were
    # all yielded before the error.
    assert telnyx_sandbox.request_count == 5
    assert len(got) == 5 and all(r.ok for r in got)


def test_before_send_runs_on_one_thread_that_is_not_the_callers(client: tgm.Telnyx) -> None:
    threads: set[int] = set()
    results = client.messages.send_many(
        make_requests(20),
        concurrency=8,
        before_send=lambda i, r: threads.add(threading.get_ident()),
    )
    assert len(list(results)) == 20
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_before_send_calling_back_into_the_client_fails_clearly_instead_of_hanging(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        client.messages.send_group_mms(from_=FROM, to=TO, text="from inside the hook")

    with pytest.raises(tgm.TelnyxError, match="own event loop thread"):
        list(client.messages.send_many(make_requests(3), concurrency=1, before_send=before_send))
    assert telnyx_sandbox.request_count == 0
    # The client is unharmed.
    assert client.messages.send_group_mms(from_=FROM, to=TO, text="after").text == "after"


def test_before_send_closing_the_client_fails_clearly_and_leaves_it_usable(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    with pytest.raises(tgm.TelnyxError, match="cannot be closed from its own loop thread"):
        list(client.messages.send_many(make_requests(3), before_send=lambda i, r: client.close()))
    assert telnyx_sandbox.request_count == 0
    assert client.messages.send_group_mms(from_=FROM, to=TO, text="after").text == "after"


def test_an_async_before_send_is_refused_before_anything_is_sent(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        pass  # pragma: no cover - never called

    with pytest.raises(TypeError, match="plain function"):
        client.messages.send_many(make_requests(3), before_send=before_send)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plain function"):
        client.messages.send_many(make_requests(3), before_send="record")  # type: ignore[arg-type]
    assert telnyx_sandbox.request_count == 0


def test_a_hook_that_returns_an_awaitable_stops_the_fan_out_unsent(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    class Recorder:
        """A callable object whose ``__call__`` is async: no check can see it upfront."""

        async def __call__(self, index: int, request: tgm.GroupMmsRequest) -> None:
            pass  # pragma: no cover - never awaited

    with pytest.raises(TypeError, match="returned an awaitable"):
        list(client.messages.send_many(make_requests(3), before_send=Recorder()))  # type: ignore[arg-type]
    assert telnyx_sandbox.request_count == 0


def consume_on_a_thread(
    results: Iterable[tgm.SendResult], got: list[tgm.SendResult]
) -> list[BaseException]:
    """Iterate ``results`` on a thread of its own; what the iteration raised.

    Raised on the client's loop thread, an interrupt used to end that thread and leave
    the caller blocked for ever: the join bounds that wait, so the test fails instead.
    """
    raised: list[BaseException] = []

    def consume() -> None:
        try:
            collect_sync(results, got)
        except BaseException as exc:
            raised.append(exc)

    caller = threading.Thread(target=consume, daemon=True)
    caller.start()
    caller.join(timeout=60)
    assert not caller.is_alive(), "the caller was left blocked"
    return raised


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_a_before_send_interrupt_stops_the_fan_out_and_reaches_the_caller(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox, interrupt: type[BaseException]
) -> None:
    def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        if index == 3:
            raise interrupt()

    got: list[tgm.SendResult] = []
    results = client.messages.send_many(make_requests(10), concurrency=1, before_send=before_send)
    raised = consume_on_a_thread(results, got)

    assert [type(exc) for exc in raised] == [interrupt]
    assert [r.index for r in got] == [0, 1, 2] and all(r.ok for r in got)
    assert telnyx_sandbox.request_count == 3
    assert client.messages.send_group_mms(from_=FROM, to=TO, text="after").text == "after"


def test_a_per_sender_rule_interrupt_reaches_the_caller_of_the_sync_client(
    client: tgm.Telnyx, telnyx_sandbox: Sandbox
) -> None:
    def rule(from_: str) -> float | None:
        raise KeyboardInterrupt

    results = client.messages.send_many(make_requests(3), per_sender_rate=rule)
    raised = consume_on_a_thread(results, [])

    assert [type(exc) for exc in raised] == [KeyboardInterrupt]
    assert telnyx_sandbox.request_count == 0
    assert client.messages.send_group_mms(from_=FROM, to=TO, text="after").text == "after"
