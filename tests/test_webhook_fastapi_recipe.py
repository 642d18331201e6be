"""The FastAPI recipe in examples/ works as documented (skipped without FastAPI and httpx).

httpx's ASGI transport drives the app in the test's own event loop, without a socket.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .webhook_support import MESSAGE_ID, TO, Signer, body_of, envelope, finalized

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

RECIPE = Path(__file__).resolve().parent.parent / "examples" / "fastapi_receiver.py"


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
