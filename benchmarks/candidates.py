"""The clients under test, each reduced to a ``send()`` that performs one full exchange.

Every candidate sends the same request (:data:`payload.SEND_KWARGS`) and is handed the
same canned answer; each builds its client once and reuses it, as its users would.
Imports happen inside the candidates, so a worker process loads only the SDK it measures.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from payload import API_KEY, SEND_KWARGS, WIRE_REQUEST

AsyncSend = Callable[[], Awaitable[Any]]
SyncSend = Callable[[], Any]

#: The headers this SDK sends (aiohttp adds a User-Agent of its own).
FLOOR_HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "Content-Type": "application/json",
    "Accept": "application/json",
}


def _bare_aiohttp(loads: Callable[[bytes], Any]) -> Callable[[str], Any]:
    """Bare aiohttp: post a pre-serialised body, parse the JSON answer with ``loads``."""

    @contextlib.asynccontextmanager
    async def candidate(base_url: str) -> AsyncIterator[AsyncSend]:
        import aiohttp

        url = base_url + "/messages/group_mms"
        async with aiohttp.ClientSession(headers=FLOOR_HEADERS) as session:

            async def send() -> Any:
                async with session.post(url, data=WIRE_REQUEST) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"floor: HTTP {resp.status}")
                    return loads(body)

            yield send

    return candidate


def _orjson_loads(body: bytes) -> Any:
    import orjson

    return orjson.loads(body)


#: The floor of the targets: bare aiohttp and ``json.loads``, nothing else.
floor = _bare_aiohttp(json.loads)


def _async_client(make: Callable[[str], Any]) -> Callable[[str], Any]:
    """A candidate from an async client class: one client, ``send_group_mms`` per send."""

    @contextlib.asynccontextmanager
    async def candidate(base_url: str) -> AsyncIterator[AsyncSend]:
        async with make(base_url) as client:
            send_group_mms = client.messages.send_group_mms

            async def send() -> Any:
                return await send_group_mms(**SEND_KWARGS)

            yield send

    return candidate


def _sync_client(make: Callable[[str], Any]) -> Callable[[str], Any]:
    """A candidate from a sync client class: one client, shared by every thread."""

    @contextlib.contextmanager
    def candidate(base_url: str) -> Iterator[SyncSend]:
        with make(base_url) as client:
            send_group_mms = client.messages.send_group_mms

            def send() -> Any:
                return send_group_mms(**SEND_KWARGS)

            yield send

    return candidate


def _ours(sync: bool) -> Callable[[str], Any]:
    def make(base_url: str) -> Any:
        import telnyx_group_mms as tgm

        cls = tgm.Telnyx if sync else tgm.AsyncTelnyx
        return cls(api_key=API_KEY, base_url=base_url)

    return make


def _official(kind: str) -> Callable[[str], Any]:
    def make(base_url: str) -> Any:
        import telnyx

        if kind == "sync":
            return telnyx.Telnyx(api_key=API_KEY, base_url=base_url)
        if kind == "aiohttp":  # the official SDK's documented switch to its aiohttp transport
            http_client = telnyx.DefaultAioHttpClient()
            return telnyx.AsyncTelnyx(api_key=API_KEY, base_url=base_url, http_client=http_client)
        return telnyx.AsyncTelnyx(api_key=API_KEY, base_url=base_url)

    return make


#: name -> (is_async, factory, needs the official SDK). The order is the table's.
CANDIDATES: dict[str, tuple[bool, Callable[[str], Any], bool]] = {
    "floor": (True, floor, False),
    # Not a target: shows how much of this SDK's lead over the floor is orjson's.
    "floor-orjson": (True, _bare_aiohttp(_orjson_loads), False),
    "ours-async": (True, _async_client(_ours(sync=False)), False),
    "ours-sync": (False, _sync_client(_ours(sync=True)), False),
    "official-async-httpx": (True, _async_client(_official("httpx")), True),
    "official-async-aiohttp": (True, _async_client(_official("aiohttp")), True),
    "official-sync": (False, _sync_client(_official("sync")), True),
}

LABELS = {
    "floor": "floor: bare aiohttp",
    "floor-orjson": "bare aiohttp + orjson",
    "ours-async": "ours: AsyncTelnyx",
    "ours-sync": "ours: Telnyx (sync)",
    "official-async-httpx": "official: AsyncTelnyx (httpx)",
    "official-async-aiohttp": "official: AsyncTelnyx (aiohttp)",
    "official-sync": "official: Telnyx (sync)",
}
