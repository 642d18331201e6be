"""``with_raw_response`` and ``with_options``, on both clients, against loopback servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import Reply, ScriptedServer


class Both:
    """Runs a call on the async client (on one loop) or the sync one, the same way."""

    def __init__(self, kind: str, **settings: Any) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop()
        self.client: Any = (tgm.AsyncTelnyx if kind == "async" else tgm.Telnyx)(**settings)

    def __call__(self, result: Any) -> Any:
        if self.kind == "async":
            return self.loop.run_until_complete(result)
        return result

    def close(self, client: Any = None) -> None:
        target = client or self.client
        self(target.aclose() if self.kind == "async" else target.close())

    def finish(self) -> None:
        self.close()
        self.loop.close()


@pytest.fixture(params=["async", "sync"])
def both(request: pytest.FixtureRequest) -> Iterator[Callable[..., Both]]:
    made: list[Both] = []

    def build(**settings: Any) -> Both:
        settings.setdefault("api_key", KEY)
        made.append(Both(str(request.param), **settings))
        return made[-1]

    yield build
    for each in made:
        each.finish()


def test_a_raw_response_carries_status_headers_request_id_and_the_message(
    both: Callable[..., Both],
) -> None:
    with Sandbox(mps=50) as sandbox:
        run = both(base_url=sandbox.base_url)
        raw = run(
            run.client.messages.with_raw_response.send_group_mms(from_=FROM, to=TO, text="hi")
        )
        assert isinstance(raw, tgm.RawResponse)
        assert raw.status_code == 200
        assert raw.request_id and raw.headers["X-Request-ID"] == raw.request_id
        with pytest.raises(TypeError):
            raw.headers["x-request-id"] = "changed"  # type: ignore[index]
        assert raw.rate_limit == tgm.RateLimitInfo(
            limit=50, remaining=49, reset=raw.rate_limit.reset
        )
        assert raw.rate_limit.reset is not None and raw.rate_limit.reset >= 0
        assert raw.attempts == 1
        assert raw.elapsed > 0
        message = raw.parse()
        assert isinstance(message, tgm.Message)
        assert [m.id for m in sandbox.messages] == [message.id]


def test_a_raw_response_counts_retries_and_reads_absent_rate_headers_as_none(
    both: Callable[..., Both],
) -> None:
    with Sandbox() as sandbox:
        run = both(base_url=sandbox.base_url, retry=fast_retry())
        sandbox.faults.script(Fault.status(503))
        request = tgm.GroupMmsRequest(from_=FROM, to=TO, text="hi")
        raw = run(run.client.messages.with_raw_response.send(request))
        assert raw.attempts == 2
        assert sandbox.request_count == 2
        assert raw.rate_limit == tgm.RateLimitInfo(limit=None, remaining=None, reset=None)


def test_a_raw_send_raises_what_the_plain_send_raises(both: Callable[..., Both]) -> None:
    with Sandbox() as sandbox:
        run = both(base_url=sandbox.base_url, retry=fast_retry(max_attempts=1))
        sandbox.faults.script(Fault.status(422))
        with pytest.raises(tgm.UnprocessableEntityError):
            run(run.client.messages.with_raw_response.send_group_mms(from_=FROM, to=TO, text="x"))


def test_with_options_shares_the_pool_and_closing_it_leaves_the_original_open(
    both: Callable[..., Both], server: ScriptedServer
) -> None:
    run = both(base_url=server.base_url)
    derived = run.client.with_options(timeout=5.0, retry=fast_retry(max_attempts=1))
    for client in (run.client, derived, run.client, derived):
        run(client.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    assert server.posts == 4
    assert server.connections == 1  # one pool: its keep-alive connection served all four
    run.close(derived)
    with pytest.raises(tgm.ClientClosedError):
        run(derived.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    run(run.client.messages.send_group_mms(from_=FROM, to=TO, text="still open"))
    assert server.posts == 5


def test_closing_the_original_closes_the_clients_derived_from_it(
    both: Callable[..., Both], server: ScriptedServer
) -> None:
    run = both(base_url=server.base_url)
    derived = run.client.with_options(timeout=5.0)
    run(derived.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    run.close()
    with pytest.raises(tgm.ClientClosedError):
        run(derived.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    with pytest.raises(tgm.ClientClosedError):
        run.client.with_options(timeout=1.0)


def test_with_options_timeout_applies_to_its_calls_only(
    both: Callable[..., Both], server: ScriptedServer
) -> None:
    run = both(base_url=server.base_url, timeout=10.0, retry=fast_retry(max_attempts=1))
    quick = run.client.with_options(timeout=0.2)
    server.push(Reply(delay=0.6), Reply(delay=0.6))
    started = time.monotonic()
    with pytest.raises(tgm.APITimeoutError, match=r"0\.2 s"):
        run(quick.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    assert time.monotonic() - started >= 0.2
    # The original keeps its own timeout: the same slow answer arrives in time.
    message = run(run.client.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    assert message.id is not None


def test_with_options_retry_and_max_retry_after_replace_the_policy_for_its_calls(
    both: Callable[..., Both], server: ScriptedServer
) -> None:
    run = both(base_url=server.base_url, retry=fast_retry(max_attempts=3))
    once = run.client.with_options(retry=fast_retry(max_attempts=1))
    server.push(Reply(status=503))
    with pytest.raises(tgm.InternalServerError):
        run(once.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    assert server.posts == 1
    impatient = run.client.with_options(max_retry_after=1.0)
    server.push(Reply(status=429, headers={"Retry-After": "30"}))
    with pytest.raises(tgm.RateLimitError) as caught:
        run(impatient.messages.send_group_mms(from_=FROM, to=TO, text="hi"))
    assert caught.value.retry_after == 30
    assert server.posts == 2
    assert impatient.config.retry.max_retry_after == 1.0
    assert run.client.config.retry.max_retry_after == 60.0


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"retry": 3}, "retry"),
        ({"max_retry_after": -1}, "max_retry_after"),
    ],
)
def test_an_unusable_option_is_one_error_naming_it(
    both: Callable[..., Both], settings: dict[str, Any], named: str
) -> None:
    run = both(base_url="http://127.0.0.1:9/v2")
    with pytest.raises(tgm.TelnyxError, match=named):
        run.client.with_options(**settings)


def test_with_options_keeps_the_idempotency_store(
    both: Callable[..., Both], server: ScriptedServer, tmp_path: Any
) -> None:
    run = both(base_url=server.base_url, idempotency_store=tmp_path / "keys.db")
    derived = run.client.with_options(timeout=5.0)
    first = run(
        run.client.messages.send_group_mms(from_=FROM, to=TO, text="hi", idempotency_key="k")
    )
    again = run(derived.messages.send_group_mms(from_=FROM, to=TO, text="hi", idempotency_key="k"))
    assert again == first
    assert server.posts == 1
    run.close(derived)  # does not close the store the original opened
    assert run(run.client.idempotency_keys.status("k")).state is tgm.SendState.SENT
