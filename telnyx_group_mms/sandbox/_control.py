"""The sandbox's own record over HTTP, for a test or a soak run in another process.

``GET /_sandbox/stats`` and ``GET /_sandbox/messages`` are not Telnyx's API: they live
outside ``/v2`` and a real client never calls them. Because messages carry phone numbers
and text, they answer only requests authenticated as the API is (the sandbox's key, or
any Bearer token when it was started without one, which it allows only on loopback),
and addressed to it (see :mod:`.host_guard`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Final

import attrs
import cattrs
from aiohttp import web

from .._wire.json_codec import compact as compact_json
from ..models import Message
from ._app import authorized_token, errors_response
from ._records import History
from ._wire import api_error, message_json

__all__ = ["CONTROL_PREFIX", "MAX_PAGE", "ControlHandler", "SandboxStats"]

#: Where the control routes live: outside Telnyx's ``/v2``.
CONTROL_PREFIX: Final = "/_sandbox"
#: Messages per page of ``GET /_sandbox/messages`` at most (and by default).
MAX_PAGE: Final = 1000


@attrs.frozen(kw_only=True)
class SandboxStats:
    """What a sandbox went through since it started (or since :meth:`Sandbox.reset`).

    Attributes:
        requests: API requests received, refused ones included.
        accepted: Messages taken in (counted even beyond ``max_history``).
        in_flight: API requests being answered right now; a delay fault holds one, and
            its message is taken in only when the delay ends.
        faults: Faults served, by short name (``"503"``, ``"429:1"``, ``"drop"``,
            ``"delay:2"``, ``"malformed"``); rate-limit 429s are not faults.
    """

    requests: int
    accepted: int
    in_flight: int
    faults: Mapping[str, int]


def _bad_query(detail: str) -> web.Response:
    return errors_response(400, [api_error("10015", detail)], {"x-request-id": str(uuid.uuid4())})


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


class ControlHandler:
    """Answers the control routes from the sandbox's counters and message history."""

    def __init__(
        self,
        *,
        converter: cattrs.Converter,
        api_key: str | None,
        stats: Callable[[], SandboxStats],
        messages: History[Message],
    ) -> None:
        self._converter = converter
        self._api_key = api_key
        self._stats = stats
        self._messages = messages

    def routes(self) -> list[web.AbstractRouteDef]:
        """The routes to add to the sandbox's application."""
        return [
            web.get(CONTROL_PREFIX + "/stats", self.stats),
            web.get(CONTROL_PREFIX + "/messages", self.messages),
        ]

    async def stats(self, request: web.Request) -> web.Response:
        """``{"data": {"requests", "accepted", "in_flight", "faults": {name: count}}}``."""
        if authorized_token(request, self._api_key) is None:
            return _unauthorized()
        stats = attrs.asdict(self._stats())
        return web.json_response(text=compact_json({"data": stats}))

    async def messages(self, request: web.Request) -> web.Response:
        """The accepted messages still in history, oldest first, a page at a time.

        Query: ``offset`` (default 0) and ``limit`` (default and at most
        :data:`MAX_PAGE`). Answer: ``{"data": [message, ...], "meta": {"offset",
        "limit", "total"}}``, each message in Telnyx's wire form; ``total`` counts the
        messages in history.
        """
        if authorized_token(request, self._api_key) is None:
            return _unauthorized()
        history = self._messages
        try:
            offset = _int_param(request, "offset", 0, 0, len(history))
            limit = _int_param(request, "limit", MAX_PAGE, 1, MAX_PAGE)
        except ValueError as exc:
            return _bad_query(str(exc))
        body = {
            "data": [message_json(self._converter, m) for m in history.page(offset, limit)],
            "meta": {"offset": offset, "limit": limit, "total": len(history)},
        }
        return web.json_response(text=compact_json(body))


def _unauthorized() -> web.Response:
    return errors_response(401, [api_error("10009")], {"x-request-id": str(uuid.uuid4())})
