"""Send group MMS and follow every recipient to a final status, in FastAPI (or Starlette).

Run it with the API key and the webhook public key (base64) from the Telnyx portal::

    pip install 'telnyx-group-mms[webhooks]' fastapi uvicorn
    TELNYX_API_KEY=... TELNYX_PUBLIC_KEY=... uvicorn examples.fastapi_receiver:app --port 8000

and set your messaging profile's webhook URL to ``https://<your host>/webhooks/telnyx``
(or pass ``webhook_url=`` to :func:`create_app` to name it on every message). Then:

- ``POST /messages`` with ``{"from": "+13125551234", "to": [...], "text": "..."}`` sends a
  group MMS and answers ``{"id": ...}``;
- Telnyx posts ``message.sent`` and ``message.finalized`` webhooks to
  ``/webhooks/telnyx``, one per recipient, retried and in any order;
- ``GET /messages/{id}`` answers each recipient's latest status, and ``"final": true``
  once every recipient has a final one.

The tracker learns the recipients from the send response (``tracker.expect``): a webhook
names only the recipient it reports on, so without that a message would look final as
soon as its first recipient's ``message.finalized`` arrived.

The recipe is the same in plain Starlette. Verify the raw body, never the parsed JSON,
since the signature covers the bytes exactly as sent; and check the signature headers
before reading the body, reading at most a bounded amount, since ``request.body()``
reads whatever it is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from telnyx_group_mms import (
    APIError,
    AsyncTelnyx,
    DeliveryTracker,
    EventDeduplicator,
    RequestValidationError,
    WebhookVerificationError,
)
from telnyx_group_mms.webhooks import DEFAULT_MAX_BODY_BYTES, unwrap, verify_headers


class SendRequest(BaseModel):
    from_: str = Field(alias="from")
    to: list[str]
    text: str


def create_app(*, public_key: str | None = None, webhook_url: str | None = None) -> FastAPI:
    """The app.

    Args:
        public_key: The webhook public key; defaults to ``TELNYX_PUBLIC_KEY``.
        webhook_url: Where Telnyx should send each message's webhooks; by default, the
            messaging profile's webhook URL.
    """
    # Telnyx retries a webhook up to 3 times: remember event ids to handle each once.
    dedupe = EventDeduplicator()
    tracker = DeliveryTracker()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One client for the app's life: its connection pool serves every request.
        # The key and base URL come from TELNYX_API_KEY and TELNYX_BASE_URL.
        async with AsyncTelnyx() as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)
    app.state.tracker = tracker

    @app.post("/messages")
    async def send(message: SendRequest, request: Request) -> JSONResponse:
        client: AsyncTelnyx = request.app.state.client
        try:
            sent = await client.messages.send_group_mms(
                from_=message.from_, to=message.to, text=message.text, webhook_url=webhook_url
            )
        except RequestValidationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        except APIError as exc:
            # outcome_unknown: Telnyx may have sent it; do not simply send it again.
            answer = {"error": str(exc), "outcome_unknown": exc.outcome_unknown}
            return JSONResponse(answer, status_code=502)
        # Every recipient, known before any webhook arrives: the message is final only
        # when each of them has reported a final status.
        tracker.expect(sent)
        return JSONResponse({"id": sent.id})

    @app.post("/webhooks/telnyx")
    async def telnyx_webhook(request: Request) -> JSONResponse:
        try:
            verify_headers(request.headers)  # unsigned or stale: refused unread
            body = await read_body(request, limit=DEFAULT_MAX_BODY_BYTES)
            if body is None:
                return JSONResponse({"error": "the body is too large"}, status_code=413)
            event = unwrap(body, request.headers, public_key=public_key)
        except WebhookVerificationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not dedupe.first_time(event):
            return JSONResponse({"status": "duplicate"})
        # Keep this fast: Telnyx wants a 2xx within 2 seconds. Hand slow work to a queue
        # (or FastAPI's BackgroundTasks) rather than doing it here.
        tracker.feed(event)
        return JSONResponse({"status": "ok"})

    @app.get("/messages/{message_id}")
    async def delivery_status(message_id: str) -> dict[str, object]:
        return {
            "final": tracker.is_final(message_id),
            "recipients": {number: str(s) for number, s in tracker.status(message_id).items()},
        }

    return app


async def read_body(request: Request, *, limit: int) -> bytes | None:
    """The request body, or None as soon as it is longer than ``limit`` bytes."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


app = create_app()
