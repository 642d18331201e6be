"""Security promises, as tests: TLS verified, no redirects, no secrets or content in logs."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO, fast_retry
from .scripted_server import Reply, ScriptedServer


@pytest.fixture
async def self_signed_https() -> AsyncIterator[tuple[str, list[web.Request]]]:
    """An HTTPS server on 127.0.0.1 whose certificate no system trusts."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return web.json_response({"data": {"id": "should-never-happen"}})

    app = web.Application()
    app.router.add_post("/v2/messages/group_mms", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}/v2", seen
    await runner.cleanup()


async def test_an_untrusted_tls_certificate_is_refused_and_not_retried(
    self_signed_https: tuple[str, list[web.Request]],
) -> None:
    base_url, seen = self_signed_https
    async with tgm.AsyncTelnyx(api_key=KEY, base_url=base_url, retry=fast_retry()) as client:
        with pytest.raises(tgm.APIConnectionError, match="certificate") as info:
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    assert info.value.outcome is tgm.Outcome.FINAL
    assert seen == []


def test_no_setting_turns_tls_verification_off() -> None:
    import inspect

    for cls in (tgm.AsyncTelnyx, tgm.Telnyx):
        params = set(inspect.signature(cls).parameters)
        assert not params & {"verify", "ssl", "verify_ssl", "insecure", "ssl_context"}


async def test_nothing_sensitive_is_logged_at_any_level(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.push(Reply(status=503), Reply(status=500))
    text = "a private message about Tuesday"
    with caplog.at_level(logging.DEBUG):
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=server.base_url, retry=fast_retry()
        ) as client:
            with pytest.raises(tgm.InternalServerError):
                await client.messages.send_group_mms(from_=FROM, to=TO, text=text)
            await client.messages.send_group_mms(from_=FROM, to=TO, text=text)
    ours = [r for r in caplog.records if r.name.startswith("telnyx_group_mms")]
    assert ours, "expected the retry and request lines"
    for record in caplog.records:
        line = record.getMessage()
        assert KEY not in line
        assert text not in line
        assert FROM not in line
        assert all(n not in line for n in TO)


async def test_plain_http_is_refused_off_loopback_before_any_connection() -> None:
    with pytest.raises(tgm.TelnyxError, match="clear text"):
        tgm.AsyncTelnyx(api_key=KEY, base_url="http://api.telnyx.com/v2")
