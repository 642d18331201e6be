"""The webhook receiver on an aiohttp app in a process of its own, reporting its peak memory.

``python -m tests.webhook_receiver_process PUBLIC_KEY [CLIENT_MAX_SIZE]`` prints
``{"port": N}``, then answers each line on stdin with ``{"peak_rss": bytes}``; at the end
of stdin it stops serving, prints the peak once more (so whatever aiohttp did with a body
after answering is counted too) and exits. Without CLIENT_MAX_SIZE the app is a default
``web.Application()``.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

from telnyx_group_mms.webhooks import WebhookEvent
from telnyx_group_mms.webhooks.receiver import webhook_handler


def peak_rss() -> int:
    # VmHWM is this process's own high-water mark; getrusage's ru_maxrss would not do,
    # since Linux carries it over from the parent across fork and exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError("no VmHWM in /proc/self/status")


async def on_event(event: WebhookEvent) -> None:
    return None


async def main(public_key: str, client_max_size: int | None) -> None:
    app = (
        web.Application()
        if client_max_size is None
        else web.Application(client_max_size=client_max_size)
    )
    webhook_handler(on_event, public_key=public_key).attach(app, "/hooks")
    # A short shutdown: the tests' clients do not always close what aiohttp is still
    # draining, and the memory of that draining is counted all the same.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, sys.stdin.readline):
        print(json.dumps({"peak_rss": peak_rss()}), flush=True)
    await runner.cleanup()
    print(json.dumps({"peak_rss": peak_rss()}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
