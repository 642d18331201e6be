"""This SDK against the sandbox: success, every fault, and 429 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, TO, fast_retry


def _client(sandbox: Sandbox, **options: object) -> tgm.AsyncTelnyx:
    options.setdefault("retry", fast_retry())
    return tgm.AsyncTelnyx(api_key="k", base_url=sandbox.base_url, **options)  # type: ignore[arg-type]


async def test_a_send_returns_the_message_the_sandbox_accepted(telnyx_sandbox: Sandbox) -> None:
    async with _client(telnyx_sandbox) as client:
        message = await client.messages.send_group_mms(
            from_=FROM, to=TO, text="Hello", media_urls=["https://x.test/a.png"]
        )

    (accepted,) = telnyx_sandbox.messages
    assert message == accepted
    assert [r.status for r in message.to] == [tgm.RecipientStatus.QUEUED] * len(TO)
    assert message.type is tgm.MessageType.MMS
    assert message.extra == {}


def test_the_sync_client_sends_through_the_sandbox(telnyx_sandbox: Sandbox) -> None:
    with tgm.Telnyx(api_key="k", base_url=telnyx_sandbox.base_url) as client:
        message = client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert [m.id for m in telnyx_sandbox.messages] == [message.id]


@pytest.mark.parametrize("status", [503, 429])
async def test_a_safe_failure_is_retried_and_the_message_sent_once(
    telnyx_sandbox: Sandbox, status: int
) -> None:
    telnyx_sandbox.faults.script(Fault.status(status), Fault.status(status))

    async with _client(telnyx_sandbox) as client:
        message = await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert len(telnyx_sandbox.requests) == 3
    assert [m.id for m in telnyx_sandbox.messages] == [message.id]


async def test_retry_after_from_a_429_is_honoured(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=0.05))
    events: list[tgm.RetryEvent] = []

    async with _client(telnyx_sandbox, retry=fast_retry(on_retry=events.append)) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert [e.wait for e in events] == [0.05]
    assert isinstance(events[0].cause, tgm.RateLimitError)
    assert events[0].cause.code == "10011"
    assert len(telnyx_sandbox.requests) == 2


async def test_a_rate_limited_account_gets_a_rate_limit_error_with_retry_after(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(mps=1, clock=lambda: 0.0)

    async with _client(sandbox, retry=fast_retry(max_attempts=1)) as client:
        await client.messages.send_group_mms(from_=FROM, to=TO, text="one")
        with pytest.raises(tgm.RateLimitError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="two")

    assert caught.value.retry_after == 1.0
    assert caught.value.code == "10011"
    assert not caught.value.outcome_unknown


async def test_a_retry_after_longer_than_the_policy_allows_is_raised_at_once(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(429, retry_after=120))

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.RateLimitError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.retry_after == 120
    assert len(telnyx_sandbox.requests) == 1


async def test_a_500_may_have_sent_the_message_so_it_is_not_retried(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.status(500))

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.InternalServerError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.outcome_unknown
    assert len(telnyx_sandbox.requests) == 1


async def test_a_409_stop_block_is_final(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.status(409))

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.ConflictError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.code == "40300"
    assert caught.value.request_id
    assert len(telnyx_sandbox.requests) == 1


async def test_a_dropped_connection_is_an_unknown_outcome_and_not_resent(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.drop())

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.APIConnectionError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.outcome_unknown
    assert len(telnyx_sandbox.requests) == 1


async def test_a_delay_past_the_timeout_is_a_timeout_though_the_message_went_out(
    telnyx_sandbox: Sandbox,
) -> None:
    telnyx_sandbox.faults.script(Fault.delay(0.3))

    async with _client(telnyx_sandbox, timeout=0.1) as client:
        with pytest.raises(tgm.APITimeoutError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.outcome_unknown
    assert len(telnyx_sandbox.requests) == 1
    # The sandbox finishes the request after the client gave up, as Telnyx would.
    for _ in range(1000):
        if telnyx_sandbox.messages:
            break
        await asyncio.sleep(0.01)
    assert len(telnyx_sandbox.messages) == 1


async def test_a_malformed_answer_is_a_response_validation_error(telnyx_sandbox: Sandbox) -> None:
    telnyx_sandbox.faults.script(Fault.malformed())

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.APIResponseValidationError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.outcome_unknown
    assert len(telnyx_sandbox.messages) == 1
    assert len(telnyx_sandbox.requests) == 1


async def test_a_wrong_key_is_an_authentication_error(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="right")

    async with tgm.AsyncTelnyx(api_key="wrong", base_url=sandbox.base_url) as client:
        with pytest.raises(tgm.AuthenticationError) as caught:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    assert caught.value.code == "10009"


async def test_the_sandbox_catches_a_request_the_sdk_validator_let_through(
    telnyx_sandbox: Sandbox,
) -> None:
    request = tgm.GroupMmsRequest(from_=FROM, to=TO, text="Hello")
    # Stands in for a validator bug: nine recipients slip past it.
    object.__setattr__(request, "to", tuple(f"+1865555{i:04d}" for i in range(9)))

    async with _client(telnyx_sandbox) as client:
        with pytest.raises(tgm.BadRequestError) as caught:
            await client.messages.send(request)

    assert caught.value.code == "10015"
    assert caught.value.errors[0].source is not None
    assert caught.value.errors[0].source.pointer == "/to"
    assert telnyx_sandbox.messages == []
