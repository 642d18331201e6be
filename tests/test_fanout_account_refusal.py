"""send_many stops at a refusal of the account or key, after the requests in flight; any
stop drops the requests still waiting for a rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.errors import status_error_class
from telnyx_group_mms.models import MessageError
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import KEY
from .fanout_support import collect, make_requests

pytestmark = pytest.mark.usefixtures("no_asyncio_errors")


def _status_error(status: int, code: str | None) -> tgm.APIStatusError:
    errors = [MessageError(code=code, title="t")] if code is not None else []
    error_class = status_error_class(status)
    return error_class(f"Telnyx answered {status}", status_code=status, errors=errors)


class _Run:
    """One send_many run of a wrong key: its results, the indices before_send saw, the stop."""

    def __init__(self) -> None:
        self.results: list[tgm.SendResult] = []
        self.marked: list[int] = []

    async def before_send(self, index: int, request: tgm.GroupMmsRequest) -> None:
        self.marked.append(index)

    async def until_stopped(
        self, base_url: str, count: int, *, key: str = "KEY_wrong", **options: float
    ) -> tgm.BatchStoppedError:
        async with tgm.AsyncTelnyx(api_key=key, base_url=base_url) as client:
            results = client.messages.send_many(
                make_requests(count), before_send=self.before_send, **options
            )
            with pytest.raises(tgm.BatchStoppedError) as stopped:
                await collect(results, self.results)
        return stopped.value


@pytest.mark.parametrize(
    ("status", "code", "refused"),
    [
        (401, "10009", True),
        (401, None, True),
        (403, "10010", True),
        (403, None, True),
        (400, "20100", True),  # insufficient funds, whatever the status
        (422, "40314", True),  # messaging disabled on the account
        (402, "20012", True),  # account inactive
        (400, "10002", False),  # a bad number: this request's problem
        (409, "40300", False),  # a recipient who replied STOP
        (422, "40312", False),  # one sender's messaging profile, not the account
        (429, "10011", False),
        (500, "10007", False),
    ],
)
def test_account_refusals_are_told_from_refusals_of_the_request(
    status: int, code: str | None, refused: bool
) -> None:
    assert tgm.is_account_refusal(_status_error(status, code)) is refused


def test_errors_that_are_not_answers_are_not_account_refusals() -> None:
    assert not tgm.is_account_refusal(tgm.APIConnectionError("down"))
    assert not tgm.is_account_refusal(None)


async def test_a_wrong_key_stops_the_batch_after_the_requests_in_flight(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")
    run = _Run()

    stopped = await run.until_stopped(sandbox.base_url, 40, concurrency=4)

    results = run.results
    assert 1 <= len(results) <= 4
    assert all(isinstance(r.error, tgm.AuthenticationError) for r in results)
    # Every request that got as far as before_send was sent and yielded: none stranded.
    assert sorted(run.marked) == sorted(r.index for r in results)
    assert sandbox.request_count == len(results)
    refusal = stopped.refusal
    assert refusal.status_code == 401 and refusal.code == "10009"
    assert stopped.__cause__ is refusal
    assert stopped.index in {r.index for r in results}
    assert "refused the account or API key" in str(stopped)


async def test_without_stop_on_account_error_every_request_is_sent(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")
    async with tgm.AsyncTelnyx(api_key="KEY_wrong", base_url=sandbox.base_url) as client:
        results = [
            r
            async for r in client.messages.send_many(
                make_requests(12), concurrency=4, stop_on_account_error=False
            )
        ]
    assert sorted(r.index for r in results) == list(range(12))
    assert all(isinstance(r.error, tgm.AuthenticationError) for r in results)
    assert sandbox.request_count == 12


@pytest.mark.parametrize(
    "fault",
    [Fault.status(403, code="10010"), Fault.status(422, code="40314")],
    ids=["403", "code 40314"],
)
async def test_a_refusal_of_the_account_by_status_or_code_stops_the_batch(
    telnyx_sandbox: Sandbox, fault: Fault
) -> None:
    telnyx_sandbox.faults.script(fault)
    run = _Run()

    await run.until_stopped(telnyx_sandbox.base_url, 30, key=KEY, concurrency=1)

    # One at a time: the refused request is the only one sent.
    assert [r.index for r in run.results] == [0]
    assert telnyx_sandbox.request_count == 1


async def test_a_refusal_of_one_request_does_not_stop_the_batch(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(422, code="40312"))
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        results = [r async for r in client.messages.send_many(make_requests(10), concurrency=1)]
    assert len(results) == 10
    assert sum(r.ok for r in results) == 9


@pytest.mark.parametrize(
    "limits",
    [{"rate_limit": 0.5}, {"per_sender_rate": 0.1}],
    ids=["account rate", "sender rate"],
)
async def test_requests_waiting_for_a_rate_limit_are_not_sent_after_the_refusal(
    telnyx_sandbox_factory: Callable[..., Sandbox], limits: dict[str, float]
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")
    run = _Run()

    await run.until_stopped(sandbox.base_url, 8, concurrency=4, **limits)

    # The bucket admits one at once; the other three workers were waiting their turn
    # (seconds apart) and are dropped, not sent into the same refusal.
    assert [r.index for r in run.results] == [0]
    assert run.marked == [0]
    assert sandbox.request_count == 1


async def test_a_failing_before_send_drops_the_requests_waiting_for_a_rate_limit(
    telnyx_sandbox: Sandbox,
) -> None:
    async def before_send(index: int, request: tgm.GroupMmsRequest) -> None:
        if index == 0:
            # Slow to fail, as a disk is: by then the other workers wait for the limit.
            await asyncio.sleep(0.2)
            raise RuntimeError("the write-ahead record failed")

    results: list[tgm.SendResult] = []
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        sending = client.messages.send_many(
            make_requests(8), concurrency=4, rate_limit=0.5, before_send=before_send
        )
        with pytest.raises(RuntimeError, match="write-ahead"):
            await collect(sending, results)
    # The first request's hook failed; the three admitted after it, seconds later, would
    # have gone out had they not been dropped.
    assert results == []
    assert telnyx_sandbox.request_count == 0


def test_the_sync_client_stops_the_same_way(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="KEY_right")
    results: list[tgm.SendResult] = []
    with tgm.Telnyx(api_key="KEY_wrong", base_url=sandbox.base_url) as client:
        iterator = client.messages.send_many(make_requests(20), concurrency=2)
        with pytest.raises(tgm.BatchStoppedError) as stopped:
            results.extend(iterator)
        assert 1 <= len(results) <= 2
        assert stopped.value.refusal.status_code == 401
        # Off, every request yields its own result.
        kept_going = list(
            client.messages.send_many(make_requests(6), concurrency=2, stop_on_account_error=False)
        )
    assert len(kept_going) == 6
    assert sandbox.request_count == len(results) + 6
