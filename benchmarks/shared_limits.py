"""Benchmark: processes sharing one account rate limit through Redis.

    python benchmarks/shared_limits.py [--redis redis://127.0.0.1:6379/0] [--seconds 6]

Against the canned server in its own process (``server.py``), 1, 2 and 4 worker
processes send at once through ``send_many(rate_limits=RateLimits(rate_limit=L,
redis_url=...))``, with L = 15/s (Telnyx's default for MMS) and 500/s, sharing one
namespace. Each worker reports when its sends started and ended; the aggregate rate is
the sends after the first second's burst over the span from the first start to the last
end (target: at least 0.95x the limit, never above it). Then the cost of the Redis round
trip per send: one process, no limit to wait for (L = 1,000,000/s), against no limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid

from server import Server

import telnyx_group_mms as tgm

FROM = "+13125551234"
TO = ["+18655551234", "+14155551234"]


async def _worker(
    base_url: str, redis_url: str, namespace: str, rate: float, sends: int, go: float
) -> None:
    limits = tgm.RateLimits(rate_limit=rate, redis_url=redis_url, namespace=namespace)
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="bench")] * sends
    async with tgm.AsyncTelnyx(api_key="KEY_bench", base_url=base_url) as client:
        await client.messages.send(requests[0])  # load the send path, outside the limits
        await asyncio.sleep(max(0.0, go - time.time()))  # every worker starts together
        started = time.time()
        ok = 0
        async for result in client.messages.send_many(requests, rate_limits=limits):
            ok += result.ok
        print(json.dumps({"started": started, "ended": time.time(), "ok": ok}), flush=True)


def _shared(base_url: str, redis_url: str, *, processes: int, rate: float, seconds: float) -> str:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    total = int(rate * seconds)
    share = total // processes
    go = time.time() + 8.0  # after every worker has loaded, on a busy machine too
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                base_url,
                redis_url,
                namespace,
                str(rate),
                str(share),
                str(go),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = [json.loads(w.communicate()[0]) for w in workers]
    late = max(r["started"] for r in reports) - go
    if late > 0.05:
        print(f"(a worker started {late:.2f} s late: the machine is too busy for this row)")
    sent = sum(r["ok"] for r in reports)
    span = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    steady = (sent - rate) / span  # the first second's burst is the bucket's, not the rate's
    return f"| {processes} | {rate:g} | {sent} | {span:.2f} | {steady:.1f} | {steady / rate:.2f}x |"


async def _round_trip(base_url: str, redis_url: str, sends: int) -> tuple[float, float]:
    requests = [tgm.GroupMmsRequest(from_=FROM, to=TO, text="bench")] * sends
    rates = []
    for limits in (
        None,
        tgm.RateLimits(
            rate_limit=1e6, redis_url=redis_url, namespace=f"bench-{uuid.uuid4().hex[:8]}"
        ),
    ):
        async with tgm.AsyncTelnyx(api_key="KEY_bench", base_url=base_url) as client:
            async for _ in client.messages.send_many(requests[:50], rate_limits=limits):
                pass  # warm-up
            started = time.perf_counter()
            async for _ in client.messages.send_many(requests, rate_limits=limits):
                pass
            rates.append(sends / (time.perf_counter() - started))
    return rates[0], rates[1]


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        base_url, redis_url, namespace, rate, sends, go = sys.argv[2:8]
        asyncio.run(_worker(base_url, redis_url, namespace, float(rate), int(sends), float(go)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    server = Server(workers=1)
    try:
        print("| processes | limit/s | sent | span s | steady rate/s | of the limit |")
        print("|--:|--:|--:|--:|--:|--:|")
        for rate in (15.0, 500.0):
            for processes in (1, 2, 4):
                print(
                    _shared(
                        server.base_url,
                        args.redis,
                        processes=processes,
                        rate=rate,
                        seconds=args.seconds,
                    ),
                    flush=True,
                )
        plain, shared = asyncio.run(_round_trip(server.base_url, args.redis, 2000))
        added = (1 / shared - 1 / plain) * 1e6
        print(
            f"\nsend_many at concurrency 32: {plain:,.0f} sends/s without limits, "
            f"{shared:,.0f} with shared limits in Redis ({added:.0f} µs more per send)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
