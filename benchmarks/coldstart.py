"""Cold start: a fresh interpreter that imports a client, builds it and completes one send.

Each script prints ``time.monotonic()`` once its send has completed; the harness took
``time.monotonic()`` just before starting the interpreter (the clock is system-wide on
Linux and macOS), so the difference is the time from launch to the first message sent,
interpreter start-up included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from payload import API_KEY, SEND_KWARGS, WIRE_REQUEST

_KW = f"api_key={API_KEY!r}, base_url=BASE_URL"
_SEND = "send_group_mms(**" + repr(SEND_KWARGS) + ")"

_PRELUDE = "import os, time\nBASE_URL = os.environ['BENCH_BASE_URL']\n"
_DONE = "print(time.monotonic())\n"

#: name -> (label, script). Each completes one send, then reports.
SCRIPTS: dict[str, tuple[str, str]] = {
    "python": ("python -c pass (interpreter start-up)", _DONE),
    "floor": (
        "floor: aiohttp, one post",
        "import asyncio, json, aiohttp\n"
        "async def main():\n"
        "    async with aiohttp.ClientSession() as s:\n"
        "        async with s.post(BASE_URL + '/messages/group_mms', data="
        + repr(WIRE_REQUEST)
        + ") as r:\n"
        "            json.loads(await r.read())\n"
        "asyncio.run(main())\n" + _DONE,
    ),
    "ours-async": (
        "ours: AsyncTelnyx",
        "import asyncio, telnyx_group_mms as tgm\n"
        "async def main():\n"
        f"    async with tgm.AsyncTelnyx({_KW}) as client:\n"
        f"        await client.messages.{_SEND}\n"
        "asyncio.run(main())\n" + _DONE,
    ),
    "ours-sync": (
        "ours: Telnyx (sync)",
        "import telnyx_group_mms as tgm\n"
        f"with tgm.Telnyx({_KW}) as client:\n"
        f"    client.messages.{_SEND}\n" + _DONE,
    ),
    "official-async-httpx": (
        "official: AsyncTelnyx (httpx)",
        "import asyncio, telnyx\n"
        "async def main():\n"
        f"    async with telnyx.AsyncTelnyx({_KW}) as client:\n"
        f"        await client.messages.{_SEND}\n"
        "asyncio.run(main())\n" + _DONE,
    ),
    "official-sync": (
        "official: Telnyx (sync)",
        "import telnyx\n"
        f"with telnyx.Telnyx({_KW}) as client:\n"
        f"    client.messages.{_SEND}\n" + _DONE,
    ),
}

#: Which official script each of ours is compared with.
COUNTERPART = {"ours-async": "official-async-httpx", "ours-sync": "official-sync"}


def run_once(name: str, base_url: str) -> tuple[float, float]:
    """Seconds from launch to the first send completed, and to the interpreter's exit."""
    env = dict(os.environ, BENCH_BASE_URL=base_url)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", _PRELUDE + SCRIPTS[name][1]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    exited = time.monotonic()
    return float(out.stdout.split()[-1]) - started, exited - started


def import_time(module: str) -> float:
    """Seconds ``import module`` takes in a fresh interpreter (from ``-X importtime``)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    total = 0
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            total = int(parts[1])
    return total / 1e6
