"""Security promises, as tests: TLS verified, no redirects, no secrets or content in logs.

SECURITY.md lists each promise with the test here (or elsewhere) that proves it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import ssl
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web

import telnyx_group_mms as tgm
from telnyx_group_mms.sandbox import Fault, Sandbox

from .cli_runner import Server, run
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


async def test_the_sync_client_refuses_an_untrusted_certificate_too(
    self_signed_https: tuple[str, list[web.Request]],
) -> None:
    base_url, seen = self_signed_https

    def send() -> None:
        with tgm.Telnyx(api_key=KEY, base_url=base_url, retry=fast_retry()) as client:
            client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    # From a thread, so that this loop keeps serving the HTTPS server meanwhile.
    with pytest.raises(tgm.APIConnectionError, match="certificate"):
        await asyncio.to_thread(send)
    assert seen == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_another_host_is_not_followed_and_never_gets_the_key(
    server: ScriptedServer, status: int
) -> None:
    elsewhere = ScriptedServer().start()
    try:
        target = elsewhere.base_url + "/messages/group_mms"
        server.push(Reply(status=status, headers={"Location": target}))
        async with tgm.AsyncTelnyx(api_key=KEY, base_url=server.base_url) as client:
            with pytest.raises(tgm.APIStatusError) as info:
                await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    finally:
        elsewhere.stop()
    assert info.value.status_code == status
    assert elsewhere.posts == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1.evil.example/v2",
        "http://localhost.evil.example/v2",
        "http://127.0.0.1@evil.example/v2",
        "http://evil.example/v2#@127.0.0.1",
        "http://evil.example/127.0.0.1/v2",
        "http://0.0.0.0/v2",
        "http://10.0.0.1/v2",
        "HTTP://api.telnyx.com/v2",
    ],
)
def test_plain_http_is_refused_for_hosts_that_only_look_like_loopback(url: str) -> None:
    with pytest.raises(tgm.TelnyxError, match="clear text"):
        tgm.AsyncTelnyx(api_key=KEY, base_url=url)


@pytest.mark.parametrize("url", ["http://evil.example/v2", "http://10.0.0.1:8080/v2"])
def test_plain_http_off_loopback_is_refused_from_the_environment_too(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_BASE_URL", url)
    with pytest.raises(tgm.TelnyxError, match="clear text"):
        tgm.Telnyx(api_key=KEY)


@pytest.mark.parametrize("key", ["KEY_a\nb", "KEY_a\rb", "KEY_a\x00b", "KEY a", "KEY_a\u2028b"])
def test_a_key_no_header_can_carry_is_refused_at_construction_without_quoting_it(
    key: str,
) -> None:
    with pytest.raises(tgm.TelnyxError, match="API key") as info:
        tgm.AsyncTelnyx(api_key=key, base_url="https://api.telnyx.com/v2")
    assert "KEY" not in str(info.value)


def _nothing_of(texts: list[str], *secrets: str) -> list[str]:
    """The texts that show any of the secrets."""
    return [t for t in texts if any(s in t for s in secrets)]


def _everything_about(error: BaseException) -> list[str]:
    """What a user or a log could show of an error: str, repr, attributes, traceback."""
    shown = [str(error), repr(error), repr(vars(error))]
    shown.append("".join(traceback.format_exception(error)))
    return shown


FAULTS = {
    "401": [Fault.status(401)],
    "500": [Fault.status(500)],
    "429 then 503 twice": [Fault.status(429, retry_after=0.01), *[Fault.status(503)] * 2],
    "dropped connection": [Fault.drop()],
    "timeout": [Fault.delay(1.0)],
    "malformed answer": [Fault.malformed()],
}


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
def test_no_failure_shows_the_key_in_its_error_traceback_or_debug_logs(
    telnyx_sandbox: Sandbox, caplog: pytest.LogCaptureFixture, faults: list[Fault], sync: bool
) -> None:
    telnyx_sandbox.faults.script(*faults)
    with caplog.at_level(logging.DEBUG), pytest.raises(tgm.APIError) as info:
        _send_once(telnyx_sandbox.base_url, sync=sync)
    shown = _everything_about(info.value) + [r.getMessage() for r in caplog.records]
    assert _nothing_of(shown, KEY) == []


def _send_once(base_url: str, *, sync: bool) -> None:
    """One send with the sync or the async client (half a second before a timeout)."""
    options = {"api_key": KEY, "base_url": base_url, "timeout": 0.5, "retry": fast_retry()}
    if sync:
        with tgm.Telnyx(**options) as client:  # type: ignore[arg-type]
            client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
        return

    async def send() -> None:
        async with tgm.AsyncTelnyx(**options) as client:  # type: ignore[arg-type]
            await client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")

    asyncio.run(send())


def test_the_sandbox_never_shows_the_key_it_received(telnyx_sandbox: Sandbox) -> None:
    with tgm.Telnyx(api_key=KEY, base_url=telnyx_sandbox.base_url) as client:
        client.messages.send_group_mms(from_=FROM, to=TO, text="Hello")
    (request,) = telnyx_sandbox.requests

    assert request.headers["Authorization"] == f"Bearer {KEY}"  # kept for tests to read
    assert _nothing_of([repr(request), str(request), repr(telnyx_sandbox)], KEY) == []


def test_the_cli_never_prints_a_wrong_key_nor_the_sandbox_the_right_one() -> None:
    right, wrong = "KEY_right_0123456789", "KEY_wrong_0123456789"
    sandbox = Server(["sandbox", "--port", "0", "--api-key", right])
    try:
        base_url = (sandbox.readline() or "").split(" at ")[1].split()[0]
        env = {**os.environ, "TELNYX_API_KEY": wrong, "TELNYX_BASE_URL": base_url}
        by_env = run("send", "--from", FROM, "--to", TO[0], "--text", "Hi", env=env)
        by_option = run(
            "send", "--api-key", wrong, "--base-url", base_url,
            "--from", FROM, "--to", TO[0], "--text", "Hi",
        )  # fmt: skip
    finally:
        sandbox.process.send_signal(signal.SIGINT)
        served = sandbox.finish()

    for result in (by_env, by_option):
        assert result.code == 1
        assert "401" in result.stderr
    shown = [by_env.stdout, by_env.stderr, by_option.stdout, by_option.stderr]
    shown += [served.stdout, served.stderr]
    assert _nothing_of(shown, wrong, right) == []


def test_a_bulk_run_with_a_wrong_key_prints_no_key(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"from,to,text\n{FROM},{TO[0]},hi\n")
    with Sandbox(api_key="KEY_right_0123456789") as sandbox:
        env = {**os.environ, "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": sandbox.base_url}
        result = run("bulk", str(path), "--rate", "0", env=env)

    assert result.code == 1
    assert _nothing_of([result.stdout, result.stderr], KEY, "KEY_right") == []


def _contents(*texts: str) -> tuple[str, ...]:
    return (KEY, FROM, *TO, *texts)


async def test_a_faulty_fan_out_logs_no_number_text_or_key_at_any_level(
    telnyx_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    telnyx_sandbox.faults.script(
        Fault.status(429, retry_after=0.01), Fault.status(503), Fault.status(500),
        Fault.drop(), Fault.malformed(), Fault.status(409),
    )  # fmt: skip
    texts = [f"private note {n}" for n in range(10)]
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text=t) for t in texts]
    with caplog.at_level(logging.DEBUG):
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=telnyx_sandbox.base_url, retry=fast_retry()
        ) as client:
            results = [r async for r in client.messages.send_many(requests, concurrency=3)]

    assert len(results) == 10
    assert any(r.name.startswith("telnyx_group_mms") for r in caplog.records)
    logged = [r.getMessage() for r in caplog.records]
    assert _nothing_of(logged, *_contents(*texts)) == []


async def test_a_faulty_bulk_run_logs_no_number_text_or_key_at_any_level(
    telnyx_sandbox: Sandbox, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    telnyx_sandbox.faults.script(
        Fault.status(503), Fault.status(502), Fault.drop(), Fault.malformed(), Fault.status(400)
    )
    texts = [f"private note {n}" for n in range(8)]
    path = tmp_path / "in.csv"
    path.write_text("from,to,text\n" + "".join(f"{FROM},{';'.join(TO)},{t}\n" for t in texts))
    with caplog.at_level(logging.DEBUG):
        async with tgm.AsyncTelnyx(
            api_key=KEY, base_url=telnyx_sandbox.base_url, retry=fast_retry()
        ) as client:
            summary = await tgm.run_bulk(path, client=client, concurrency=2)

    assert summary.rows == 8
    assert summary.sent < 8
    assert any(r.name.startswith("telnyx_group_mms") for r in caplog.records)
    logged = [r.getMessage() for r in caplog.records]
    assert _nothing_of(logged, *_contents(*texts)) == []


def test_security_md_names_only_tests_that_exist() -> None:
    root = Path(__file__).resolve().parent.parent
    named = re.findall(r"`(tests/\w+\.py)::(\w+)`", (root / "SECURITY.md").read_text())
    assert len(named) > 20
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not re.search(rf"^(async )?def {name}\(", (root / path).read_text(), re.MULTILINE)
    ]
    assert missing == []
