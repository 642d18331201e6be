"""How many webhooks per second one core verifies and parses, and what a tracker feed costs.

Run: ``python benchmarks/bench_webhooks.py``
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from telnyx_group_mms import DeliveryTracker, EventDeduplicator
from telnyx_group_mms.webhooks import generate_key_pair, parse_event, sign, unwrap, verify

BODY = json.dumps(
    {
        "data": {
            "event_type": "message.finalized",
            "id": "4ee8c3a6-4995-4309-a3c6-38e3db9ea4be",
            "occurred_at": "2026-09-21T18:10:05.000+00:00",
            "record_type": "event",
            "payload": {
                "record_type": "message",
                "direction": "outbound",
                "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                "type": "MMS",
                "from": {"phone_number": "+13125551234", "carrier": "TELNYX LLC"},
                "to": [{"phone_number": "+18655551234", "status": "delivered"}],
                "text": "Hello, World!",
                "media": [{"url": "https://example.com/a.png"}],
                "cost": {"amount": "0.0120", "currency": "USD"},
                "received_at": "2026-09-21T18:10:02.574Z",
                "completed_at": "2026-09-21T18:10:05.000Z",
                "errors": [],
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.com/hooks"},
    }
).encode()


def rate(label: str, fn: Callable[[], object], seconds: float = 1.0) -> None:
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            fn()
        count += 100
    print(f"{label:<34} {count / elapsed:>10,.0f}/s  {elapsed / count * 1e6:8.1f} us each")


def main() -> None:
    private, public = generate_key_pair()
    headers = sign(BODY, private_key=private)
    event = parse_event(BODY)
    tracker = DeliveryTracker()
    dedupe = EventDeduplicator()
    rate("unwrap (verify + parse)", lambda: unwrap(BODY, headers, public_key=public))
    rate("verify only", lambda: verify(BODY, headers, public_key=public))
    rate("parse_event only", lambda: parse_event(BODY))
    rate("dedupe.first_time", lambda: dedupe.first_time(event))
    rate("tracker.feed", lambda: tracker.feed(event))


if __name__ == "__main__":
    main()
