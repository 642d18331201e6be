"""Retries: safe failures are retried, unknown outcomes are not (by default), finals never.

Every case counts the POSTs the loopback server saw, because a POST too many is a group
of people texted twice.
"""

from __future__ import annotations

import logging
import socket

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.retry import classify

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import Drop, Reply, ScriptedServer


def client_for(server: ScriptedServer, **retry: object) -> tgm.AsyncTelnyx:
    return tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url, retry=fast_retry(**retry))


async def send(client: tgm.AsyncTelnyx) -> tgm.Message:
    return await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")


@pytest.mark.parametrize("status", [429, 503])
async def test_429_and_503_are_retried_until_success(server: ScriptedServer, status: int) -> None:
    server.push(Reply(status=status), Reply(status=status))
    async with client_for(server) as client:
        msg = await send(client)
    assert msg.id is not None
    assert server.posts == 3


async def test_max_attempts_counts_every_post_and_the_last_error_is_raised(
    server: ScriptedServer,
) -> None:
    server.push(*[Reply(status=503)] * 5)
    async with client_for(server, max_attempts=4) as client:
        with pytest.raises(tgm.InternalServerError) as info:
            await send(client)
    assert server.posts == 4
    assert info.value.status_code == 503
    assert info.value.outcome_unknown is False


async def test_max_attempts_one_turns_retries_off(server: ScriptedServer) -> None:
    server.push(Reply(status=503))
    async with client_for(server, max_attempts=1) as client:
        with pytest.raises(tgm.InternalServerError):
            await send(client)
    assert server.posts == 1


@pytest.mark.parametrize("status", [500, 501, 502, 504, 599])
async def test_other_5xx_are_unknown_outcomes_and_not_retried_by_default(
    server: ScriptedServer, status: int
) -> None:
    server.push(Reply(status=status))
    async with client_for(server) as client:
        with pytest.raises(tgm.InternalServerError) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.outcome_unknown is True
    assert classify(info.value) is tgm.Outcome.UNKNOWN


async def test_unknown_outcomes_are_retried_when_the_policy_opts_in(server: ScriptedServer) -> None:
    server.push(Reply(status=500), Drop(), Reply(status=502))
    async with client_for(server, retry_unknown_outcome=True, max_attempts=4) as client:
        msg = await send(client)
    assert msg.id is not None
    assert server.posts == 4


async def test_a_dropped_connection_after_the_request_is_unknown_and_not_resent(
    server: ScriptedServer,
) -> None:
    server.push(Drop())
    async with client_for(server) as client:
        with pytest.raises(tgm.APIConnectionError) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.outcome_unknown is True


async def test_a_read_timeout_is_unknown_and_not_resent(server: ScriptedServer) -> None:
    server.push(Reply(delay=1.0))
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=server.base_url, timeout=0.2, retry=fast_retry()
    ) as client:
        with pytest.raises(tgm.APITimeoutError) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.outcome_unknown is True


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 301, 302, 307, 418])
async def test_other_statuses_are_final_and_never_retried(
    server: ScriptedServer, status: int
) -> None:
    server.push(Reply(status=status, headers={"Location": "http://127.0.0.1:1/elsewhere"}))
    async with client_for(server, retry_unknown_outcome=True) as client:
        with pytest.raises(tgm.APIStatusError) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.outcome_unknown is False
    assert classify(info.value) is tgm.Outcome.FINAL


async def test_a_2xx_that_is_not_a_message_is_never_retried_and_flags_unknown_outcome(
    server: ScriptedServer,
) -> None:
    server.push(Reply(status=200, body=b"<html>oops</html>"))
    async with client_for(server, retry_unknown_outcome=True) as client:
        with pytest.raises(tgm.APIResponseValidationError) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.outcome_unknown is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_safe_and_retried() -> None:
    events: list[tgm.RetryEvent] = []
    retry = fast_retry(max_attempts=3, on_retry=events.append)
    base = f"http://127.0.0.1:{_free_port()}/v2"
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=base, retry=retry) as client:
        with pytest.raises(tgm.APIConnectionError) as info:
            await send(client)
    assert info.value.outcome_unknown is False
    assert classify(info.value) is tgm.Outcome.SAFE
    assert [e.attempt for e in events] == [1, 2]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "30", "Retry-After": "7", "x-ratelimit-reset": "9"}, 0.03),
        ({"Retry-After": "0.05", "x-ratelimit-reset": "9"}, 0.05),
        ({"x-ratelimit-reset": "0.04"}, 0.04),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
async def test_the_wait_honours_server_hints_in_order_of_precedence(
    server: ScriptedServer, headers: dict[str, str], expected: float
) -> None:
    events: list[tgm.RetryEvent] = []
    server.push(Reply(status=429, headers=headers))
    async with client_for(server, on_retry=events.append) as client:
        await send(client)
    assert server.posts == 2
    assert [e.wait for e in events] == [pytest.approx(expected)]


@pytest.mark.parametrize(
    ("status", "error"), [(429, tgm.RateLimitError), (503, tgm.InternalServerError)]
)
async def test_a_server_asking_for_longer_than_max_retry_after_fails_at_once(
    server: ScriptedServer, status: int, error: type[tgm.APIStatusError]
) -> None:
    server.push(Reply(status=status, headers={"Retry-After": "120"}))
    async with client_for(server, max_retry_after=60.0) as client:
        with pytest.raises(error) as info:
            await send(client)
    assert server.posts == 1
    assert info.value.retry_after == 120.0


async def test_each_retry_logs_one_info_line_and_calls_on_retry(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[tgm.RetryEvent] = []
    server.push(
        Reply(status=503), Reply(status=429, body={"errors": [{"code": "10011", "title": "x"}]})
    )
    with caplog.at_level(logging.INFO, logger="telnyx_group_mms"):
        async with client_for(server, on_retry=events.append) as client:
            await send(client)
    lines = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 2
    assert [e.attempt for e in events] == [1, 2]
    assert isinstance(events[0].cause, tgm.InternalServerError)
    assert isinstance(events[1].cause, tgm.RateLimitError)
    assert events[1].cause.code == "10011"
    assert all(0.0 <= e.wait <= 0.002 for e in events)
    for record in lines:
        text = record.getMessage()
        assert FROM not in text and TO[0] not in text and "Hello" not in text


def test_backoff_is_exponential_with_full_jitter() -> None:
    import tenacity

    from telnyx_group_mms.retry import Retrier

    retrier = Retrier(tgm.RetryPolicy(initial_backoff=1.0, max_backoff=4.0))
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        state = tenacity.RetryCallState(None, None, (), {})
        state.attempt_number = attempt
        state.set_exception((tgm.APIConnectionError, tgm.APIConnectionError("x"), None))
        waits = [retrier._wait(state) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap * 0.5  # spread over the whole range, not a fixed value


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"initial_backoff": -1.0}, {"max_backoff": -1}, {"max_retry_after": -2}],
)
def test_a_nonsensical_policy_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked below
        tgm.RetryPolicy(**kwargs)  # type: ignore[arg-type]
