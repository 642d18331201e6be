"""A task-queue worker's process, sending once under an idempotency key.

    python -m tests.idempotency_worker BASE_URL STORE KEY START_AT

It prints ``{"ready": true}`` once loaded, sleeps until ``START_AT`` (epoch seconds, so
that several workers claim the key at the same moment), sends one group MMS with the
sync client, and prints ``{"id": ...}`` or ``{"error": "<class name>"}``.
"""

from __future__ import annotations

import json
import sys
import time

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO


def main() -> None:
    base_url, store, key, start_at = sys.argv[1:5]
    client = tgm.Telnyx(
        api_key=KEY,
        base_url=base_url,
        idempotency_store=store,
        retry=tgm.RetryPolicy(max_attempts=1),
    )
    # Load what the first send loads, so that the workers' claims meet in time.
    client.messages.send_group_mms(from_=FROM, to=TO, text="warm-up")
    print(json.dumps({"ready": True}), flush=True)
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        message = client.messages.send_group_mms(
            from_=FROM, to=TO, text="raced", idempotency_key=key
        )
        outcome = {"id": message.id}
    except tgm.TelnyxError as exc:
        outcome = {"error": type(exc).__name__, "detail": str(exc)}
    print(json.dumps(outcome), flush=True)
    client.close()


if __name__ == "__main__":
    main()
