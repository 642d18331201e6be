"""The FastAPI recipe in examples/ works as documented (skipped without FastAPI and httpx).

httpx's ASGI transport drives the app in the test's own event loop, without a socket; the
end-to-end tests run it as its docstring says, under uvicorn in a process of its own, with
the sandbox playing Telnyx: it takes the sends and posts the signed webhooks.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import ClientSession, web

from telnyx_group_mms import FINAL_STATUSES
from telnyx_group_mms.sandbox import DeliveryOutcomes, Sandbox

from .webhook_support import MESSAGE_ID, TO, Signer, body_of, envelope, finalized

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "examples" / "fastapi_receiver.py"
pytest.importorskip("uvicorn")
pytest.importorskip("cryptography")


def load_recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_receiver", RECIPE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def client_for(app: Any) -> Any:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def post(client: Any, signer: Signer, document: dict[str, Any]) -> tuple[int, Any]:
    body = body_of(document)
    response = await client.post(
        "/webhooks/telnyx",
        content=body,
        headers=signer.headers(body, timestamp=int(time.time())),
    )
    return response.status_code, response.json()


async def test_the_recipe_verifies_dedupes_and_tracks(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = Signer()
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", signer.public_key)
    recipe = load_recipe()
    async with client_for(recipe.app) as client:
        assert (await post(client, Signer(), envelope()))[0] == 400
        for number in TO:
            document = finalized(number, "delivered", occurred_at="2026-09-21T18:10:05Z")
            document["data"]["id"] = f"evt-{number}"
            assert await post(client, signer, document) == (200, {"status": "ok"})
        assert await post(client, signer, document) == (200, {"status": "duplicate"})
        status = (await client.get(f"/messages/{MESSAGE_ID}")).json()
    assert status == {"final": True, "recipients": dict.fromkeys(TO, "delivered")}


async def test_the_recipe_takes_an_explicit_key() -> None:
    signer = Signer()
    app = load_recipe().create_app(public_key=signer.public_key)
    async with client_for(app) as client:
        status, answer = await post(client, signer, envelope())
        assert status == 200
        status, answer = await post(client, signer, {"data": "nope"})
        assert status == 400
        assert "not a Telnyx event" in answer["error"]


async def test_the_recipe_refuses_unsigned_and_oversized_bodies() -> None:
    signer = Signer()
    recipe = load_recipe()
    app = recipe.create_app(public_key=signer.public_key)
    oversized = b" " * (recipe.DEFAULT_MAX_BODY_BYTES + 1)
    async with client_for(app) as client:
        unsigned = await client.post("/webhooks/telnyx", content=oversized)
        assert unsigned.status_code == 400
        assert "missing header" in unsigned.json()["error"]
        headers = signer.headers(oversized, timestamp=int(time.time()))
        large = await client.post("/webhooks/telnyx", content=oversized, headers=headers)
        assert large.status_code == 413


FROM = "+13125551234"
GROUP = ["+18655551234", "+14155551234", "+12125550100"]
# The sandbox decides each recipient's fate; these fix it, so the test knows the outcome.
FATES = {GROUP[0]: "delivered", GROUP[1]: "delivery_failed", GROUP[2]: "expired"}


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A socket bound on loopback, for uvicorn to serve on (``--fd``): its port is known
    before the app starts, so the sandbox can be told where to post webhooks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@pytest.fixture
def recipe_port(listening_socket: socket.socket) -> int:
    return int(listening_socket.getsockname()[1])


class RecipeProcess:
    """``uvicorn examples.fastapi_receiver:app``, as its docstring says to run it."""

    def __init__(self, sock: socket.socket, sandbox: Sandbox) -> None:
        assert sandbox.public_key is not None
        env = os.environ | {
            "TELNYX_API_KEY": "test",
            "TELNYX_BASE_URL": sandbox.base_url,
            "TELNYX_PUBLIC_KEY": sandbox.public_key,
        }
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--fd",
                str(sock.fileno()),
                "--log-level",
                "warning",
                "examples.fastapi_receiver:app",
            ],
            cwd=ROOT,
            env=env,
            pass_fds=(sock.fileno(),),
        )

    async def started(self, session: ClientSession) -> None:
        # The socket already listens, so the first request waits for the app rather than
        # being refused; the deadline only stops a recipe that never starts.
        async with asyncio.timeout(60), session.get(f"{self.url}/messages/none") as response:
            assert response.status == 200

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as client:
        yield client


async def send_group(session: ClientSession, recipe: RecipeProcess) -> str:
    request = {"from": FROM, "to": GROUP, "text": "Your table is ready"}
    async with session.post(f"{recipe.url}/messages", json=request) as response:
        assert response.status == 200, await response.text()
        message_id: str = (await response.json())["id"]
    return message_id


async def delivery_status(session: ClientSession, recipe: RecipeProcess, message_id: str) -> Any:
    async with session.get(f"{recipe.url}/messages/{message_id}") as response:
        return await response.json()


async def test_every_recipient_reaches_the_fate_the_sandbox_gave_it(
    listening_socket: socket.socket, recipe_port: int, session: ClientSession
) -> None:
    hooks = f"http://127.0.0.1:{recipe_port}/webhooks/telnyx"
    async with Sandbox(webhook_url=hooks, delivery=DeliveryOutcomes(statuses=FATES)) as sb:
        recipe = RecipeProcess(listening_socket, sb)
        try:
            await recipe.started(session)
            message_id = await send_group(session, recipe)
            await sb.adrain_webhooks()
            status = await delivery_status(session, recipe, message_id)
        finally:
            recipe.stop()
    assert {a.status for a in sb.webhook_attempts} == {200}
    assert len(sb.webhook_attempts) == 2 * len(GROUP)  # sent + finalized, each accepted
    assert status == {"final": True, "recipients": FATES}


class Relay:
    """Stands between the sandbox and the recipe and holds every webhook back, so that the
    test delivers them in the order Telnyx may use: any order at all. The bodies and
    signatures are the sandbox's own, unchanged."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.held: list[tuple[bytes, dict[str, str]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _hold(self, request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("telnyx-")}
        self.held.append((await request.read(), headers))
        return web.json_response({"status": "held"})

    async def __aenter__(self) -> Relay:
        app = web.Application()
        app.router.add_post("/hooks", self._hold)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hooks"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    def events(self, event_type: str) -> list[tuple[bytes, dict[str, str]]]:
        return [(b, h) for b, h in self.held if json.loads(b)["data"]["event_type"] == event_type]

    async def deliver(self, session: ClientSession, body: bytes, headers: dict[str, str]) -> None:
        async with session.post(self.target, data=body, headers=headers) as response:
            assert response.status == 200, await response.text()


async def test_a_group_message_is_final_only_once_every_recipient_is(
    listening_socket: socket.socket, recipe_port: int, session: ClientSession
) -> None:
    async with (
        Relay(f"http://127.0.0.1:{recipe_port}/webhooks/telnyx") as relay,
        Sandbox(webhook_url=relay.url, delivery=DeliveryOutcomes(statuses=FATES)) as sb,
    ):
        recipe = RecipeProcess(listening_socket, sb)
        try:
            await recipe.started(session)
            message_id = await send_group(session, recipe)
            await sb.adrain_webhooks()
            # Each recipient's message.finalized first, its message.sent late: each
            # webhook names one recipient, so the recipe must know the others already.
            seen = []
            for body, headers in relay.events("message.finalized") + relay.events("message.sent"):
                await relay.deliver(session, body, headers)
                seen.append(await delivery_status(session, recipe, message_id))
        finally:
            recipe.stop()

    finals = len(GROUP)
    assert [s["final"] for s in seen] == [False] * (finals - 1) + [True] * (len(seen) - finals + 1)
    for status in seen[: finals - 1]:
        assert set(status["recipients"]) == set(GROUP)  # the pending ones are still listed
        assert any(s not in FINAL_STATUSES for s in status["recipients"].values())
    assert seen[-1] == {"final": True, "recipients": FATES}
