"""Benchmark: a large send_many fan-out against a loopback server in another process.

Measures throughput and peak RSS for N = 10,000 and N = 100,000 requests. Each N runs
in a fresh process, because ``ru_maxrss`` is a high-water mark: the claim under test is
that memory stays O(concurrency), so the peak at 100,000 should be within 10% of the
peak at 10,000.

    python benchmarks/fanout.py                       # starts its own canned server
    python benchmarks/fanout.py --base-url URL        # e.g. a running sandbox

The built-in server answers every POST with one canned message; any server that speaks
``POST /v2/messages/group_mms`` (the sandbox included) can stand in via ``--base-url``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any

MESSAGE = {
    "data": {
        "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
        "record_type": "message",
        "direction": "outbound",
        "type": "MMS",
        "from": {"phone_number": "+13125551234", "carrier": "TELNYX LLC", "line_type": "VoIP"},
        "to": [
            {
                "phone_number": number,
                "carrier": "T-MOBILE USA, INC.",
                "line_type": "Wireless",
                "status": "queued",
            }
            for number in ("+18655551234", "+14155551234")
        ],
        "cc": [],
        "text": "benchmark",
        "media": [],
        "encoding": "GSM-7",
        "parts": 1,
        "cost": {"amount": "0.0100", "currency": "USD"},
        "received_at": "2026-11-27T01:00:00.000Z",
        "errors": [],
    }
}


def serve() -> None:
    """A minimal canned server; prints its base URL on the first line of stdout."""
    from aiohttp import web

    body = json.dumps(MESSAGE).encode()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v2/messages/group_mms", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        print(f"http://127.0.0.1:{port}/v2", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def fan_out(n: int, base_url: str, concurrency: int) -> dict[str, Any]:
    import telnyx_group_mms as tgm

    requests = (
        tgm.GroupMmsRequest(
            from_="+13125551234", to=["+18655551234", "+14155551234"], text=f"benchmark {i}"
        )
        for i in range(n)
    )
    ok = 0
    async with tgm.AsyncTelnyx(
        api_key="benchmark", base_url=base_url, max_connections=concurrency
    ) as client:
        started = time.perf_counter()
        async for result in client.messages.send_many(requests, concurrency=concurrency):
            ok += result.ok
        elapsed = time.perf_counter() - started
    return {
        "n": n,
        "ok": ok,
        "seconds": round(elapsed, 2),
        "per_second": round(n / elapsed),
        # Linux reports kilobytes.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def client(n: int, base_url: str, concurrency: int) -> None:
    print(json.dumps(asyncio.run(fan_out(n, base_url, concurrency))), flush=True)


def run_all(sizes: list[int], base_url: str | None, concurrency: int) -> None:
    server = None
    if base_url is None:
        server = subprocess.Popen(
            [sys.executable, __file__, "serve"], stdout=subprocess.PIPE, text=True
        )
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
    try:
        rows = []
        for n in sizes:
            done = subprocess.run(
                [sys.executable, __file__, "client", str(n), base_url, str(concurrency)],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(done.stdout))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    first, last = rows[0], rows[-1]
    growth = (last["peak_rss_mib"] - first["peak_rss_mib"]) / first["peak_rss_mib"] * 100
    print(
        f"peak RSS {first['peak_rss_mib']} MiB at n={first['n']}, {last['peak_rss_mib']} MiB "
        f"at n={last['n']}: {growth:+.1f}% (target: within 10%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    one = sub.add_parser("client")
    one.add_argument("n", type=int)
    one.add_argument("base_url")
    one.add_argument("concurrency", type=int)
    parser.add_argument("--base-url", help="use this server instead of the canned one")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    if args.command == "serve":
        serve()
    elif args.command == "client":
        client(args.n, args.base_url, args.concurrency)
    else:
        run_all([int(s) for s in args.sizes.split(",")], args.base_url, args.concurrency)


if __name__ == "__main__":
    main()
