"""The sandbox's memory of what it saw is bounded: by count, by bytes, and not at all by
requests that lack the key."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import DEFAULT_HISTORY_BYTES, Sandbox

from .conftest import FROM, TO
from .wire_client import GOOD_BODY, post

MB = 1_000_000


def _padded(size: int, **fields: object) -> bytes:
    """A good body of about ``size`` bytes (Telnyx ignores a field it does not know)."""
    return json.dumps({**GOOD_BODY, **fields, "padding": "x" * size}).encode()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"


@pytest.mark.parametrize("key", [None, "wrong"], ids=["no key", "wrong key"])
def test_a_request_refused_for_its_key_is_counted_but_nothing_of_it_is_kept(
    telnyx_sandbox_factory: Callable[..., Sandbox], key: str | None
) -> None:
    sandbox = telnyx_sandbox_factory(api_key="secret")

    answers = [post(sandbox.base_url, _padded(MB - 1000), key=key) for _ in range(20)]

    assert {a.status for a in answers} == {401}
    assert sandbox.requests == []
    assert sandbox.request_count == sandbox.stats.requests == 20


def test_the_requests_kept_hold_at_most_max_history_bytes(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(max_history_bytes=MB)

    for i in range(10):
        assert post(sandbox.base_url, _padded(300_000, text=f"text {i}")).status == 200

    kept = sandbox.requests
    assert 1 < len(kept) < 10
    assert sum(len(r.body) for r in kept) <= MB
    assert [r.json()["text"] for r in kept] == [f"text {i}" for i in range(10 - len(kept), 10)]
    assert sandbox.request_count == 10


def test_the_messages_kept_hold_at_most_max_history_bytes(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(max_history_bytes=MB)

    for i in range(10):
        post(sandbox.base_url, {**GOOD_BODY, "text": f"{i} " + "x" * 300_000})

    kept = sandbox.messages
    assert 1 < len(kept) < 10
    assert sum(len(m.text or "") for m in kept) <= MB
    assert kept[-1].text is not None and kept[-1].text.startswith("9 ")
    assert sandbox.stats.accepted == 10


def test_a_record_larger_than_the_limit_is_kept_alone(
    telnyx_sandbox_factory: Callable[..., Sandbox],
) -> None:
    sandbox = telnyx_sandbox_factory(max_history_bytes=1000)
    post(sandbox.base_url, {**GOOD_BODY, "text": "first"})
    post(sandbox.base_url, {**GOOD_BODY, "text": "second"})

    assert [r.json()["text"] for r in sandbox.requests] == ["second"]
    assert [m.text for m in sandbox.messages] == ["second"]


def test_by_default_the_history_is_capped_at_64_mib() -> None:
    assert DEFAULT_HISTORY_BYTES == 64 * 1024 * 1024
    with Sandbox() as sandbox:
        for _ in range(70):  # 70 MB of bodies
            assert post(sandbox.base_url, _padded(MB - 1000)).status == 200
        kept = sandbox.requests

    assert sum(len(r.body) for r in kept) <= DEFAULT_HISTORY_BYTES
    assert 50 < len(kept) < 70


async def test_webhook_attempts_are_trimmed_to_max_history_like_every_record() -> None:
    dead = _closed_port_url()
    async with (
        Sandbox(max_history=5, webhook_retry_delay=0) as sandbox,
        tgm.AsyncTelnyx(api_key="k", base_url=sandbox.base_url) as client,
    ):
        for i in range(4):
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text=f"hi {i}", webhook_url=dead
            )
        await sandbox.adrain_webhooks()

    attempts = sandbox.webhook_attempts
    # 4 messages x 2 recipients x 2 events x 3 attempts were made; the last 5 are kept.
    assert len(attempts) == 5
    assert [a.attempt for a in attempts[-3:]] == [1, 2, 3]
    assert all(a.status is None and a.url == dead for a in attempts)


@pytest.mark.parametrize("setting", ["max_history", "max_history_bytes"])
def test_a_negative_history_limit_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        Sandbox(**{setting: -1})  # type: ignore[arg-type]
