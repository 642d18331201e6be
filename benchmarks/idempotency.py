"""Benchmark: what an idempotency key costs per send, with each store.

    python benchmarks/idempotency.py [--sends 2000] [--concurrency 1,16]
        [--postgres postgresql://root@127.0.0.1:5432/test]

Against the canned server in its own process (``server.py``), the async client sends
``--sends`` messages with no key (the baseline), then each under a fresh key with the
SQLite store (a file in a temporary directory, ``synchronous=FULL``) and with the
PostgreSQL store (a fresh schema, dropped afterwards). A keyed send costs one durable
claim before its POST and one write after it; the table shows sends per second and
the added milliseconds per send, at each concurrency. Skips PostgreSQL if the server
cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from fresh_schema import drop_schema, fresh_schema
from server import Server

import telnyx_group_mms as tgm

FROM = "+13125551234"
TO = ["+18655551234", "+14155551234"]


async def _rate(base_url: str, store: str | None, *, sends: int, concurrency: int) -> float:
    async with tgm.AsyncTelnyx(
        api_key="KEY_bench", base_url=base_url, idempotency_store=store
    ) as client:
        run = uuid.uuid4().hex[:8]
        numbers = iter(range(sends + concurrency))

        async def send_one(i: int) -> None:
            key = None if store is None else f"{run}-{i}"
            await client.messages.send_group_mms(
                from_=FROM, to=TO, text="bench", idempotency_key=key
            )

        async def worker() -> None:
            for i in numbers:  # one shared iterator: each number is sent once
                await send_one(i)

        # Warm up (connections, the store's schema), then time the rest.
        for _ in range(concurrency):
            await send_one(next(numbers))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sends / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/test")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    server = Server(workers=1)
    fresh = fresh_schema(args.postgres)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            stores: dict[str, str | None] = {
                "no key": None,
                "SQLite": str(Path(scratch) / "keys.db"),
            }
            if fresh is not None:
                stores["PostgreSQL"] = fresh[0]
            print("| store | c | sends/s | ms of wall time added per send |")
            print("|---|--:|--:|--:|")
            for level in levels:
                base = 0.0
                for name, store in stores.items():
                    rate = asyncio.run(
                        _rate(server.base_url, store, sends=args.sends, concurrency=level)
                    )
                    base = base or rate
                    added = (1 / rate - 1 / base) * 1000
                    shown = "" if store is None else f"{added:.2f}"
                    print(f"| {name} | {level} | {rate:,.0f} | {shown} |", flush=True)
            if fresh is None:
                print(f"(PostgreSQL skipped: no server at {args.postgres})")
    finally:
        server.stop()
        if fresh is not None:
            drop_schema(args.postgres, fresh[1])


if __name__ == "__main__":
    main()
