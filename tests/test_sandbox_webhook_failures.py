"""When a webhook cannot be delivered, the sandbox says so, and a redirect sends it nowhere."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Sandbox

from .conftest import FROM, KEY, TO
from .recording_receiver import Receiver

TEXT = "Dinner at 8, bring a dish"
LOGGER = "telnyx_group_mms.sandbox"


async def _send(sandbox: Sandbox, *, to: list[str], webhook_url: str) -> tgm.Message:
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=sandbox.base_url) as client:
        return await client.messages.send_group_mms(
            from_=FROM, to=to, text=TEXT, webhook_url=webhook_url
        )


def _closed_port_url(query: str = "") -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/hooks{query}"


def _failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and "failed" in r.getMessage()]


async def test_each_failed_attempt_to_reach_a_dead_receiver_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = _closed_port_url("?token=s3cret")
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        async with Sandbox(webhook_retry_delay=0) as sandbox:
            message = await _send(sandbox, to=[TO[0]], webhook_url=dead)
            await sandbox.adrain_webhooks()

    failures = _failures(caplog)
    # message.sent and message.finalized, three attempts each.
    assert len(failures) == 6
    assert {r.levelno for r in failures} == {logging.WARNING}
    lines = [r.getMessage() for r in failures]
    assert [line.split()[2] for line in lines] == ["message.sent"] * 3 + ["message.finalized"] * 3
    assert all(f"message {message.id}" in line for line in lines)
    assert all("ConnectionRefused" in line or "Connection refused" in line for line in lines)
    assert [line.rsplit("try ", 1)[1] for line in lines] == ["1 of 3", "2 of 3", "3 of 3"] * 2
    assert all(dead.split("?")[0] in line for line in lines)
    for line in lines:
        for secret in (KEY, FROM, TO[0], TEXT, "s3cret"):
            assert secret not in line


async def test_a_receiver_answering_an_error_is_logged_with_its_status_and_success_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        async with Sandbox(webhook_retry_delay=0) as sandbox, Receiver(500, 503) as receiver:
            await _send(sandbox, to=[TO[0]], webhook_url=receiver.url)
            await sandbox.adrain_webhooks()

    lines = [r.getMessage() for r in _failures(caplog)]
    assert len(receiver.received) == 4  # sent: 500, 503, 200; finalized: 200
    assert len(lines) == 2
    assert "answered 500" in lines[0]
    assert "answered 503" in lines[1]


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback server that records every request, standing for any other URL."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path}")
        return web.Response(text="internal data")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/internal", seen
    await runner.cleanup()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_webhook_url_that_redirects_is_not_followed(
    elsewhere: tuple[str, list[str]], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    target, seen = elsewhere

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, headers={"Location": target})

    app = web.Application()
    app.router.add_post("/hooks", redirect)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    try:
        async with Sandbox(webhook_retry_delay=0) as sandbox:
            await _send(sandbox, to=[TO[0]], webhook_url=url)
            await sandbox.adrain_webhooks()
    finally:
        await runner.cleanup()

    assert seen == []
    assert [(a.status, a.ok) for a in sandbox.webhook_attempts] == [(status, False)] * 6
    assert all(f"answered {status}" in r.getMessage() for r in _failures(caplog))
