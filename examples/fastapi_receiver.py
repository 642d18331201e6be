"""Receive Telnyx delivery webhooks in FastAPI (or Starlette): verify, de-duplicate, track.

Run it with ``TELNYX_PUBLIC_KEY`` set (the base64 key from the Telnyx portal)::

    pip install 'telnyx-group-mms[webhooks]' fastapi uvicorn
    TELNYX_PUBLIC_KEY=... uvicorn examples.fastapi_receiver:app --port 8000

and point your messaging profile's (or each message's) webhook URL at
``https://<your host>/webhooks/telnyx``. The recipe is the same in plain Starlette: read
the raw body with ``await request.body()``, never the parsed JSON, since the signature
covers the bytes exactly as sent.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from telnyx_group_mms import DeliveryTracker, EventDeduplicator, WebhookVerificationError
from telnyx_group_mms.webhooks import unwrap


def create_app(*, public_key: str | None = None) -> FastAPI:
    """The app; ``public_key`` defaults to the ``TELNYX_PUBLIC_KEY`` environment variable."""
    app = FastAPI()
    # Telnyx retries a webhook up to 3 times: remember event ids to handle each once.
    dedupe = EventDeduplicator()
    tracker = DeliveryTracker()
    app.state.tracker = tracker

    @app.post("/webhooks/telnyx")
    async def telnyx_webhook(request: Request) -> JSONResponse:
        try:
            event = unwrap(await request.body(), request.headers, public_key=public_key)
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


app = create_app()
