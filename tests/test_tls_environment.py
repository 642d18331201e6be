"""What the environment does to the client's TLS and routing, as README and SECURITY.md say.

Each send runs in a fresh process, as an application would start: OpenSSL reads
``SSL_CERT_FILE`` and Python ``SSLKEYLOGFILE`` when the default TLS context is built,
which aiohttp does once, when it is imported.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from .conftest import FROM, KEY, TO
from .scripted_server import message_for

# One send with the public sync client; prints the message id, or the error's class and text.
SEND = f"""
import sys
import telnyx_group_mms as tgm
try:
    with tgm.Telnyx(api_key={KEY!r}, base_url=sys.argv[1]) as client:
        message = client.messages.send_group_mms(from_={FROM!r}, to={TO!r}, text="Hi")
except tgm.TelnyxError as exc:
    print(type(exc).__name__, exc)
    sys.exit(1)
print(message.id)
"""
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "https_proxy",
    "http_proxy",
    "all_proxy",
)
TLS_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "SSLKEYLOGFILE")


@dataclass
class Server:
    base_url: str
    received: list[str] = field(default_factory=list)


@dataclass
class Sent:
    code: int
    output: str


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


async def serve(ca: trustme.CA | None) -> tuple[web.AppRunner, Server]:
    """A stand-in for Telnyx on 127.0.0.1: over TLS with a certificate from ``ca``, or
    plain HTTP without one."""
    context = None
    if ca is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
    runner = web.AppRunner(web.Application(), access_log=None)
    server = Server("")

    async def handle(request: web.Request) -> web.Response:
        server.received.append(request.path)
        return web.json_response({"data": message_for(await request.json())})

    runner.app.router.add_post("/v2/messages/group_mms", handle)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    scheme = "https" if ca is not None else "http"
    server.base_url = f"{scheme}://127.0.0.1:{runner.addresses[0][1]}/v2"
    return runner, server


@pytest.fixture
async def https_server(ca: trustme.CA) -> AsyncIterator[Server]:
    runner, server = await serve(ca)
    yield server
    await runner.cleanup()


@pytest.fixture
async def http_server() -> AsyncIterator[Server]:
    runner, server = await serve(None)
    yield server
    await runner.cleanup()


async def send(base_url: str, **environment: str) -> Sent:
    """One send from a fresh process, with ``environment`` set on top of a clean one."""
    env = {k: v for k, v in os.environ.items() if k not in (*PROXY_VARIABLES, *TLS_VARIABLES)}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SEND,
        base_url,
        env=env | environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(120):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return Sent(process.returncode, output.decode())


async def test_ssl_cert_file_decides_which_certificates_the_client_trusts(
    https_server: Server, ca_file: Path
) -> None:
    refused = await send(https_server.base_url)
    assert refused.code == 1
    assert "certificate could not be verified" in refused.output
    assert https_server.received == []

    trusted = await send(https_server.base_url, SSL_CERT_FILE=str(ca_file))

    assert trusted.code == 0, trusted.output
    assert https_server.received == ["/v2/messages/group_mms"]


async def test_sslkeylogfile_makes_every_tls_session_key_readable_from_that_file(
    https_server: Server, ca_file: Path, tmp_path: Path
) -> None:
    keylog = tmp_path / "keys.log"

    sent = await send(https_server.base_url, SSL_CERT_FILE=str(ca_file), SSLKEYLOGFILE=str(keylog))

    assert sent.code == 0, sent.output
    # NSS key log lines: enough for anyone holding a capture to decrypt it, key included.
    secrets = re.findall(
        r"^(CLIENT_TRAFFIC_SECRET_0|CLIENT_RANDOM) [0-9a-f]{64} ", keylog.read_text(), re.M
    )
    assert secrets


class Proxy:
    """A would-be proxy on 127.0.0.1 that records the first line of each connection."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append((await reader.readline()).decode().strip())
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_proxy_variables_are_ignored_and_the_client_connects_directly(
    https_server: Server,
    http_server: Server,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    server = https_server if scheme == "https" else http_server
    proxy = Proxy()
    async with proxy as proxy_url:
        # The proxy is real: an aiohttp session that trusted the environment would use it.
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with aiohttp.ClientSession(trust_env=True) as session:
            with pytest.raises(aiohttp.ClientError):
                await session.post(f"{server.base_url}/messages/group_mms", json={})
        assert len(proxy.requests) == 1
        assert proxy.requests[0].split()[0] in ("CONNECT", "POST")
        proxy.requests.clear()

        sent = await send(
            server.base_url, SSL_CERT_FILE=str(ca_file), **dict.fromkeys(PROXY_VARIABLES, proxy_url)
        )

    assert sent.code == 0, sent.output
    assert proxy.requests == []
    assert server.received == ["/v2/messages/group_mms"]
