"""A loopback HTTP server with scripted answers, run on its own thread for any test.

The tests of the core speak real HTTP to it, so retries, timeouts and dropped
connections go through the real aiohttp client stack.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
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
    at: float = 0.0  # time.monotonic() on arrival

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
        self.default = Reply()  # the answer once the script is used up
        self.in_flight = 0
        self.max_in_flight = 0
        self.abandoned = 0  # requests whose client hung up before the answer
        self.hold_until: int | None = None  # answer nothing until this many are in flight
        self._released: asyncio.Event | None = None
        self.on_request: Callable[[Seen], None] | None = None  # called on arrival

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

    def count(self, **match: Any) -> int:
        """How many requests had all these wire fields (``text="row 3"``)."""
        return sum(1 for s in self.seen if all(s.json().get(k) == v for k, v in match.items()))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        except asyncio.CancelledError:
            self.abandoned += 1
            raise
        finally:
            self.in_flight -= 1

    @staticmethod
    async def _wait(delay: float, transport: asyncio.BaseTransport | None) -> bool:
        """Sleep ``delay``; False as soon as the client hangs up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while (remaining := deadline - loop.time()) > 0:
            if transport is None or transport.is_closing():
                return False
            await asyncio.sleep(min(remaining, 0.02))
        return transport is not None and not transport.is_closing()

    async def _hold(self) -> None:
        if self._released is None:
            self._released = asyncio.Event()
        if self.hold_until is not None and self.in_flight >= self.hold_until:
            self._released.set()
        await asyncio.wait_for(self._released.wait(), 10)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        transport = request.transport
        conn = self._connections.setdefault(id(transport), len(self._connections))
        seen = Seen(request.method, request.path, dict(request.headers), body, conn)
        seen.at = time.monotonic()
        self.seen.append(seen)
        answer = self.script.pop(0) if self.script else self.default
        if self.on_request is not None:
            self.on_request(seen)
        if self.hold_until is not None:
            await self._hold()
        if not await self._wait(answer.delay, transport):
            self.abandoned += 1
            return web.Response(status=499)
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
