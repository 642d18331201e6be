"""A loopback webhook receiver on the test's own loop, recording what it is sent."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_type(self) -> str:
        event_type: str = self.json()["data"]["event_type"]
        return event_type

    @property
    def recipient(self) -> dict[str, Any]:
        (recipient,) = self.json()["data"]["payload"]["to"]
        return dict(recipient)


def verify(public_key: str, received: Received) -> None:
    """Check a webhook's ed25519 signature as Telnyx documents it; raises if it is wrong."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    signed = received.headers["telnyx-timestamp"].encode() + b"|" + received.body
    key.verify(base64.b64decode(received.headers["telnyx-signature-ed25519"]), signed)


class Receiver:
    """Answers each webhook with the next scripted status (200 when the script is empty).

    ``hang=True`` makes it never answer, like a receiver that is stuck.
    """

    def __init__(self, *statuses: int, hang: bool = False) -> None:
        self.script = list(statuses)
        self.hang = hang
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        self.arrived.set()
        if self.hang:
            await asyncio.Event().wait()
        return web.Response(status=self.script.pop(0) if self.script else 200)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
