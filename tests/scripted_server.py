"""A loopback HTTP server with scripted answers, run on its own thread for any test.

The tests of the core speak real HTTP to it, so retries, timeouts and dropped
connections go through the real aiohttp client stack.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    """Answer with this status, headers and body (a message echoing the request if None)."""

    status: int = 200
    body: bytes | dict[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Drop:
    """Read the request, then drop the connection without answering."""

    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int

    def json(self) -> Any:
        return json.loads(self.body)


def message_for(request: Mapping[str, Any]) -> dict[str, Any]:
    """A realistic ``data`` object for a wire request."""
    return {
        "id": str(uuid.uuid4()),
        "record_type": "message",
        "direction": "outbound",
        "type": "MMS",
        "from": {"phone_number": request.get("from"), "carrier": "TELNYX LLC", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": n,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
                "status": "queued",
            }
            for n in request.get("to", [])
        ],
        "cc": [],
        "text": request.get("text"),
        "subject": request.get("subject"),
        "media": [
            {"url": u, "content_type": None, "sha256": None, "size": None}
            for u in request.get("media_urls") or []
        ],
        "encoding": "GSM-7",
        "parts": 1,
        "cost": {"amount": "0.0100", "currency": "USD"},
        "received_at": "2026-11-27T01:00:00.000Z",
        "errors": [],
        "wait_seconds": 0.0,
    }


class ScriptedServer:
    """Serves ``POST /v2/messages/group_mms`` on 127.0.0.1 from a script of answers."""

    def __init__(self) -> None:
        self.script: list[Reply | Drop] = []
        self.seen: list[Seen] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._connections: dict[int, int] = {}
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    @property
    def posts(self) -> int:
        return len(self.seen)

    @property
    def connections(self) -> int:
        """How many distinct TCP connections have carried a request."""
        return len(self._connections)

    def push(self, *answers: Reply | Drop) -> None:
        self.script.extend(answers)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        transport = request.transport
        conn = self._connections.setdefault(id(transport), len(self._connections))
        self.seen.append(Seen(request.method, request.path, dict(request.headers), body, conn))
        answer = self.script.pop(0) if self.script else Reply()
        await asyncio.sleep(answer.delay)
        if isinstance(answer, Drop):
            if transport is not None:
                transport.abort()
            return web.Response(status=499)
        payload = answer.body
        if payload is None:
            try:
                payload = {"data": message_for(json.loads(body))}
            except ValueError:
                payload = {"data": message_for({})}
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "x-request-id": str(uuid.uuid4())}
        headers.update(answer.headers)
        return web.Response(status=answer.status, body=raw, headers=headers)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def start(self) -> ScriptedServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
