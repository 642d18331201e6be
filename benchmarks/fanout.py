"""Benchmark: a large send_many fan-out against the sandbox running in another process.

Measures throughput and peak RSS for N = 10,000 and N = 100,000 requests. Each N runs
in a fresh client process, because ``ru_maxrss`` is a high-water mark: the claim under
test is that memory stays O(concurrency), so the peak at 100,000 should be within 10%
of the peak at 10,000.

    python benchmarks/fanout.py                     # the sandbox, in its own process
    python benchmarks/fanout.py --server canned     # a minimal canned server instead
    python benchmarks/fanout.py --base-url URL      # any running server

By default the server is ``python -m telnyx_group_mms sandbox --port 0``: the real
validation, message building and serialisation Telnyx's stand-in does. It may be the
bottleneck on a small machine, so its CPU share during each run is reported (near
100% of one core: the server, not the client, set the pace); ``--server canned``
answers every POST with one fixed body to measure the client alone. The machine's
load average is printed before and after, since other work skews the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
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

# The sandbox command prints its base URL on its first line.
_URL = re.compile(r"https?://\S+/v2")


def serve_canned() -> None:
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
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        async for result in client.messages.send_many(requests, concurrency=concurrency):
            ok += result.ok
        elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "n": n,
        "ok": ok,
        "seconds": round(elapsed, 2),
        "per_second": round(n / elapsed),
        # Linux reports kilobytes.
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "client_cpu_share": round(_cpu_between(before, usage) / elapsed, 2),
    }


def _cpu_between(before: resource.struct_rusage, after: resource.struct_rusage) -> float:
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def client(n: int, base_url: str, concurrency: int) -> None:
    print(json.dumps(asyncio.run(fan_out(n, base_url, concurrency))), flush=True)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux; ``None`` elsewhere)."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(kind: str) -> tuple[subprocess.Popen[str], str]:
    if kind == "sandbox":
        command = [sys.executable, "-m", "telnyx_group_mms", "sandbox", "--port", "0"]
    else:
        command = [sys.executable, __file__, "serve"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    first = server.stdout.readline()
    found = _URL.search(first)
    if found is None:
        server.terminate()
        raise SystemExit(f"the {kind} server did not print its URL: {first!r}")
    return server, found.group(0)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def run_all(sizes: list[int], server_kind: str, base_url: str | None, concurrency: int) -> None:
    print(f"before: {_load()}", flush=True)
    server = None
    if base_url is None:
        server, base_url = _start_server(server_kind)
    label = server_kind if server is not None else base_url
    try:
        rows = []
        for n in sizes:
            server_cpu = _cpu_seconds(server.pid) if server is not None else None
            done = subprocess.run(
                [sys.executable, __file__, "client", str(n), base_url, str(concurrency)],
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout)
            if server is not None and server_cpu is not None:
                used = (_cpu_seconds(server.pid) or 0.0) - server_cpu
                row["server_cpu_share"] = round(used / row["seconds"], 2)
            row["server"] = label
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    print(f"after: {_load()}")
    first, last = rows[0], rows[-1]
    growth = (last["peak_rss_mib"] - first["peak_rss_mib"]) / first["peak_rss_mib"] * 100
    verdict = "met" if abs(growth) <= 10 else "MISSED"
    print(
        f"peak RSS {first['peak_rss_mib']} MiB at n={first['n']}, {last['peak_rss_mib']} MiB "
        f"at n={last['n']}: {growth:+.1f}% (target: within 10%: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve")
    one = sub.add_parser("client")
    one.add_argument("n", type=int)
    one.add_argument("base_url")
    one.add_argument("concurrency", type=int)
    parser.add_argument(
        "--server",
        choices=["sandbox", "canned"],
        default="sandbox",
        help="the server to start in another process (default: the sandbox)",
    )
    parser.add_argument("--base-url", help="use this running server instead of starting one")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    if args.command == "serve":
        serve_canned()
    elif args.command == "client":
        client(args.n, args.base_url, args.concurrency)
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        run_all(sizes, args.server, args.base_url, args.concurrency)


if __name__ == "__main__":
    main()
