"""The sandbox's aiohttp.web application: authentication, faults, validation, answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable

import cattrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from .._wire.json_codec import compact as compact_json
from .._wire.protocol import GROUP_MMS_PATH
from ..models import Message, MessageError
from ._faults import Fault, FaultKind, FaultPlan, RateLimiter, seconds_text
from ._queues import SenderQueueBook
from ._records import RecordedRequest
from ._wire import Account, api_error, build_message, error_json, message_json, now, parse_request

__all__ = [
    "API_PREFIX",
    "GroupMmsHandler",
    "authorized_token",
    "build_app",
    "errors_response",
]

#: The sandbox serves the API under this prefix, as Telnyx does (``.../v2``).
API_PREFIX = "/v2"


# The code Telnyx sends with each status a scripted fault may answer.
_STATUS_CODES = {
    400: "10015",
    401: "10009",
    403: "10010",
    404: "10005",
    409: "40300",
    422: "10015",
    429: "10011",
}


def authorized_token(request: web.Request, api_key: str | None) -> str | None:
    """The request's Bearer token if it may use the sandbox (``api_key``, or any when None)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token if api_key is None or token == api_key else None


class GroupMmsHandler:
    """Answers ``POST /v2/messages/group_mms`` the way Telnyx does.

    Order of checks: authentication (401, before the body is read: a refused request is
    counted, and nothing of it is kept), the rate limit (429, code 10011), a fault if
    one is due, the body (400), the sender's queue (429, code 40318, when ``queues`` is
    set and it is full), then the message is taken in and answered.

    ``on_request`` gets each request once its body has been read, or ``None`` for one
    refused for its key.

    Attributes:
        in_flight: Requests being answered right now (a delay fault holds one a while).
    """

    def __init__(
        self,
        *,
        converter: cattrs.Converter,
        account: Account,
        api_key: str | None,
        faults: FaultPlan,
        limiter: RateLimiter | None,
        queues: SenderQueueBook | None,
        on_request: Callable[[RecordedRequest | None], None],
        on_accept: Callable[[Message], None],
        webhook_url: str | None,
        webhook_failover_url: str | None,
        clock: Callable[[], float],
    ) -> None:
        self._converter = converter
        self._account = account
        self._api_key = api_key
        self._faults = faults
        self._limiter = limiter
        self._queues = queues
        self._on_request = on_request
        self._on_accept = on_accept
        self._webhook_url = webhook_url
        self._webhook_failover_url = webhook_failover_url
        self._clock = clock
        self.in_flight = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request."""
        self.in_flight += 1
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        headers = {"x-request-id": str(uuid.uuid4())}
        token = authorized_token(request, self._api_key)
        if token is None:
            # Unread and unkept: whoever lacks the key cannot make the sandbox hold anything.
            self._on_request(None)
            return errors_response(401, [api_error("10009")], headers)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            too_large = api_error("10015", "The request body is too large.")
            return errors_response(413, [too_large], headers)
        self._on_request(
            RecordedRequest(
                method=request.method,
                path=request.path,
                headers=request.headers,
                body=body,
                arrived_at=self._clock(),
            )
        )

        if self._limiter is not None:
            verdict = self._limiter.take(token)
            headers.update(verdict.headers())
            if not verdict.allowed:
                headers["Retry-After"] = str(verdict.reset)
                return errors_response(429, [api_error("10011")], headers)

        fault = self._faults.next()
        if fault is not None:
            if fault.kind is FaultKind.STATUS:
                return _fault_response(fault, headers)
            if fault.kind is FaultKind.DROP:
                return _drop(request)
            if fault.kind is FaultKind.DELAY:
                await asyncio.sleep(fault.seconds)

        content_type = request.content_type if "Content-Type" in request.headers else ""
        parsed = parse_request(content_type, body)
        if isinstance(parsed, list):
            return errors_response(400, parsed, headers)

        wait_seconds = 0.0
        if self._queues is not None:
            admitted = self._queues.admit(parsed.from_)
            if admitted is None:
                # Refused before it is taken in: nothing is recorded, nothing will be sent.
                return errors_response(429, [api_error("40318")], headers)
            wait_seconds = admitted

        message = build_message(
            parsed,
            account=self._account,
            received_at=now(),
            webhook_url=parsed.webhook_url or self._webhook_url,
            webhook_failover_url=parsed.webhook_failover_url or self._webhook_failover_url,
            wait_seconds=wait_seconds,
        )
        self._on_accept(message)
        raw = compact_json({"data": message_json(self._converter, message)}).encode()
        if fault is not None and fault.kind is FaultKind.MALFORMED:
            raw = raw[: len(raw) // 2]
        return web.Response(status=200, body=raw, content_type="application/json", headers=headers)


def errors_response(
    status: int, errors: list[MessageError], headers: dict[str, str]
) -> web.Response:
    """A Telnyx-shaped error answer: ``{"errors": [...]}``."""
    body = compact_json({"errors": [error_json(e) for e in errors]}).encode()
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def _fault_response(fault: Fault, headers: dict[str, str]) -> web.Response:
    status = fault.status_code or 500
    code = fault.code or _STATUS_CODES.get(status, "10007" if status >= 500 else "10015")
    if fault.retry_after is not None:
        # Whole seconds as Telnyx sends them; fractions (handy in fast tests) as decimals.
        headers["Retry-After"] = seconds_text(fault.retry_after)
    return errors_response(status, [api_error(code)], headers)


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    # Nothing reaches the client: the connection is already gone.
    return web.Response(status=499)


async def _not_found(request: web.Request) -> web.Response:
    await request.read()
    return errors_response(404, [api_error("10005")], {"x-request-id": str(uuid.uuid4())})


def build_app(
    handler: GroupMmsHandler,
    *,
    control_routes: Iterable[web.AbstractRouteDef] = (),
    middlewares: Iterable[Middleware] = (),
) -> web.Application:
    """The application: the group MMS endpoint, the sandbox's own control routes, and
    Telnyx-shaped 404s everywhere else, every request going through ``middlewares``."""
    app = web.Application(middlewares=middlewares)
    app.router.add_post(API_PREFIX + GROUP_MMS_PATH, handler.handle)
    app.router.add_routes(control_routes)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app
