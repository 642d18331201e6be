"""One process of several sharing rate limits through Redis.

    python -m tests.shared_limits_worker BASE_URL REDIS_URL NAMESPACE SENDS START_AT RATE \
        SENDER_RATE

Prints ``{"ready": true}`` once loaded, waits until ``START_AT`` (epoch seconds), then
makes ``SENDS`` single ``send_group_mms`` calls at once, under a client-wide
``RateLimits`` (``-`` for a rate means none), and prints ``{"sent": N}`` (with
``"errors"``, the classes of the errors raised, if any were).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import telnyx_group_mms as tgm

from .conftest import FROM, KEY, TO


def _rate(text: str) -> float | None:
    return None if text == "-" else float(text)


async def main() -> None:
    base_url, redis_url, namespace, sends, start_at, rate, sender_rate = sys.argv[1:8]
    limits = tgm.RateLimits(
        rate_limit=_rate(rate),
        per_sender_rate=_rate(sender_rate),
        redis_url=redis_url,
        namespace=namespace,
    )
    # One attempt: a 429 is reported rather than waited out here, so that the test sees
    # whether the other processes wait it out.
    once = tgm.RetryPolicy(max_attempts=1)
    async with tgm.AsyncTelnyx(
        api_key=KEY, base_url=base_url, rate_limits=limits, retry=once
    ) as client:
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.sleep(max(0.0, float(start_at) - time.time()))
        results = await asyncio.gather(
            *(
                client.messages.send_group_mms(from_=FROM, to=TO, text="shared")
                for _ in range(int(sends))
            ),
            return_exceptions=True,
        )
    errors = sorted({type(r).__name__ for r in results if isinstance(r, BaseException)})
    sent = sum(1 for r in results if not isinstance(r, BaseException))
    print(json.dumps({"sent": sent, **({"errors": errors} if errors else {})}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
