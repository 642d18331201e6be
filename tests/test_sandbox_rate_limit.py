"""An optional per-account messages-per-second limit, answered 429 code 10011 like Telnyx."""

from __future__ import annotations

from collections.abc import Callable

from telnyx_group_mms.sandbox import Sandbox

from .wire_client import post


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_beyond_the_limit_are_answered_429_with_retry_after_and_ratelimit_headers(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    clock = FakeClock()
    sandbox = telnyx_sandbox_factory(mps=2, clock=clock)

    first, second, third = (post(sandbox.base_url) for _ in range(3))

    assert [first.status, second.status, third.status] == [200, 200, 429]
    assert third.codes == ["10011"]
    assert third.errors[0]["title"] == "Too many requests"
    assert third.headers["retry-after"] == "1"
    assert third.headers["x-ratelimit-limit"] == "2"
    assert third.headers["x-ratelimit-remaining"] == "0"
    assert third.headers["x-ratelimit-reset"] == "1"
    assert (first.headers["x-ratelimit-remaining"], second.headers["x-ratelimit-remaining"]) == (
        "1",
        "0",
    )
    assert len(sandbox.messages) == 2


def test_the_limit_applies_per_api_key(telnyx_sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = telnyx_sandbox_factory(mps=1, clock=FakeClock())

    assert post(sandbox.base_url, key="alice").status == 200
    assert post(sandbox.base_url, key="bob").status == 200
    assert post(sandbox.base_url, key="alice").status == 429


def test_a_new_window_admits_requests_again(telnyx_sandbox_factory: Callable[..., Sandbox]) -> None:
    clock = FakeClock()
    sandbox = telnyx_sandbox_factory(mps=1, clock=clock)
    assert post(sandbox.base_url).status == 200
    clock.now += 0.4
    limited = post(sandbox.base_url)

    clock.now += 0.6

    assert limited.status == 429
    assert post(sandbox.base_url).status == 200


def test_reset_forgets_the_rate_windows(telnyx_sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = telnyx_sandbox_factory(mps=1, clock=FakeClock())
    post(sandbox.base_url)

    sandbox.reset()

    assert post(sandbox.base_url).status == 200


def test_unauthenticated_requests_do_not_use_up_the_limit(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(mps=1, clock=FakeClock())

    assert post(sandbox.base_url, key=None).status == 401
    assert post(sandbox.base_url).status == 200


def test_without_a_limit_there_are_no_ratelimit_headers(telnyx_sandbox: Sandbox) -> None:
    assert "x-ratelimit-limit" not in post(telnyx_sandbox.base_url).headers
